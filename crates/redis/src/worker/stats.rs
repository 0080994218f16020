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
/// [`RedisBackend::live_workers`](crate::RedisBackend::live_workers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Results posted so far.
    pub completed: u64,
    /// Start time, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// Time of this heartbeat, milliseconds since the Unix epoch (worker's clock).
    pub heartbeat_ms: u64,
    /// Registered task types as `name vVERSION`.
    pub tasks: Vec<String>,
}
