//! Collecting results: gather, wait, as_completed and map_bounded.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;

use crate::conformance::tasks::*;
use crate::conformance::{Config, gated};
use crate::{
    Client, Errors, ExecError, ReturnWhen, SubmitOptions, TaskKey, TaskStatus, WaitOptions,
    as_completed, gather, wait,
};

/// `gather` with raise and skip.
pub async fn gather_errors(client: Client, _cfg: &Config) {
    let fs = vec![
        client.submit(Echo { value: 1 }),
        client.submit(Fail {
            message: "gather-bad".into(),
        }),
        client.submit(Echo { value: 3 }),
    ];
    match gather(fs.clone(), Errors::Raise).await {
        Err(ExecError::Task { message, .. }) => assert_eq!(message, "gather-bad"),
        other => panic!("expected the task error, got {other:?}"),
    }
    assert_eq!(gather(fs, Errors::Skip).await.unwrap(), vec![1, 3]);
}

/// `wait` with every `ReturnWhen` and a timeout.
pub async fn wait_variants(client: Client, _cfg: &Config) {
    client.set_resource_limit("wait-gate", 0);
    let held: Vec<_> = (0..3)
        .map(|i| client.submit_with(Echo { value: i }, gated("wait-gate")))
        .collect();
    let quick = client.submit(Echo { value: 100 });
    let bad = client.submit(Fail {
        message: "wait-bad".into(),
    });

    let all = vec![quick.clone(), client.submit(Echo { value: 101 })];
    let (done, pending) = wait(&all, WaitOptions::all()).await;
    assert_eq!(done.len(), 2);
    assert!(pending.is_empty());

    let mut mixed = held.clone();
    mixed.push(quick.clone());
    let (done, pending) = wait(
        &mixed,
        WaitOptions::all().return_when(ReturnWhen::FirstCompleted),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].key(), quick.key());
    assert_eq!(pending.len(), 3);

    let mut with_bad = held.clone();
    with_bad.push(bad.clone());
    let (done, pending) = wait(
        &with_bad,
        WaitOptions::all().return_when(ReturnWhen::FirstException),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].key(), bad.key());
    assert_eq!(done[0].status(), TaskStatus::Error);
    assert_eq!(pending.len(), 3);

    // FirstException with no failure waits for everything.
    let (done, pending) = wait(
        &all,
        WaitOptions::all().return_when(ReturnWhen::FirstException),
    )
    .await;
    assert_eq!((done.len(), pending.len()), (2, 0));

    let (done, pending) = wait(&held, WaitOptions::all().timeout(Duration::from_millis(50))).await;
    assert!(done.is_empty());
    assert_eq!(pending.len(), 3);
    // Type-erased handles work too.
    let erased: Vec<_> = held.iter().map(|f| f.erase()).collect();
    let (done, pending) = wait(
        &erased,
        WaitOptions::all().timeout(Duration::from_millis(10)),
    )
    .await;
    assert_eq!((done.len(), pending.len()), (0, 3));
    for f in &held {
        f.cancel();
    }
}

/// `as_completed` with `add` during iteration, completion order, and batches.
pub async fn as_completed_add(client: Client, _cfg: &Config) {
    let first: Vec<_> = (0..3).map(|i| client.submit(Echo { value: i })).collect();
    let mut ac = as_completed(first);
    let mut seen = Vec::new();
    let mut added = 0;
    let mut order: Vec<TaskKey> = Vec::new();
    let mut parent_of: HashMap<TaskKey, TaskKey> = HashMap::new();
    while let Some((fut, res)) = ac.next().await {
        let v = res.unwrap();
        order.push(fut.key().clone());
        seen.push(v);
        if v < 3 {
            // Like submitting question tasks as a listing page completes.
            let child = client.submit_after(
                &[fut.erase()],
                SumInputs { extra: 10 },
                SubmitOptions::new(),
            );
            parent_of.insert(child.key().clone(), fut.key().clone());
            ac.add(child);
            added += 1;
        }
    }
    assert_eq!(added, 3);
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 10, 11, 12]);
    let pos: HashMap<&TaskKey, usize> = order.iter().enumerate().map(|(i, k)| (k, i)).collect();
    for (child, parent) in &parent_of {
        assert!(
            pos[parent] < pos[child],
            "a dependency completes before its dependent"
        );
    }
    let mut ac = as_completed((0..50).map(|i| client.submit(Echo { value: 1000 + i }))).batches();
    let mut total = 0;
    let mut batches = 0;
    while let Some(batch) = ac.next().await {
        assert!(!batch.is_empty());
        total += batch.len();
        batches += 1;
        if batches == 1 {
            ac.add(client.submit(Echo { value: 5000 }));
        }
    }
    assert_eq!(total, 51);
}

/// `as_completed` over many futures holds nothing it has yielded.
pub async fn as_completed_memory(client: Client, cfg: &Config) {
    let n = cfg.as_completed;
    let futs = client.map((0..n as u64).map(|i| ImpureEcho { value: i }));
    let mut ac = as_completed(futs);
    let mut sum = 0u64;
    let mut count = 0usize;
    while let Some((f, r)) = ac.next().await {
        sum += r.unwrap();
        count += 1;
        drop(f);
        if count.is_multiple_of(997) {
            let live = client.stats().live;
            assert!(
                live <= ac.len(),
                "{live} live futures but only {} not yielded",
                ac.len()
            );
        }
    }
    assert_eq!(count, n);
    assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    assert_eq!(client.stats().live, 0);
}

/// `map_bounded` keeps at most N in flight and yields everything.
pub async fn map_bounded(client: Client, cfg: &Config) {
    let n = cfg.map_bounded as u64;
    let max = 16;
    let mut s = client.map_bounded(
        (0..n).map(|i| ImpureEcho { value: i }),
        max,
        SubmitOptions::new(),
    );
    let mut sum = 0;
    let mut count = 0u64;
    while let Some(r) = s.next().await {
        sum += r.unwrap();
        count += 1;
        assert!(s.in_flight() <= max);
        if count.is_multiple_of(101) {
            let live = client.stats().live;
            assert!(live <= max, "{live} live futures with max_in_flight {max}");
        }
    }
    assert_eq!(count, n);
    assert_eq!(sum, n * (n - 1) / 2);
}
