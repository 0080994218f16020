//! The shared backend test suite (feature `conformance`).
//!
//! Every check takes a fresh [`Client`] over the backend under test and a [`Config`], and
//! panics with a clear message on failure. The tasks it submits are the types in [`tasks`],
//! all serde-serialisable and registered by [`register_tasks`], so a remote backend's workers
//! can run them; no check relies on closures or in-process side channels: "ran once" is
//! counted from [`Event::Started`] events, concurrency from `Started`/terminal event order.
//!
//! Run the whole suite as one `#[tokio::test]` per check with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! sofleet_executor::conformance_tests!(async {
//!     sofleet_executor::Client::new(sofleet_executor::ThreadsBackend::new(4))
//! });
//! ```
//!
//! The calling crate needs `tokio` (features `macros`, `rt-multi-thread`) as a dependency. A
//! backend needs at least 3 concurrent job slots (the resource-limit check runs 2 at once and a
//! cancelled 1 s sleeper may still occupy one on backends that cannot interrupt jobs).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;

use crate::{
    Client, Errors, Event, EventStream, ExecError, RetryPolicy, ReturnWhen, SubmitOptions, TaskKey,
    TaskRegistry, TaskStatus, WaitOptions, as_completed, gather, wait,
};

/// Sizes used by the checks.
#[derive(Debug, Clone)]
pub struct Config {
    /// Tasks in the panic-isolation check (10% of them panic).
    pub many: usize,
    /// Length of the dependency chain.
    pub chain: usize,
    /// Futures in the memory-bounded `as_completed` check.
    pub as_completed: usize,
    /// Inputs of the `map_bounded` check.
    pub map_bounded: usize,
    /// How long a check waits for an event before failing.
    pub event_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            many: 10_000,
            chain: 1_000,
            as_completed: 100_000,
            map_bounded: 20_000,
            event_timeout: Duration::from_secs(60),
        }
    }
}

/// Registers every task type in [`tasks`] (for remote workers).
pub fn register_tasks(registry: &mut TaskRegistry) {
    registry
        .register::<tasks::Echo>()
        .register::<tasks::ImpureEcho>()
        .register::<tasks::Add>()
        .register::<tasks::SumInputs>()
        .register::<tasks::AddOne>()
        .register::<tasks::Sleep>()
        .register::<tasks::Panicky>()
        .register::<tasks::Flaky>()
        .register::<tasks::Fail>();
}

/// Marker in the message of the suite's intentional panics.
pub const PANIC_MARKER: &str = "conformance: intentional panic";

/// Installs (once) a panic hook that keeps the suite's intentional panics off stderr and
/// forwards every other panic to the previous hook.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = crate::backend::panic_message(info.payload());
            if !msg.contains(PANIC_MARKER) {
                prev(info);
            }
        }));
    });
}

/// Task types used by the suite.
pub mod tasks {
    use serde::{Deserialize, Serialize};

    use crate::{Task, TaskContext, TaskError};

