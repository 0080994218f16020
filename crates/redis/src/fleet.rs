//! A read-only view of a fleet: [`FleetReader`] (its own connection, no [`RedisBackend`](crate::RedisBackend)
//! needed) and the [`FleetStatus`] it reads: the live workers (from their heartbeats, listed
//! by `backend/workers.rs`) and the job stream's queue (a Lua script reading `XINFO GROUPS`,
//! `XLEN` and `XPENDING` atomically).

use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backend::list_workers;
use crate::conn::{Link, open_client, redact_url};
use crate::error::RedisError;
use crate::keys::{Keys, now_ms};
use crate::{RedisOptions, WorkerInfo};

/// Longest wait for one reply of Redis while reading a status.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`FleetReader::status`] (or [`RedisBackend::fleet_status`](crate::RedisBackend::fleet_status))
/// read: the live workers and the job queue of one namespace and consumer group, like the
/// cluster summary Dask prints for a `Client`.
///
/// Serialises to JSON (for `sofleet status --json` and the dashboard). Built by the reader;
/// elsewhere (tests, fixed data) start from [`FleetStatus::default`] and set the fields.
///
/// ```
/// use sofleet_redis::{FleetStatus, WorkerInfo};
///
/// let mut status = FleetStatus::default();
/// status.read_at_ms = 10_000;
/// status.workers = vec![
///     WorkerInfo { concurrency: 8, running: 3, rss_bytes: Some(40 << 20), heartbeat_ms: 9_600, ..Default::default() },
///     WorkerInfo { concurrency: 4, running: 1, rss_bytes: None, heartbeat_ms: 10_200, ..Default::default() },
/// ];
/// assert_eq!(status.total_concurrency(), 12);
/// assert_eq!(status.total_running(), 4);
/// assert_eq!(status.total_rss_bytes(), 40 << 20);
/// assert_eq!(status.heartbeat_age(&status.workers[0]).as_millis(), 400);
/// assert_eq!(status.heartbeat_age(&status.workers[1]).as_millis(), 0); // clocks apart
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FleetStatus {
    /// The Redis URL, with any password masked ([`redact_url`]).
    pub redis: String,
    /// The namespace (key prefix) read.
    pub namespace: String,
    /// The consumer group of the workers.
    pub group: String,
    /// Workers whose heartbeat is current, sorted by name.
    pub workers: Vec<WorkerInfo>,
    /// Jobs on the job stream not yet delivered to any worker of the group.
    ///
    /// Redis' own count when it has one (the group's `lag` in `XINFO GROUPS`, Redis 7+);
    /// otherwise (older Redis, or entries deleted out of order, which makes Redis give up on
    /// `lag`) the stream's length minus the pending entries: workers delete each job they
    /// acknowledge, so what remains on the stream is either pending or not delivered yet. A
    /// stream without the group (no worker has joined yet) counts every entry; a missing
    /// stream (no client or worker ever connected) is 0.
    pub queued: u64,
    /// Jobs delivered to a worker and not acknowledged yet: running, or held by a worker that
    /// died until another one reclaims them (the `XPENDING` summary count of the group).
    pub pending: u64,
    /// When this status was read, milliseconds since the Unix epoch (reader's clock).
    pub read_at_ms: u64,
}

impl FleetStatus {
    /// The sum of the live workers' concurrency: jobs the fleet can run at once.
    pub fn total_concurrency(&self) -> usize {
        self.workers.iter().map(|w| w.concurrency).sum()
    }

    /// Jobs running now on all live workers.
    pub fn total_running(&self) -> usize {
        self.workers.iter().map(|w| w.running).sum()
    }

    /// Results posted by the live workers so far (failures included).
    pub fn total_completed(&self) -> u64 {
        self.workers.iter().map(|w| w.completed).sum()
    }

    /// Failed results posted by the live workers so far.
    pub fn total_failed(&self) -> u64 {
        self.workers.iter().map(|w| w.failed).sum()
    }

    /// Resident memory of the live workers, in bytes (workers that do not report it count 0).
    pub fn total_rss_bytes(&self) -> u64 {
        self.workers.iter().filter_map(|w| w.rss_bytes).sum()
    }

    /// How old `worker`'s last heartbeat was when this status was read (0 if the worker's
    /// clock is ahead of the reader's).
    pub fn heartbeat_age(&self, worker: &WorkerInfo) -> Duration {
        Duration::from_millis(self.read_at_ms.saturating_sub(worker.heartbeat_ms))
    }
}

/// A read-only connection to a fleet's Redis: [`status`](Self::status) lists the live workers
/// and counts the queued and pending jobs, without submitting anything (no
/// [`RedisBackend`](crate::RedisBackend), no consumer group or stream created). Cheap enough
/// to poll every second; it reconnects by itself after Redis trouble (each call then fails
/// with the error, none hangs: connecting is bounded by
/// [`RedisOptions::connect_timeout`] and each reply by 5 s).
///
/// Use it inside a tokio runtime (its connection is driven there). Errors and `Debug` show
/// the URL with its password masked.
///
/// ```no_run
/// # async fn demo() -> Result<(), sofleet_redis::RedisError> {
/// use sofleet_redis::{FleetReader, RedisOptions};
///
/// let mut fleet = FleetReader::connect("redis://:secret@10.0.0.5:6379", &RedisOptions::default()).await?;
/// let status = fleet.status().await?;
/// println!(
///     "{}: {} workers, {} slots, {} queued, {} pending",
///     status.redis, status.workers.len(), status.total_concurrency(), status.queued, status.pending
/// );
/// # Ok(()) }
/// ```
pub struct FleetReader {
    link: Link,
    keys: Keys,
    url: String,
}

