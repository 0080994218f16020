use sofleet::TaskError;

#[sofleet::task]
pub fn first<T: Clone>(items: Vec<T>) -> Result<T, TaskError> {
    items
        .first()
        .cloned()
        .ok_or_else(|| TaskError::fatal("empty"))
}

fn main() {}