    /// Returns `value` (pure).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Echo {
        /// The value.
        pub value: u64,
    }
    impl Task for Echo {
        type Output = u64;
        const NAME: &'static str = "conformance-echo";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            Ok(self.value)
        }
    }

    /// Returns `value`; impure by type (fresh key every submission).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct ImpureEcho {
        /// The value.
        pub value: u64,
    }
    impl Task for ImpureEcho {
        type Output = u64;
        const NAME: &'static str = "conformance-impure-echo";
        const PURE: bool = false;
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            Ok(self.value)
        }
    }

    /// Returns `a + b`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Add {
        /// Left.
        pub a: u64,
        /// Right.
        pub b: u64,
    }
    impl Task for Add {
        type Output = u64;
        const NAME: &'static str = "conformance-add";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            Ok(self.a + self.b)
        }
    }

    /// Returns the sum of its `u64` dependency inputs plus `extra`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct SumInputs {
        /// Added to the sum.
        pub extra: u64,
    }
    impl Task for SumInputs {
        type Output = u64;
        const NAME: &'static str = "conformance-sum-inputs";
        async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
            let mut sum = self.extra;
            for i in 0..ctx.input_count() {
                sum += ctx.input::<u64>(i)?;
            }
            Ok(sum)
        }
    }

    /// Returns input 0 plus one (a link of a dependency chain).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct AddOne {}
    impl Task for AddOne {
        type Output = u64;
        const NAME: &'static str = "conformance-add-one";
        async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
            Ok(ctx.input::<u64>(0)? + 1)
        }
    }

    /// Sleeps `ms` milliseconds (tokio timer), then returns `value`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Sleep {
        /// Milliseconds to sleep.
        pub ms: u64,
        /// Returned value.
        pub value: u64,
    }
    impl Task for Sleep {
        type Output = u64;
        const NAME: &'static str = "conformance-sleep";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            tokio::time::sleep(std::time::Duration::from_millis(self.ms)).await;
            Ok(self.value)
        }
    }

    /// Panics if `panic`, otherwise returns `i`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Panicky {
        /// Returned value / panic id.
        pub i: u64,
        /// Whether to panic.
        pub panic: bool,
    }
    impl Task for Panicky {
        type Output = u64;
        const NAME: &'static str = "conformance-panicky";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            if self.panic {
                panic!("{} {}", super::PANIC_MARKER, self.i);
            }
            Ok(self.i)
        }
    }

    /// Fails fatally if `fatal`; otherwise fails retryably on attempts below `fail_times` and
    /// then returns the attempt number.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Flaky {
        /// Attempts that fail before success.
        pub fail_times: u32,
        /// Fail fatally instead.
        pub fatal: bool,
        /// Distinguishes otherwise identical submissions.
        pub tag: u64,
    }
    impl Task for Flaky {
        type Output = u32;
        const NAME: &'static str = "conformance-flaky";
        const PURE: bool = false;
        async fn run(self, ctx: TaskContext) -> Result<u32, TaskError> {
            if self.fatal {
                return Err(TaskError::fatal("flaky: fatal failure"));
            }
            if ctx.attempt() < self.fail_times {
                return Err(TaskError::retryable(format!(
                    "flaky: transient failure on attempt {}",
                    ctx.attempt()
                )));
            }
            Ok(ctx.attempt())
        }
    }

    /// Always fails fatally with `message`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Fail {
        /// Error message.
        pub message: String,
    }
    impl Task for Fail {
        type Output = u64;
        const NAME: &'static str = "conformance-fail";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            Err(TaskError::fatal(self.message))
        }
    }
}

use tasks::*;

/// Waits for the next event satisfying `pred`, failing the check after `timeout`.
pub async fn next_event(
    events: &mut EventStream,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let find = async {
        while let Some(e) = events.next().await {
            if pred(&e) {
                return Some(e);
            }
        }
        None
    };
    let delay = crate::timer::sleep(timeout);
    futures::pin_mut!(find);
    futures::pin_mut!(delay);
    match futures::future::select(find, delay).await {
        futures::future::Either::Left((Some(e), _)) => e,
        futures::future::Either::Left((None, _)) => panic!("event stream ended waiting for {what}"),
        futures::future::Either::Right(_) => panic!("no event for {what} within {timeout:?}"),
    }
}

fn count_started(events: &[Event], key: &TaskKey) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Started { .. }) && e.key() == key)
        .count()
}

fn gated(tag: &str) -> SubmitOptions {
    SubmitOptions::new().pure(false).resource(tag)
}

/// submit / map / await / blocking-free status and key basics.
pub async fn submit_and_result(client: Client, _cfg: &Config) {
    let f = client.submit(Add { a: 2, b: 3 });
    assert_eq!(f.clone().await.unwrap(), 5);
    assert_eq!(f.status(), TaskStatus::Finished);
    assert!(
        f.key().as_str().starts_with("conformance-add-"),
        "key {}",
        f.key()
    );
    assert_eq!(f.value().await.unwrap(), 5, "a handle can be read twice");
    let fs = client.map((0..100).map(|i| Add { a: i, b: 1 }));
    let out = gather(fs, Errors::Raise).await.unwrap();
    assert_eq!(out, (1..=100).collect::<Vec<u64>>());
}

