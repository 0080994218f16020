//! The worker: reads jobs from the job stream through the consumer group, runs registered task
//! types, posts results to each job's reply stream, reclaims jobs of dead workers and removes
//! their consumers.
//!
//! * `mod.rs`: [`run_worker`] (start, graceful stop), [`shutdown_signal`],
//!   [`default_consumer_name`]; its options are [`WorkerOptions`](crate::WorkerOptions)
//!   (`options/worker.rs`);
//! * `serve.rs`: the read loop; `read.rs`: reading new jobs (oversized ones left in Redis);
//! * `job.rs`: how one job runs; `poster.rs`: posting results;
//! * `reclaim.rs`: jobs and consumers of lost workers; `heartbeat.rs`: heartbeats and
//!   keep-alive of running jobs; `stats.rs`: [`WorkerStats`], [`WorkerInfo`].

mod heartbeat;
mod job;
mod poster;
mod read;
mod reclaim;
mod serve;
mod stats;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use sofleet_executor::TaskRegistry;
use tokio::sync::{Semaphore, mpsc};

use crate::WorkerOptions;
use crate::conn::{Link, ensure_group, open_client, redact_url};
use crate::error::RedisError;
use crate::keys::{Keys, now_ms, random_hex};

pub use stats::{WorkerInfo, WorkerStats};

use heartbeat::{heartbeat_loop, heartbeat_once, host_name};
use job::Runner;
use poster::{Post, poster_loop};

/// Resolves when the process receives SIGTERM or SIGINT (Ctrl-C): pass it as the `shutdown`
/// future of [`run_worker`] for a graceful stop that finishes in-flight jobs.
///
/// Must be called inside a tokio runtime; fails if the signal handlers cannot be installed.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let stop = sofleet_redis::shutdown_signal()?;
/// stop.await; // until SIGTERM or Ctrl-C
/// # Ok(()) }
/// ```
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

/// The consumer name a worker takes when [`WorkerOptions::consumer_name`] is `None`: the
/// host name (sanitised, at most 40 characters), the process id and a random suffix, e.g.
/// `build-7-4711-3fa9c2`. Public so a program can know its worker's name before starting it.
///
/// ```
/// let name = sofleet_redis::default_consumer_name();
/// assert!(name.contains(&format!("-{}-", std::process::id())));
/// ```
pub fn default_consumer_name() -> String {
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

/// A worker's state, shared by its read loop, jobs, poster and heartbeat.
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
    tracing::info!(
        worker = %consumer,
        url = %shared.url,
        concurrency = shared.opts.concurrency,
        "worker started"
    );

    // Heartbeat (and keep-alive of running jobs) before reading, so the worker is listed
    // as soon as it can take work.
    heartbeat_once(&mut ctl, &shared).await;
    if let Some(ready) = &shared.opts.on_ready {
        ready(&shared.consumer);
    }
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
    let runner = Runner {
        shared: shared.clone(),
        registry: Arc::new(registry),
        post: post_tx,
    };
    serve::serve(&runner, &sem, &mut ctl, &mut reader, shutdown).await;

    // Graceful stop: wait for every running job, then flush their results, then leave the
    // consumer group if nothing is pending for this worker any more.
    tracing::info!(worker = %shared.consumer, "stopping: waiting for running jobs");
    shared.stopping.store(true, Ordering::SeqCst);
    let _all = sem.acquire_many(shared.opts.concurrency as u32).await;
    drop(runner);
    let _ = poster.await;
    reclaim::remove_own_consumer(&mut ctl, &shared).await;
    let _ = hb_stop_tx.send(());
    let _ = heartbeat.await;
    let stats = WorkerStats {
        consumer: shared.consumer.clone(),
        completed: shared.completed.load(Ordering::Relaxed),
        failed: shared.failed.load(Ordering::Relaxed),
        reclaimed: shared.reclaimed.load(Ordering::Relaxed),
        given_up: shared.given_up.load(Ordering::Relaxed),
    };
    tracing::info!(worker = %shared.consumer, ?stats, "worker stopped: {stats}");
    Ok(stats)
}

/// Recreates the consumer group (after Redis lost it); whether that worked (failures are
/// logged, and the caller backs off).
async fn recreate_group(link: &mut Link, shared: &Shared) -> bool {
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
    if let Err(e) = &r {
        link.note_error(e);
        tracing::warn!(worker = %shared.consumer, "recreating the consumer group failed: {e}");
    }
    r.is_ok()
}
