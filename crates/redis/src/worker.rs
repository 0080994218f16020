//! The worker: reads jobs from the job stream through the consumer group, runs registered task
//! types, posts results to each job's reply stream, reclaims jobs of dead workers.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use redis::Value;
use serde::{Deserialize, Serialize};
use sofleet_executor::{JobOutcome, TaskContext, TaskError, TaskKey, TaskRegistry};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::conn::{Link, ensure_group, is_nogroup, open_client, redact_url};
use crate::error::RedisError;
use crate::keys::{Keys, now_ms, random_hex, validate_name};
use crate::wire::{self, BadJob, Entry, WireJob};

/// Default namespace (key prefix) shared by clients and workers.
pub const DEFAULT_NAMESPACE: &str = "sofleet";
/// Default consumer group name of the workers.
pub const DEFAULT_GROUP: &str = "workers";
/// Default limit on a job's payload plus inputs, and on a result: 16 MiB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 16 << 20;

/// Settings of a worker process ([`run_worker`]). Build with [`WorkerOptions::new`] and adjust
/// the public fields.
#[derive(Debug, Clone)]
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
    /// Reply streams expire this long after the last result written (default 1 h), so replies
    /// to clients that died do not accumulate.
    pub reply_ttl: Duration,
    /// PEM file of the CA that signed the Redis server's certificate, for `rediss://` with a
    /// private CA (default: the built-in web PKI roots).
    pub tls_ca_file: Option<std::path::PathBuf>,
}

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
            tls_ca_file: None,
        }
    }

    fn validate(&self) -> Result<(), RedisError> {
        validate_name("WorkerOptions::namespace", &self.namespace)?;
        validate_name("WorkerOptions::group", &self.group)?;
        if let Some(c) = &self.consumer_name {
            validate_name("WorkerOptions::consumer_name", c)?;
        }
        let positive = |option: &'static str, ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(RedisError::InvalidOption {
                    option,
                    message: format!("must be {what}"),
                })
            }
        };
        positive(
            "WorkerOptions::concurrency",
            self.concurrency >= 1,
            "at least 1",
        )?;
        positive(
            "WorkerOptions::batch_size",
            self.batch_size >= 1,
            "at least 1",
        )?;
        positive(
            "WorkerOptions::max_deliveries",
            self.max_deliveries >= 1,
            "at least 1",
        )?;
        positive(
            "WorkerOptions::visibility_timeout",
            self.visibility_timeout >= Duration::from_millis(30),
            "at least 30 ms",
        )?;
        positive(
            "WorkerOptions::block_timeout",
            self.block_timeout >= Duration::from_millis(1),
            "at least 1 ms",
        )?;
        positive(
            "WorkerOptions::heartbeat_interval",
            self.heartbeat_interval >= Duration::from_millis(10),
            "at least 10 ms",
        )?;
        positive(
            "WorkerOptions::max_payload_bytes",
            self.max_payload_bytes >= 1024,
            "at least 1024",
        )
    }
}

/// What a worker did, returned by [`run_worker`] after a graceful shutdown.
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

/// Resolves when the process receives SIGTERM or SIGINT (Ctrl-C): pass it as the `shutdown`
/// future of [`run_worker`] for a graceful stop that finishes in-flight jobs.
///
/// Must be called inside a tokio runtime; fails if the signal handlers cannot be installed.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received: finishing in-flight jobs"),
            _ = int.recv() => tracing::info!("SIGINT received: finishing in-flight jobs"),
        }
    })
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".to_string())
}

fn default_consumer_name() -> String {
    let host: String = host_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{host}-{}-{}", std::process::id(), &random_hex()[..6])
}

/// A message to the result poster.
enum Post {
    Started {
        reply: String,
        job: u64,
    },
    Done {
        entry_id: String,
        reply: String,
        job: u64,
        kind: &'static str,
        data: Vec<u8>,
        ok: bool,
    },
    /// Acknowledge and delete an entry that cannot be answered (no reply stream).
    Drop {
        entry_id: String,
    },
}

