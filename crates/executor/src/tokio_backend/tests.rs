use std::collections::HashSet;
use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::TokioBackend;
use crate::{Client, ExecError, SubmitOptions, Task, TaskContext, TaskError};

/// Ids of `Mark` tasks that ran.
static RAN: StdMutex<Option<HashSet<u64>>> = StdMutex::new(None);

/// Records that it ran and returns its id; with `stall_ms`, first blocks its worker.
#[derive(Serialize, Deserialize)]
struct Mark {
    id: u64,
    stall_ms: u64,
}

impl Task for Mark {
    type Output = u64;
    const NAME: &'static str = "mark";
    const PURE: bool = false;
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        RAN.lock()
            .unwrap()
            .get_or_insert_with(HashSet::new)
            .insert(self.id);
        std::thread::sleep(Duration::from_millis(self.stall_ms));
        Ok(self.id + ctx.input::<u64>(0).unwrap_or(0))
    }
}

fn ran(id: u64) -> bool {
    RAN.lock()
        .unwrap()
        .as_ref()
        .is_some_and(|s| s.contains(&id))
}

#[tokio::test(flavor = "current_thread")]
async fn jobs_submitted_one_by_one_share_a_drainer_and_cancelled_ones_are_skipped() {
    let client = Client::new(TokioBackend::new());
    let base = 10_000;
    // Nothing runs before this test yields: all 100 wait in the queue.
    let fs: Vec<_> = (0..100)
        .map(|i| {
            client.submit(Mark {
                id: base + i,
                stall_ms: 0,
            })
        })
        .collect();
    for i in [0, 1, 50, 99] {
        fs[i].cancel();
    }
    for (i, f) in fs.into_iter().enumerate() {
        let r = f.await;
        if [0, 1, 50, 99].contains(&i) {
            assert!(matches!(r, Err(ExecError::Cancelled { .. })), "{i}: {r:?}");
            assert!(!ran(base + i as u64), "cancelled job {i} ran");
        } else {
            assert_eq!(r.unwrap(), base + i as u64);
        }
    }
    assert_eq!(client.stats().in_flight, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_chain_runs_on_a_current_thread_runtime() {
    let client = Client::new(TokioBackend::new());
    let mut prev = client.submit(Mark { id: 0, stall_ms: 0 });
    for _ in 0..500 {
        prev = client.submit_after(
            &[prev.erase()],
            Mark { id: 1, stall_ms: 0 },
            SubmitOptions::new(),
        );
    }
    assert_eq!(prev.await.unwrap(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_not_held_back_by_a_drainer_stuck_in_a_long_poll() {
    let client = Client::new(TokioBackend::new());
    let stuck = client.submit(Mark {
        id: 20_000,
        stall_ms: 400,
    });
    while !ran(20_000) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let start = Instant::now();
    let quick = client.submit(Mark {
        id: 20_001,
        stall_ms: 0,
    });
    assert_eq!(quick.await.unwrap(), 20_001);
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "waited {:?} for the stuck job",
        start.elapsed()
    );
    assert_eq!(stuck.await.unwrap(), 20_000);
}
