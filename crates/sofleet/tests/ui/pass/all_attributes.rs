//! Every attribute argument at once.
#![deny(warnings)]

use std::sync::atomic::{AtomicU32, Ordering};

use sofleet::{Client, Task, TaskError, ThreadsBackend};

static RUNS: AtomicU32 = AtomicU32::new(0);

/// Fails twice, then returns `x * 10`.
#[sofleet::task(
    name = "ui::flaky",
    version = 3,
    pure = false,
    retries = 2,
    crate = "::sofleet",
    struct_name = "Flaky"
)]
pub async fn flaky_times_ten(x: u64) -> Result<u64, TaskError> {
    if RUNS.fetch_add(1, Ordering::SeqCst) < 2 {
        return Err(TaskError::retryable("not yet"));
    }
    Ok(x * 10)
}

fn main() {
    assert_eq!(<Flaky as Task>::NAME, "ui::flaky");
    assert_eq!(<Flaky as Task>::VERSION, 3);
    const { assert!(!<Flaky as Task>::PURE) };
    assert_eq!(
        <Flaky as Task>::retry_policy(),
        sofleet::RetryPolicy::retries(2)
    );

    let client = Client::new(ThreadsBackend::new(2));
    let futures = client.map([flaky_times_ten(4)]);
    assert_eq!(futures[0].result().unwrap(), 40);
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
}
