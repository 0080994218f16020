//! An async task whose arguments are futures of earlier tasks, with `client.map`.
#![deny(warnings)]

use sofleet::{Client, Task, TaskError, ThreadsBackend};

/// `a + b`.
#[sofleet::task]
pub async fn add(a: u64, b: u64) -> Result<u64, TaskError> {
    Ok(a + b)
}

/// Fails for odd numbers.
#[sofleet::task]
pub async fn half(n: u64) -> Result<u64, TaskError> {
    if n % 2 == 1 {
        return Err(TaskError::fatal(format!("{n} is odd")));
    }
    Ok(n / 2)
}

fn main() {
    const { assert!(!<AddTask as Task>::BLOCKING) };

    let client = Client::new(ThreadsBackend::new(2));
    let three = client.submit(add(1, 2));
    let seven = client.submit(add(&three, 4));
    let fourteen = client.submit(add(seven.clone(), seven));
    assert_eq!(fourteen.result().unwrap(), 14);

    let halves = client.map((0..4).map(|n| half(n * 2)));
    let halves: Vec<u64> = halves.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(halves, vec![0, 1, 2, 3]);

    assert!(client.submit(half(3)).result().is_err());
    assert_eq!(futures::executor::block_on(AddTask::call(2, 2)).unwrap(), 4);
}
