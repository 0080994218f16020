use sofleet::TaskError;

#[sofleet::task(retry = 3, version = "2")]
pub async fn fetch(page: u32) -> Result<u32, TaskError> {
    Ok(page)
}

fn main() {}
