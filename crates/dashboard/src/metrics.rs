//! `/metrics`: the latest [`Status`] in the Prometheus text format.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::status::{Status, WorkerRow};

type Labels = Vec<(&'static str, String)>;
type Counters = Family<Labels, Counter>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;
/// A worker metric: name, help, and its value in a row (none: not reported).
type WorkerGauge = (&'static str, &'static str, fn(&WorkerRow) -> Option<f64>);
type WorkerCounter = (&'static str, &'static str, fn(&WorkerRow) -> u64);

/// The Prometheus text of `status` (metric names start with `sofleet_`).
///
/// ```
/// let text = sofleet_dashboard::prometheus_text(&sofleet_dashboard::Status::default());
/// assert!(text.contains("# TYPE sofleet_dashboard_updates counter"), "{text}");
/// assert!(text.ends_with("# EOF\n"));
/// ```
pub fn prometheus_text(status: &Status) -> String {
    let mut registry = Registry::with_prefix("sofleet");
    let tasks = Counters::default();
    let active = Gauges::default();
    for p in status
        .tasks
        .iter()
        .chain(status.tasks.is_empty().then_some(&status.totals))
    {
        for (state, v) in [
            ("submitted", p.submitted),
            ("finished", p.done),
            ("failed", p.failed),
            ("retried", p.retried),
            ("cancelled", p.cancelled),
        ] {
            tasks
                .get_or_create(&vec![
                    ("name", p.name.clone()),
                    ("state", state.to_string()),
                ])
                .inc_by(v);
        }
        for (state, v) in [("queued", p.queued), ("running", p.running)] {
            active
                .get_or_create(&vec![
                    ("name", p.name.clone()),
                    ("state", state.to_string()),
                ])
                .set(v as f64);
        }
    }
    registry.register(
        "tasks",
        "Tasks by name and state (submitted counts every task created)",
        tasks,
    );
    registry.register(
        "tasks_active",
        "Tasks queued or running now, by name",
        active,
    );
    let throughput = Gauge::<f64, AtomicU64>::default();
    throughput.set(status.totals.rate);
    registry.register(
        "throughput_tasks_per_second",
        "Tasks ended per second over the last few seconds",
        throughput,
    );

    let worker_gauges: [WorkerGauge; 4] = [
        ("worker_concurrency", "Tasks a worker runs at once", |w| {
            Some(w.concurrency as f64)
        }),
        ("worker_running", "Tasks a worker runs now", |w| {
            Some(w.running as f64)
        }),
        (
            "worker_memory_bytes",
            "Resident memory of a worker's process",
            |w| w.rss_bytes.map(|b| b as f64),
        ),
        (
            "worker_heartbeat_age_seconds",
            "Time since a worker's last heartbeat",
            |w| Some(w.heartbeat_age_s),
        ),
    ];
    for (name, help, value) in worker_gauges {
        let family = Gauges::default();
        for w in &status.workers {
            if let Some(v) = value(w) {
                family.get_or_create(&worker_labels(w)).set(v);
            }
        }
        registry.register(name, help, family);
    }
    let worker_counters: [WorkerCounter; 2] = [
        (
            "worker_jobs_done",
            "Jobs a worker ended (any outcome)",
            |w| w.done,
        ),
        (
            "worker_jobs_failed",
            "Jobs a worker ended with a failure",
            |w| w.failed,
        ),
    ];
    for (name, help, value) in worker_counters {
        let family = Counters::default();
        for w in &status.workers {
            family.get_or_create(&worker_labels(w)).inc_by(value(w));
        }
        registry.register(name, help, family);
    }
    let workers = Gauge::<f64, AtomicU64>::default();
    workers.set(status.workers.len() as f64);
    registry.register("workers", "Workers listed", workers);
    for (name, help, value) in [
        (
            "fleet_queued_jobs",
            "Jobs on a fleet's stream not yet taken by a worker",
            status.queued_remote,
        ),
        (
            "fleet_pending_jobs",
            "Jobs a fleet's workers took and have not answered",
            status.pending_remote,
        ),
    ] {
        if let Some(v) = value {
            let g = Gauge::<f64, AtomicU64>::default();
            g.set(v as f64);
            registry.register(name, help, g);
        }
    }
    let updates = Counter::<u64>::default();
    updates.inc_by(status.seq);
    registry.register("dashboard_updates", "Dashboard updates made", updates);

    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

fn worker_labels(w: &WorkerRow) -> Labels {
    vec![("worker", w.name.clone()), ("host", w.host.clone())]
}
