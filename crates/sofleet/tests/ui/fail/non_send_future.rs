use std::rc::Rc;

use sofleet::TaskError;

async fn pause() {}

#[sofleet::task]
pub async fn count(n: u64) -> Result<u64, TaskError> {
    let shared = Rc::new(n);
    pause().await;
    Ok(*shared)
}

fn main() {}