/// Pure identical submissions share one future and run once; impure ones run every time.
pub async fn pure_dedup(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("dedup-gate", 0);
    // Pending: the first submission is held back by the gate.
    let f1 = client.submit_with(
        Echo { value: 7 },
        SubmitOptions::new().resource("dedup-gate"),
    );
    let f2 = client.submit(Echo { value: 7 });
    assert_eq!(f1.key(), f2.key(), "identical pure tasks must share a key");
    assert_eq!(f2.status(), TaskStatus::Pending);
    let other = client.submit(Echo { value: 8 });
    assert_ne!(
        f1.key(),
        other.key(),
        "different arguments must give different keys"
    );
    client.set_resource_limit("dedup-gate", 1);
    assert_eq!(f2.clone().await.unwrap(), 7);
    assert_eq!(f1.clone().await.unwrap(), 7);
    other.clone().await.unwrap();
    // Finished and still referenced: same future again, no new run.
    let f3 = client.submit(Echo { value: 7 });
    assert_eq!(f3.key(), f1.key());
    assert_eq!(f3.status(), TaskStatus::Finished);
    assert_eq!(f3.clone().await.unwrap(), 7);
    let key = f1.key().clone();
    let seen = ev.drain();
    assert_eq!(
        count_started(&seen, &key),
        1,
        "a pure task must run once: {seen:?}"
    );
    assert!(client.stats().deduplicated >= 2);

    // Impure (per submission and per type): a fresh key and a run every time.
    let impure: Vec<_> = (0..3)
        .map(|_| client.submit_with(Echo { value: 9 }, SubmitOptions::new().pure(false)))
        .collect();
    let by_type: Vec<_> = (0..3)
        .map(|_| client.submit(ImpureEcho { value: 9 }))
        .collect();
    let keys: HashSet<TaskKey> = impure
        .iter()
        .map(|f| f.key().clone())
        .chain(by_type.iter().map(|f| f.key().clone()))
        .collect();
    assert_eq!(keys.len(), 6, "impure tasks must get fresh keys");
    assert_eq!(gather(impure, Errors::Raise).await.unwrap(), vec![9, 9, 9]);
    assert_eq!(gather(by_type, Errors::Raise).await.unwrap(), vec![9, 9, 9]);
    let seen = ev.drain();
    for k in &keys {
        assert_eq!(count_started(&seen, k), 1, "impure task {k} must run");
    }

    // Once every handle is gone the key is forgotten and the task runs again.
    drop((f1, f2, f3));
    let again = client.submit(Echo { value: 7 });
    assert_eq!(again.key(), &key);
    again.clone().await.unwrap();
    let seen = ev.drain();
    assert_eq!(
        count_started(&seen, &key),
        1,
        "resubmission after release runs again"
    );
    let _ = cfg;
}

/// An explicit key is used as given and deduplicates.
pub async fn explicit_key(client: Client, _cfg: &Config) {
    let a = client.submit_with(
        Echo { value: 1 },
        SubmitOptions::new().key("my-explicit-key"),
    );
    assert_eq!(a.key().as_str(), "my-explicit-key");
    let b = client.submit_with(
        Echo { value: 2 },
        SubmitOptions::new().key("my-explicit-key"),
    );
    assert_eq!(b.key().as_str(), "my-explicit-key");
    assert_eq!(a.await.unwrap(), 1);
    assert_eq!(
        b.await.unwrap(),
        1,
        "same explicit key returns the first future"
    );
}

/// Futures as arguments, and a dependency chain of `cfg.chain` tasks.
pub async fn dependencies(client: Client, cfg: &Config) {
    let a = client.submit(Add { a: 1, b: 2 });
    let b = client.submit(Add { a: 10, b: 20 });
    let c = client.submit_after(
        &[a.erase(), b.erase()],
        SumInputs { extra: 100 },
        SubmitOptions::new(),
    );
    assert_eq!(c.await.unwrap(), 133);

    let mut prev = client.submit(Echo { value: 0 });
    let mut keys = HashSet::new();
    keys.insert(prev.key().clone());
    for _ in 1..cfg.chain {
        prev = client.submit_after(&[prev.erase()], AddOne {}, SubmitOptions::new());
        keys.insert(prev.key().clone());
    }
    assert_eq!(keys.len(), cfg.chain, "every link has its own key");
    assert_eq!(prev.await.unwrap(), cfg.chain as u64 - 1);
}

