//! The client side: [`RedisBackend`], an executor [`Backend`] that sends jobs to Redis workers.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::Value;
use sofleet_executor::{Backend, BackendError, CompletionSink, Job, JobId, JobOutcome, TaskKey};
use tokio::sync::{mpsc, watch};

use crate::conn::{Link, ensure_group, open_client, redact_url};
use crate::error::RedisError;
use crate::keys::{Keys, random_hex, validate_name};
use crate::wire::{self, EncodedJob, Reply};
use crate::worker::{DEFAULT_GROUP, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, WorkerInfo};

/// Settings of a [`RedisBackend`]. Build with [`RedisOptions::default`] and adjust the fields.
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
    /// How long [`RedisBackend::connect`] keeps trying to reach Redis (default 5 s).
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
    fn validate(&self) -> Result<(), RedisError> {
        validate_name("RedisOptions::namespace", &self.namespace)?;
        validate_name("RedisOptions::group", &self.group)?;
        let check = crate::error::require;
        check(
            "RedisOptions::batch_size",
            self.batch_size >= 1,
            "at least 1",
        )?;
        check(
            "RedisOptions::max_payload_bytes",
            self.max_payload_bytes >= 1024,
            "at least 1024",
        )?;
        check(
            "RedisOptions::read_block",
            self.read_block >= Duration::from_millis(1),
            "at least 1 ms",
        )?;
        check(
            "RedisOptions::marker_ttl",
            self.marker_ttl >= Duration::from_millis(300),
            "at least 300 ms",
        )
    }
}

/// A job sent (or about to be sent) and not yet reported.
struct InFlight {
    key: TaskKey,
    encoded: Arc<EncodedJob>,
    /// Id of its job stream entry once sent (for cancellation).
    entry_id: Option<String>,
    /// Whether `started` was reported (a worker may skip the separate report when the job
    /// finishes at once; the client then reports it just before the completion).
    started: bool,
}

enum Cmd {
    Send(Vec<JobId>),
    Cancel(String),
    CheckMarker,
}

struct Inner {
    opts: RedisOptions,
    url: String,
    keys: Keys,
    client_id: String,
    reply_key: String,
    marker_key: String,
    sink: OnceLock<CompletionSink>,
    jobs: Mutex<HashMap<JobId, InFlight>>,
    tx: mpsc::UnboundedSender<Cmd>,
    handle: tokio::runtime::Handle,
    control: tokio::sync::Mutex<Link>,
    closed: AtomicBool,
    stop: watch::Sender<bool>,
}

impl Inner {
    fn report(&self, outcomes: Vec<(JobId, JobOutcome)>) {
        if outcomes.is_empty() {
            return;
        }
        match self.sink.get() {
            Some(sink) => sink.completed_many(outcomes),
            None => tracing::error!(
                "redis backend: {} job reports dropped: Backend::attach was never called",
                outcomes.len()
            ),
        }
    }

    /// Fails every job in flight (e.g. Redis unreachable for too long).
    fn fail_all(&self, message: &str) {
        let drained: Vec<(JobId, InFlight)> = self.jobs.lock().unwrap().drain().collect();
        if !drained.is_empty() {
            tracing::error!("redis backend: failing {} jobs: {message}", drained.len());
        }
        let outcomes = drained
            .into_iter()
            .map(|(id, j)| {
                (
                    id,
                    JobOutcome::BackendError(format!("task {}: {message}", j.key)),
                )
            })
            .collect();
        self.report(outcomes);
    }
}

