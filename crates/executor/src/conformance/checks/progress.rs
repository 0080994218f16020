//! Progress: events, resource limits and status transitions.

use std::collections::HashSet;

use crate::conformance::tasks::*;
use crate::conformance::{Config, gated, next_event};
use crate::{Client, Errors, Event, SubmitOptions, TaskKey, TaskStatus, gather};

/// Progress events in order.
pub async fn events(client: Client, cfg: &Config) {
    let mut ev = client.events();
    let f = client.submit(Echo { value: 77 });
    f.clone().await.unwrap();
    let bad = client.submit(Fail {
        message: "event-bad".into(),
    });
    let _ = bad.clone().await;
    let seen = ev.drain();
    let kinds: Vec<&str> = seen
        .iter()
        .filter(|e| e.key() == f.key())
        .map(|e| match e {
            Event::Submitted { .. } => "submitted",
            Event::Started { .. } => "started",
            Event::Finished { .. } => "finished",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["submitted", "started", "finished"]);
    assert!(seen.iter().all(|e| e.name().starts_with("conformance-")));
    assert!(seen.iter().any(
        |e| matches!(e, Event::Failed { key, error, .. } if key == bad.key() && error.contains("event-bad"))
    ));
    let _ = cfg;
}

/// At most `limit` tasks with a resource tag run at once.
pub async fn resource_limits(client: Client, _cfg: &Config) {
    let mut ev = client.events();
    let tag = "host=conformance.test";
    client.set_resource_limit(tag, 2);
    let tagged: Vec<_> = (0..8)
        .map(|i| client.submit_with(Sleep { ms: 20, value: i }, gated(tag)))
        .collect();
    let free: Vec<_> = (0..4)
        .map(|i| {
            client.submit_with(
                Sleep {
                    ms: 20,
                    value: 100 + i,
                },
                SubmitOptions::new().pure(false),
            )
        })
        .collect();
    let keys: HashSet<TaskKey> = tagged.iter().map(|f| f.key().clone()).collect();
    assert_eq!(gather(tagged, Errors::Raise).await.unwrap().len(), 8);
    gather(free, Errors::Raise).await.unwrap();
    let mut running = 0i64;
    let mut max = 0;
    let mut started = 0;
    for e in ev.drain() {
        if !keys.contains(e.key()) {
            continue;
        }
        match e {
            Event::Started { .. } => {
                running += 1;
                started += 1;
                max = max.max(running);
            }
            e if e.is_terminal() => running -= 1,
            _ => {}
        }
    }
    assert_eq!(started, 8);
    assert!(max <= 2, "{max} tagged tasks ran at once with a limit of 2");
    assert!(max >= 1);
}

/// Status moves pending -> running -> finished.
pub async fn status_transitions(client: Client, cfg: &Config) {
    let mut ev = client.events();
    client.set_resource_limit("status-gate", 0);
    let f = client.submit_with(Sleep { ms: 100, value: 1 }, gated("status-gate"));
    assert_eq!(f.status(), TaskStatus::Pending);
    client.set_resource_limit("status-gate", 1);
    let k = f.key().clone();
    next_event(
        &mut ev,
        cfg.event_timeout,
        "sleeper start",
        |e| matches!(e, Event::Started { key, .. } if *key == k),
    )
    .await;
    assert!(matches!(
        f.status(),
        TaskStatus::Running | TaskStatus::Finished
    ));
    assert_eq!(f.clone().await.unwrap(), 1);
    assert_eq!(f.status(), TaskStatus::Finished);
    assert!(f.done());
}
