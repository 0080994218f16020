//! Tasks whose arguments are [`Input`]s (what `#[sofleet::task]` generates, written by hand
//! here): futures as arguments, after explicit dependencies, in process and through bytes;
//! blocking tasks; per-type retries; the registry's collected tasks and version mismatches.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_executor::backend::JobOutcome;
use sofleet_executor::conformance_free_example::Double;
use sofleet_executor::{
    AnyFuture, Client, ExecError, Input, IntoInput, RetryPolicy, SubmitOptions, Task, TaskContext,
    TaskError, TaskKey, TaskRegistry, ThreadsBackend, TokioBackend, input_base, register_task,
};

/// `a - b`, each a value or a future.
#[derive(Serialize, Deserialize)]
struct Sub {
    a: Input<u64>,
    b: Input<u64>,
}

fn sub(a: impl IntoInput<u64>, b: impl IntoInput<u64>) -> Sub {
    let mut deps = 0;
    Sub {
        a: a.into_input(&mut deps),
        b: b.into_input(&mut deps),
    }
}

impl Task for Sub {
    type Output = u64;
    const NAME: &'static str = "inputs::sub";
    fn dependencies(&mut self) -> Vec<AnyFuture> {
        self.a
            .take_dependency()
            .into_iter()
            .chain(self.b.take_dependency())
            .collect()
    }
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        let base = input_base(&ctx, &[self.a.is_dependency(), self.b.is_dependency()]);
        let a = self.a.resolve(&ctx, base)?;
        let b = self.b.resolve(&ctx, base)?;
        a.checked_sub(b)
            .ok_or_else(|| TaskError::fatal(format!("{a} - {b} is negative")))
    }
}
register_task!(Sub);

/// A blocking task: says whether the thread it runs on may block (tokio refuses `block_on` on
/// an async worker thread, and allows it on its blocking pool).
#[derive(Serialize, Deserialize)]
struct MayBlock;

impl Task for MayBlock {
    type Output = bool;
    const NAME: &'static str = "inputs::may-block";
    const PURE: bool = false;
    const BLOCKING: bool = true;
    async fn run(self, _ctx: TaskContext) -> Result<bool, TaskError> {
        Ok(match tokio::runtime::Handle::try_current() {
            Ok(handle) => std::panic::catch_unwind(|| handle.block_on(async {})).is_ok(),
            Err(_) => true,
        })
    }
}
register_task!(MayBlock);

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);

/// Fails retryably twice, with a per-type policy of 2 retries.
#[derive(Serialize, Deserialize)]
struct Flaky;

impl Task for Flaky {
    type Output = u32;
    const NAME: &'static str = "inputs::flaky";
    const PURE: bool = false;
    fn retry_policy() -> RetryPolicy {
        RetryPolicy::fixed(2, Duration::from_millis(1))
    }
    async fn run(self, ctx: TaskContext) -> Result<u32, TaskError> {
        FLAKY_RUNS.fetch_add(1, Ordering::SeqCst);
        if ctx.attempt() < 2 {
            return Err(TaskError::retryable("not yet"));
        }
        Ok(ctx.attempt())
    }
}

fn threads() -> Client {
    Client::new(ThreadsBackend::new(2))
}

#[test]
fn futures_as_arguments_run_after_their_tasks_in_any_position() {
    let client = threads();
    let ten = client.submit(Double { x: 5 });
    let four = client.submit(Double { x: 2 });
    assert_eq!(client.submit(sub(&ten, 3)).result().unwrap(), 7);
    assert_eq!(client.submit(sub(20, &four)).result().unwrap(), 16);
    assert_eq!(client.submit(sub(&ten, &four)).result().unwrap(), 6);
    assert_eq!(client.submit(sub(9, 4)).result().unwrap(), 5);
    let mapped: Vec<u64> = client
        .map([sub(&ten, 1), sub(3, 1), sub(&ten, &ten)])
        .iter()
        .map(|f| f.result().unwrap())
        .collect();
    assert_eq!(mapped, vec![9, 2, 0]);
}

