//! The monitor (`Client::monitor`): counters per task name, the task stream's spans and lanes,
//! bounded memory, and incremental reads, on both in-process backends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_executor::monitor::{MonitorSnapshot, SPAN_CAPACITY, SpanOutcome, TaskSpan};
use sofleet_executor::{
    Client, RetryPolicy, SubmitOptions, Task, TaskContext, TaskError, ThreadsBackend, TokioBackend,
};

/// Sleeps `ms`, then returns `id`, or fails as told.
#[derive(Serialize, Deserialize, Clone)]
struct Work {
    id: u64,
    ms: u64,
    fail: Fail,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq)]
enum Fail {
    Never,
    Fatal,
    /// Fails with a retryable error on the first attempt only.
    FirstAttempt,
}

impl Task for Work {
    type Output = u64;
    const NAME: &'static str = "work";
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        if self.ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.ms)).await;
        }
        match self.fail {
            Fail::Fatal => Err(TaskError::fatal("told to fail")),
            Fail::FirstAttempt if ctx.attempt() == 0 => Err(TaskError::retryable("flaky")),
            _ => Ok(self.id),
        }
    }
}

/// Returns its input.
#[derive(Serialize, Deserialize, Clone)]
struct Echo(u64);

impl Task for Echo {
    type Output = u64;
    const NAME: &'static str = "echo";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(self.0)
    }
}

fn work(id: u64, ms: u64, fail: Fail) -> Work {
    Work { id, ms, fail }
}

fn row<'a>(s: &'a MonitorSnapshot, name: &str) -> &'a sofleet_executor::monitor::TaskProgress {
    s.tasks
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no row {name} in {:?}", s.tasks))
}