impl std::fmt::Debug for FleetReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetReader")
            .field("url", &self.url)
            .field("namespace", &self.keys.ns)
            .field("group", &self.keys.group)
            .finish_non_exhaustive()
    }
}

impl FleetReader {
    /// Connects to Redis at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://`
    /// with [`RedisOptions::tls_ca_file`] for a private CA) to read the fleet of
    /// [`RedisOptions::namespace`] and [`RedisOptions::group`]. Fails with
    /// [`RedisError::Connect`] if Redis cannot be reached (or refuses the password) within
    /// [`RedisOptions::connect_timeout`], with [`RedisError::InvalidUrl`] or
    /// [`RedisError::InvalidOption`] at once.
    pub async fn connect(url: &str, opts: &RedisOptions) -> Result<FleetReader, RedisError> {
        opts.validate()?;
        let client = open_client(
            url,
            opts.tls_ca_file.as_deref(),
            "RedisOptions::tls_ca_file",
        )?;
        let url = redact_url(url);
        let mut link = Link::new(client, RESPONSE_TIMEOUT);
        link.connect_within(opts.connect_timeout)
            .await
            .map_err(|source| RedisError::Connect {
                url: url.clone(),
                waited: opts.connect_timeout,
                source,
            })?;
        Ok(FleetReader {
            link,
            keys: Keys::new(&opts.namespace, &opts.group),
            url,
        })
    }

    /// The Redis URL, with any password masked.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Reads the fleet's status now. A fleet nobody has used yet (no job stream, no group)
    /// has no workers and 0 queued and pending jobs; that is not an error.
    pub async fn status(&mut self) -> Result<FleetStatus, RedisError> {
        let r = read_status(&mut self.link, &self.keys, self.url.clone()).await;
        if let Err(e) = &r {
            self.link.note_error(e);
        }
        r.map_err(|source| RedisError::Command {
            url: self.url.clone(),
            command: STATUS_COMMANDS,
            source,
        })
    }
}

/// How a failed status read names its commands.
pub(crate) const STATUS_COMMANDS: &str = "SCAN/MGET worker heartbeats, EVALSHA (queue counts)";

/// `KEYS[1]` the job stream, `ARGV[1]` the group; returns `{length, group exists (0/1),
/// pending, lag (-1 when Redis has none)}`. Scripts see RESP2 replies: `XINFO GROUPS` is a
/// list of flat field/value lists, a nil `lag` is `false`.
static QUEUE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0, -1} end
local len = redis.call('XLEN', KEYS[1])
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, lag = nil, -1
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1]
    elseif g[i] == 'lag' and g[i + 1] then lag = g[i + 1] end
  end
  if name == ARGV[1] then
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1])[1]
    return {len, 1, pending, lag}
  end
end
return {len, 0, 0, -1}
",
    )
});

/// Queued and pending jobs from the script's `{length, group exists, pending, lag}`.
fn queue_counts(length: u64, group_exists: bool, pending: u64, lag: i64) -> (u64, u64) {
    if !group_exists {
        return (length, 0);
    }
    let queued = match u64::try_from(lag) {
        Ok(lag) => lag.min(length),
        Err(_) => length.saturating_sub(pending),
    };
    (queued, pending)
}

/// Reads a [`FleetStatus`] on `link` (the caller notes errors on it).
pub(crate) async fn read_status(
    link: &mut Link,
    keys: &Keys,
    url: String,
) -> redis::RedisResult<FleetStatus> {
    let workers = list_workers(link, keys).await?;
    let mut c = link.conn().await?;
    let (length, group_exists, pending, lag): (u64, u8, u64, i64) = QUEUE
        .key(&keys.jobs)
        .arg(&keys.group)
        .invoke_async(&mut c)
        .await?;
    let (queued, pending) = queue_counts(length, group_exists == 1, pending, lag);
    Ok(FleetStatus {
        redis: url,
        namespace: keys.ns.clone(),
        group: keys.group.clone(),
        workers,
        queued,
        pending,
        read_at_ms: now_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_is_the_lag_or_what_is_neither_pending_nor_gone() {
        // Redis knows the lag.
        assert_eq!(queue_counts(10, true, 3, 7), (7, 3));
        // It does not (entries deleted out of order, Redis < 7): length minus pending.
        assert_eq!(queue_counts(10, true, 3, -1), (7, 3));
        assert_eq!(queue_counts(2, true, 3, -1), (0, 3));
        // No group yet: every entry waits for the first worker.
        assert_eq!(queue_counts(5, false, 0, -1), (5, 0));
        // A lag above the length (entries deleted unread) is capped.
        assert_eq!(queue_counts(4, true, 0, 6), (4, 0));
    }

    #[test]
    fn a_status_serialises_with_its_fields_and_parses_back() {
        let status = FleetStatus {
            redis: "redis://:***@h:1".into(),
            queued: 5,
            workers: vec![WorkerInfo {
                name: "w".into(),
                ..WorkerInfo::default()
            }],
            ..FleetStatus::default()
        };
        let json = serde_json::to_value(&status).unwrap();
        for field in [
            "redis",
            "namespace",
            "group",
            "workers",
            "queued",
            "pending",
        ] {
            assert!(json.get(field).is_some(), "{field} missing in {json}");
        }
        assert_eq!(serde_json::from_value::<FleetStatus>(json).unwrap(), status);
        // Fields a newer reader may add are optional.
        let parsed: FleetStatus = serde_json::from_str(r#"{"queued":3}"#).unwrap();
        assert_eq!(parsed.queued, 3);
    }
}
