//! [`RedisOptions`]: the settings of a [`RedisBackend`](crate::RedisBackend).

use std::time::Duration;

use super::{Checks, DEFAULT_GROUP, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, Owner};
use crate::error::RedisError;

/// Settings of a [`RedisBackend`](crate::RedisBackend). Build with [`RedisOptions::default`]
/// and adjust the fields; [`RedisBackend::connect`](crate::RedisBackend::connect) checks them
/// ([`RedisError::InvalidOption`] names the first unusable one).
///
/// ```
/// use std::time::Duration;
/// use sofleet_redis::RedisOptions;
///
/// let mut opts = RedisOptions::default();
/// opts.namespace = "crawl-7".into();
/// opts.reconnect_timeout = Duration::from_secs(120);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisOptions {
    /// Key prefix; must match the workers' [`WorkerOptions::namespace`](crate::WorkerOptions).
    pub namespace: String,
    /// Consumer group; must match the workers' [`WorkerOptions::group`](crate::WorkerOptions).
    pub group: String,
    /// Largest payload plus inputs of one job, in bytes (default 16 MiB); bigger jobs fail at
    /// once with a clear error.
    pub max_payload_bytes: usize,
    /// How long [`RedisBackend::connect`](crate::RedisBackend::connect) keeps trying to reach
    /// Redis (default 5 s).
    pub connect_timeout: Duration,
    /// After losing Redis, how long to keep trying to reconnect before failing every job in
    /// flight with an error (default 30 s). Jobs lost with Redis (a restart without
    /// persistence) are resubmitted after reconnecting.
    pub reconnect_timeout: Duration,
    /// Most jobs sent in one pipelined batch (default 512).
    pub batch_size: usize,
    /// Longest blocking wait of the reply reader (default 1 s).
    pub read_block: Duration,
    /// Lifetime of this client's liveness marker in Redis, refreshed every third of it
    /// (default 30 s). Its disappearance tells the client that Redis lost its data.
    pub marker_ttl: Duration,
    /// PEM file of the CA that signed the Redis server's certificate, for `rediss://` with a
    /// private CA (default: the built-in web PKI roots).
    pub tls_ca_file: Option<std::path::PathBuf>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            namespace: DEFAULT_NAMESPACE.to_string(),
            group: DEFAULT_GROUP.to_string(),
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            connect_timeout: Duration::from_secs(5),
            reconnect_timeout: Duration::from_secs(30),
            batch_size: 512,
            read_block: Duration::from_secs(1),
            marker_ttl: Duration::from_secs(30),
            tls_ca_file: None,
        }
    }
}

impl RedisOptions {
    /// Runs the checks [`RedisBackend::connect`](crate::RedisBackend::connect) runs first.
    pub(crate) fn validate(&self) -> Result<(), RedisError> {
        let ms = Duration::from_millis;
        Checks::shared(
            Owner::Client,
            &self.namespace,
            &self.group,
            self.batch_size,
            self.max_payload_bytes,
        )
        .at_least_ms("RedisOptions::read_block", self.read_block, ms(1))
        .at_least_ms("RedisOptions::marker_ttl", self.marker_ttl, ms(300))
        .done()
    }
}