/// An executor [`Backend`] running jobs on remote workers through Redis Streams.
///
/// Jobs are XADDed, in pipelined batches, to the stream `{namespace}:jobs`, which the workers
/// ([`run_worker`](crate::run_worker)) consume as the consumer group `{group}`. Each client
/// has its own reply stream `{namespace}:reply:{client id}`, so clients sharing one Redis and
/// one fleet never see each other's results. Delivery is at least once (a job whose worker
/// dies is run again elsewhere); each job is reported to the client exactly once.
///
/// The backend owns a small I/O thread with its own tokio runtime, so it works with any
/// caller (sync or async, any runtime). Dropping it (or [`Backend::shutdown`]) stops the
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

        let reply_key = keys.reply(&client_id);
        let marker_key = keys.client_marker(&client_id);
        let init = {
            let (client, keys, marker, ttl, timeout) = (
                client.clone(),
                keys.clone(),
                marker_key.clone(),
                opts.marker_ttl,
                opts.connect_timeout,
            );
            handle.spawn(async move {
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
                Ok::<_, (&'static str, redis::RedisError)>(link)
            })
        };
        let link = match init.await {
            Ok(Ok(link)) => link,
            Ok(Err((what, source))) => {
                let _ = stop.send(true);
                let _ = thread.join();
                return Err(if what == "connect" {
                    RedisError::Connect {
                        url: redacted,
                        waited: opts.connect_timeout,
                        source,
                    }
                } else {
                    RedisError::Command {
                        url: redacted,
                        command: what,
                        source,
                    }
                });
            }
            Err(_) => {
                let _ = stop.send(true);
                let _ = thread.join();
                return Err(RedisError::Shutdown);
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
        handle.spawn(writer_loop(inner.clone(), link, rx));
        handle.spawn(reader_loop(
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
        self.inner.jobs.lock().unwrap().len()
    }

    /// Workers whose heartbeat is current, sorted by name.
    pub async fn live_workers(&self) -> Result<Vec<WorkerInfo>, RedisError> {
        let inner = self.inner.clone();
        self.on_io_thread(async move {
            let mut link = inner.control.lock().await;
            let r = list_workers(&mut link, &inner.keys).await;
            if let Err(e) = &r {
                link.note_error(e);
            }
            r.map_err(|source| RedisError::Command {
                url: inner.url.clone(),
                command: "SCAN/MGET worker heartbeats",
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
        if let Some(t) = self.thread.lock().unwrap().take() {
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

async fn list_workers(link: &mut Link, keys: &Keys) -> redis::RedisResult<Vec<WorkerInfo>> {
    let mut c = link.conn().await?;
    let mut cursor = 0u64;
    let mut names = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(keys.worker_pattern())
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut c)
            .await?;
        names.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&names).query_async(&mut c).await?;
    let mut out: Vec<WorkerInfo> = values
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_slice(&v).ok())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

#[async_trait]
impl Backend for RedisBackend {
    fn name(&self) -> &str {
        "redis"
    }

    fn runs_in_process(&self) -> bool {
        false
    }

    fn attach(&self, sink: CompletionSink) {
        if self.inner.sink.set(sink).is_err() {
            tracing::warn!("redis backend attached twice; keeping the first client");
        }
    }

    fn dispatch(&self, jobs: Vec<Job>) {
        let inner = &self.inner;
        let mut rejected = Vec::new();
        let mut ids = Vec::with_capacity(jobs.len());
        let closed = inner.closed.load(Ordering::SeqCst);
        {
            let mut map = inner.jobs.lock().unwrap();
            for job in jobs {
                if closed {
                    rejected.push((
                        job.id,
                        JobOutcome::BackendError(format!(
                            "task {}: the redis backend has been shut down",
                            job.key
                        )),
                    ));
                    continue;
                }
                match wire::encode_job(&job, &inner.reply_key, inner.opts.max_payload_bytes) {
                    Ok(enc) => {
                        map.insert(
                            job.id,
                            InFlight {
                                key: job.key,
                                encoded: Arc::new(enc),
                                entry_id: None,
                                started: false,
                            },
                        );
                        ids.push(job.id);
                    }
                    Err(msg) => rejected.push((job.id, JobOutcome::BackendError(msg))),
                }
            }
        }
        if !ids.is_empty() && inner.tx.send(Cmd::Send(ids.clone())).is_err() {
            let mut map = inner.jobs.lock().unwrap();
            for id in ids {
                if let Some(j) = map.remove(&id) {
                    rejected.push((
                        id,
                        JobOutcome::BackendError(format!(
                            "task {}: the redis backend's I/O thread has stopped",
                            j.key
                        )),
                    ));
                }
            }
        }
        inner.report(rejected);
    }

    fn cancel(&self, id: JobId) {
        let removed = self.inner.jobs.lock().unwrap().remove(&id);
        if let Some(job) = removed {
            if let Some(entry) = job.entry_id {
                // Not yet taken by a worker: it never will be. Taken: the result is ignored.
                let _ = self.inner.tx.send(Cmd::Cancel(entry));
            }
            self.inner.report(vec![(id, JobOutcome::Cancelled)]);
        }
    }

    async fn ready(&self) -> Result<(), BackendError> {
        let inner = self.inner.clone();
        self.on_io_thread(async move {
            let mut link = inner.control.lock().await;
            let r = async {
                let mut c = link.conn().await?;
                redis::cmd("PING").query_async::<()>(&mut c).await
            }
            .await;
            if let Err(e) = &r {
                link.note_error(e);
            }
            r.map_err(|source| RedisError::Command {
                url: inner.url.clone(),
                command: "PING",
                source,
            })
        })
        .await
        .map_err(|e| BackendError::new(e.to_string()))
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.inner
            .fail_all("the redis backend was shut down before the job finished");
        let inner = self.inner.clone();
        let cleanup = self.inner.handle.spawn(async move {
            let del = async {
                let mut link = inner.control.lock().await;
                if let Ok(mut c) = link.conn().await {
                    let _ = redis::cmd("DEL")
                        .arg(&inner.reply_key)
                        .arg(&inner.marker_key)
                        .query_async::<()>(&mut c)
                        .await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), del).await;
        });
        let _ = cleanup.await;
        let _ = self.inner.stop.send(true);
        Ok(())
    }
}

/// Sends dispatched jobs in pipelined batches, deletes cancelled entries, refreshes the
/// liveness marker, and resubmits everything in flight when Redis lost its data.
async fn writer_loop(inner: Arc<Inner>, mut link: Link, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let mut stop = inner.stop.subscribe();
    let mut unsent: BTreeSet<JobId> = BTreeSet::new();
    let mut cancels: Vec<String> = Vec::new();
    let mut check_marker = false;
    let mut tick = tokio::time::interval(inner.opts.marker_ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    loop {
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { break };
                let mut next = Some(cmd);
                while let Some(cmd) = next {
                    match cmd {
                        Cmd::Send(ids) => unsent.extend(ids),
                        Cmd::Cancel(entry) => cancels.push(entry),
                        Cmd::CheckMarker => check_marker = true,
                    }
                    next = rx.try_recv().ok();
                }
            }
            _ = tick.tick() => check_marker = true,
            _ = stop.changed() => break,
        }
        let mut down_since: Option<Instant> = None;
        let mut backoff = Duration::from_millis(20);
        loop {
            match sync(
                &inner,
                &mut link,
                &mut unsent,
                &mut cancels,
                &mut check_marker,
            )
            .await
            {
                Ok(()) => break,
                Err(e) => {
                    link.note_error(&e);
                    check_marker = true;
                    let since = *down_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= inner.opts.reconnect_timeout {
                        inner.fail_all(&format!(
                            "lost the connection to Redis at {} and could not get it back within \
                             {:?} (RedisOptions::reconnect_timeout): {e}; whether the job ran is \
                             unknown — check that redis-server is running",
                            inner.url, inner.opts.reconnect_timeout
                        ));
                        unsent.clear();
                        cancels.clear();
                        break;
                    }
                    tracing::warn!(url = %inner.url, "redis backend: {e}; retrying in {backoff:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
        }
    }
}

async fn sync(
    inner: &Inner,
    link: &mut Link,
    unsent: &mut BTreeSet<JobId>,
    cancels: &mut Vec<String>,
    check_marker: &mut bool,
) -> redis::RedisResult<()> {
    let mut c = link.conn().await?;
    if *check_marker {
        let old: Option<String> = redis::cmd("SET")
            .arg(&inner.marker_key)
            .arg(1)
            .arg("PX")
            .arg(inner.opts.marker_ttl.as_millis() as u64)
            .arg("GET")
            .query_async(&mut c)
            .await?;
        if old.is_none() {
            let all: Vec<JobId> = inner.jobs.lock().unwrap().keys().copied().collect();
            tracing::warn!(
                url = %inner.url,
                "redis backend: Redis lost its data (restart?); resubmitting {} jobs",
                all.len()
            );
            ensure_group(&mut c, &inner.keys.jobs, &inner.keys.group).await?;
            unsent.extend(all);
        }
        *check_marker = false;
    }
    if !cancels.is_empty() {
        redis::cmd("XDEL")
            .arg(&inner.keys.jobs)
            .arg(&*cancels)
            .query_async::<()>(&mut c)
            .await?;
        cancels.clear();
    }
    while !unsent.is_empty() {
        let mut batch: Vec<(JobId, Arc<EncodedJob>)> = Vec::new();
        {
            let map = inner.jobs.lock().unwrap();
            while batch.len() < inner.opts.batch_size {
                let Some(id) = unsent.pop_first() else { break };
                if let Some(j) = map.get(&id) {
                    batch.push((id, j.encoded.clone()));
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let mut pipe = redis::pipe();
        for (_, enc) in &batch {
            let cmd = pipe.cmd("XADD").arg(&inner.keys.jobs).arg("*");
            for (k, v) in &enc.fields {
                cmd.arg(*k).arg(&**v);
            }
        }
        match pipe.query_async::<Vec<String>>(&mut c).await {
            Ok(entry_ids) => {
                let mut map = inner.jobs.lock().unwrap();
                for ((id, _), entry) in batch.iter().zip(entry_ids) {
                    if let Some(j) = map.get_mut(id) {
                        j.entry_id = Some(entry);
                    }
                }
            }
            Err(e) => {
                unsent.extend(batch.iter().map(|(id, _)| *id));
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Reads this client's reply stream and reports to the sink; trims what it has read.
async fn reader_loop(inner: Arc<Inner>, mut link: Link) {
    let mut stop = inner.stop.subscribe();
    let mut last = "0-0".to_string();
    let mut trimmed = last.clone();
    let mut was_down = false;
    let mut backoff = Duration::from_millis(20);
    loop {
        let trim = trimmed != last;
        let read = async {
            let mut c = link.conn().await?;
            let mut xread = redis::cmd("XREAD");
            xread
                .arg("COUNT")
                .arg(4096)
                .arg("BLOCK")
                .arg(inner.opts.read_block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&inner.reply_key)
                .arg(&last);
            let v: Value = if !trim {
                xread.query_async(&mut c).await?
            } else {
                // Entries before the last one read are no longer needed: trim them in the
                // same round trip as the next read.
                let mut pipe = redis::pipe();
                pipe.cmd("XTRIM")
                    .arg(&inner.reply_key)
                    .arg("MINID")
                    .arg(&last)
                    .ignore()
                    .add_command(xread);
                let (v,): (Value,) = pipe.query_async(&mut c).await?;
                v
            };
            wire::parse_read(v).map_err(|m| {
                redis::RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "bad XREAD reply",
                    m,
                ))
            })
        };
        let r = tokio::select! {
            r = read => r,
            _ = stop.changed() => return,
        };
        match r {
            Ok(entries) => {
                backoff = Duration::from_millis(20);
                if was_down {
                    was_down = false;
                    tracing::info!(url = %inner.url, "redis backend: reconnected to Redis");
                    let _ = inner.tx.send(Cmd::CheckMarker);
                }
                if trim {
                    trimmed = last.clone();
                }
                if let Some(e) = entries.last() {
                    last = e.id.clone();
                }
                handle_replies(&inner, entries);
            }
            Err(e) => {
                link.note_error(&e);
                if !was_down {
                    tracing::warn!(url = %inner.url, "redis backend: reading replies failed: {e}");
                }
                was_down = true;
                // Redis may come back as a new server whose stream ids do not continue ours:
                // re-read the (trimmed) stream from its start; repeats are ignored.
                last = "0-0".to_string();
                trimmed = last.clone();
                let _ = inner.tx.send(Cmd::CheckMarker);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
    }
}

fn handle_replies(inner: &Inner, entries: Vec<wire::Entry>) {
    let mut started = Vec::new();
    let mut done = Vec::new();
    {
        let mut map = inner.jobs.lock().unwrap();
        for e in &entries {
            match wire::decode_reply(e) {
                Ok((job, Reply::Started)) => {
                    if let Some(j) = map.get_mut(&JobId(job))
                        && !j.started
                    {
                        j.started = true;
                        started.push(JobId(job));
                    }
                }
                Ok((job, Reply::Done(outcome))) => {
                    // Exactly once: a job run twice (reclaimed, resubmitted) reports only the
                    // first result.
                    if let Some(j) = map.remove(&JobId(job)) {
                        if !j.started {
                            started.push(JobId(job));
                        }
                        done.push((JobId(job), outcome));
                    }
                }
                Err(msg) => tracing::warn!("redis backend: ignoring reply: {msg}"),
            }
        }
    }
    if let Some(sink) = inner.sink.get() {
        for id in started {
            sink.started(id);
        }
    }
    inner.report(done);
}