/// A failed dependency reaches every dependent, through chains, naming the failed key.
pub async fn dependency_failure(client: Client, _cfg: &Config) {
    let bad = client.submit(Fail {
        message: "boom".into(),
    });
    let ok = client.submit(Echo { value: 1 });
    let d1 = client.submit_after(
        &[ok.erase(), bad.erase()],
        SumInputs { extra: 0 },
        SubmitOptions::new(),
    );
    let d2 = client.submit_after(&[d1.erase()], AddOne {}, SubmitOptions::new());
    match bad.clone().await {
        Err(ExecError::Task {
            key,
            message,
            attempts,
            ..
        }) => {
            assert_eq!(&key, bad.key());
            assert_eq!(message, "boom");
            assert_eq!(attempts, 1);
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    for d in [&d1, &d2] {
        match d.clone().await {
            Err(ExecError::DependencyFailed {
                key,
                dep_key,
                reason,
                ..
            }) => {
                assert_eq!(&key, d.key());
                assert_eq!(&dep_key, bad.key(), "the root failed key is named");
                assert!(reason.contains("boom"), "reason {reason}");
            }
            other => panic!("expected DependencyFailed, got {other:?}"),
        }
        assert_eq!(d.status(), TaskStatus::Error);
    }
    // Submitting after an already-failed future fails at once.
    let d3 = client.submit_after(&[bad.erase()], AddOne {}, SubmitOptions::new());
    assert!(matches!(d3.await, Err(ExecError::DependencyFailed { .. })));
}

/// Cancelling a pending task cancels its dependents; none of them runs.
pub async fn cancel_pending(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("cancel-gate", 0);
    let a = client.submit_with(Echo { value: 1 }, gated("cancel-gate"));
    let b = client.submit_after(&[a.erase()], AddOne {}, SubmitOptions::new());
    let c = client.submit_after(&[b.erase()], AddOne {}, SubmitOptions::new());
    assert_eq!(a.status(), TaskStatus::Pending);
    assert_eq!(b.status(), TaskStatus::Pending);
    a.cancel();
    assert_eq!(a.status(), TaskStatus::Cancelled);
    assert!(matches!(a.clone().await, Err(ExecError::Cancelled { ref key }) if key == a.key()));
    for d in [&b, &c] {
        match d.clone().await {
            Err(e @ ExecError::DependencyFailed { .. }) => {
                assert!(e.is_cancelled(), "{e}");
                let ExecError::DependencyFailed { dep_key, .. } = e else {
                    unreachable!()
                };
                assert_eq!(&dep_key, a.key());
            }
            other => panic!("expected DependencyFailed, got {other:?}"),
        }
        assert_eq!(d.status(), TaskStatus::Cancelled);
    }
    // Opening the gate must not run the cancelled task.
    client.set_resource_limit("cancel-gate", 1);
    let probe = client.submit_with(Echo { value: 5 }, gated("cancel-gate"));
    assert_eq!(probe.clone().await.unwrap(), 5);
    let seen = ev.drain();
    for f in [a.key(), b.key(), c.key()] {
        assert_eq!(count_started(&seen, f), 0, "cancelled {f} must not start");
        assert!(
            seen.iter()
                .any(|e| matches!(e, Event::Cancelled { key, .. } if key == f)),
            "Cancelled event for {f}"
        );
    }
    // A running task can be cancelled too: its future resolves as cancelled.
    let s = client.submit_with(
        Sleep {
            ms: 1_000,
            value: 1,
        },
        SubmitOptions::new().pure(false),
    );
    let sk = s.key().clone();
    next_event(
        &mut ev,
        cfg.event_timeout,
        "start of sleeper",
        |e| matches!(e, Event::Started { key, .. } if *key == sk),
    )
    .await;
    assert_eq!(s.status(), TaskStatus::Running);
    s.cancel();
    assert!(matches!(s.clone().await, Err(ExecError::Cancelled { .. })));
    assert_eq!(s.status(), TaskStatus::Cancelled);
}

/// Dropping every handle cancels an unfinished task unless fire-and-forget; finished results
/// are freed with the last handle.
pub async fn drop_semantics(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("drop-gate", 0);
    let a = client.submit_with(Echo { value: 1 }, gated("drop-gate"));
    let ak = a.key().clone();
    let a2 = a.clone();
    drop(a);
    assert_eq!(a2.status(), TaskStatus::Pending, "a clone keeps it alive");
    drop(a2);
    let e = ev.drain();
    assert!(
        e.iter()
            .any(|e| matches!(e, Event::Cancelled { key, .. } if *key == ak)),
        "dropping the last handle cancels: {e:?}"
    );
    let b = client.submit_with(Echo { value: 2 }, gated("drop-gate").fire_and_forget(true));
    let bk = b.key().clone();
    drop(b);
    client.set_resource_limit("drop-gate", 4);
    next_event(
        &mut ev,
        cfg.event_timeout,
        "fire-and-forget finish",
        |e| matches!(e, Event::Finished { key, .. } if *key == bk),
    )
    .await;
    let seen = ev.drain();
    assert_eq!(count_started(&seen, &ak), 0, "the dropped task never ran");
    assert_eq!(
        client.stats().live,
        0,
        "nothing is held once all is done and dropped"
    );

    let f = client.submit(Echo { value: 3 });
    f.clone().await.unwrap();
    assert_eq!(client.stats().live, 1);
    drop(f);
    assert_eq!(client.stats().live, 0, "result freed with the last handle");
}

/// `gather` with raise and skip.
pub async fn gather_errors(client: Client, _cfg: &Config) {
    let fs = vec![
        client.submit(Echo { value: 1 }),
        client.submit(Fail {
            message: "gather-bad".into(),
        }),
        client.submit(Echo { value: 3 }),
    ];
    match gather(fs.clone(), Errors::Raise).await {
        Err(ExecError::Task { message, .. }) => assert_eq!(message, "gather-bad"),
        other => panic!("expected the task error, got {other:?}"),
    }
    assert_eq!(gather(fs, Errors::Skip).await.unwrap(), vec![1, 3]);
}

/// `wait` with every `ReturnWhen` and a timeout.
pub async fn wait_variants(client: Client, _cfg: &Config) {
    client.set_resource_limit("wait-gate", 0);
    let held: Vec<_> = (0..3)
        .map(|i| client.submit_with(Echo { value: i }, gated("wait-gate")))
        .collect();
    let quick = client.submit(Echo { value: 100 });
    let bad = client.submit(Fail {
        message: "wait-bad".into(),
    });

    let all = vec![quick.clone(), client.submit(Echo { value: 101 })];
    let (done, pending) = wait(&all, WaitOptions::all()).await;
    assert_eq!(done.len(), 2);
    assert!(pending.is_empty());

    let mut mixed = held.clone();
    mixed.push(quick.clone());
    let (done, pending) = wait(
        &mixed,
        WaitOptions::all().return_when(ReturnWhen::FirstCompleted),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].key(), quick.key());
    assert_eq!(pending.len(), 3);

    let mut with_bad = held.clone();
    with_bad.push(bad.clone());
    let (done, pending) = wait(
        &with_bad,
        WaitOptions::all().return_when(ReturnWhen::FirstException),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].key(), bad.key());
    assert_eq!(done[0].status(), TaskStatus::Error);
    assert_eq!(pending.len(), 3);

    // FirstException with no failure waits for everything.
    let (done, pending) = wait(
        &all,
        WaitOptions::all().return_when(ReturnWhen::FirstException),
    )
    .await;
    assert_eq!((done.len(), pending.len()), (2, 0));

    let (done, pending) = wait(&held, WaitOptions::all().timeout(Duration::from_millis(50))).await;
    assert!(done.is_empty());
    assert_eq!(pending.len(), 3);
    // Type-erased handles work too.
    let erased: Vec<_> = held.iter().map(|f| f.erase()).collect();
    let (done, pending) = wait(
        &erased,
        WaitOptions::all().timeout(Duration::from_millis(10)),
    )
    .await;
    assert_eq!((done.len(), pending.len()), (0, 3));
    for f in &held {
        f.cancel();
    }
}

