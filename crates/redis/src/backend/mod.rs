//! The client side: [`RedisBackend`], an executor [`Backend`](sofleet_executor::Backend) that
//! sends jobs to Redis workers.
//!
//! * `mod.rs`: the public type: connecting (its I/O thread and first connection), what it
//!   tells about itself, stopping the thread;
//! * `state.rs`: what the handle and the I/O thread share (jobs in flight, the writer's
//!   commands) and how outcomes reach the executor's sink;
//! * `dispatch.rs`: the executor's `Backend` trait: dispatch, cancel, ready, shutdown;
//! * `writer.rs`: the submit path on the I/O thread (batches, cancels, the liveness marker,
//!   resubmission after Redis lost its data);
//! * `listener.rs`: the reply stream listener;
//! * `workers.rs`: listing live workers (also read by [`FleetReader`](crate::FleetReader)).

mod dispatch;
mod listener;
mod state;
mod workers;
mod writer;

pub(crate) use workers::list_workers;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use self::state::Inner;
use crate::conn::{Link, ensure_group, open_client, redact_url};
use crate::error::RedisError;
use crate::fleet::{STATUS_COMMANDS, read_status};
use crate::keys::{Keys, random_hex};
use crate::{FleetStatus, RedisOptions, WorkerInfo};

/// An executor [`Backend`](sofleet_executor::Backend) running jobs on remote workers through Redis Streams.
///
/// Jobs are XADDed, in pipelined batches, to the stream `{namespace}:jobs`, which the workers
/// ([`run_worker`](crate::run_worker)) consume as the consumer group `{group}`. Each client
/// has its own reply stream `{namespace}:reply:{client id}`, so clients sharing one Redis and
/// one fleet never see each other's results. Delivery is at least once (a job whose worker
/// dies is run again elsewhere); each job is reported to the client exactly once.
///
/// The backend owns a small I/O thread with its own tokio runtime, so it works with any
/// caller (sync or async, any runtime). Dropping it (or
/// [`Backend::shutdown`](sofleet_executor::Backend::shutdown)) stops the
/// thread.
///
/// ```no_run
/// # async fn demo() -> Result<(), sofleet_redis::RedisError> {
/// use sofleet_redis::{RedisBackend, RedisOptions};
/// let backend = RedisBackend::connect("redis://127.0.0.1:6379", RedisOptions::default()).await?;
/// for w in backend.live_workers().await? {
///     println!("{} on {} runs {} jobs", w.name, w.host, w.running);
/// }
/// # Ok(()) }
/// ```
pub struct RedisBackend {
    inner: Arc<Inner>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("url", &self.inner.url)
            .field("client_id", &self.inner.client_id)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl RedisBackend {
    /// Connects to Redis at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for
    /// TLS), creates the job stream and consumer group if needed and starts the I/O thread.
    /// Fails with [`RedisError::Connect`] if Redis cannot be reached within
    /// [`RedisOptions::connect_timeout`]. Can be awaited from any async runtime.
    pub async fn connect(url: &str, opts: RedisOptions) -> Result<Self, RedisError> {
        opts.validate()?;
        let client = open_client(
            url,
            opts.tls_ca_file.as_deref(),
            "RedisOptions::tls_ca_file",
        )?;
        let redacted = redact_url(url);
        let keys = Keys::new(&opts.namespace, &opts.group);
        let client_id = random_hex();
        let reply_key = keys.reply(&client_id);
        let marker_key = keys.client_marker(&client_id);

        let (thread, handle, stop) = start_io_thread()?;
        let first = handle.spawn(first_connection(
            client.clone(),
            keys.clone(),
            marker_key.clone(),
            opts.marker_ttl,
            opts.connect_timeout,
        ));
        let link = match first.await {
            Ok(Ok(link)) => link,
            failed => {
                let _ = stop.send(true);
                let _ = thread.join();
                return Err(match failed {
                    Ok(Err(("connect", source))) => RedisError::Connect {
                        url: redacted,
                        waited: opts.connect_timeout,
                        source,
                    },
                    Ok(Err((command, source))) => RedisError::Command {
                        url: redacted,
                        command,
                        source,
                    },
                    _ => RedisError::Shutdown,
                });
            }
        };

        let (tx, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            url: redacted,
            keys,
            client_id,
            reply_key,
            marker_key,
            sink: OnceLock::new(),
            jobs: Mutex::new(HashMap::new()),
            tx,
            handle: handle.clone(),
            control: tokio::sync::Mutex::new(Link::new(client.clone(), Duration::from_secs(10))),
            closed: AtomicBool::new(false),
            stop,
            opts,
        });
        handle.spawn(writer::writer_loop(inner.clone(), link, rx));
        handle.spawn(listener::reader_loop(
            inner.clone(),
            Link::new(client, inner.opts.read_block + Duration::from_secs(10)),
        ));
        tracing::info!(url = %inner.url, client = %inner.client_id, "redis backend connected");
        Ok(RedisBackend {
            inner,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// [`connect`](Self::connect) for synchronous callers (blocks the calling thread; do not
    /// call it from inside an async task).
    pub fn connect_blocking(url: &str, opts: RedisOptions) -> Result<Self, RedisError> {
        futures::executor::block_on(Self::connect(url, opts))
    }

    /// This client's id (its reply stream is `{namespace}:reply:{id}`).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// Number of jobs dispatched and not yet reported.
    pub fn in_flight(&self) -> usize {
        self.inner.jobs.lock().len()
    }

    /// Workers whose heartbeat is current, sorted by name.
    pub async fn live_workers(&self) -> Result<Vec<WorkerInfo>, RedisError> {
        self.on_control("SCAN/MGET worker heartbeats", |link, keys| {
            Box::pin(workers::list_workers(link, keys))
        })
        .await
    }

    /// The fleet this client sends to: live workers, queued and pending jobs, as
    /// [`FleetReader::status`](crate::FleetReader::status) reads it (on this backend's control
    /// connection).
    ///
    /// ```no_run
    /// # async fn demo(backend: sofleet_redis::RedisBackend) -> Result<(), sofleet_redis::RedisError> {
    /// let status = backend.fleet_status().await?;
    /// println!("{} jobs queued for {} workers", status.queued, status.workers.len());
    /// # Ok(()) }
    /// ```
    pub async fn fleet_status(&self) -> Result<FleetStatus, RedisError> {
        let url = self.inner.url.clone();
        self.on_control(STATUS_COMMANDS, move |link, keys| {
            Box::pin(read_status(link, keys, url))
        })
        .await
    }

    /// Runs one command on the control connection (on the I/O thread); a failure is noted on
    /// the link (so it reconnects) and named by `command`.
    pub(super) async fn on_control<T, F>(
        &self,
        command: &'static str,
        run: F,
    ) -> Result<T, RedisError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Link, &'a Keys) -> BoxFuture<'a, redis::RedisResult<T>>
            + Send
            + 'static,
    {
        let inner = self.inner.clone();
        self.on_io_thread(async move {
            let mut link = inner.control.lock().await;
            let r = run(&mut link, &inner.keys).await;
            if let Err(e) = &r {
                link.note_error(e);
            }
            r.map_err(|source| RedisError::Command {
                url: inner.url.clone(),
                command,
                source,
            })
        })
        .await
    }

    async fn on_io_thread<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = Result<T, RedisError>> + Send + 'static,
    ) -> Result<T, RedisError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(RedisError::Shutdown);
        }
        self.inner
            .handle
            .spawn(fut)
            .await
            .unwrap_or(Err(RedisError::Shutdown))
    }

