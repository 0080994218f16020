use sofleet::TaskError;

#[derive(Clone)]
pub struct Question {
    pub votes: u64,
}

#[sofleet::task]
pub async fn score(question: Question, weight: u64) -> Result<u64, TaskError> {
    Ok(question.votes * weight)
}

fn main() {}
