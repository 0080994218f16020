//! A `TaskContext` parameter is not an argument: the task gets its context there.
#![deny(warnings)]

use sofleet::{Client, TaskContext, TaskError, ThreadsBackend};

/// The attempt number plus `x`, taking the context by reference, between two arguments.
#[sofleet::task]
pub async fn attempt_plus(x: u32, ctx: &TaskContext, y: u32) -> Result<u32, TaskError> {
    Ok(ctx.attempt() + x + y)
}

/// How many dependency inputs the task had, taking the context by value (sync).
#[sofleet::task]
pub fn inputs(ctx: sofleet::TaskContext, _value: u32) -> Result<usize, TaskError> {
    Ok(ctx.input_count())
}

/// No arguments at all: only the context.
#[sofleet::task]
pub async fn first_attempt(ctx: TaskContext) -> Result<bool, TaskError> {
    Ok(ctx.attempt() == 0)
}

/// No arguments and no context.
#[sofleet::task(pure = false)]
pub fn answer() -> Result<u32, TaskError> {
    Ok(42)
}

fn main() {
    let client = Client::new(ThreadsBackend::new(2));
    let five = client.submit(attempt_plus(2, 3));
    assert_eq!(five.result().unwrap(), 5);
    let from_value = client.submit(inputs(1));
    let from_future = client.submit(inputs(&five));
    assert_eq!(from_value.result().unwrap(), 0);
    assert_eq!(from_future.result().unwrap(), 1);
    assert!(client.submit(first_attempt()).result().unwrap());
    assert_eq!(client.submit(answer()).result().unwrap(), 42);
}
