//! Arguments named like the expansion's locals, `#[cfg]` and lint attributes.
#![deny(warnings)]

use sofleet::{Client, TaskContext, TaskError, ThreadsBackend};

/// Arguments named `ctx`, `deps`, `__base` and `__sofleet_deps` do not clash with the
/// expansion's locals; the context has another name.
#[sofleet::task]
pub async fn clash(
    ctx: u32,
    deps: u32,
    context: &TaskContext,
    __base: u32,
    __sofleet_deps: u32,
) -> Result<u32, TaskError> {
    Ok(ctx * 1000 + deps * 100 + __base * 10 + __sofleet_deps + context.attempt())
}

/// Compiled out with everything it generates.
#[cfg(any())]
#[sofleet::task]
pub fn gone(x: u32) -> Result<u32, TaskError> {
    Ok(x)
}

/// `expect` is met in the body (`call`); the constructor only allows it.
#[sofleet::task]
#[expect(unused_variables)]
pub fn ignore(x: u32) -> Result<u32, TaskError> {
    let unused = x;
    Ok(0)
}

fn main() {
    let client = Client::new(ThreadsBackend::new(2));
    let one = client.submit(ignore(7));
    assert_eq!(client.submit(clash(1, 2, 3, &one)).result().unwrap(), 1230);
}
