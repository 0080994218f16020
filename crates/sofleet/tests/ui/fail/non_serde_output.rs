use sofleet::TaskError;

pub struct Score(u64);

#[sofleet::task]
pub async fn score(votes: u64) -> Result<Score, TaskError> {
    Ok(Score(votes))
}

fn main() {}
