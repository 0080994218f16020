//! The tokio backend runs jobs dispatched together in chunks (one tokio task per chunk, each
//! job polled once inline, unfinished jobs moved to tasks of their own). These tests pin down
//! that every job kind still behaves as when each job had its own task, and that jobs
//! submitted one at a time (queued for the backend's drainer task) do too.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sofleet_executor::{
    Client, Event, ExecError, SubmitOptions, Task, TaskContext, TaskError, TaskStatus,
    TokioBackend, as_completed,
};

/// Ids of `Probe` tasks that began running, per test (each test uses its own id range).
static RAN: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
/// Ids of `Probe` tasks whose future was dropped before finishing.
static DROPPED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

fn record(set: &Mutex<Option<HashSet<u64>>>, id: u64) {
    set.lock()
        .unwrap()
        .get_or_insert_with(HashSet::new)
        .insert(id);
}

fn contains(set: &Mutex<Option<HashSet<u64>>>, id: u64) -> bool {
    set.lock()
        .unwrap()
        .as_ref()
        .is_some_and(|s| s.contains(&id))
}

/// Records its own drop unless disarmed.
struct DropGuard(u64, bool);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if self.1 {
            record(&DROPPED, self.0);
        }
    }
}

/// What a `Probe` does when run.
#[derive(Serialize, Deserialize, Clone, Copy)]
enum Mode {
    /// Returns `id` at once.
    Quick,
    /// Returns `id` after a short sleep (not finished on its first poll).
    Slow,
    /// Never finishes.
    Forever,
    /// Panics on its first poll.
    Panic,
    /// Fails fatally at once.
    Fail,
    /// Blocks its worker thread for 400 ms on its first poll, then returns `id`.
    Stall,
    /// Returns `id` plus the output of its first dependency.
    AddInput,
}

#[derive(Serialize, Deserialize)]
struct Probe {
    id: u64,
    mode: Mode,
}

impl Task for Probe {
    type Output = u64;
    const NAME: &'static str = "probe";
    const PURE: bool = false;
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        record(&RAN, self.id);
        let mut guard = DropGuard(self.id, true);
        let out = match self.mode {
            Mode::Quick => Ok(self.id),
            Mode::Slow => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(self.id)
            }
            Mode::Forever => futures::future::pending().await,
            Mode::Panic => panic!("probe {} exploded", self.id),
            Mode::Fail => Err(TaskError::fatal(format!("probe {} failed", self.id))),
            Mode::Stall => {
                std::thread::sleep(Duration::from_millis(400));
                Ok(self.id)
            }
            Mode::AddInput => Ok(self.id + ctx.input::<u64>(0)?),
        };
        guard.1 = false;
        out
    }
}