struct Shared {
    opts: WorkerOptions,
    keys: Keys,
    consumer: String,
    url: String,
    /// Prefix of every reply stream of this namespace.
    reply_prefix: String,
    /// Entry ids delivered to this worker and not yet acknowledged.
    pending: Mutex<HashSet<String>>,
    running: AtomicUsize,
    completed: AtomicU64,
    failed: AtomicU64,
    reclaimed: AtomicU64,
    given_up: AtomicU64,
    stopping: AtomicBool,
    started_at_ms: u64,
    tasks: Vec<String>,
}

/// Runs a worker until `shutdown` resolves, then stops reading new jobs, finishes the jobs it
/// is running, posts their results and returns what it did.
///
/// The worker runs only the task types in `registry` (by name and version); a job of an
/// unknown type, or whose payload does not deserialise, fails that job with a clear error and
/// the worker carries on. It survives Redis restarts (it reconnects and recreates the consumer
/// group). Fails at start if Redis cannot be reached within
/// [`WorkerOptions::connect_timeout`].
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use sofleet_executor::TaskRegistry;
/// use sofleet_redis::{WorkerOptions, run_worker, shutdown_signal};
///
/// let mut registry = TaskRegistry::new();
/// sofleet_redis::testing::tasks::register_all(&mut registry);
/// let mut opts = WorkerOptions::new("redis://127.0.0.1:6379");
/// opts.concurrency = 8;
/// let stats = run_worker(opts, registry, shutdown_signal()?).await?;
/// println!("{} jobs done", stats.completed);
/// # Ok(()) }
/// ```
pub async fn run_worker(
    opts: WorkerOptions,
    registry: TaskRegistry,
    shutdown: impl Future<Output = ()>,
) -> Result<WorkerStats, RedisError> {
    opts.validate()?;
    let client = open_client(
        &opts.redis_url,
        opts.tls_ca_file.as_deref(),
        "WorkerOptions::tls_ca_file",
    )?;
    let url = redact_url(&opts.redis_url);
    let keys = Keys::new(&opts.namespace, &opts.group);
    let consumer = opts
        .consumer_name
        .clone()
        .unwrap_or_else(default_consumer_name);

    let mut ctl = Link::new(client.clone(), Duration::from_secs(10));
    let mut conn = ctl
        .connect_within(opts.connect_timeout)
        .await
        .map_err(|source| RedisError::Connect {
            url: url.clone(),
            waited: opts.connect_timeout,
            source,
        })?;
    ensure_group(&mut conn, &keys.jobs, &keys.group)
        .await
        .map_err(|source| RedisError::Command {
            url: url.clone(),
            command: "XGROUP CREATE",
            source,
        })?;

    let reply_prefix = keys.reply("");
    let shared = Arc::new(Shared {
        keys,
        consumer: consumer.clone(),
        reply_prefix,
        url,
        pending: Mutex::new(HashSet::new()),
        running: AtomicUsize::new(0),
        completed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        reclaimed: AtomicU64::new(0),
        given_up: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
        started_at_ms: now_ms(),
        tasks: registry
            .tasks()
            .into_iter()
            .map(|(n, v)| format!("{n} v{v}"))
            .collect(),
        opts,
    });
    let registry = Arc::new(registry);
    tracing::info!(
        worker = %consumer,
        url = %shared.url,
        concurrency = shared.opts.concurrency,
        "worker started"
    );

    // Heartbeat (and keep-alive of running jobs) before reading, so the worker is listed
    // as soon as it can take work.
    heartbeat_once(&mut ctl, &shared).await;
    let (hb_stop_tx, hb_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let heartbeat = tokio::spawn(heartbeat_loop(
        Link::new(client.clone(), Duration::from_secs(10)),
        shared.clone(),
        hb_stop_rx,
    ));
    let (post_tx, post_rx) = mpsc::unbounded_channel::<Post>();
    let poster = tokio::spawn(poster_loop(
        Link::new(client.clone(), Duration::from_secs(30)),
        shared.clone(),
        post_rx,
    ));

    let sem = Arc::new(Semaphore::new(shared.opts.concurrency));
    let mut reader = Link::new(
        client.clone(),
        shared.opts.block_timeout + Duration::from_secs(10),
    );
    let reclaim_every = shared
        .opts
        .reclaim_interval
        .unwrap_or(shared.opts.visibility_timeout / 4)
        .max(Duration::from_millis(10));
    let mut next_reclaim = Instant::now();
    let mut claim_cursor = "0-0".to_string();
    let mut backoff = Duration::from_millis(50);
    let shutdown = shutdown.fuse();
    futures::pin_mut!(shutdown);
    let mut stopping = false;

    while !stopping {
        let first = tokio::select! {
            p = sem.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let mut permits = vec![first];
        while permits.len() < shared.opts.batch_size {
            match sem.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }

        if Instant::now() >= next_reclaim {
            next_reclaim = Instant::now() + reclaim_every;
            match reclaim(&mut ctl, &shared, &mut claim_cursor, permits.len()).await {
                Ok(claimed) => {
                    for (entry, deliveries) in claimed {
                        let limit = shared.opts.max_deliveries as u64;
                        if deliveries > limit {
                            give_up(&shared, &post_tx, entry, deliveries);
                        } else if let Some(p) = permits.pop() {
                            shared.reclaimed.fetch_add(1, Ordering::Relaxed);
                            start_entry(&shared, &registry, &post_tx, entry, p);
                        }
                    }
                }
                Err(e) => {
                    ctl.note_error(&e);
                    if is_nogroup(&e) {
                        recreate_group(&mut ctl, &shared).await;
                    } else {
                        tracing::warn!(worker = %shared.consumer, "reclaiming jobs failed: {e}");
                    }
                }
            }
        }
        if permits.is_empty() {
            continue;
        }

        let count = permits.len();
        let result = {
            let read = read_new(&mut reader, &shared, count);
            futures::pin_mut!(read);
            // A read in progress is never abandoned (its entries would sit in this worker's
            // pending list until reclaimed): on shutdown, let it finish and run what it got.
            tokio::select! {
                r = &mut read => r,
                _ = &mut shutdown => {
                    stopping = true;
                    read.await
                }
            }
        };
        match result {
            Ok(entries) => {
                backoff = Duration::from_millis(50);
                for entry in entries {
                    match permits.pop() {
                        Some(p) => start_entry(&shared, &registry, &post_tx, entry, p),
                        None => {
                            // Cannot happen (COUNT = permits), but never lose an entry.
                            let p = sem.clone().acquire_owned().await;
                            if let Ok(p) = p {
                                start_entry(&shared, &registry, &post_tx, entry, p);
                            }
                        }
                    }
                }
            }
            Err(e) => {
                reader.note_error(&e);
                if is_nogroup(&e) {
                    recreate_group(&mut ctl, &shared).await;
                } else {
                    tracing::warn!(
                        worker = %shared.consumer,
                        url = %shared.url,
                        "reading jobs failed ({e}); retrying in {backoff:?}"
                    );
                    drop(permits);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = &mut shutdown, if !stopping => stopping = true,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    // Graceful stop: wait for every running job, then flush their results.
    tracing::info!(worker = %shared.consumer, "stopping: waiting for running jobs");
    shared.stopping.store(true, Ordering::SeqCst);
    let _all = sem.acquire_many(shared.opts.concurrency as u32).await;
    drop(post_tx);
    let _ = poster.await;
    let _ = hb_stop_tx.send(());
    let _ = heartbeat.await;
    let stats = WorkerStats {
        consumer: shared.consumer.clone(),
        completed: shared.completed.load(Ordering::Relaxed),
        failed: shared.failed.load(Ordering::Relaxed),
        reclaimed: shared.reclaimed.load(Ordering::Relaxed),
        given_up: shared.given_up.load(Ordering::Relaxed),
    };
    tracing::info!(worker = %shared.consumer, ?stats, "worker stopped");
    Ok(stats)
}

async fn recreate_group(link: &mut Link, shared: &Shared) {
    tracing::warn!(
        worker = %shared.consumer,
        "consumer group {} is missing (Redis restarted or was flushed?): recreating it",
        shared.keys.group
    );
    let r = async {
        let mut c = link.conn().await?;
        ensure_group(&mut c, &shared.keys.jobs, &shared.keys.group).await
    }
    .await;
    if let Err(e) = r {
        link.note_error(&e);
        tracing::warn!(worker = %shared.consumer, "recreating the consumer group failed: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn read_new(
    link: &mut Link,
    shared: &Shared,
    count: usize,
) -> redis::RedisResult<Vec<Entry>> {
    let mut c = link.conn().await?;
    let v: Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&shared.keys.group)
        .arg(&shared.consumer)
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(shared.opts.block_timeout.as_millis() as u64)
        .arg("STREAMS")
        .arg(&shared.keys.jobs)
        .arg(">")
        .query_async(&mut c)
        .await?;
    wire::parse_read(v).map_err(parse_error)
}

fn parse_error(msg: impl Into<String>) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected reply",
        msg.into(),
    ))
}

/// Claims up to `count` jobs idle longer than the visibility timeout, with their delivery
/// counts (including this delivery).
async fn reclaim(
    link: &mut Link,
    shared: &Shared,
    cursor: &mut String,
    count: usize,
) -> redis::RedisResult<Vec<(Entry, u64)>> {
    let mut c = link.conn().await?;
    let v: Value = redis::cmd("XAUTOCLAIM")
        .arg(&shared.keys.jobs)
        .arg(&shared.keys.group)
        .arg(&shared.consumer)
        .arg(shared.opts.visibility_timeout.as_millis() as u64)
        .arg(cursor.as_str())
        .arg("COUNT")
        .arg(count)
        .query_async(&mut c)
        .await?;
    let (next, entries) = wire::parse_autoclaim(v).map_err(parse_error)?;
    *cursor = next;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for e in &entries {
        pipe.cmd("XPENDING")
            .arg(&shared.keys.jobs)
            .arg(&shared.keys.group)
            .arg(&e.id)
            .arg(&e.id)
            .arg(1);
    }
    let pending: Vec<Value> = pipe.query_async(&mut c).await?;
    let mut out = Vec::with_capacity(entries.len());
    for (entry, p) in entries.into_iter().zip(pending) {
        let deliveries = wire::parse_pending(p)
            .map_err(parse_error)?
            .first()
            .map_or(1, |(_, n)| *n);
        tracing::warn!(
            worker = %shared.consumer,
            entry = %entry.id,
            deliveries,
            "reclaimed a job whose worker stopped responding"
        );
        out.push((entry, deliveries));
    }
    Ok(out)
}

fn give_up(shared: &Shared, post: &mpsc::UnboundedSender<Post>, entry: Entry, deliveries: u64) {
    shared.given_up.fetch_add(1, Ordering::Relaxed);
    let lost = deliveries - 1;
    let what = format!(
        "task {} ({} v{})",
        entry.get_str("k").unwrap_or("?"),
        entry.get_str("n").unwrap_or("?"),
        entry.get_str("v").unwrap_or("?")
    );
    let message = format!(
        "{what}: worker lost {lost} times (each worker running it died or stopped responding \
         for longer than the visibility timeout); giving up after {lost} deliveries \
         (WorkerOptions::max_deliveries = {})",
        shared.opts.max_deliveries
    );
    tracing::error!(worker = %shared.consumer, "{message}");
    shared.pending.lock().unwrap().insert(entry.id.clone());
    let _ = post.send(match (entry.get_str("r"), entry.get_u64("j")) {
        (Some(reply), Some(job)) => Post::Done {
            entry_id: entry.id.clone(),
            reply: reply.to_string(),
            job,
            kind: "be",
            data: message.into_bytes(),
            ok: false,
        },
        _ => Post::Drop {
            entry_id: entry.id.clone(),
        },
    });
}

fn start_entry(
    shared: &Arc<Shared>,
    registry: &Arc<TaskRegistry>,
    post: &mpsc::UnboundedSender<Post>,
    entry: Entry,
    permit: OwnedSemaphorePermit,
) {
    shared.pending.lock().unwrap().insert(entry.id.clone());
    let job = match wire::decode_job(entry, shared.opts.max_payload_bytes, &shared.reply_prefix) {
        Ok(job) => job,
        Err(BadJob {
            entry_id,
            reply_to,
            message,
        }) => {
            tracing::warn!(worker = %shared.consumer, "rejecting job entry {entry_id}: {message}");
            let _ = post.send(match reply_to {
                Some((reply, job)) => Post::Done {
                    entry_id,
                    reply,
                    job,
                    kind: "be",
                    data: message.into_bytes(),
                    ok: false,
                },
                None => Post::Drop { entry_id },
            });
            return;
        }
    };
    let shared = shared.clone();
    let registry = registry.clone();
    let post = post.clone();
    shared.running.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move {
        let WireJob {
            entry_id,
            reply,
            job_id,
            key,
            name,
            version,
            attempt,
            payload,
            inputs,
        } = job;
        if shared.opts.report_started {
            let _ = post.send(Post::Started {
                reply: reply.clone(),
                job: job_id,
            });
        }
        let ctx = TaskContext::new(TaskKey::new(&key), attempt, inputs);
        // run_serialized catches panics; the outer catch is for a panicking registry itself.
        let outcome =
            std::panic::AssertUnwindSafe(registry.run_serialized(&name, version, ctx, &payload))
                .catch_unwind()
                .await
                .unwrap_or_else(|p| {
                    JobOutcome::Panicked(sofleet_executor::backend::panic_message(&*p))
                });
        let (mut kind, mut data) = wire::encode_outcome(&outcome);
        if data.len() > shared.opts.max_payload_bytes {
            let e = TaskError::fatal(format!(
                "output of task {key} ({name} v{version}) is {} bytes, over the worker's limit \
                 of {} bytes (WorkerOptions::max_payload_bytes)",
                data.len(),
                shared.opts.max_payload_bytes
            ));
            (kind, data) = wire::encode_outcome(&JobOutcome::Failed(e));
        }
        let ok = kind == "ok";
        if !ok {
            tracing::debug!(worker = %shared.consumer, task = %key, kind, "job did not succeed");
        }
        let _ = post.send(Post::Done {
            entry_id,
            reply,
            job: job_id,
            kind,
            data,
            ok,
        });
        shared.running.fetch_sub(1, Ordering::Relaxed);
        drop(permit);
    });
}

/// Posts results (XADD to reply streams) and acknowledges + deletes the job entries, in
/// batches, one MULTI/EXEC transaction per batch. Retries on connection errors.
async fn poster_loop(mut link: Link, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Post>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let mut backoff = Duration::from_millis(50);
        let mut stop_deadline: Option<Instant> = None;
        loop {
            match post_batch(&mut link, &shared, &batch).await {
                Ok(()) => break,
                Err(e) => {
                    link.note_error(&e);
                    if is_nogroup(&e) {
                        recreate_group(&mut link, &shared).await;
                        continue;
                    }
                    if shared.stopping.load(Ordering::SeqCst) {
                        let deadline = *stop_deadline
                            .get_or_insert_with(|| Instant::now() + Duration::from_secs(10));
                        if Instant::now() >= deadline {
                            tracing::error!(
                                worker = %shared.consumer,
                                "giving up posting {} results while stopping ({e}); the jobs \
                                 stay pending and will be reclaimed by another worker",
                                batch.len()
                            );
                            break;
                        }
                    }
                    tracing::warn!(
                        worker = %shared.consumer,
                        url = %shared.url,
                        "posting results failed ({e}); retrying in {backoff:?}"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}

async fn post_batch(link: &mut Link, shared: &Shared, batch: &[Post]) -> redis::RedisResult<()> {
    let mut c = link.conn().await?;
    let mut pipe = redis::pipe();
    pipe.atomic();
    let mut acks: Vec<&str> = Vec::new();
    let mut replies: BTreeSet<&str> = BTreeSet::new();
    let (mut done, mut failed) = (0u64, 0u64);
    // A job that finished within this batch needs no separate "started" report.
    let finished: HashSet<(&str, u64)> = batch
        .iter()
        .filter_map(|p| match p {
            Post::Done { reply, job, .. } => Some((reply.as_str(), *job)),
            _ => None,
        })
        .collect();
    for p in batch {
        match p {
            Post::Started { reply, job } if finished.contains(&(reply.as_str(), *job)) => {}
            Post::Started { reply, job } => {
                pipe.cmd("XADD")
                    .arg(reply)
                    .arg("*")
                    .arg("j")
                    .arg(*job)
                    .arg("t")
                    .arg("s")
                    .arg("w")
                    .arg(&shared.consumer)
                    .ignore();
                replies.insert(reply);
            }
            Post::Done {
                entry_id,
                reply,
                job,
                kind,
                data,
                ok,
            } => {
                pipe.cmd("XADD")
                    .arg(reply)
                    .arg("*")
                    .arg("j")
                    .arg(*job)
                    .arg("t")
                    .arg(*kind)
                    .arg("d")
                    .arg(data.as_slice())
                    .arg("w")
                    .arg(&shared.consumer)
                    .ignore();
                replies.insert(reply);
                acks.push(entry_id);
                done += 1;
                if !ok {
                    failed += 1;
                }
            }
            Post::Drop { entry_id } => acks.push(entry_id),
        }
    }
    let ttl = shared.opts.reply_ttl.as_millis().max(1000) as u64;
    for r in &replies {
        pipe.cmd("PEXPIRE").arg(*r).arg(ttl).ignore();
    }
    if !acks.is_empty() {
        pipe.cmd("XACK")
            .arg(&shared.keys.jobs)
            .arg(&shared.keys.group)
            .arg(&acks)
            .ignore();
        pipe.cmd("XDEL").arg(&shared.keys.jobs).arg(&acks).ignore();
    }
    pipe.query_async::<()>(&mut c).await?;
    shared.completed.fetch_add(done, Ordering::Relaxed);
    shared.failed.fetch_add(failed, Ordering::Relaxed);
    let mut pending = shared.pending.lock().unwrap();
    for a in acks {
        pending.remove(a);
    }
    Ok(())
}

async fn heartbeat_once(link: &mut Link, shared: &Shared) {
    let info = WorkerInfo {
        name: shared.consumer.clone(),
        host: host_name(),
        pid: std::process::id(),
        concurrency: shared.opts.concurrency,
        running: shared.running.load(Ordering::Relaxed),
        completed: shared.completed.load(Ordering::Relaxed),
        started_at_ms: shared.started_at_ms,
        heartbeat_ms: now_ms(),
        tasks: shared.tasks.clone(),
    };
    let ttl = (shared.opts.heartbeat_interval * 3).as_millis() as u64 + 500;
    let pending: Vec<String> = shared.pending.lock().unwrap().iter().cloned().collect();
    let r = async {
        let mut c = link.conn().await?;
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(shared.keys.worker(&shared.consumer))
            .arg(serde_json::to_vec(&info).unwrap_or_default())
            .arg("PX")
            .arg(ttl)
            .ignore();
        if !pending.is_empty() {
            // Keep-alive: reset the idle time of our jobs so no other worker reclaims them
            // (JUSTID does not count as a delivery).
            pipe.cmd("XCLAIM")
                .arg(&shared.keys.jobs)
                .arg(&shared.keys.group)
                .arg(&shared.consumer)
                .arg(0)
                .arg(&pending)
                .arg("JUSTID")
                .ignore();
        }
        pipe.query_async::<()>(&mut c).await
    }
    .await;
    if let Err(e) = r {
        link.note_error(&e);
        tracing::warn!(worker = %shared.consumer, "heartbeat failed: {e}");
    }
}

async fn heartbeat_loop(
    mut link: Link,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let period = shared
        .opts
        .heartbeat_interval
        .min(shared.opts.visibility_timeout / 3)
        .max(Duration::from_millis(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => heartbeat_once(&mut link, &shared).await,
            _ = &mut stop => break,
        }
    }
    let key = shared.keys.worker(&shared.consumer);
    if let Ok(mut c) = link.conn().await {
        let _ = redis::cmd("DEL").arg(key).query_async::<()>(&mut c).await;
    }
}
