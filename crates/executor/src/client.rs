//! The [`Client`] and its scheduler (one for every backend).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures::channel::mpsc;

use crate::backend::{
    Backend, CompletionSink, Job, JobId, JobListener, JobOutcome, JobValue, LocalRunner,
};
use crate::error::{ExecError, TaskStatus};
use crate::events::{Event, EventStream};
use crate::future::{AnyFuture, Cell, Handle, TaskFuture, Wakers};
use crate::key::{TaskKey, TaskName};
use crate::options::{RetryPolicy, SubmitOptions};
use crate::stream::MapBounded;
use crate::task::Task;

/// Fast hasher for the scheduler's sequential `u64` node ids.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for b in chunks.remainder() {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Hasher for the scheduler's node map: the low bits are the sequential id itself, so nodes
/// submitted (and mostly finished) in order sit in neighbouring buckets (cache- and
/// prefetch-friendly), and the top 7 bits (hashbrown's control tag) are a mix of the id.
#[derive(Default)]
pub(crate) struct SeqIdHasher(u64);

impl Hasher for SeqIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` ids are hashed with this hasher; fall back to a plain mix.
        let mut h = IdHasher(self.0);
        h.write(bytes);
        self.0 = h.0;
    }
    fn write_u64(&mut self, n: u64) {
        const TAG: u64 = 0xFE00_0000_0000_0000;
        self.0 = (n & !TAG) | (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) & TAG);
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<SeqIdHasher>>;

/// Bits of a [`JobId`] that count dispatches of one node; the rest is the node id.
const DISPATCH_BITS: u32 = 20;

/// The in-process runner of a node: the first attempt's runner, made at submission, and (for
/// typed tasks) a function re-making one from the payload for retries.
pub(crate) struct Runner {
    first: Option<LocalRunner>,
    remake: Option<RemakeFn>,
}

/// Re-makes a typed task's runner from its payload bytes.
type RemakeFn = fn(&[u8]) -> Result<LocalRunner, String>;

impl Runner {
    fn make(&mut self, payload: Option<&[u8]>) -> Result<LocalRunner, String> {
        if let Some(r) = self.first.take() {
            return Ok(r);
        }
        match (self.remake, payload) {
            (Some(f), Some(p)) => f(p),
            _ => Err("this task cannot be re-run (closure tasks run at most once)".to_string()),
        }
    }
}

fn typed_runner<T: Task>(task: T) -> LocalRunner {
    LocalRunner::Async(Box::new(move |ctx| {
        Box::pin(async move { task.run(ctx).await.map(JobValue::local) })
    }))
}

fn remake_typed<T: Task>(bytes: &[u8]) -> Result<LocalRunner, String> {
    serde_json::from_slice::<T>(bytes)
        .map(typed_runner)
        .map_err(|e| format!("cannot deserialise task {}: {e}", T::NAME))
}

/// What is needed to (re)dispatch a node; dropped when the node is done.
struct Spec {
    version: u32,
    payload: Option<Arc<[u8]>>,
    runner: Option<Runner>,
    deps: Vec<u64>,
    waiting_on: usize,
    retry: RetryPolicy,
    attempt: u32,
    dispatches: u64,
    queued: bool,
}

struct Node {
    cell: Arc<Cell>,
    refs: usize,
    spec: Option<Spec>,
    dependents: Vec<u64>,
    resources: Vec<String>,
    holding: bool,
    inflight: Option<JobId>,
    fire_and_forget: bool,
    done: bool,
    indexed: bool,
}

#[derive(Default)]
struct Resource {
    limit: Option<usize>,
    in_use: usize,
    queue: VecDeque<u64>,
}

/// Counters and sizes describing a client (see [`Client::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Futures the client currently tracks (referenced, or unfinished fire-and-forget, or
    /// waiting for a cancelled job to come back). Results are freed when this drops.
    pub live: usize,
    /// Tracked futures not done yet.
    pub unfinished: usize,
    /// Jobs handed to the backend and not reported back.
    pub in_flight: usize,
    /// Submissions that created a new task, since the client was made.
    pub submitted: u64,
    /// Submissions that returned an existing future (same key), since the client was made.
    pub deduplicated: u64,
    /// Jobs dispatched to the backend (attempts), since the client was made.
    pub dispatched: u64,
}

#[derive(Default)]
struct Fx {
    jobs: Vec<Job>,
    cancels: Vec<JobId>,
    wakers: Wakers,
    timers: Vec<(Duration, u64, u32)>,
}