fn mode_of(i: u64) -> Mode {
    match i % 10 {
        3 => Mode::Slow,
        5 => Mode::Panic,
        7 => Mode::Fail,
        _ => Mode::Quick,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_batch_reports_every_job_correctly() {
    let client = Client::new(TokioBackend::new());
    let mut events = client.events();
    // Several chunks' worth, mixing quick, slow, panicking and failing jobs.
    let n = 200u64;
    let base = 1_000u64;
    let fs = client.map((0..n).map(|i| Probe {
        id: base + i,
        mode: mode_of(i),
    }));
    let mut seen = 0;
    let mut ac = as_completed(fs);
    while let Some((f, r)) = ac.next().await {
        seen += 1;
        let i = match &r {
            Ok(v) => v - base,
            Err(e) => {
                let k = f.key().clone();
                assert_eq!(e.key(), Some(&k), "{e}");
                // Recover the index from the failure message.
                let msg = e.to_string();
                let id: u64 = msg
                    .split("probe ")
                    .nth(1)
                    .and_then(|s| s.split(' ').next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("no id in {msg}"));
                id - base
            }
        };
        match (mode_of(i), &r) {
            (Mode::Quick | Mode::Slow, Ok(v)) => assert_eq!(*v, base + i),
            (Mode::Panic, Err(ExecError::Panicked { message, .. })) => {
                assert_eq!(message, &format!("probe {} exploded", base + i))
            }
            (Mode::Fail, Err(ExecError::Task { retryable, .. })) => assert!(!retryable),
            (_, other) => panic!("job {i}: unexpected {other:?}"),
        }
        assert!(f.done());
    }
    assert_eq!(seen, n);
    // Every job started and ended exactly once, in that order.
    let evs = events.drain();
    let started = evs
        .iter()
        .filter(|e| matches!(e, Event::Started { .. }))
        .count();
    let ended = evs.iter().filter(|e| e.is_terminal()).count();
    assert_eq!(started as u64, n);
    assert_eq!(ended as u64, n);
    for e in evs.iter().filter(|e| e.is_terminal()) {
        let s = evs
            .iter()
            .position(|x| matches!(x, Event::Started { .. }) && x.key() == e.key());
        let t = evs.iter().position(|x| x == e);
        assert!(s < t, "{e:?} before its start");
    }
    assert_eq!(client.stats().live, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn cancelling_jobs_queued_in_a_chunk_skips_them() {
    let client = Client::new(TokioBackend::new());
    let base = 2_000u64;
    // On a current-thread runtime the chunk tasks cannot run before this test yields, so the
    // jobs are still queued in their chunks when cancelled.
    let fs = client.map((0..100u64).map(|i| Probe {
        id: base + i,
        mode: Mode::Quick,
    }));
    let cancelled: Vec<usize> = vec![0, 31, 32, 50, 99];
    for &i in &cancelled {
        fs[i].cancel();
    }
    for (i, f) in fs.iter().enumerate() {
        let r = f.clone().await;
        if cancelled.contains(&i) {
            assert!(matches!(r, Err(ExecError::Cancelled { .. })), "{i}: {r:?}");
            assert_eq!(f.status(), TaskStatus::Cancelled);
        } else {
            assert_eq!(r.unwrap(), base + i as u64);
        }
    }
    for &i in &cancelled {
        assert!(
            !contains(&RAN, base + i as u64),
            "cancelled job {i} must not run"
        );
    }
    drop(fs);
    // Reports of skipped jobs arrived: nothing is left in flight.
    let stats = client.stats();
    assert_eq!((stats.live, stats.in_flight), (0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_job_leaves_its_chunk_and_can_be_aborted() {
    let client = Client::new(TokioBackend::new());
    let base = 3_000u64;
    // One never-ending job in the middle of a chunk must not hold back the others.
    let fs = client.map((0..40u64).map(|i| Probe {
        id: base + i,
        mode: if i == 10 { Mode::Forever } else { Mode::Quick },
    }));
    for (i, f) in fs.iter().enumerate() {
        if i != 10 {
            assert_eq!(f.clone().await.unwrap(), base + i as u64);
        }
    }
    let stuck = &fs[10];
    // It started (its first poll ran) and is still running.
    for _ in 0..2_000 {
        if stuck.status() == TaskStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(stuck.status(), TaskStatus::Running);
    assert!(contains(&RAN, base + 10));
    stuck.cancel();
    assert!(matches!(
        stuck.clone().await,
        Err(ExecError::Cancelled { .. })
    ));
    // Cancelling aborts its tokio task, which drops the task's future.
    for _ in 0..2_000 {
        if contains(&DROPPED, base + 10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        contains(&DROPPED, base + 10),
        "the running job was not aborted"
    );
    drop(fs);
    for _ in 0..2_000 {
        if client.stats().live == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(client.stats().live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closures_and_tasks_dispatched_together() {
    let client = Client::new(TokioBackend::new());
    let base = 4_000u64;
    let quick = client.map((0..50u64).map(|i| Probe {
        id: base + i,
        mode: Mode::Quick,
    }));
    let closures: Vec<_> = (0..5u64)
        .map(|i| {
            client.submit_fn("blocking", move || {
                std::thread::sleep(Duration::from_millis(2));
                i * 3
            })
        })
        .collect();
    let slow = client.submit_with(
        Probe {
            id: base + 99,
            mode: Mode::Slow,
        },
        SubmitOptions::new(),
    );
    for (i, f) in quick.iter().enumerate() {
        assert_eq!(f.clone().await.unwrap(), base + i as u64);
    }
    for (i, f) in closures.iter().enumerate() {
        assert_eq!(f.clone().await.unwrap(), i as u64 * 3);
    }
    assert_eq!(slow.await.unwrap(), base + 99);
}

/// Submits a quick `Probe` for each id, one `submit` call each.
fn submit_quick_one_by_one(
    client: &Client,
    ids: std::ops::Range<u64>,
) -> Vec<sofleet_executor::TaskFuture<u64>> {
    ids.map(|id| {
        client.submit(Probe {
            id,
            mode: Mode::Quick,
        })
    })
    .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn jobs_submitted_one_by_one_share_a_drainer_and_cancelled_ones_are_skipped() {
    let client = Client::new(TokioBackend::new());
    let base = 10_000;
    // Nothing runs before this test yields: all 100 wait in the queue.
    let fs = submit_quick_one_by_one(&client, base..base + 100);
    for i in [0, 1, 50, 99] {
        fs[i].cancel();
    }
    for (i, f) in fs.into_iter().enumerate() {
        let r = f.await;
        if [0, 1, 50, 99].contains(&i) {
            assert!(matches!(r, Err(ExecError::Cancelled { .. })), "{i}: {r:?}");
            assert!(!contains(&RAN, base + i as u64), "cancelled job {i} ran");
        } else {
            assert_eq!(r.unwrap(), base + i as u64);
        }
    }
    assert_eq!(client.stats().in_flight, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn shutting_down_cancels_the_queued_jobs() {
    let client = Client::new(TokioBackend::new());
    let base = 30_000;
    // Nothing runs before this test yields: all 50 wait in the queue.
    let fs = submit_quick_one_by_one(&client, base..base + 50);
    client.shutdown().await.unwrap();
    for (i, f) in fs.into_iter().enumerate() {
        let r = f.await;
        assert!(matches!(r, Err(ExecError::Cancelled { .. })), "{i}: {r:?}");
        assert!(
            !contains(&RAN, base + i as u64),
            "job {i} ran after the shutdown"
        );
    }
    assert_eq!(client.stats().in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_racing_the_drainer_settle_every_job() {
    let client = Client::new(TokioBackend::new());
    let base = 40_000u64;
    let n = 20_000u64;
    // Each cancel follows its job's submit closely, so it finds the job queued, taken by the
    // drainer and not yet entered, running, or done.
    let mut fs = Vec::new();
    for i in 0..n {
        fs.push(client.submit(Probe {
            id: base + i,
            mode: if i % 7 == 0 { Mode::Slow } else { Mode::Quick },
        }));
        if i >= 3 && i % 3 == 0 {
            fs[(i - 3) as usize].cancel();
        }
    }
    let settle = async {
        for (i, f) in fs.iter().enumerate() {
            match f.clone().await {
                Ok(v) => assert_eq!(v, base + i as u64),
                Err(ExecError::Cancelled { .. }) => assert_eq!(i % 3, 0, "job {i} cancelled"),
                Err(e) => panic!("job {i}: {e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), settle)
        .await
        .expect("every job settles");
    drop(fs);
    let stats = client.stats();
    assert_eq!((stats.live, stats.in_flight), (0, 0), "{stats:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_chain_runs_on_a_current_thread_runtime() {
    let client = Client::new(TokioBackend::new());
    let mut prev = client.submit(Probe {
        id: 0,
        mode: Mode::Quick,
    });
    for _ in 0..500 {
        prev = client.submit_after(
            &[prev.erase()],
            Probe {
                id: 1,
                mode: Mode::AddInput,
            },
            SubmitOptions::new(),
        );
    }
    assert_eq!(prev.await.unwrap(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_not_held_back_by_a_drainer_stuck_in_a_long_poll() {
    let client = Client::new(TokioBackend::new());
    let stuck = client.submit(Probe {
        id: 20_000,
        mode: Mode::Stall,
    });
    while !contains(&RAN, 20_000) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Stuck: in its poll for longer than a drainer may be (200 µs) before a dispatch takes the
    // queue over. (A job dispatched just as the poll begins waits for it: seeing the poll begun
    // is not enough.)
    tokio::time::sleep(Duration::from_millis(1)).await;
    let start = Instant::now();
    let quick = client.submit(Probe {
        id: 20_001,
        mode: Mode::Quick,
    });
    assert_eq!(quick.await.unwrap(), 20_001);
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "waited {:?} for the stuck job",
        start.elapsed()
    );
    assert_eq!(stuck.await.unwrap(), 20_000);
}
