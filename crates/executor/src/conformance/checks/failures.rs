//! Failures: retries and panics.

use std::time::Duration;

use crate::conformance::tasks::*;
use crate::conformance::{Config, PANIC_MARKER, count_started, quiet_panics};
use crate::{Client, Event, ExecError, RetryPolicy, SubmitOptions, TaskKey};

/// Retries with backoff; fatal errors are not retried.
pub async fn retries(client: Client, _cfg: &Config) {
    let mut ev = client.events();
    let policy = RetryPolicy::exponential(3, Duration::from_millis(1), Duration::from_millis(5));
    let ok = client.submit_with(
        Flaky {
            fail_times: 2,
            fatal: false,
            tag: 1,
        },
        SubmitOptions::new().retry(policy.clone()),
    );
    assert_eq!(
        ok.clone().await.unwrap(),
        2,
        "succeeds on the third attempt"
    );
    let fatal = client.submit_with(
        Flaky {
            fail_times: 0,
            fatal: true,
            tag: 2,
        },
        SubmitOptions::new().retry(policy.clone()),
    );
    match fatal.clone().await {
        Err(ExecError::Task {
            attempts,
            retryable,
            ..
        }) => {
            assert_eq!(attempts, 1, "fatal errors are not retried");
            assert!(!retryable);
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    let exhausted = client.submit_with(
        Flaky {
            fail_times: 10,
            fatal: false,
            tag: 3,
        },
        SubmitOptions::new().retry(RetryPolicy::fixed(2, Duration::from_millis(1))),
    );
    match exhausted.clone().await {
        Err(ExecError::Task {
            attempts,
            retryable,
            message,
            ..
        }) => {
            assert_eq!(attempts, 3);
            assert!(retryable);
            assert!(message.contains("attempt 2"), "{message}");
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    let no_policy = client.submit(Flaky {
        fail_times: 1,
        fatal: false,
        tag: 4,
    });
    assert!(matches!(
        no_policy.clone().await,
        Err(ExecError::Task { attempts: 1, .. })
    ));
    let seen = ev.drain();
    let retried = |k: &TaskKey| {
        seen.iter()
            .filter(|e| matches!(e, Event::Retried { key, .. } if key == k))
            .count()
    };
    assert_eq!(retried(ok.key()), 2);
    assert_eq!(count_started(&seen, ok.key()), 3);
    assert_eq!(retried(fatal.key()), 0);
    assert_eq!(retried(exhausted.key()), 2);
    assert_eq!(count_started(&seen, exhausted.key()), 3);
    let attempts: Vec<u32> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Started { key, attempt, .. } if key == ok.key() => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, vec![0, 1, 2]);
}

/// `cfg.many` tasks, 10% panicking: each panic is an error on its own future; the rest and
/// later tasks run.
pub async fn panics_isolated(client: Client, cfg: &Config) {
    quiet_panics();
    let n = cfg.many as u64;
    let fs = client.map((0..n).map(|i| Panicky {
        i,
        panic: i % 10 == 0,
    }));
    let keys: Vec<TaskKey> = fs.iter().map(|f| f.key().clone()).collect();
    let results = futures::future::join_all(fs).await;
    let mut panicked = 0;
    for (i, (r, k)) in results.into_iter().zip(keys).enumerate() {
        match r {
            Ok(v) => assert_eq!(v, i as u64),
            Err(ExecError::Panicked { key, message, .. }) => {
                assert_eq!(i % 10, 0);
                assert_eq!(key, k);
                assert!(message.contains(PANIC_MARKER), "{message}");
                panicked += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(panicked, n.div_ceil(10));
    assert_eq!(client.submit(Add { a: 40, b: 2 }).await.unwrap(), 42);
}
