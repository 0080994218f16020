//! [`TokioBackend`]: runs tasks as tokio tasks, for async I/O.

use std::collections::HashMap;
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::backend::{
    Backend, BackendError, CompletionSink, Job, JobId, JobOutcome, JobWork, LocalRunner,
    RunnerFuture, panic_message, run_job_with,
};
use crate::id_hash::SequentialHasher;
use crate::resources::Resources;
use crate::task::{TaskContext, TaskRegistry};

const SHARDS: usize = 32;

enum Slot {
    /// Dispatched: queued in a chunk, in its first poll, or being moved to a task of its own.
    Pending,
    /// Task spawned; abort handle for cancellation.
    Running(AbortHandle),
}

/// A shard's job map. A shard holds every `SHARDS`th node (see [`Inner::shard`]), so a job id
/// shifted right by the dispatch bits and the shard bits counts up within a shard.
type JobMap = HashMap<
    JobId,
    Slot,
    BuildHasherDefault<SequentialHasher<{ JobId::DISPATCH_BITS + SHARDS.trailing_zeros() }>>,
>;

type Shard = Mutex<JobMap>;

struct Inner {
    handle: Handle,
    sink: OnceLock<CompletionSink>,
    registry: Option<TaskRegistry>,
    resources: Resources,
    /// Jobs dispatched and not reported, sharded to keep workers from contending; whoever
    /// removes a job's entry reports it (exactly once).
    running: Vec<Shard>,
}

impl Inner {
    fn shard(&self, id: JobId) -> MutexGuard<'_, JobMap> {
        self.running[id.node() as usize % SHARDS].lock()
    }
}

/// Runs jobs on a tokio runtime (blocking closures go to `spawn_blocking`). Jobs dispatched
/// together run in chunks, one tokio task per chunk: each job is polled once in its chunk and,
/// if not finished then, continues on a tokio task of its own. Cancelling a job still queued
/// in its chunk skips it; cancelling a running job aborts its tokio task.
/// Cancelling a running job aborts its tokio task.
#[derive(Clone)]
pub struct TokioBackend {
    inner: Arc<Inner>,
    in_process: bool,
}

impl std::fmt::Debug for TokioBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokioBackend")
    }
}

/// Error returned by [`TokioBackend::try_new`] outside a runtime.
#[derive(Debug, thiserror::Error)]
#[error(
    "TokioBackend::new must be called inside a tokio runtime (or use TokioBackend::with_handle): {0}"
)]
pub struct NoRuntime(String);

impl TokioBackend {
    /// Uses the current runtime. Panics outside a tokio runtime; see
    /// [`try_new`](TokioBackend::try_new).
    pub fn new() -> Self {
        match Self::try_new() {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// Uses the current runtime, or fails outside one.
    pub fn try_new() -> Result<Self, NoRuntime> {
        Handle::try_current()
            .map(Self::with_handle)
            .map_err(|e| NoRuntime(e.to_string()))
    }

    /// Uses the runtime behind `handle`.
    pub fn with_handle(handle: Handle) -> Self {
        Self::build(handle, None, Resources::new())
    }

    /// The same backend whose tasks read `resources` from their context
    /// ([`TaskContext::resource`]); call it before handing the backend to a
    /// [`Client`](crate::Client).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use sofleet_executor::{Resources, TokioBackend};
    /// let backend = TokioBackend::new().with_resources(Resources::new().with(42u32));
    /// # drop(backend);
    /// # }
    /// ```
    pub fn with_resources(self, resources: Resources) -> Self {
        Self::build(
            self.inner.handle.clone(),
            self.inner.registry.clone(),
            resources,
        )
    }

    /// Receives jobs serialised, as a remote worker would, and runs them through `registry`
    /// on the current runtime (panics outside one).
    pub fn serialized(registry: TaskRegistry) -> Self {
        match Handle::try_current() {
            Ok(h) => Self::build(h, Some(registry), Resources::new()),
            Err(e) => panic!("{}", NoRuntime(e.to_string())),
        }
    }

    fn build(handle: Handle, registry: Option<TaskRegistry>, resources: Resources) -> Self {
        let in_process = registry.is_none();
        TokioBackend {
            inner: Arc::new(Inner {
                handle,
                sink: OnceLock::new(),
                registry,
                resources,
                running: (0..SHARDS).map(|_| Mutex::default()).collect(),
            }),
            in_process,
        }
    }
}

impl Default for TokioBackend {
    fn default() -> Self {
        Self::new()
    }
}

/// Most jobs per chunk task (see [`Backend::dispatch`] below).
const CHUNK: usize = 32;

/// A chunk reports the jobs it finished at least this often, so a slow job in a chunk does not
/// hold back the results of the quick ones before it.
const FLUSH_AFTER: Duration = Duration::from_micros(200);

/// A job's future, movable between tasks (both forms are boxed, hence `Unpin`).
enum Work {
    /// An in-process task's own future; panics are caught at every poll.
    Local(RunnerFuture),
    /// A job run by [`run_job_with`] (registry/serialised jobs); it catches panics itself.
    Boxed(BoxFuture<'static, JobOutcome>),
}

impl Work {
    fn new(job: Job, registry: Option<&TaskRegistry>, resources: &Resources) -> Work {
        match job.work {
            JobWork::Local(LocalRunner::Async(f)) => {
                Work::Local(f(TaskContext::new(job.key, job.attempt, job.inputs)
                    .with_resources(resources.clone())))
            }
            _ => Work::Boxed(run_job_with(job, registry, resources)),
        }
    }
}

impl Future for Work {
    type Output = JobOutcome;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<JobOutcome> {
        match &mut *self {
            Work::Local(f) => {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.as_mut().poll(cx)))
                {
                    Ok(Poll::Ready(Ok(v))) => Poll::Ready(JobOutcome::Success(v)),
                    Ok(Poll::Ready(Err(e))) => Poll::Ready(JobOutcome::Failed(e)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(p) => Poll::Ready(JobOutcome::Panicked(panic_message(&*p))),
                }
            }
            Work::Boxed(f) => f.as_mut().poll(cx),
        }
    }
}

/// Spawns `fut` for job `id` (whose entry must exist) and records its abort handle.
fn spawn_tracked(inner: &Arc<Inner>, id: JobId, fut: impl Future<Output = ()> + Send + 'static) {
    let h = inner.handle.spawn(fut);
    let mut shard = inner.shard(id);
    match shard.get_mut(&id) {
        Some(slot) => *slot = Slot::Running(h.abort_handle()),
        // Already finished (abort is a no-op) or cancelled while spawning.
        None => h.abort(),
    }
}

/// Runs a chunk of jobs on one tokio task: each job is polled once inline, and reported with
/// the chunk's other quick jobs in one batch if it finished; a job that is not finished after
/// its first poll moves to a tokio task of its own (abortable), as does a blocking closure.
async fn run_chunk(inner: Arc<Inner>, sink: CompletionSink, jobs: Vec<Job>) {
    let mut done: Vec<(JobId, JobOutcome)> = Vec::with_capacity(jobs.len());
    let mut first_done: Option<Instant> = None;
    for job in jobs {
        let id = job.id;
        // A job cancelled while queued has no entry any more (its cancel was reported).
        if !inner.shard(id).contains_key(&id) {
            continue;
        }
        if job.is_blocking() {
            let (task_inner, task_sink) = (inner.clone(), sink.clone());
            spawn_tracked(&inner, id, run_blocking(task_inner, task_sink, job));
            continue;
        }
        let mut work = Work::new(job, inner.registry.as_ref(), &inner.resources);
        match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut work).poll(cx))).await {
            Poll::Ready(out) => {
                // Whoever removes the entry reports the job (a cancel may have won).
                if inner.shard(id).remove(&id).is_none() {
                    continue;
                }
                done.push((id, out));
                let t = *first_done.get_or_insert_with(Instant::now);
                // Reading the clock costs more than a no-op job: look every 8 reports.
                if done.len().is_multiple_of(8) && t.elapsed() >= FLUSH_AFTER {
                    sink.started_and_completed_many(std::mem::take(&mut done));
                    first_done = None;
                }
            }
            Poll::Pending => {
                // Cancelled during its first poll: the cancel was reported; drop the job.
                if !inner.shard(id).contains_key(&id) {
                    continue;
                }
                sink.started(id);
                let (task_inner, task_sink) = (inner.clone(), sink.clone());
                // A cancel from now on removes the entry: `spawn_tracked` then aborts the task,
                // or, once it recorded the abort handle, the cancel aborts it.
                spawn_tracked(&inner, id, async move {
                    let out = work.await;
                    if task_inner.shard(id).remove(&id).is_some() {
                        task_sink.completed(id, out);
                    }
                });
            }
        }
    }
    sink.started_and_completed_many(done);
}