enum Op {
    Fail(u64, ExecError, TaskStatus),
    Decref(u64),
}

struct State {
    nodes: IdMap<Node>,
    by_key: HashMap<TaskKey, u64, BuildHasherDefault<IdHasher>>,
    resources: HashMap<String, Resource>,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
    next_id: u64,
    in_process: bool,
    stats: ClientStats,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    backend: Box<dyn Backend>,
    in_process: bool,
}

/// Submits tasks and hands out [`TaskFuture`]s. Cheap to clone; all clones share one scheduler
/// and backend. Usable from synchronous code (with a backend that does not need a runtime,
/// such as [`ThreadsBackend`](crate::ThreadsBackend)) and from async code.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("backend", &self.shared.backend.name())
            .finish()
    }
}

struct Listener(Weak<Shared>);

impl JobListener for Listener {
    fn started(&self, id: JobId) {
        if let Some(s) = self.0.upgrade() {
            s.on_started(id);
        }
    }
    fn completed(&self, id: JobId, outcome: JobOutcome) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed(id, outcome, false);
        }
    }
    fn started_and_completed(&self, id: JobId, outcome: JobOutcome) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed(id, outcome, true);
        }
    }
    fn completed_batch(&self, reports: Vec<(JobId, JobOutcome)>, also_started: bool) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed_batch(reports, also_started);
        }
    }
}

