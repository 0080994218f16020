//! A sync function is a blocking task; arguments may be values or futures.
#![deny(warnings)]

use serde::{Deserialize, Serialize};
use sofleet::{Client, Task, TaskError, ThreadsBackend};

/// A word and how often it was seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    word: String,
    times: u64,
}

/// Counts `word` in `text`.
#[sofleet::task]
pub fn count(text: String, word: String) -> Result<Count, TaskError> {
    let times = text.split_whitespace().filter(|w| *w == word).count() as u64;
    Ok(Count { word, times })
}

/// Doubles a count.
#[sofleet::task]
fn double(count: Count) -> Result<u64, TaskError> {
    Ok(count.times * 2)
}

fn main() {
    const { assert!(<CountTask as Task>::BLOCKING) };
    const { assert!(<DoubleTask as Task>::PURE) };
    assert_eq!(<CountTask as Task>::VERSION, 1);
    assert_eq!(
        <CountTask as Task>::NAME,
        concat!(module_path!(), "::count")
    );

    let client = Client::new(ThreadsBackend::new(2));
    let counted = client.submit(count("a b a".to_string(), "a".to_string()));
    let doubled = client.submit(double(&counted));
    assert_eq!(doubled.result().unwrap(), 4);
    assert_eq!(
        counted.result().unwrap(),
        Count {
            word: "a".into(),
            times: 2
        }
    );
    // The body, without a client.
    assert_eq!(
        DoubleTask::call(Count {
            word: "x".into(),
            times: 5
        })
        .unwrap(),
        10
    );
}