/// `as_completed` with `add` during iteration, completion order, and batches.
pub async fn as_completed_add(client: Client, _cfg: &Config) {
    let first: Vec<_> = (0..3).map(|i| client.submit(Echo { value: i })).collect();
    let mut ac = as_completed(first);
    let mut seen = Vec::new();
    let mut added = 0;
    let mut order: Vec<TaskKey> = Vec::new();
    let mut parent_of: HashMap<TaskKey, TaskKey> = HashMap::new();
    while let Some((fut, res)) = ac.next().await {
        let v = res.unwrap();
        order.push(fut.key().clone());
        seen.push(v);
        if v < 3 {
            // Like submitting question tasks as a listing page completes.
            let child = client.submit_after(
                &[fut.erase()],
                SumInputs { extra: 10 },
                SubmitOptions::new(),
            );
            parent_of.insert(child.key().clone(), fut.key().clone());
            ac.add(child);
            added += 1;
        }
    }
    assert_eq!(added, 3);
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 10, 11, 12]);
    let pos: HashMap<&TaskKey, usize> = order.iter().enumerate().map(|(i, k)| (k, i)).collect();
    for (child, parent) in &parent_of {
        assert!(
            pos[parent] < pos[child],
            "a dependency completes before its dependent"
        );
    }
    let mut ac = as_completed((0..50).map(|i| client.submit(Echo { value: 1000 + i }))).batches();
    let mut total = 0;
    let mut batches = 0;
    while let Some(batch) = ac.next().await {
        assert!(!batch.is_empty());
        total += batch.len();
        batches += 1;
        if batches == 1 {
            ac.add(client.submit(Echo { value: 5000 }));
        }
    }
    assert_eq!(total, 51);
}