impl Client {
    /// A client over `backend`; attaches the backend's completion sink.
    pub fn new(backend: impl Backend) -> Client {
        let in_process = backend.runs_in_process();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                nodes: IdMap::default(),
                by_key: HashMap::default(),
                resources: HashMap::new(),
                subscribers: Vec::new(),
                next_id: 1,
                in_process,
                stats: ClientStats::default(),
            }),
            backend: Box::new(backend),
            in_process,
        });
        let sink = CompletionSink::new(Arc::new(Listener(Arc::downgrade(&shared))));
        shared.backend.attach(sink);
        Client { shared }
    }

    /// The backend's name.
    pub fn backend_name(&self) -> &str {
        self.shared.backend.name()
    }

    /// Checks the backend can run jobs.
    pub async fn ready(&self) -> Result<(), crate::BackendError> {
        self.shared.backend.ready().await
    }

    /// Shuts the backend down (pending work may never finish afterwards).
    pub async fn shutdown(&self) -> Result<(), crate::BackendError> {
        self.shared.backend.shutdown().await
    }

    /// Submits `task` with default options; returns at once.
    pub fn submit<T: Task>(&self, task: T) -> TaskFuture<T::Output> {
        self.submit_after(&[], task, SubmitOptions::default())
    }

    /// Submits `task` with `opts`; returns at once.
    pub fn submit_with<T: Task>(&self, task: T, opts: SubmitOptions) -> TaskFuture<T::Output> {
        self.submit_after(&[], task, opts)
    }

    /// Submits `task` to start once every future in `deps` has finished; their outputs are
    /// available to the task through [`TaskContext::input`](crate::TaskContext::input), in
    /// order. If a dependency fails or is cancelled the task does not run and its future fails
    /// with [`ExecError::DependencyFailed`] naming the failed key.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use sofleet_executor::conformance_free_example::Double;
    /// use sofleet_executor::{Client, SubmitOptions, Task, TaskContext, TaskError, ThreadsBackend};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Sum {}
    /// impl Task for Sum {
    ///     type Output = u64;
    ///     const NAME: &'static str = "sum";
    ///     async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
    ///         Ok(ctx.input::<u64>(0)? + ctx.input::<u64>(1)?)
    ///     }
    /// }
    ///
    /// let client = Client::new(ThreadsBackend::new(2));
    /// let a = client.submit(Double { x: 1 });
    /// let b = client.submit(Double { x: 10 });
    /// let total = client.submit_after(&[a.erase(), b.erase()], Sum {}, SubmitOptions::new());
    /// assert_eq!(total.result().unwrap(), 22);
    /// ```
    pub fn submit_after<T: Task>(
        &self,
        deps: &[AnyFuture],
        task: T,
        opts: SubmitOptions,
    ) -> TaskFuture<T::Output> {
        let sub = self.prepare(deps, task, &opts);
        let any = self.shared.submit_erased(sub, deps, &opts);
        TaskFuture::from_any(any, JobValue::get::<T::Output>)
    }

    /// Serialises/hashes a task into a submission (outside the scheduler lock).
    fn prepare<T: Task>(&self, deps: &[AnyFuture], task: T, opts: &SubmitOptions) -> Sub {
        let pure = opts.pure.unwrap_or(T::PURE);
        let need_bytes = !self.shared.in_process || opts.retry.max_retries > 0;
        let mut payload: Option<Arc<[u8]>> = None;
        let mut ser_error = None;
        if need_bytes {
            match serde_json::to_vec(&task) {
                Ok(b) => payload = Some(b.into()),
                Err(e) => ser_error = Some(e.to_string()),
            }
        }
        let indexed = opts.key.is_some() || (pure && ser_error.is_none());
        let key = match &opts.key {
            Some(k) => k.clone(),
            None if pure && ser_error.is_none() => {
                let mut h = blake3::Hasher::new();
                h.update(T::NAME.as_bytes());
                h.update(&[0]);
                h.update(&T::VERSION.to_le_bytes());
                match &payload {
                    Some(p) => {
                        h.update(p);
                    }
                    None => {
                        if let Err(e) = serde_json::to_writer(&mut h, &task) {
                            ser_error = Some(e.to_string());
                        }
                    }
                }
                for d in deps {
                    h.update(&[0]);
                    h.update(d.key().as_str().as_bytes());
                }
                TaskKey::from_hash(T::NAME, h.finalize().as_bytes())
            }
            None => TaskKey::random(T::NAME),
        };
        let runner = if self.shared.in_process {
            Some(Runner {
                first: Some(typed_runner(task)),
                remake: Some(remake_typed::<T>),
            })
        } else {
            None
        };
        Sub {
            key,
            indexed,
            name: TaskName::Borrowed(T::NAME),
            version: T::VERSION,
            payload,
            runner,
            error: ser_error.map(|message| ExecError::Serialization {
                name: TaskName::Borrowed(T::NAME),
                message,
            }),
        }
    }

    /// Submits a blocking closure (local backends only; a remote backend fails it with
    /// [`ExecError::Backend`]). Closure tasks are always impure (fresh key) and never retried.
    pub fn submit_fn<R, F>(&self, name: &str, f: F) -> TaskFuture<R>
    where
        R: Clone + Send + Sync + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let name: TaskName = TaskName::Owned(name.to_string());
        let runner = Runner {
            first: Some(LocalRunner::Blocking(Box::new(move |_ctx| {
                Ok(JobValue::local_only(f()))
            }))),
            remake: None,
        };
        let any = self.shared.submit_erased(
            Sub {
                key: TaskKey::random(&name),
                indexed: false,
                name,
                version: 0,
                payload: None,
                runner: Some(runner),
                error: None,
            },
            &[],
            &SubmitOptions::default(),
        );
        TaskFuture::from_any(any, JobValue::get_local::<R>)
    }

    /// Submits every task (default options) and returns their futures in input order.
    /// Submissions are handed to the scheduler and the backend in batches.
    pub fn map<T: Task>(&self, tasks: impl IntoIterator<Item = T>) -> Vec<TaskFuture<T::Output>> {
        self.map_with(tasks, SubmitOptions::default())
    }

    /// Submits every task with `opts` and returns their futures in input order.
    pub fn map_with<T: Task>(
        &self,
        tasks: impl IntoIterator<Item = T>,
        opts: SubmitOptions,
    ) -> Vec<TaskFuture<T::Output>> {
        const BATCH: usize = 512;
        let iter = tasks.into_iter();
        let mut out = Vec::with_capacity(iter.size_hint().0);
        let mut batch = Vec::with_capacity(BATCH);
        for t in iter {
            batch.push(self.prepare(&[], t, &opts));
            if batch.len() == BATCH {
                self.shared
                    .submit_batch(std::mem::take(&mut batch), &opts, &mut |a| {
                        out.push(TaskFuture::from_any(a, JobValue::get::<T::Output>))
                    });
            }
        }
        if !batch.is_empty() {
            self.shared.submit_batch(batch, &opts, &mut |a| {
                out.push(TaskFuture::from_any(a, JobValue::get::<T::Output>))
            });
        }
        out
    }

    /// Backpressured map: pulls tasks from `tasks` lazily, keeps at most `max_in_flight`
    /// submitted and unconsumed, and yields results in completion order. Memory stays bounded
    /// by `max_in_flight` however long the input is. `max_in_flight` of 0 is treated as 1.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use sofleet_executor::conformance_free_example::Double;
    /// use sofleet_executor::{Client, SubmitOptions, ThreadsBackend};
    ///
    /// let client = Client::new(ThreadsBackend::new(2));
    /// let sum: u64 = futures::executor::block_on(
    ///     client
    ///         .map_bounded((0..10_000u64).map(|x| Double { x }), 64, SubmitOptions::new())
    ///         .map(|r| r.unwrap())
    ///         .fold(0, |a, b| async move { a + b }),
    /// );
    /// assert_eq!(sum, 2 * (10_000 * 9_999 / 2));
    /// ```
    pub fn map_bounded<T, I>(
        &self,
        tasks: I,
        max_in_flight: usize,
        opts: SubmitOptions,
    ) -> MapBounded<T::Output>
    where
        T: Task,
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        let client = self.clone();
        let mut iter = tasks.into_iter();
        MapBounded::new(
            Box::new(move || iter.next().map(|t| client.submit_with(t, opts.clone()))),
            max_in_flight.max(1),
        )
    }

    /// Allows at most `limit` tasks tagged `tag` (see [`SubmitOptions::resources`]) to be
    /// dispatched at once. A limit of 0 holds tagged tasks back until it is raised.
    pub fn set_resource_limit(&self, tag: &str, limit: usize) {
        let mut fx = Fx::default();
        {
            let mut st = self.shared.lock();
            st.resources.entry(tag.to_string()).or_default().limit = Some(limit);
            st.drain_resource(tag, &mut fx);
        }
        self.shared.apply(fx);
    }

    /// Removes the limit of `tag`.
    pub fn clear_resource_limit(&self, tag: &str) {
        let mut fx = Fx::default();
        {
            let mut st = self.shared.lock();
            if let Some(r) = st.resources.get_mut(tag) {
                r.limit = None;
            }
            st.drain_resource(tag, &mut fx);
        }
        self.shared.apply(fx);
    }

    /// A stream of progress events from now on (every subscriber gets every event, unbounded,
    /// in scheduler order). Dropping the stream unsubscribes.
    pub fn events(&self) -> EventStream {
        let (tx, rx) = mpsc::unbounded();
        self.shared.lock().subscribers.push(tx);
        EventStream::new(rx)
    }

    /// Current counters.
    pub fn stats(&self) -> ClientStats {
        let st = self.shared.lock();
        let mut s = st.stats;
        s.live = st.nodes.len();
        s.unfinished = st.nodes.values().filter(|n| !n.done).count();
        s.in_flight = st.nodes.values().filter(|n| n.inflight.is_some()).count();
        s
    }
}

