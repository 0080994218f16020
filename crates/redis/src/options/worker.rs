//! [`WorkerOptions`]: the settings of a worker process.

use std::time::Duration;

use super::{Checks, DEFAULT_GROUP, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, Owner};
use crate::error::RedisError;

/// Settings of a worker process ([`run_worker`](crate::run_worker)). Build with
/// [`WorkerOptions::new`] and adjust the public fields.
///
/// Its `Debug` output masks the password of [`redis_url`](Self::redis_url).
///
/// ```
/// use std::time::Duration;
/// use sofleet_executor::Resources;
/// use sofleet_redis::WorkerOptions;
///
/// let mut opts = WorkerOptions::new("redis://:secret@10.0.0.5:6379");
/// opts.concurrency = 32;
/// opts.consumer_idle_removal = Duration::from_secs(300);
/// opts.resources = Resources::new().with(String::from("shared by every task"));
/// assert!(!format!("{opts:?}").contains("secret"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// `redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://...` for TLS.
    pub redis_url: String,
    /// Key prefix; must match the client's [`RedisOptions::namespace`](crate::RedisOptions).
    pub namespace: String,
    /// Consumer group name; must match the client's [`RedisOptions::group`](crate::RedisOptions).
    pub group: String,
    /// This worker's consumer name (unique per worker); default `HOST-PID-RANDOM`.
    pub consumer_name: Option<String>,
    /// Jobs run at the same time (default 16).
    pub concurrency: usize,
    /// A job delivered to a worker that has not confirmed it for this long is considered lost
    /// with its worker and is reclaimed by another worker (XAUTOCLAIM). Live workers confirm
    /// their running jobs every `visibility_timeout / 3`, so long jobs are not reclaimed.
    /// Default 30 s.
    pub visibility_timeout: Duration,
    /// How often to look for jobs of lost workers (default: a quarter of the visibility timeout).
    pub reclaim_interval: Option<Duration>,
    /// A job is handed to workers at most this many times; when it would be delivered once
    /// more (every previous worker died running it), it fails with "worker lost N times"
    /// instead. Default 3.
    pub max_deliveries: u32,
    /// Largest accepted payload plus inputs, and largest result, in bytes (default 16 MiB).
    ///
    /// A bigger job fails with "job is N bytes, over the worker's limit". The worker reads
    /// one entry per blocking read and the rest of a batch through a script that leaves the
    /// payload of oversized entries in Redis, so the job data a worker holds at once is at
    /// most one entry of any size (the one blocking read; bounded only by Redis'
    /// `proto-max-bulk-len`, 512 MiB by default) plus `batch_size × max_payload_bytes`.
    pub max_payload_bytes: usize,
    /// Longest blocking wait for new jobs; also bounds how long a shutdown request waits for
    /// the current read (default 1 s).
    pub block_timeout: Duration,
    /// Heartbeat period for [`RedisBackend::live_workers`](crate::RedisBackend::live_workers)
    /// (default 2 s; a worker is listed until three periods pass without a heartbeat).
    pub heartbeat_interval: Duration,
    /// How long to keep trying to reach Redis at start before failing (default 5 s). Once
    /// running, a worker keeps reconnecting until it is shut down.
    pub connect_timeout: Duration,
    /// Send a "started" report for every job (drives the client's Running status). Default true.
    pub report_started: bool,
    /// Most jobs read or claimed at once (default 256, at most `concurrency` free slots).
    pub batch_size: usize,
    /// A consumer of the group (a worker) that has no pending job, has not read for this long
    /// and has no live heartbeat is deleted by the live workers (`XGROUP DELCONSUMER`), so
    /// killed workers do not pile up in `XINFO CONSUMERS`. A worker that stops gracefully
    /// deletes its own consumer. Default 10 minutes; at least the visibility timeout.
    pub consumer_idle_removal: Duration,
    /// Reply streams expire this long after the last result written (default 1 h), so replies
    /// to clients that died do not accumulate.
    pub reply_ttl: Duration,
    /// PEM file of the CA that signed the Redis server's certificate, for `rediss://` with a
    /// private CA (default: the built-in web PKI roots).
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// Shared resources every task run by this worker reads from its
    /// [`TaskContext`](sofleet_executor::TaskContext), like apalis' `Data<T>` (an HTTP client,
    /// a rate budget, the worker's source address). Default: none.
    pub resources: sofleet_executor::Resources,
    /// The source addresses this worker sends its requests from (e.g. the IP of
    /// `sofleet worker --bind-ip`), published in its heartbeat ([`WorkerInfo::addresses`](crate::WorkerInfo::addresses))
    /// for `sofleet status` and the dashboard; informational only, the worker library does not
    /// send requests itself. Default: none. At most 64, each 1 to 100 characters without
    /// spaces or control characters.
    ///
    /// ```
    /// let mut opts = sofleet_redis::WorkerOptions::new("redis://127.0.0.1:6379");
    /// opts.addresses = vec!["10.0.0.7".into()];
    /// ```
    pub addresses: Vec<String>,
    /// Called once the worker has connected, joined the group and announced itself, with its
    /// consumer name (e.g. to print "connected" only when it is true). Default: none.
    pub on_ready: Option<ReadyHook>,
}

