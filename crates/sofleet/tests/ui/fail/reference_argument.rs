use sofleet::TaskError;

#[sofleet::task]
pub async fn shout(text: &str) -> Result<String, TaskError> {
    Ok(text.to_uppercase())
}

fn main() {}