pub(crate) struct Sub {
    key: TaskKey,
    /// Whether the key can be looked up for deduplication (false for random keys).
    indexed: bool,
    name: TaskName,
    version: u32,
    payload: Option<Arc<[u8]>>,
    runner: Option<Runner>,
    error: Option<ExecError>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn apply(self: &Arc<Self>, fx: Fx) {
        fx.wakers.wake_all();
        for id in fx.cancels {
            self.backend.cancel(id);
        }
        for (delay, node, attempt) in fx.timers {
            let weak = Arc::downgrade(self);
            crate::timer::schedule(delay, move || {
                if let Some(s) = weak.upgrade() {
                    s.on_retry_timer(node, attempt);
                }
            });
        }
        if !fx.jobs.is_empty() {
            self.backend.dispatch(fx.jobs);
        }
    }

    fn submit_erased(
        self: &Arc<Self>,
        sub: Sub,
        deps: &[AnyFuture],
        opts: &SubmitOptions,
    ) -> AnyFuture {
        let mut fx = Fx::default();
        let cell = {
            let mut st = self.lock();
            st.submit_one(self, sub, deps, opts, &mut fx)
        };
        self.apply(fx);
        AnyFuture::new(Handle {
            cell,
            shared: self.clone(),
        })
    }

    /// Submits many dependency-free tasks under one lock and one dispatch.
    fn submit_batch(
        self: &Arc<Self>,
        subs: Vec<Sub>,
        opts: &SubmitOptions,
        out: &mut dyn FnMut(AnyFuture),
    ) {
        let mut fx = Fx::default();
        fx.jobs.reserve(subs.len());
        let cells: Vec<Arc<Cell>> = {
            let mut st = self.lock();
            subs.into_iter()
                .map(|sub| st.submit_one(self, sub, &[], opts, &mut fx))
                .collect()
        };
        self.apply(fx);
        for cell in cells {
            out(AnyFuture::new(Handle {
                cell,
                shared: self.clone(),
            }));
        }
    }