    fn stop_thread(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let _ = self.inner.stop.send(true);
        if let Some(t) = self.thread.lock().take() {
            // Joining from inside the I/O thread itself would deadlock (cannot happen through
            // the public API, but be safe).
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// Starts the backend's I/O thread: a current-thread runtime that runs until `true` is sent
/// on the returned stop channel (or the channel is dropped).
fn start_io_thread() -> Result<
    (
        std::thread::JoinHandle<()>,
        tokio::runtime::Handle,
        watch::Sender<bool>,
    ),
    RedisError,
> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RedisError::Runtime)?;
    let handle = rt.handle().clone();
    let (stop, mut stop_rx) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("sofleet-redis".into())
        .spawn(move || {
            rt.block_on(async move {
                while !*stop_rx.borrow_and_update() {
                    if stop_rx.changed().await.is_err() {
                        break;
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(RedisError::Runtime)?;
    Ok((thread, handle, stop))
}

/// Connects within `timeout`, creates the job stream and group if needed and sets this
/// client's liveness marker; the error names the step that failed (`"connect"` or the
/// command).
async fn first_connection(
    client: redis::Client,
    keys: Keys,
    marker: String,
    ttl: Duration,
    timeout: Duration,
) -> Result<Link, (&'static str, redis::RedisError)> {
    let mut link = Link::new(client, Duration::from_secs(10));
    let mut c = link
        .connect_within(timeout)
        .await
        .map_err(|e| ("connect", e))?;
    ensure_group(&mut c, &keys.jobs, &keys.group)
        .await
        .map_err(|e| ("XGROUP CREATE", e))?;
    redis::cmd("SET")
        .arg(&marker)
        .arg(1)
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .query_async::<()>(&mut c)
        .await
        .map_err(|e| ("SET", e))?;
    Ok(link)
}