impl std::fmt::Debug for WorkerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerOptions")
            .field("redis_url", &crate::redact_url(&self.redis_url))
            .field("namespace", &self.namespace)
            .field("group", &self.group)
            .field("consumer_name", &self.consumer_name)
            .field("concurrency", &self.concurrency)
            .field("visibility_timeout", &self.visibility_timeout)
            .field("reclaim_interval", &self.reclaim_interval)
            .field("max_deliveries", &self.max_deliveries)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("block_timeout", &self.block_timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("connect_timeout", &self.connect_timeout)
            .field("report_started", &self.report_started)
            .field("batch_size", &self.batch_size)
            .field("consumer_idle_removal", &self.consumer_idle_removal)
            .field("reply_ttl", &self.reply_ttl)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("resources", &self.resources)
            .field("addresses", &self.addresses)
            .field("on_ready", &self.on_ready.is_some())
            .finish()
    }
}

/// [`WorkerOptions::on_ready`]: called with the worker's consumer name once it serves jobs.
///
/// ```
/// use std::sync::Arc;
/// let mut opts = sofleet_redis::WorkerOptions::new("redis://127.0.0.1:6379");
/// opts.on_ready = Some(Arc::new(|name: &str| eprintln!("worker {name}: connected")));
/// ```
pub type ReadyHook = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl WorkerOptions {
    /// Default options for the given Redis URL.
    pub fn new(redis_url: impl Into<String>) -> Self {
        WorkerOptions {
            redis_url: redis_url.into(),
            namespace: DEFAULT_NAMESPACE.to_string(),
            group: DEFAULT_GROUP.to_string(),
            consumer_name: None,
            concurrency: 16,
            visibility_timeout: Duration::from_secs(30),
            reclaim_interval: None,
            max_deliveries: 3,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            block_timeout: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            report_started: true,
            batch_size: 256,
            reply_ttl: Duration::from_secs(3600),
            consumer_idle_removal: Duration::from_secs(600),
            tls_ca_file: None,
            resources: sofleet_executor::Resources::new(),
            addresses: Vec::new(),
            on_ready: None,
        }
    }

    /// Runs the checks [`run_worker`](crate::run_worker) runs first.
    pub(crate) fn validate(&self) -> Result<(), RedisError> {
        let ms = Duration::from_millis;
        let mut checks = Checks::shared(
            Owner::Worker,
            &self.namespace,
            &self.group,
            self.batch_size,
            self.max_payload_bytes,
        );
        if let Some(c) = &self.consumer_name {
            checks = checks.name("WorkerOptions::consumer_name", c);
        }
        checks
            .at_least("WorkerOptions::concurrency", self.concurrency as u64, 1)
            .at_least(
                "WorkerOptions::max_deliveries",
                self.max_deliveries.into(),
                1,
            )
            .at_least_ms(
                "WorkerOptions::visibility_timeout",
                self.visibility_timeout,
                ms(30),
            )
            .at_least_ms("WorkerOptions::block_timeout", self.block_timeout, ms(1))
            .at_least_ms(
                "WorkerOptions::heartbeat_interval",
                self.heartbeat_interval,
                ms(10),
            )
            .require(
                "WorkerOptions::consumer_idle_removal",
                self.consumer_idle_removal >= self.visibility_timeout,
                "at least WorkerOptions::visibility_timeout",
            )
            .addresses("WorkerOptions::addresses", &self.addresses)
            .done()
    }
}
