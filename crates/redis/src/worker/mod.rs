//! The worker: reads jobs from the job stream through the consumer group, runs registered task
//! types, posts results to each job's reply stream, reclaims jobs of dead workers and removes
//! their consumers.
//!
//! * `mod.rs`: [`run_worker`] (its main loop) and how one job runs;
//! * `options.rs`: [`WorkerOptions`]; `stats.rs`: [`WorkerStats`], [`WorkerInfo`];
//! * `read.rs`: reading new jobs (oversized ones left in Redis);
//! * `reclaim.rs`: jobs and consumers of lost workers; `poster.rs`: posting results;
//!   `heartbeat.rs`: heartbeats and keep-alive of running jobs.

mod heartbeat;
mod options;
mod poster;
mod read;
mod reclaim;
mod stats;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use sofleet_executor::{JobOutcome, TaskContext, TaskError, TaskKey, TaskRegistry};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::conn::{Link, ensure_group, is_nogroup, open_client, redact_url};
use crate::error::RedisError;
use crate::keys::{Keys, now_ms, random_hex};
use crate::wire::{self, BadJob, Entry, WireJob};

pub use options::{
    DEFAULT_GROUP, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, ReadyHook, WorkerOptions,
};
pub use stats::{WorkerInfo, WorkerStats};

use heartbeat::{heartbeat_loop, heartbeat_once, host_name};
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
            let step = reclaim::Step {
                shared: &shared,
                registry: &registry,
                post: &post_tx,
            };
            step.run(&mut ctl, &mut claim_cursor, &mut permits).await;
        }
        if permits.is_empty() {
            continue;
        }

        // Whatever is waiting, up to a batch, without blocking; oversized entries come without
        // their payload. Only when nothing waits, block for one entry, then top the batch up.
        let mut result = read::read_batch(&mut reader, &shared, permits.len()).await;
        if matches!(&result, Ok(entries) if entries.is_empty()) {
            result = {
                let read = read::read_one(&mut reader, &shared);
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
            // Start what the blocking read got at once, then top the batch up.
            if let Ok(entries) = &mut result
                && !entries.is_empty()
            {
                let got = std::mem::take(entries);
                start_all(&shared, &registry, &post_tx, &sem, got, &mut permits).await;
                if !permits.is_empty() && !stopping {
                    result = match read::read_batch(&mut reader, &shared, permits.len()).await {
                        Ok(more) => Ok(more),
                        // The entry already read runs; the next round retries.
                        Err(e) => {
                            reader.note_error(&e);
                            tracing::warn!(worker = %shared.consumer, "reading jobs failed: {e}");
                            Ok(Vec::new())
                        }
                    };
                }
            }
        }
        match result {
            Ok(entries) => {
                backoff = Duration::from_millis(50);
                start_all(&shared, &registry, &post_tx, &sem, entries, &mut permits).await;
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

    // Graceful stop: wait for every running job, then flush their results, then leave the
    // consumer group if nothing is pending for this worker any more.
    tracing::info!(worker = %shared.consumer, "stopping: waiting for running jobs");
    shared.stopping.store(true, Ordering::SeqCst);
    let _all = sem.acquire_many(shared.opts.concurrency as u32).await;
    drop(post_tx);
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

/// Starts every entry read, each with one of `permits`.
async fn start_all(
    shared: &Arc<Shared>,
    registry: &Arc<TaskRegistry>,
    post: &mpsc::UnboundedSender<Post>,
    sem: &Arc<Semaphore>,
    entries: Vec<Entry>,
    permits: &mut Vec<OwnedSemaphorePermit>,
) {
    for entry in entries {
        match permits.pop() {
            Some(p) => start_entry(shared, registry, post, entry, p),
            None => {
                // Cannot happen (COUNT <= permits), but never lose an entry.
                if let Ok(p) = sem.clone().acquire_owned().await {
                    start_entry(shared, registry, post, entry, p);
                }
            }
        }
    }
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
        let ctx = TaskContext::new(TaskKey::new(&key), attempt, inputs)
            .with_resources(shared.opts.resources.clone());
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