#[test]
fn own_dependencies_come_after_the_explicit_ones() {
    let client = threads();
    let ten = client.submit(Double { x: 5 });
    let explicit = client.submit(Double { x: 50 });
    // The explicit dependency is input 0; `ten` is the task's own input 0, i.e. context input 1.
    let f = client.submit_after(&[explicit.erase()], sub(&ten, 1), SubmitOptions::new());
    assert_eq!(f.result().unwrap(), 9);
}

#[test]
fn a_failed_future_argument_fails_the_task_that_takes_it() {
    let client = threads();
    let negative = client.submit(sub(1, 2));
    let after = client.submit(sub(&negative, 0));
    match after.result() {
        Err(ExecError::DependencyFailed { dep_key, .. }) => {
            assert_eq!(&dep_key, negative.key())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn arguments_read_back_from_bytes_resolve_to_the_dependencies_outputs() {
    let mut registry = TaskRegistry::new();
    registry.register::<Sub>().register::<Double>();
    let client = Client::new(ThreadsBackend::serialized(2, registry));
    let ten = client.submit(Double { x: 5 });
    let explicit = client.submit(Double { x: 1 });
    let f = client.submit_after(&[explicit.erase()], sub(30, &ten), SubmitOptions::new());
    assert_eq!(f.result().unwrap(), 20);
}

#[test]
fn keys_hash_values_and_the_keys_of_future_arguments() {
    let client = threads();
    let ten = client.submit(Double { x: 5 });
    let also_ten = client.submit(Double { x: 5 });
    assert_eq!(ten.key(), also_ten.key());
    let a = client.submit(sub(&ten, 1));
    let b = client.submit(sub(&also_ten, 1));
    let c = client.submit(sub(10, 1));
    assert_eq!(a.key(), b.key(), "same future argument, same key");
    assert_ne!(a.key(), c.key(), "a future argument is not its value");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_tasks_leave_the_tokio_workers_free() {
    let client = Client::new(TokioBackend::new());
    assert!(
        client.submit(MayBlock).await.unwrap(),
        "ran on an async worker"
    );

    // Through bytes (a worker's registry), still off the async workers.
    let mut registry = TaskRegistry::new();
    registry.register::<MayBlock>();
    let serialized = Client::new(TokioBackend::serialized(registry));
    assert!(
        serialized.submit(MayBlock).await.unwrap(),
        "ran on an async worker"
    );
}

#[test]
fn a_task_types_retry_policy_applies_unless_the_submission_sets_one() {
    let client = threads();
    FLAKY_RUNS.store(0, Ordering::SeqCst);
    assert_eq!(client.submit(Flaky).result().unwrap(), 2);
    assert_eq!(FLAKY_RUNS.load(Ordering::SeqCst), 3);
    let no_retries = SubmitOptions::new().retry(RetryPolicy::none());
    let err = client.submit_with(Flaky, no_retries).result().unwrap_err();
    assert!(err.to_string().contains("not yet"), "{err}");
}

#[test]
fn the_collected_registry_has_every_registered_task() {
    let registry = TaskRegistry::collected().unwrap();
    for (name, version) in [("inputs::sub", 1), ("inputs::may-block", 1)] {
        assert!(registry.contains(name, version), "{:?}", registry.tasks());
    }
    assert!(
        !registry.contains("inputs::flaky", 1),
        "Flaky is not registered"
    );
}

#[test]
fn another_version_of_a_known_task_fails_naming_both_versions() {
    let registry = TaskRegistry::collected().unwrap();
    let ctx = TaskContext::new(TaskKey::from("inputs::sub-abc"), 0, vec![]);
    let outcome = futures::executor::block_on(registry.run_serialized(
        "inputs::sub",
        3,
        ctx,
        br#"{"a":{"value":1},"b":{"value":1}}"#,
    ));
    match outcome {
        JobOutcome::Failed(e) => {
            assert!(!e.is_retryable());
            assert_eq!(
                e.message(),
                "version mismatch for task inputs::sub-abc: the client submitted inputs::sub v3, \
                 but this worker runs inputs::sub v1; build the worker from the same code as the \
                 client"
            );
        }
        other => panic!("{other:?}"),
    }
}
