use sofleet::TaskError;

#[sofleet::task]
pub fn sum((a, b): (u64, u64)) -> Result<u64, TaskError> {
    Ok(a + b)
}

fn main() {}