    /// A handle was dropped.
    pub(crate) fn release(self: &Arc<Self>, id: u64) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            let Some(n) = st.nodes.get_mut(&id) else {
                return;
            };
            if n.refs > 1 {
                n.refs -= 1;
                return;
            }
            if n.done {
                n.refs = 0;
                st.maybe_remove(id);
                return;
            }
            st.run_ops(vec![Op::Decref(id)], &mut fx);
        }
        self.apply(fx);
    }

    /// Cancels the node (and, through dependency failure, its dependents).
    pub(crate) fn cancel(self: &Arc<Self>, id: u64) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            if let Some(n) = st.nodes.get(&id)
                && !n.done
            {
                let key = n.cell.key.clone();
                st.run_ops(
                    vec![Op::Fail(
                        id,
                        ExecError::Cancelled { key },
                        TaskStatus::Cancelled,
                    )],
                    &mut fx,
                );
            }
        }
        self.apply(fx);
    }

    fn on_started(self: &Arc<Self>, job: JobId) {
        self.lock().started(job, true);
    }

    fn on_completed(self: &Arc<Self>, job: JobId, outcome: JobOutcome, also_started: bool) {
        let mut fx = Fx::default();
        self.lock()
            .job_completed(job, outcome, also_started, &mut fx);
        self.apply(fx);
    }

    /// Many reports under one lock and one round of wake-ups and dispatch.
    fn on_completed_batch(self: &Arc<Self>, reports: Vec<(JobId, JobOutcome)>, also_started: bool) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            for (job, outcome) in reports {
                st.job_completed(job, outcome, also_started, &mut fx);
            }
        }
        self.apply(fx);
    }

    fn on_retry_timer(self: &Arc<Self>, id: u64, attempt: u32) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            let ok = st.nodes.get(&id).is_some_and(|n| {
                !n.done
                    && n.inflight.is_none()
                    && n.spec
                        .as_ref()
                        .is_some_and(|s| s.attempt == attempt && !s.queued)
            });
            if ok {
                st.try_start(id, &mut fx);
            }
        }
        self.apply(fx);
    }
}

fn status_for(err: &ExecError) -> TaskStatus {
    if err.is_cancelled() {
        TaskStatus::Cancelled
    } else {
        TaskStatus::Error
    }
}

fn dependency_failed(key: &TaskKey, dep_key: &TaskKey, dep_err: &ExecError) -> ExecError {
    match dep_err {
        ExecError::DependencyFailed {
            dep_key,
            reason,
            dep_cancelled,
            ..
        } => ExecError::DependencyFailed {
            key: key.clone(),
            dep_key: dep_key.clone(),
            reason: reason.clone(),
            dep_cancelled: *dep_cancelled,
        },
        ExecError::Cancelled { key: k } => ExecError::DependencyFailed {
            key: key.clone(),
            dep_key: k.clone(),
            reason: format!("task {k} was cancelled"),
            dep_cancelled: true,
        },
        other => ExecError::DependencyFailed {
            key: key.clone(),
            dep_key: dep_key.clone(),
            reason: other.to_string(),
            dep_cancelled: false,
        },
    }
}

impl State {
    /// A backend reported job `job` (and, if `also_started`, that it began in the same step).
    fn job_completed(&mut self, job: JobId, outcome: JobOutcome, also_started: bool, fx: &mut Fx) {
        if also_started && !self.subscribers.is_empty() {
            self.started(job, false);
        }
        let id = job.0 >> DISPATCH_BITS;
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        if n.inflight != Some(job) {
            return;
        }
        n.inflight = None;
        let was_done = n.done;
        self.release_resources(id, fx);
        if was_done {
            // Cancelled while running: the job is back, the node may go now.
            self.maybe_remove(id);
        } else {
            self.apply_outcome(id, outcome, fx);
        }
    }

    /// A job began: mark the node running (if `mark`) and emit `Started`.
    fn started(&mut self, job: JobId, mark: bool) {
        let id = job.0 >> DISPATCH_BITS;
        let Some(n) = self.nodes.get(&id) else {
            return;
        };
        if n.inflight != Some(job) || n.done {
            return;
        }
        if mark {
            n.cell.set_status(TaskStatus::Running);
        }
        if self.subscribers.is_empty() {
            return;
        }
        let attempt = n.spec.as_ref().map_or(0, |s| s.attempt);
        let (key, name) = (n.cell.key.clone(), n.cell.name.clone());
        self.emit(|| Event::Started { key, name, attempt });
    }

