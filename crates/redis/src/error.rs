//! The crate's error type.

use std::time::Duration;

/// Everything that can go wrong with the Redis backend or a Redis worker as a whole (failures of
/// single jobs are reported as [`JobOutcome`](sofleet_executor::backend::JobOutcome)s instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// The Redis URL could not be parsed.
    #[error(
        "invalid Redis URL {url:?}: {source}; expected redis://[:PASSWORD@]HOST[:PORT][/DB] \
         or rediss://... for TLS"
    )]
    InvalidUrl {
        /// The URL, with any password masked.
        url: String,
        /// What the redis client said.
        #[source]
        source: redis::RedisError,
    },
    /// Redis could not be reached (or refused the password) within the connect timeout.
    #[error(
        "cannot connect to Redis at {url} (tried for {waited:?}): {source}; check that \
         redis-server is running and reachable from this machine and that the password is right"
    )]
    Connect {
        /// The URL, with any password masked.
        url: String,
        /// How long connecting was attempted.
        waited: Duration,
        /// The last connection error.
        #[source]
        source: redis::RedisError,
    },
    /// A Redis command failed.
    #[error("Redis command {command} failed on {url}: {source}")]
    Command {
        /// The URL, with any password masked.
        url: String,
        /// The command (e.g. `XGROUP CREATE`).
        command: &'static str,
        /// What Redis said.
        #[source]
        source: redis::RedisError,
    },
    /// An option has an unusable value.
    #[error("invalid option {option}: {message}")]
    InvalidOption {
        /// Option name, e.g. `WorkerOptions::concurrency`.
        option: &'static str,
        /// What is wrong and what to use instead.
        message: String,
    },
    /// The backend was shut down.
    #[error("the Redis backend has been shut down")]
    Shutdown,
    /// The backend's I/O thread could not be started.
    #[error("cannot start the Redis backend's I/O thread: {0}")]
    Runtime(#[source] std::io::Error),
}