/// `as_completed` over many futures holds nothing it has yielded.
pub async fn as_completed_memory(client: Client, cfg: &Config) {
    let n = cfg.as_completed;
    let futs = client.map((0..n as u64).map(|i| ImpureEcho { value: i }));
    let mut ac = as_completed(futs);
    let mut sum = 0u64;
    let mut count = 0usize;
    while let Some((f, r)) = ac.next().await {
        sum += r.unwrap();
        count += 1;
        drop(f);
        if count.is_multiple_of(997) {
            let live = client.stats().live;
            assert!(
                live <= ac.len(),
                "{live} live futures but only {} not yielded",
                ac.len()
            );
        }
    }
    assert_eq!(count, n);
    assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    assert_eq!(client.stats().live, 0);
}

/// `map_bounded` keeps at most N in flight and yields everything.
pub async fn map_bounded(client: Client, cfg: &Config) {
    let n = cfg.map_bounded as u64;
    let max = 16;
    let mut s = client.map_bounded(
        (0..n).map(|i| ImpureEcho { value: i }),
        max,
        SubmitOptions::new(),
    );
    let mut sum = 0;
    let mut count = 0u64;
    while let Some(r) = s.next().await {
        sum += r.unwrap();
        count += 1;
        assert!(s.in_flight() <= max);
        if count.is_multiple_of(101) {
            let live = client.stats().live;
            assert!(live <= max, "{live} live futures with max_in_flight {max}");
        }
    }
    assert_eq!(count, n);
    assert_eq!(sum, n * (n - 1) / 2);
}