    /// Registers one submission (or finds the live future with its key); returns its cell.
    /// The caller owns one new reference to it.
    fn submit_one(
        &mut self,
        shared: &Arc<Shared>,
        sub: Sub,
        deps: &[AnyFuture],
        opts: &SubmitOptions,
        fx: &mut Fx,
    ) -> Arc<Cell> {
        if sub.indexed
            && let Some(&id) = self.by_key.get(&sub.key)
            && let Some(node) = self.nodes.get_mut(&id)
            && node.cell.status() != TaskStatus::Cancelled
        {
            node.refs += 1;
            let cell = node.cell.clone();
            self.stats.deduplicated += 1;
            return cell;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.stats.submitted += 1;
        let cell = Arc::new(Cell::new(id, sub.key.clone(), sub.name.clone()));
        let mut failure = sub.error;
        let mut dep_ids = Vec::with_capacity(deps.len());
        let mut waiting_on = 0;
        for d in deps {
            if !Arc::ptr_eq(&d.handle().shared, shared) {
                failure.get_or_insert(ExecError::ForeignFuture {
                    key: sub.key.clone(),
                    dep_key: d.key().clone(),
                });
                continue;
            }
            let dep_id = d.handle().cell.id;
            let Some(dep) = self.nodes.get_mut(&dep_id) else {
                continue;
            };
            dep.refs += 1;
            dep_ids.push(dep_id);
            match dep.cell.status() {
                TaskStatus::Finished => {}
                TaskStatus::Error | TaskStatus::Cancelled => {
                    if failure.is_none() {
                        let err = dep.cell.error().unwrap_or(ExecError::Cancelled {
                            key: dep.cell.key.clone(),
                        });
                        failure = Some(dependency_failed(&sub.key, &dep.cell.key, &err));
                    }
                }
                TaskStatus::Pending | TaskStatus::Running => {
                    waiting_on += 1;
                    dep.dependents.push(id);
                }
            }
        }
        self.nodes.insert(
            id,
            Node {
                cell: cell.clone(),
                refs: 1,
                spec: Some(Spec {
                    version: sub.version,
                    payload: sub.payload,
                    runner: sub.runner,
                    deps: dep_ids,
                    waiting_on,
                    retry: opts.retry.clone(),
                    attempt: 0,
                    dispatches: 0,
                    queued: false,
                }),
                dependents: Vec::new(),
                resources: opts.resources.clone(),
                holding: false,
                inflight: None,
                fire_and_forget: opts.fire_and_forget,
                done: false,
                indexed: sub.indexed,
            },
        );
        if sub.indexed {
            self.by_key.insert(sub.key.clone(), id);
        }
        self.emit(|| Event::Submitted {
            key: sub.key.clone(),
            name: sub.name.clone(),
        });
        if let Some(err) = failure {
            let status = status_for(&err);
            self.run_ops(vec![Op::Fail(id, err, status)], fx);
        } else if waiting_on == 0 {
            self.try_start(id, fx);
        }
        cell
    }

    fn emit(&mut self, ev: impl FnOnce() -> Event) {
        if self.subscribers.is_empty() {
            return;
        }
        let ev = ev();
        self.subscribers
            .retain(|s| s.unbounded_send(ev.clone()).is_ok());
    }

    /// Dispatches node `id` if its resources allow, otherwise queues it on a full resource.
    fn try_start(&mut self, id: u64, fx: &mut Fx) {
        let Some(n) = self.nodes.get(&id) else { return };
        if n.done || n.inflight.is_some() {
            return;
        }
        if !n.resources.is_empty() {
            let full = n.resources.iter().find(|tag| {
                self.resources
                    .get(tag.as_str())
                    .is_some_and(|r| r.limit.is_some_and(|l| r.in_use >= l))
            });
            if let Some(tag) = full.cloned() {
                if let Some(r) = self.resources.get_mut(&tag) {
                    r.queue.push_back(id);
                }
                if let Some(s) = self.nodes.get_mut(&id).and_then(|n| n.spec.as_mut()) {
                    s.queued = true;
                }
                return;
            }
            let tags = n.resources.clone();
            for tag in &tags {
                self.resources.entry(tag.clone()).or_default().in_use += 1;
            }
        }
        // Gather inputs from finished dependencies.
        let deps = match self.nodes.get(&id).and_then(|n| n.spec.as_ref()) {
            Some(s) => s.deps.clone(),
            None => return,
        };
        let mut inputs = Vec::with_capacity(deps.len());
        for d in &deps {
            match self.nodes.get(d).and_then(|n| n.cell.value()) {
                Some(v) => inputs.push(v),
                None => {
                    // Cannot happen (dependencies are finished and referenced); fail clearly.
                    let n = &self.nodes[&id];
                    let err = ExecError::Backend(crate::BackendError {
                        key: Some(n.cell.key.clone()),
                        message: "internal: a dependency's value is missing".into(),
                    });
                    self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
                    return;
                }
            }
        }
        let in_process = self.in_process;
        let n = self.nodes.get_mut(&id).expect("node checked above");
        let spec = n.spec.as_mut().expect("spec checked above");
        let made = if in_process {
            spec.runner
                .as_mut()
                .map(|r| r.make(spec.payload.as_deref()))
                .transpose()
        } else {
            Ok(None)
        };
        let local = match made {
            Ok(local) => local,
            Err(message) => {
                let err = ExecError::Task {
                    key: n.cell.key.clone(),
                    name: n.cell.name.clone(),
                    message,
                    retryable: false,
                    attempts: spec.attempt,
                };
                if !n.resources.is_empty() {
                    self.release_tags(id, fx);
                }
                self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
                return;
            }
        };
        self.stats.dispatched += 1;
        n.holding = !n.resources.is_empty();
        spec.queued = false;
        spec.dispatches += 1;
        let job_id = JobId((id << DISPATCH_BITS) | (spec.dispatches & ((1 << DISPATCH_BITS) - 1)));
        n.inflight = Some(job_id);
        fx.jobs.push(Job {
            id: job_id,
            key: n.cell.key.clone(),
            name: n.cell.name.clone(),
            version: spec.version,
            attempt: spec.attempt,
            payload: spec.payload.clone(),
            inputs,
            local,
        });
    }

    fn release_tags(&mut self, id: u64, fx: &mut Fx) {
        let tags = match self.nodes.get(&id) {
            Some(n) => n.resources.clone(),
            None => return,
        };
        for tag in &tags {
            if let Some(r) = self.resources.get_mut(tag) {
                r.in_use = r.in_use.saturating_sub(1);
            }
        }
        for tag in &tags {
            self.drain_resource(tag, fx);
        }
    }

    fn release_resources(&mut self, id: u64, fx: &mut Fx) {
        let holding = self
            .nodes
            .get_mut(&id)
            .is_some_and(|n| std::mem::take(&mut n.holding));
        if holding {
            self.release_tags(id, fx);
        }
    }

    /// Starts queued nodes of `tag` while it has room.
    fn drain_resource(&mut self, tag: &str, fx: &mut Fx) {
        loop {
            let Some(r) = self.resources.get_mut(tag) else {
                return;
            };
            if r.limit.is_some_and(|l| r.in_use >= l) {
                return;
            }
            let Some(id) = r.queue.pop_front() else {
                return;
            };
            let queued = self
                .nodes
                .get(&id)
                .is_some_and(|n| !n.done && n.spec.as_ref().is_some_and(|s| s.queued));
            if queued {
                if let Some(s) = self.nodes.get_mut(&id).and_then(|n| n.spec.as_mut()) {
                    s.queued = false;
                }
                self.try_start(id, fx);
            }
        }
    }

    fn apply_outcome(&mut self, id: u64, outcome: JobOutcome, fx: &mut Fx) {
        if let JobOutcome::Success(v) = outcome {
            return self.finish(id, v, fx);
        }
        let n = self.nodes.get_mut(&id).expect("caller checked");
        let key = n.cell.key.clone();
        let name = n.cell.name.clone();
        match outcome {
            JobOutcome::Success(v) => self.finish(id, v, fx),
            JobOutcome::Failed(e) => {
                let spec = n.spec.as_mut().expect("unfinished node has a spec");
                if e.is_retryable() && spec.attempt < spec.retry.max_retries {
                    spec.attempt += 1;
                    let attempt = spec.attempt;
                    let delay = spec.retry.delay(attempt);
                    n.cell.set_status(TaskStatus::Pending);
                    self.emit(|| Event::Retried {
                        key,
                        name,
                        attempt,
                        delay,
                        error: e.message().to_string(),
                    });
                    if delay.is_zero() {
                        self.try_start(id, fx);
                    } else {
                        fx.timers.push((delay, id, attempt));
                    }
                } else {
                    let err = ExecError::Task {
                        key,
                        name,
                        message: e.message().to_string(),
                        retryable: e.is_retryable(),
                        attempts: spec.attempt + 1,
                    };
                    self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
                }
            }
            JobOutcome::Panicked(message) => {
                let err = ExecError::Panicked { key, name, message };
                self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
            }
            JobOutcome::BackendError(message) => {
                let err = ExecError::Backend(crate::BackendError {
                    key: Some(key),
                    message,
                });
                self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
            }
            JobOutcome::Cancelled => {
                self.run_ops(
                    vec![Op::Fail(
                        id,
                        ExecError::Cancelled { key },
                        TaskStatus::Cancelled,
                    )],
                    fx,
                );
            }
        }
    }

    fn finish(&mut self, id: u64, value: JobValue, fx: &mut Fx) {
        let n = self.nodes.get_mut(&id).expect("caller checked");
        n.done = true;
        let spec = n.spec.take();
        let dependents = std::mem::take(&mut n.dependents);
        n.cell
            .complete(TaskStatus::Finished, Ok(value), &mut fx.wakers);
        if !self.subscribers.is_empty() {
            let (key, name) = (n.cell.key.clone(), n.cell.name.clone());
            self.emit(|| Event::Finished { key, name });
        }
        for d in dependents {
            let ready = match self.nodes.get_mut(&d).and_then(|n| n.spec.as_mut()) {
                Some(s) => {
                    s.waiting_on = s.waiting_on.saturating_sub(1);
                    s.waiting_on == 0
                }
                None => false,
            };
            if ready {
                self.try_start(d, fx);
            }
        }
        if let Some(spec) = spec
            && !spec.deps.is_empty()
        {
            self.run_ops(spec.deps.into_iter().map(Op::Decref).collect(), fx);
        }
        self.maybe_remove(id);
    }

    fn run_ops(&mut self, mut ops: Vec<Op>, fx: &mut Fx) {
        while let Some(op) = ops.pop() {
            match op {
                Op::Decref(id) => {
                    let Some(n) = self.nodes.get_mut(&id) else {
                        continue;
                    };
                    n.refs = n.refs.saturating_sub(1);
                    if n.refs > 0 {
                        continue;
                    }
                    if !n.done && !n.fire_and_forget {
                        let key = n.cell.key.clone();
                        self.fail_one(
                            id,
                            ExecError::Cancelled { key },
                            TaskStatus::Cancelled,
                            &mut ops,
                            fx,
                        );
                    }
                    self.maybe_remove(id);
                }
                Op::Fail(id, err, status) => {
                    self.fail_one(id, err, status, &mut ops, fx);
                    self.maybe_remove(id);
                }
            }
        }
    }

    /// Marks one node failed, queues its dependents' failures and its dependencies' decrefs.
    fn fail_one(
        &mut self,
        id: u64,
        err: ExecError,
        status: TaskStatus,
        ops: &mut Vec<Op>,
        fx: &mut Fx,
    ) {
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        if n.done {
            return;
        }
        n.done = true;
        if let Some(j) = n.inflight {
            fx.cancels.push(j);
        }
        let spec = n.spec.take();
        let dependents = std::mem::take(&mut n.dependents);
        let key = n.cell.key.clone();
        let name = n.cell.name.clone();
        let message = err.to_string();
        for d in dependents {
            if let Some(dn) = self.nodes.get(&d)
                && !dn.done
            {
                let derr = dependency_failed(&dn.cell.key, &key, &err);
                let dstatus = status_for(&derr);
                ops.push(Op::Fail(d, derr, dstatus));
            }
        }
        let n = self.nodes.get_mut(&id).expect("present");
        n.cell.complete(status, Err(err), &mut fx.wakers);
        if status == TaskStatus::Cancelled {
            self.emit(|| Event::Cancelled { key, name });
        } else {
            self.emit(|| Event::Failed {
                key,
                name,
                error: message,
            });
        }
        if let Some(spec) = spec {
            ops.extend(spec.deps.into_iter().map(Op::Decref));
        }
    }

    fn maybe_remove(&mut self, id: u64) {
        let Some(n) = self.nodes.get(&id) else {
            return;
        };
        if n.refs == 0 && n.inflight.is_none() && n.done {
            let indexed = n.indexed;
            if let Some(n) = self.nodes.remove(&id)
                && indexed
                && self.by_key.get(&n.cell.key) == Some(&id)
            {
                self.by_key.remove(&n.cell.key);
            }
        }
    }
}
