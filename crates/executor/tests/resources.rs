//! Worker resources: a backend is given shared values once, and every task it runs reads them
//! from its context — on the threads and tokio backends, for in-process and serialised jobs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sofleet_executor::{
    Client, ExecError, Resources, Task, TaskContext, TaskError, TaskRegistry, ThreadsBackend,
    TokioBackend,
};

/// Owned by the worker: one counter for every task it runs.
#[derive(Default)]
struct Counter(AtomicU64);

/// Reads the worker's counter and prefix.
#[derive(Serialize, Deserialize)]
struct Count {
    page: u32,
}

impl Task for Count {
    type Output = String;
    const NAME: &'static str = "resources-test.count";
    const PURE: bool = false;
    async fn run(self, ctx: TaskContext) -> Result<String, TaskError> {
        let counter = ctx.resource::<Counter>()?;
        let prefix = ctx.resource::<String>()?;
        counter.0.fetch_add(1, Ordering::SeqCst);
        Ok(format!("{prefix}-{}", self.page))
    }
}

fn resources(counter: &Arc<Counter>) -> Resources {
    Resources::new()
        .with_arc(counter.clone())
        .with(String::from("w1"))
}

fn registry() -> TaskRegistry {
    let mut r = TaskRegistry::new();
    r.register::<Count>();
    r
}

fn check(client: &Client, counter: &Counter) {
    let mut out: Vec<String> = client
        .map((0..5).map(|page| Count { page }))
        .iter()
        .map(|f| f.result().expect("the task reads the worker's resources"))
        .collect();
    out.sort();
    assert_eq!(out, ["w1-0", "w1-1", "w1-2", "w1-3", "w1-4"]);
    assert_eq!(counter.0.load(Ordering::SeqCst), 5, "one shared counter");
}

#[test]
fn threads_backend_lends_its_resources_to_every_task() {
    let counter = Arc::new(Counter::default());
    let client = Client::new(ThreadsBackend::new(3).with_resources(resources(&counter)));
    check(&client, &counter);
}

#[test]
fn serialised_jobs_read_the_resources_too() {
    let counter = Arc::new(Counter::default());
    let backend = ThreadsBackend::serialized(2, registry()).with_resources(resources(&counter));
    check(&Client::new(backend), &counter);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_backend_lends_its_resources_to_every_task() {
    let counter = Arc::new(Counter::default());
    let client = Client::new(TokioBackend::new().with_resources(resources(&counter)));
    let c = counter.clone();
    tokio::task::spawn_blocking(move || check(&client, &c))
        .await
        .unwrap();
    let counter = Arc::new(Counter::default());
    let client =
        Client::new(TokioBackend::serialized(registry()).with_resources(resources(&counter)));
    tokio::task::spawn_blocking(move || check(&client, &counter))
        .await
        .unwrap();
}

#[test]
fn a_missing_resource_is_a_fatal_error_naming_the_type_and_what_the_worker_has() {
    let client = Client::new(ThreadsBackend::new(1).with_resources(Resources::new().with(7u8)));
    let err = client.submit(Count { page: 1 }).result().unwrap_err();
    let ExecError::Task {
        message, retryable, ..
    } = &err
    else {
        panic!("expected a task failure, got {err:?}");
    };
    assert!(!retryable);
    assert!(
        message.contains("resources::Counter") && message.contains("it has u8"),
        "{message}"
    );
}
