//! A sofleet user's project in miniature, and the proof that its tasks run the same on
//! threads, on tokio and on a Redis fleet.
//!
//! * This library holds the tasks: plain functions under `#[sofleet::task]`.
//! * `sofleet-example-client` runs a small job on whatever `SOFLEET_BACKEND` names
//!   (`threads:4`, `tokio`, `redis://HOST:6379`).
//! * `sofleet-example-worker` is `fn main() { sofleet::worker::main() }`: built from this same
//!   library, it serves every task in it to a Redis fleet's clients.
//!
//! ```text
//! redis-server --port 6379 &
//! cargo run -p sofleet-example-fleet --bin sofleet-example-worker -- --redis redis://127.0.0.1:6379 &
//! SOFLEET_BACKEND=redis://127.0.0.1:6379 cargo run -p sofleet-example-fleet --bin sofleet-example-client
//! ```

use serde::{Deserialize, Serialize};
use sofleet::{Client, Errors, ExecError, TaskContext, TaskError, gather};

/// A question as the tasks see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Question id.
    pub id: u64,
    /// Its score.
    pub score: i64,
    /// Its title.
    pub title: String,
}

/// Adds two numbers (async; either may be the future of another task).
#[sofleet::task]
pub async fn add(a: u64, b: u64) -> Result<u64, TaskError> {
    Ok(a + b)
}

/// Counts the words of a title: a synchronous function, run where blocking is allowed.
#[sofleet::task]
pub fn word_count(question: Question) -> Result<u64, TaskError> {
    Ok(question.title.split_whitespace().count() as u64)
}

/// Sums a list of numbers.
#[sofleet::task]
pub fn total(values: Vec<u64>) -> Result<u64, TaskError> {
    Ok(values.iter().sum())
}

/// Fails retryably on its first `failures` attempts, then returns the attempt that succeeded:
/// the context shows the attempt, `retries = 3` gives up to three retries.
#[sofleet::task(retries = 3)]
pub async fn flaky(failures: u32, ctx: &TaskContext) -> Result<u32, TaskError> {
    if ctx.attempt() < failures {
        return Err(TaskError::retryable(format!(
            "attempt {} fails on purpose",
            ctx.attempt()
        )));
    }
    Ok(ctx.attempt())
}

/// The process that ran it: an impure task (a fresh key, so it runs every time).
#[sofleet::task(pure = false)]
pub fn process_id(_round: u32) -> Result<u32, TaskError> {
    Ok(std::process::id())
}

/// The example job: word counts of a few questions, their total through futures passed as
/// arguments, a sum of squares by `map`, and a flaky task that succeeds on its third attempt.
pub async fn run_job(client: &Client) -> Result<JobReport, ExecError> {
    let questions = [
        "How do I read a file line by line?",
        "Why is my loop slow",
        "What does the question mark operator do in Rust?",
    ];
    let counts: Vec<_> = questions
        .iter()
        .enumerate()
        .map(|(i, title)| {
            client.submit(word_count(Question {
                id: i as u64,
                score: 10 - i as i64,
                title: (*title).to_owned(),
            }))
        })
        .collect();
    // Futures as arguments: each addition starts when its inputs are done.
    let first_two = client.submit(add(&counts[0], &counts[1]));
    let words = client.submit(add(&first_two, &counts[2]));
    let squares = client.map((1..=10u64).map(|x| add(x * x, 0)));
    let sum_of_squares = client.submit(total(gather(squares, Errors::Raise).await?));
    let attempt = client.submit(flaky(2)).await?;
    Ok(JobReport {
        words: words.await?,
        sum_of_squares: sum_of_squares.await?,
        flaky_attempt: attempt,
    })
}

/// What [`run_job`] computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// Words in the three titles.
    pub words: u64,
    /// 1² + … + 10².
    pub sum_of_squares: u64,
    /// The attempt on which `flaky(2)` succeeded.
    pub flaky_attempt: u32,
}

impl JobReport {
    /// What every backend must compute.
    pub fn expected() -> JobReport {
        JobReport {
            words: 9 + 5 + 9,
            sum_of_squares: 385,
            flaky_attempt: 2,
        }
    }
}
