//! Submission basics: results, keys, deduplication.

use std::collections::HashSet;

use crate::conformance::tasks::*;
use crate::conformance::{Config, count_started};
use crate::{Client, Errors, SubmitOptions, TaskKey, TaskStatus, gather};

/// submit / map / await / blocking-free status and key basics.
pub async fn submit_and_result(client: Client, _cfg: &Config) {
    let f = client.submit(Add { a: 2, b: 3 });
    assert_eq!(f.clone().await.unwrap(), 5);
    assert_eq!(f.status(), TaskStatus::Finished);
    assert!(
        f.key().as_str().starts_with("conformance-add-"),
        "key {}",
        f.key()
    );
    assert_eq!(f.value().await.unwrap(), 5, "a handle can be read twice");
    let fs = client.map((0..100).map(|i| Add { a: i, b: 1 }));
    let out = gather(fs, Errors::Raise).await.unwrap();
    assert_eq!(out, (1..=100).collect::<Vec<u64>>());
}

/// Pure identical submissions share one future and run once; impure ones run every time.
pub async fn pure_dedup(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("dedup-gate", 0);
    // Pending: the first submission is held back by the gate.
    let f1 = client.submit_with(
        Echo { value: 7 },
        SubmitOptions::new().resource("dedup-gate"),
    );
    let f2 = client.submit(Echo { value: 7 });
    assert_eq!(f1.key(), f2.key(), "identical pure tasks must share a key");
    assert_eq!(f2.status(), TaskStatus::Pending);
    let other = client.submit(Echo { value: 8 });
    assert_ne!(
        f1.key(),
        other.key(),
        "different arguments must give different keys"
    );
    client.set_resource_limit("dedup-gate", 1);
    assert_eq!(f2.clone().await.unwrap(), 7);
    assert_eq!(f1.clone().await.unwrap(), 7);
    other.clone().await.unwrap();
    // Finished and still referenced: same future again, no new run.
    let f3 = client.submit(Echo { value: 7 });
    assert_eq!(f3.key(), f1.key());
    assert_eq!(f3.status(), TaskStatus::Finished);
    assert_eq!(f3.clone().await.unwrap(), 7);
    let key = f1.key().clone();
    let seen = ev.drain();
    assert_eq!(
        count_started(&seen, &key),
        1,
        "a pure task must run once: {seen:?}"
    );
    assert!(client.stats().deduplicated >= 2);

    // Impure (per submission and per type): a fresh key and a run every time.
    let impure: Vec<_> = (0..3)
        .map(|_| client.submit_with(Echo { value: 9 }, SubmitOptions::new().pure(false)))
        .collect();
    let by_type: Vec<_> = (0..3)
        .map(|_| client.submit(ImpureEcho { value: 9 }))
        .collect();
    let keys: HashSet<TaskKey> = impure
        .iter()
        .map(|f| f.key().clone())
        .chain(by_type.iter().map(|f| f.key().clone()))
        .collect();
    assert_eq!(keys.len(), 6, "impure tasks must get fresh keys");
    assert_eq!(gather(impure, Errors::Raise).await.unwrap(), vec![9, 9, 9]);
    assert_eq!(gather(by_type, Errors::Raise).await.unwrap(), vec![9, 9, 9]);
    let seen = ev.drain();
    for k in &keys {
        assert_eq!(count_started(&seen, k), 1, "impure task {k} must run");
    }

    // Once every handle is gone the key is forgotten and the task runs again.
    drop((f1, f2, f3));
    let again = client.submit(Echo { value: 7 });
    assert_eq!(again.key(), &key);
    again.clone().await.unwrap();
    let seen = ev.drain();
    assert_eq!(
        count_started(&seen, &key),
        1,
        "resubmission after release runs again"
    );
    let _ = cfg;
}

/// An explicit key is used as given and deduplicates.
pub async fn explicit_key(client: Client, _cfg: &Config) {
    let a = client.submit_with(
        Echo { value: 1 },
        SubmitOptions::new().key("my-explicit-key"),
    );
    assert_eq!(a.key().as_str(), "my-explicit-key");
    let b = client.submit_with(
        Echo { value: 2 },
        SubmitOptions::new().key("my-explicit-key"),
    );
    assert_eq!(b.key().as_str(), "my-explicit-key");
    assert_eq!(a.await.unwrap(), 1);
    assert_eq!(
        b.await.unwrap(),
        1,
        "same explicit key returns the first future"
    );
}