/// Runs a blocking closure job where blocking is allowed.
async fn run_blocking(inner: Arc<Inner>, sink: CompletionSink, job: Job) {
    let id = job.id;
    sink.started(id);
    let resources = inner.resources.clone();
    let out = match tokio::task::spawn_blocking(move || {
        futures::executor::block_on(run_job_with(job, None, &resources))
    })
    .await
    {
        Ok(o) => o,
        Err(e) => JobOutcome::Panicked(e.to_string()),
    };
    if inner.shard(id).remove(&id).is_some() {
        sink.completed(id, out);
    }
}

#[async_trait::async_trait]
impl Backend for TokioBackend {
    fn name(&self) -> &str {
        "tokio"
    }

    fn runs_in_process(&self) -> bool {
        self.in_process
    }

    fn attach(&self, sink: CompletionSink) {
        let _ = self.inner.sink.set(sink);
    }

    fn dispatch(&self, jobs: Vec<Job>) {
        let Some(sink) = self.inner.sink.get() else {
            return;
        };
        // Entries exist before any chunk can run, so a chunk always finds its jobs' entries
        // unless they were cancelled.
        for job in &jobs {
            self.inner.shard(job.id).insert(job.id, Slot::Pending);
        }
        // One tokio task per chunk of jobs rather than one per job; chunks spread the work
        // over the runtime's workers.
        if jobs.len() <= CHUNK {
            self.inner
                .handle
                .spawn(run_chunk(self.inner.clone(), sink.clone(), jobs));
            return;
        }
        let mut iter = jobs.into_iter();
        loop {
            let chunk: Vec<Job> = iter.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            self.inner
                .handle
                .spawn(run_chunk(self.inner.clone(), sink.clone(), chunk));
        }
    }

    fn cancel(&self, id: JobId) {
        let slot = self.inner.shard(id).remove(&id);
        match slot {
            Some(Slot::Running(h)) => h.abort(),
            // Queued in a chunk (which skips it) or being spawned (aborted on spawn).
            Some(Slot::Pending) => {}
            None => return,
        }
        if let Some(s) = self.inner.sink.get() {
            s.completed(id, JobOutcome::Cancelled);
        }
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        let mut all = Vec::new();
        for shard in &self.inner.running {
            all.extend(shard.lock().drain());
        }
        for (id, slot) in all {
            if let Slot::Running(h) = slot {
                h.abort();
            }
            if let Some(s) = self.inner.sink.get() {
                s.completed(id, JobOutcome::Cancelled);
            }
        }
        Ok(())
    }
}