/// Spans on one lane never overlap.
fn assert_lanes_disjoint(spans: &[TaskSpan]) {
    let mut by_lane: BTreeMap<u32, Vec<&TaskSpan>> = BTreeMap::new();
    for s in spans {
        assert!(s.start <= s.end, "{s:?}");
        by_lane.entry(s.lane).or_default().push(s);
    }
    for (lane, mut spans) in by_lane {
        spans.sort_by_key(|s| s.start);
        for pair in spans.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "lane {lane}: {:?} overlaps {:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

async fn counts_and_spans(client: Client, concurrency: u32) {
    let monitor = client.monitor();
    let ok = client.map((0..20).map(|i| work(i, 20, Fail::Never)));
    let bad = client.submit(work(100, 0, Fail::Fatal));
    let flaky = client.submit_with(
        work(101, 0, Fail::FirstAttempt),
        SubmitOptions::new().retry(RetryPolicy::retries(2)),
    );
    let echoes = client.map((0..5).map(Echo));
    for f in &ok {
        f.clone().await.unwrap();
    }
    assert!(bad.clone().await.is_err());
    assert_eq!(flaky.clone().await.unwrap(), 101);
    for f in &echoes {
        f.clone().await.unwrap();
    }

    let s = monitor.snapshot(0);
    assert!(s.client_alive);
    let w = row(&s, "work");
    assert_eq!(
        (w.submitted, w.finished, w.failed, w.retried, w.running),
        (22, 21, 1, 1, 0),
        "{w:?}"
    );
    assert_eq!(w.queued(), 0);
    let e = row(&s, "echo");
    assert_eq!((e.submitted, e.finished), (5, 5));
    // One span per attempt: 20 + 1 failed + 2 of the flaky task + 5 echoes.
    assert_eq!(s.spans.len(), 28);
    assert_eq!(s.next_span, 29);
    let outcomes = |o: SpanOutcome| s.spans.iter().filter(|x| x.outcome == o).count();
    assert_eq!(outcomes(SpanOutcome::Finished), 26);
    assert_eq!(outcomes(SpanOutcome::Failed), 1);
    assert_eq!(outcomes(SpanOutcome::Retried), 1);
    assert_lanes_disjoint(&s.spans);
    // 20 tasks of 20 ms on `concurrency` places: several ran at once, never more than that.
    assert!(s.lanes >= 2 && s.lanes <= concurrency, "lanes {}", s.lanes);
    // The 20 sleeping tasks' spans cover their sleep.
    let long = s
        .spans
        .iter()
        .filter(|x| x.end - x.start >= Duration::from_millis(15))
        .count();
    assert_eq!(long, 20);
    // An incremental read returns only what ended since.
    let again = client.submit(Echo(7));
    again.await.unwrap();
    let newer = monitor.snapshot(s.next_span);
    assert_eq!(newer.spans.len(), 1);
    assert_eq!(newer.spans[0].seq, s.next_span);
    assert_eq!(newer.spans[0].name, "echo");
}

#[test]
fn threads_backend_counts_and_spans() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(counts_and_spans(Client::new(ThreadsBackend::new(4)), 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_backend_counts_and_spans() {
    // Tokio tasks that sleep all run at once: up to 28 lanes.
    counts_and_spans(Client::new(TokioBackend::new()), 28).await;
}

/// Blocks its thread for `ms`: it finishes on its first poll, so the threads backend reports
/// its start and end in one step, with the start time read before running it.
#[derive(Serialize, Deserialize, Clone)]
struct Block {
    id: u64,
    ms: u64,
}

impl Task for Block {
    type Output = u64;
    const NAME: &'static str = "block";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        std::thread::sleep(Duration::from_millis(self.ms));
        Ok(self.id)
    }
}

#[test]
fn spans_of_tasks_reported_in_one_step_start_when_the_task_started() {
    let client = Client::new(ThreadsBackend::new(3));
    let monitor = client.monitor();
    let futures = client.map((0..9).map(|id| Block { id, ms: 40 }));
    for f in &futures {
        f.result().unwrap();
    }
    let s = monitor.snapshot(0);
    assert_eq!(s.spans.len(), 9);
    for span in &s.spans {
        assert!(
            span.end - span.start >= Duration::from_millis(35),
            "{span:?}"
        );
    }
    // Three threads: three lanes, each running three tasks one after another.
    assert_eq!(s.lanes, 3, "{:?}", s.spans);
    assert_lanes_disjoint(&s.spans);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_tasks_are_listed_with_their_lanes() {
    let client = Client::new(ThreadsBackend::new(3));
    let monitor = client.monitor();
    let slow = client.map((0..3).map(|i| work(i, 400, Fail::Never)));
    let mut s = monitor.snapshot(0);
    for _ in 0..200 {
        if s.running.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        s = monitor.snapshot(0);
    }
    assert_eq!(s.running.len(), 3, "{s:?}");
    let lanes: Vec<u32> = s.running.iter().map(|r| r.lane).collect();
    assert_eq!(lanes, vec![0, 1, 2]);
    assert!(s.running.iter().all(|r| r.outcome == SpanOutcome::Running));
    assert_eq!(row(&s, "work").running, 3);
    for f in slow {
        f.await.unwrap();
    }
    let s = monitor.snapshot(0);
    assert!(s.running.is_empty());
    assert_eq!(row(&s, "work").finished, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_bounded_and_counters_are_not() {
    let client = Client::new(TokioBackend::new());
    let monitor = client.monitor();
    let n = SPAN_CAPACITY as u64 * 3;
    let futures = client.map((0..n).map(Echo));
    for f in futures {
        f.await.unwrap();
    }
    let s = monitor.snapshot(0);
    assert_eq!(s.spans.len(), SPAN_CAPACITY);
    assert_eq!(s.next_span, n + 1);
    // The oldest spans were dropped; what is kept is the newest, in order.
    assert_eq!(s.spans[0].seq, n + 1 - SPAN_CAPACITY as u64);
    assert!(s.spans.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert_eq!(row(&s, "echo").finished, n);
    // Asking for spans that were dropped gives what is kept.
    assert_eq!(monitor.snapshot(1).spans.len(), SPAN_CAPACITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_dependencies_and_cancellations_are_counted() {
    let client = Client::new(ThreadsBackend::new(2));
    let monitor = client.monitor();
    let bad = client.submit(work(1, 0, Fail::Fatal));
    let dependent = client.submit_after(&[bad.erase()], Echo(2), SubmitOptions::new());
    assert!(dependent.clone().await.is_err());
    let slow = client.submit(work(3, 5_000, Fail::Never));
    let s = loop {
        let s = monitor.snapshot(0);
        if row(&s, "work").running == 1 {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(s.running.len(), 1);
    slow.cancel();
    assert!(slow.await.is_err());
    let s = monitor.snapshot(0);
    let w = row(&s, "work");
    assert_eq!((w.failed, w.cancelled, w.running), (1, 1, 0), "{w:?}");
    // The dependent never ran: counted as failed, no span.
    let e = row(&s, "echo");
    assert_eq!((e.submitted, e.failed, e.finished), (1, 1, 0), "{e:?}");
    assert!(s.spans.iter().all(|x| x.name != "echo"));
    assert!(s.spans.iter().any(|x| x.outcome == SpanOutcome::Cancelled));
}

#[test]
fn a_monitor_outliving_its_client_reads_empty() {
    let client = Client::new(ThreadsBackend::new(1));
    let monitor = client.monitor();
    assert_eq!(monitor.backend(), "threads");
    client.submit_fn("x", || 1).result().unwrap();
    assert_eq!(monitor.snapshot(0).tasks.len(), 1);
    drop(client);
    let s = monitor.snapshot(0);
    assert!(!s.client_alive);
    assert!(s.tasks.is_empty());
}

#[test]
fn many_task_names_share_one_row_past_the_cap() {
    let client = Client::new(ThreadsBackend::new(2));
    let monitor = client.monitor();
    let count = Arc::new(AtomicU32::new(0));
    let n = sofleet_executor::monitor::NAME_CAPACITY + 10;
    let futures: Vec<_> = (0..n)
        .map(|i| {
            let count = count.clone();
            client.submit_fn(&format!("name-{i}"), move || {
                count.fetch_add(1, Ordering::Relaxed)
            })
        })
        .collect();
    for f in &futures {
        f.result().unwrap();
    }
    let s = monitor.snapshot(0);
    assert_eq!(s.tasks.len(), sofleet_executor::monitor::NAME_CAPACITY + 1);
    assert_eq!(row(&s, sofleet_executor::monitor::OTHER_TASKS).finished, 10);
    assert_eq!(s.total().finished, n as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_a_page_s_worth_of_spans_only_a_sample_is_recorded_and_counters_stay_exact() {
    let client = Client::new(TokioBackend::new());
    let monitor = client.monitor();
    assert_eq!(monitor.snapshot(0).sampled_one_in, 1);
    let round = |from: u64| {
        let futures = client.map((from..from + 50_000).map(Echo));
        async move {
            for f in futures {
                f.await.unwrap();
            }
        }
    };
    let started = std::time::Instant::now();
    round(0).await;
    // Reading sets the sampling from the rate since the last read.
    let first = monitor.snapshot(0);
    let rate = 50_000.0 / started.elapsed().as_secs_f64();
    let k = first.sampled_one_in;
    assert!(k.is_power_of_two());
    if rate > 2.0 * sofleet_executor::monitor::SPANS_PER_SECOND as f64 {
        assert!(k > 1, "{rate} tasks/s sampled 1 in {k}");
    }
    round(50_000).await;
    let second = monitor.snapshot(first.next_span);
    assert_eq!(row(&second, "echo").finished, 100_000);
    assert_eq!(row(&second, "echo").running, 0);
    // Node ids are sequential: 1 task in k, give or take one at each end.
    let expected = 50_000 / k as usize;
    assert!(
        second.spans.len().abs_diff(expected) <= 1,
        "{} spans for 1 in {k} of 50,000",
        second.spans.len()
    );
    assert_lanes_disjoint(&second.spans);
}
