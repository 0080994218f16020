//! What a worker reports: [`WorkerStats`] at the end, [`WorkerInfo`] in its heartbeat.

use serde::{Deserialize, Serialize};

/// What a worker did, returned by [`run_worker`](crate::run_worker) after a graceful shutdown.
///
/// `Display` is a one-line summary:
///
/// ```
/// let stats = sofleet_redis::WorkerStats {
///     consumer: "w1".into(),
///     completed: 120,
///     failed: 3,
///     reclaimed: 2,
///     given_up: 1,
/// };
/// assert_eq!(
///     stats.to_string(),
///     "worker w1: 120 jobs done (3 failed, 2 reclaimed from lost workers, 1 given up)"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerStats {
    /// The worker's consumer name.
    pub consumer: String,
    /// Jobs whose result was posted (any outcome).
    pub completed: u64,
    /// Of those, jobs that did not succeed (task error, panic, unknown task, bad payload...).
    pub failed: u64,
    /// Jobs taken over from lost workers.
    pub reclaimed: u64,
    /// Jobs failed because their delivery limit was reached ("worker lost N times").
    pub given_up: u64,
}

impl std::fmt::Display for WorkerStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "worker {}: {} jobs done ({} failed, {} reclaimed from lost workers, {} given up)",
            self.consumer, self.completed, self.failed, self.reclaimed, self.given_up
        )
    }
}

/// What a worker publishes in its heartbeat, listed by
/// [`RedisBackend::live_workers`](crate::RedisBackend::live_workers) and in a
/// [`FleetStatus`](crate::FleetStatus).
///
/// The fields added after the first release (`failed`, `rss_bytes`, `addresses`) default
/// when absent, so the heartbeat of an older worker still parses:
///
/// ```
/// let old = r#"{"name":"w1","host":"h","pid":7,"concurrency":8,"running":2,"completed":40,
///     "started_at_ms":1000,"heartbeat_ms":2000,"tasks":["sofleet-crawl.question v1"]}"#;
/// let info: sofleet_redis::WorkerInfo = serde_json::from_str(old)?;
/// assert_eq!((info.completed, info.failed), (40, 0));
/// assert_eq!(info.rss_bytes, None);
/// assert!(info.addresses.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// Consumer name.
    pub name: String,
    /// Host name of the worker's machine.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Configured concurrency.
    pub concurrency: usize,
    /// Jobs running now.
    pub running: usize,
    /// Results posted so far (any outcome, failures included).
    pub completed: u64,
    /// Of those, results that were failures (task error, panic, unknown task, bad payload...).
    #[serde(default)]
    pub failed: u64,
    /// Resident memory of the worker process in bytes (`VmRSS` of `/proc/self/status`);
    /// `None` where that cannot be read (not Linux, or an older worker).
    #[serde(default)]
    pub rss_bytes: Option<u64>,
    /// The source addresses the worker sends its requests from
    /// ([`WorkerOptions::addresses`](crate::WorkerOptions::addresses)); empty when it does not
    /// choose one (the machine's default route).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Start time, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// Time of this heartbeat, milliseconds since the Unix epoch (worker's clock).
    pub heartbeat_ms: u64,
    /// Registered task types as `name vVERSION`.
    pub tasks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_heartbeat_without_the_new_fields_parses() {
        let old = r#"{"name":"w1","host":"box","pid":4711,"concurrency":16,"running":3,
            "completed":120,"started_at_ms":1700000000000,"heartbeat_ms":1700000001000,
            "tasks":["redis-test-noop v1"]}"#;
        let info: WorkerInfo = serde_json::from_str(old).unwrap();
        assert_eq!(
            info,
            WorkerInfo {
                name: "w1".into(),
                host: "box".into(),
                pid: 4711,
                concurrency: 16,
                running: 3,
                completed: 120,
                failed: 0,
                rss_bytes: None,
                addresses: Vec::new(),
                started_at_ms: 1_700_000_000_000,
                heartbeat_ms: 1_700_000_001_000,
                tasks: vec!["redis-test-noop v1".into()],
            }
        );
    }

    #[test]
    fn a_new_heartbeat_round_trips() {
        let info = WorkerInfo {
            name: "w2".into(),
            failed: 2,
            rss_bytes: Some(50 << 20),
            addresses: vec!["127.0.0.2".into()],
            ..WorkerInfo::default()
        };
        let json = serde_json::to_string(&info).unwrap();
        assert!(json.contains(r#""addresses":["127.0.0.2"]"#), "{json}");
        assert_eq!(serde_json::from_str::<WorkerInfo>(&json).unwrap(), info);
    }
}
