//! The task graph: dependencies, failure propagation, cancellation and dropped handles.

use std::collections::HashSet;

use crate::conformance::tasks::*;
use crate::conformance::{Config, count_started, gated, next_event};
use crate::{Client, Event, ExecError, SubmitOptions, TaskStatus};

/// Futures as arguments, and a dependency chain of `cfg.chain` tasks.
pub async fn dependencies(client: Client, cfg: &Config) {
    let a = client.submit(Add { a: 1, b: 2 });
    let b = client.submit(Add { a: 10, b: 20 });
    let c = client.submit_after(
        &[a.erase(), b.erase()],
        SumInputs { extra: 100 },
        SubmitOptions::new(),
    );
    assert_eq!(c.await.unwrap(), 133);

    let mut prev = client.submit(Echo { value: 0 });
    let mut keys = HashSet::new();
    keys.insert(prev.key().clone());
    for _ in 1..cfg.chain {
        prev = client.submit_after(&[prev.erase()], AddOne {}, SubmitOptions::new());
        keys.insert(prev.key().clone());
    }
    assert_eq!(keys.len(), cfg.chain, "every link has its own key");
    assert_eq!(prev.await.unwrap(), cfg.chain as u64 - 1);
}

/// A failed dependency reaches every dependent, through chains, naming the failed key.
pub async fn dependency_failure(client: Client, _cfg: &Config) {
    let bad = client.submit(Fail {
        message: "boom".into(),
    });
    let ok = client.submit(Echo { value: 1 });
    let d1 = client.submit_after(
        &[ok.erase(), bad.erase()],
        SumInputs { extra: 0 },
        SubmitOptions::new(),
    );
    let d2 = client.submit_after(&[d1.erase()], AddOne {}, SubmitOptions::new());
    match bad.clone().await {
        Err(ExecError::Task {
            key,
            message,
            attempts,
            ..
        }) => {
            assert_eq!(&key, bad.key());
            assert_eq!(message, "boom");
            assert_eq!(attempts, 1);
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    for d in [&d1, &d2] {
        match d.clone().await {
            Err(ExecError::DependencyFailed {
                key,
                dep_key,
                reason,
                ..
            }) => {
                assert_eq!(&key, d.key());
                assert_eq!(&dep_key, bad.key(), "the root failed key is named");
                assert!(reason.contains("boom"), "reason {reason}");
            }
            other => panic!("expected DependencyFailed, got {other:?}"),
        }
        assert_eq!(d.status(), TaskStatus::Error);
    }
    // Submitting after an already-failed future fails at once.
    let d3 = client.submit_after(&[bad.erase()], AddOne {}, SubmitOptions::new());
    assert!(matches!(d3.await, Err(ExecError::DependencyFailed { .. })));
}

/// Cancelling a pending task cancels its dependents; none of them runs.
pub async fn cancel_pending(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("cancel-gate", 0);
    let a = client.submit_with(Echo { value: 1 }, gated("cancel-gate"));
    let b = client.submit_after(&[a.erase()], AddOne {}, SubmitOptions::new());
    let c = client.submit_after(&[b.erase()], AddOne {}, SubmitOptions::new());
    assert_eq!(a.status(), TaskStatus::Pending);
    assert_eq!(b.status(), TaskStatus::Pending);
    a.cancel();
    assert_eq!(a.status(), TaskStatus::Cancelled);
    assert!(matches!(a.clone().await, Err(ExecError::Cancelled { ref key }) if key == a.key()));
    for d in [&b, &c] {
        match d.clone().await {
            Err(e @ ExecError::DependencyFailed { .. }) => {
                assert!(e.is_cancelled(), "{e}");
                let ExecError::DependencyFailed { dep_key, .. } = e else {
                    unreachable!()
                };
                assert_eq!(&dep_key, a.key());
            }
            other => panic!("expected DependencyFailed, got {other:?}"),
        }
        assert_eq!(d.status(), TaskStatus::Cancelled);
    }
    // Opening the gate must not run the cancelled task.
    client.set_resource_limit("cancel-gate", 1);
    let probe = client.submit_with(Echo { value: 5 }, gated("cancel-gate"));
    assert_eq!(probe.clone().await.unwrap(), 5);
    let seen = ev.drain();
    for f in [a.key(), b.key(), c.key()] {
        assert_eq!(count_started(&seen, f), 0, "cancelled {f} must not start");
        assert!(
            seen.iter()
                .any(|e| matches!(e, Event::Cancelled { key, .. } if key == f)),
            "Cancelled event for {f}"
        );
    }
    // A running task can be cancelled too: its future resolves as cancelled.
    let s = client.submit_with(
        Sleep {
            ms: 1_000,
            value: 1,
        },
        SubmitOptions::new().pure(false),
    );
    let sk = s.key().clone();
    next_event(
        &mut ev,
        cfg.event_timeout,
        "start of sleeper",
        |e| matches!(e, Event::Started { key, .. } if *key == sk),
    )
    .await;
    assert_eq!(s.status(), TaskStatus::Running);
    s.cancel();
    assert!(matches!(s.clone().await, Err(ExecError::Cancelled { .. })));
    assert_eq!(s.status(), TaskStatus::Cancelled);
}

/// Dropping every handle cancels an unfinished task unless fire-and-forget; finished results
/// are freed with the last handle.
pub async fn drop_semantics(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("drop-gate", 0);
    let a = client.submit_with(Echo { value: 1 }, gated("drop-gate"));
    let ak = a.key().clone();
    let a2 = a.clone();
    drop(a);
    assert_eq!(a2.status(), TaskStatus::Pending, "a clone keeps it alive");
    drop(a2);
    let e = ev.drain();
    assert!(
        e.iter()
            .any(|e| matches!(e, Event::Cancelled { key, .. } if *key == ak)),
        "dropping the last handle cancels: {e:?}"
    );
    let b = client.submit_with(Echo { value: 2 }, gated("drop-gate").fire_and_forget(true));
    let bk = b.key().clone();
    drop(b);
    client.set_resource_limit("drop-gate", 4);
    next_event(
        &mut ev,
        cfg.event_timeout,
        "fire-and-forget finish",
        |e| matches!(e, Event::Finished { key, .. } if *key == bk),
    )
    .await;
    let seen = ev.drain();
    assert_eq!(count_started(&seen, &ak), 0, "the dropped task never ran");
    assert_eq!(
        client.stats().live,
        0,
        "nothing is held once all is done and dropped"
    );

    let f = client.submit(Echo { value: 3 });
    f.clone().await.unwrap();
    assert_eq!(client.stats().live, 1);
    drop(f);
    assert_eq!(client.stats().live, 0, "result freed with the last handle");
}