/// Retries with backoff; fatal errors are not retried.
pub async fn retries(client: Client, _cfg: &Config) {
    let mut ev = client.events();
    let policy = RetryPolicy::exponential(3, Duration::from_millis(1), Duration::from_millis(5));
    let ok = client.submit_with(
        Flaky {
            fail_times: 2,
            fatal: false,
            tag: 1,
        },
        SubmitOptions::new().retry(policy.clone()),
    );
    assert_eq!(
        ok.clone().await.unwrap(),
        2,
        "succeeds on the third attempt"
    );
    let fatal = client.submit_with(
        Flaky {
            fail_times: 0,
            fatal: true,
            tag: 2,
        },
        SubmitOptions::new().retry(policy.clone()),
    );
    match fatal.clone().await {
        Err(ExecError::Task {
            attempts,
            retryable,
            ..
        }) => {
            assert_eq!(attempts, 1, "fatal errors are not retried");
            assert!(!retryable);
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    let exhausted = client.submit_with(
        Flaky {
            fail_times: 10,
            fatal: false,
            tag: 3,
        },
        SubmitOptions::new().retry(RetryPolicy::fixed(2, Duration::from_millis(1))),
    );
    match exhausted.clone().await {
        Err(ExecError::Task {
            attempts,
            retryable,
            message,
            ..
        }) => {
            assert_eq!(attempts, 3);
            assert!(retryable);
            assert!(message.contains("attempt 2"), "{message}");
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    let no_policy = client.submit(Flaky {
        fail_times: 1,
        fatal: false,
        tag: 4,
    });
    assert!(matches!(
        no_policy.clone().await,
        Err(ExecError::Task { attempts: 1, .. })
    ));
    let seen = ev.drain();
    let retried = |k: &TaskKey| {
        seen.iter()
            .filter(|e| matches!(e, Event::Retried { key, .. } if key == k))
            .count()
    };
    assert_eq!(retried(ok.key()), 2);
    assert_eq!(count_started(&seen, ok.key()), 3);
    assert_eq!(retried(fatal.key()), 0);
    assert_eq!(retried(exhausted.key()), 2);
    assert_eq!(count_started(&seen, exhausted.key()), 3);
    let attempts: Vec<u32> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Started { key, attempt, .. } if key == ok.key() => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, vec![0, 1, 2]);
}

/// `cfg.many` tasks, 10% panicking: each panic is an error on its own future; the rest and
/// later tasks run.
pub async fn panics_isolated(client: Client, cfg: &Config) {
    quiet_panics();
    let n = cfg.many as u64;
    let fs = client.map((0..n).map(|i| Panicky {
        i,
        panic: i % 10 == 0,
    }));
    let keys: Vec<TaskKey> = fs.iter().map(|f| f.key().clone()).collect();
    let results = futures::future::join_all(fs).await;
    let mut panicked = 0;
    for (i, (r, k)) in results.into_iter().zip(keys).enumerate() {
        match r {
            Ok(v) => assert_eq!(v, i as u64),
            Err(ExecError::Panicked { key, message, .. }) => {
                assert_eq!(i % 10, 0);
                assert_eq!(key, k);
                assert!(message.contains(PANIC_MARKER), "{message}");
                panicked += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(panicked, n.div_ceil(10));
    assert_eq!(client.submit(Add { a: 40, b: 2 }).await.unwrap(), 42);
}

/// Progress events in order.
pub async fn events(client: Client, cfg: &Config) {
    let mut ev = client.events();
    let f = client.submit(Echo { value: 77 });
    f.clone().await.unwrap();
    let bad = client.submit(Fail {
        message: "event-bad".into(),
    });
    let _ = bad.clone().await;
    let seen = ev.drain();
    let kinds: Vec<&str> = seen
        .iter()
        .filter(|e| e.key() == f.key())
        .map(|e| match e {
            Event::Submitted { .. } => "submitted",
            Event::Started { .. } => "started",
            Event::Finished { .. } => "finished",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["submitted", "started", "finished"]);
    assert!(seen.iter().all(|e| e.name().starts_with("conformance-")));
    assert!(seen.iter().any(
        |e| matches!(e, Event::Failed { key, error, .. } if key == bad.key() && error.contains("event-bad"))
    ));
    let _ = cfg;
}

/// At most `limit` tasks with a resource tag run at once.
pub async fn resource_limits(client: Client, _cfg: &Config) {
    let mut ev = client.events();
    let tag = "host=conformance.test";
    client.set_resource_limit(tag, 2);
    let tagged: Vec<_> = (0..8)
        .map(|i| client.submit_with(Sleep { ms: 20, value: i }, gated(tag)))
        .collect();
    let free: Vec<_> = (0..4)
        .map(|i| {
            client.submit_with(
                Sleep {
                    ms: 20,
                    value: 100 + i,
                },
                SubmitOptions::new().pure(false),
            )
        })
        .collect();
    let keys: HashSet<TaskKey> = tagged.iter().map(|f| f.key().clone()).collect();
    assert_eq!(gather(tagged, Errors::Raise).await.unwrap().len(), 8);
    gather(free, Errors::Raise).await.unwrap();
    let mut running = 0i64;
    let mut max = 0;
    let mut started = 0;
    for e in ev.drain() {
        if !keys.contains(e.key()) {
            continue;
        }
        match e {
            Event::Started { .. } => {
                running += 1;
                started += 1;
                max = max.max(running);
            }
            e if e.is_terminal() => running -= 1,
            _ => {}
        }
    }
    assert_eq!(started, 8);
    assert!(max <= 2, "{max} tagged tasks ran at once with a limit of 2");
    assert!(max >= 1);
}

/// Status moves pending -> running -> finished.
pub async fn status_transitions(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("status-gate", 0);
    let f = client.submit_with(Sleep { ms: 100, value: 1 }, gated("status-gate"));
    assert_eq!(f.status(), TaskStatus::Pending);
    client.set_resource_limit("status-gate", 1);
    let k = f.key().clone();
    next_event(
        &mut ev,
        cfg.event_timeout,
        "sleeper start",
        |e| matches!(e, Event::Started { key, .. } if *key == k),
    )
    .await;
    assert!(matches!(
        f.status(),
        TaskStatus::Running | TaskStatus::Finished
    ));
    assert_eq!(f.clone().await.unwrap(), 1);
    assert_eq!(f.status(), TaskStatus::Finished);
    assert!(f.done());
}

/// Names of every check, in the order [`run_all`] runs them.
pub const CHECKS: &[&str] = &[
    "submit_and_result",
    "pure_dedup",
    "explicit_key",
    "dependencies",
    "dependency_failure",
    "cancel_pending",
    "drop_semantics",
    "gather_errors",
    "wait_variants",
    "as_completed_add",
    "as_completed_memory",
    "map_bounded",
    "retries",
    "panics_isolated",
    "events",
    "resource_limits",
    "status_transitions",
];

/// Runs every check in turn, each with a fresh client from `make`.
pub async fn run_all<F, Fut>(make: F, cfg: &Config)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Client>,
{
    submit_and_result(make().await, cfg).await;
    pure_dedup(make().await, cfg).await;
    explicit_key(make().await, cfg).await;
    dependencies(make().await, cfg).await;
    dependency_failure(make().await, cfg).await;
    cancel_pending(make().await, cfg).await;
    drop_semantics(make().await, cfg).await;
    gather_errors(make().await, cfg).await;
    wait_variants(make().await, cfg).await;
    as_completed_add(make().await, cfg).await;
    as_completed_memory(make().await, cfg).await;
    map_bounded(make().await, cfg).await;
    retries(make().await, cfg).await;
    panics_isolated(make().await, cfg).await;
    events(make().await, cfg).await;
    resource_limits(make().await, cfg).await;
    status_transitions(make().await, cfg).await;
}

/// Generates one `#[tokio::test]` per conformance check. `$make` is an expression evaluating
/// to a future of a fresh [`Client`] (evaluated once per test); `$cfg` an optional [`Config`].
///
/// ```ignore
/// sofleet_executor::conformance_tests!(async { Client::new(TokioBackend::new()) });
/// sofleet_executor::conformance_tests!(async { make_remote().await }, Config { many: 1_000, ..Default::default() });
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!($make, $crate::conformance::Config::default());
    };
    ($make:expr, $cfg:expr) => {
        $crate::__conformance_tests!(
            ($make, $cfg)
            submit_and_result pure_dedup explicit_key dependencies dependency_failure
            cancel_pending drop_semantics gather_errors wait_variants as_completed_add
            as_completed_memory map_bounded retries panics_isolated events resource_limits
            status_transitions
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($make:expr, $cfg:expr) $($name:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::conformance::quiet_panics();
                let cfg: $crate::conformance::Config = $cfg;
                let client: $crate::Client = $make.await;
                $crate::conformance::$name(client, &cfg).await;
            }
        )*
    };
}
