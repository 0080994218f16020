//! [`TokioBackend`]: runs tasks as tokio tasks, for async I/O.

use std::collections::HashMap;
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use tokio::runtime::{Handle, RuntimeFlavor};
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
    /// Dispatched: queued (for the drainer or in a chunk), in its first poll, or being moved to
    /// a task of its own.
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
    /// Jobs dispatched and not yet taken by a drainer task (see [`drain`]).
    queue: Mutex<Queue>,
    /// Whether `queue` has jobs, read without the lock by a lingering drainer (a hint).
    queued: AtomicBool,
    /// The generation of the drainer owning the queue ([`Queue::generation`], for it to see
    /// without the lock whether it still owns it).
    owner: AtomicU64,
    /// When the owning drainer began the first poll it is in (nanoseconds since `epoch`, plus
    /// one), or 0: a dispatch finding it stuck there lets a new drainer take the queue over.
    polling_since: AtomicU64,
    epoch: Instant,
    /// Whether a drainer may linger (a multi-thread runtime: others can dispatch meanwhile).
    linger: bool,
}

/// Dispatched jobs waiting for the drainer task ([`drain`]). `drainer` is set while a drainer
/// owns the queue (from its spawn until it exits or hands the queue over); whenever `jobs` is
/// not empty, it is set.
#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    drainer: bool,
    /// Counts drainers; the owning drainer is the last one spawned.
    generation: u64,
}

impl Inner {
    /// Makes a new drainer the owner of the queue (whose lock `q` is); the caller spawns it
    /// with the generation returned.
    fn new_owner(&self, q: &mut Queue) -> u64 {
        q.drainer = true;
        q.generation += 1;
        self.owner.store(q.generation, Ordering::Relaxed);
        self.polling_since.store(0, Ordering::Relaxed);
        q.generation
    }

    /// Nanoseconds since `epoch`, plus one (never 0).
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    /// Whether the owning drainer has been in one poll for [`FLUSH_AFTER`] or more.
    fn owner_stuck(&self) -> bool {
        let since = self.polling_since.load(Ordering::Relaxed);
        since != 0 && self.now().saturating_sub(since) >= FLUSH_AFTER.as_nanos() as u64
    }
}

impl Inner {
    fn shard(&self, id: JobId) -> MutexGuard<'_, JobMap> {
        self.running[id.node() as usize % SHARDS].lock()
    }
}

/// Runs jobs on a tokio runtime (blocking closures go to `spawn_blocking`). Dispatched jobs
/// are queued for a drainer task, which runs them in chunks (one tokio task per chunk), so
/// that jobs dispatched together, or one by one in quick succession, do not cost a tokio task
/// each: each job is polled once in its chunk and, if not finished then, continues on a tokio
/// task of its own. Cancelling a job still queued skips it; cancelling a running job aborts
/// its tokio task.
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
                sink: OnceLock::new(),
                registry,
                resources,
                running: (0..SHARDS).map(|_| Mutex::default()).collect(),
                queue: Mutex::default(),
                queued: AtomicBool::new(false),
                owner: AtomicU64::new(0),
                polling_since: AtomicU64::new(0),
                epoch: Instant::now(),
                linger: handle.runtime_flavor() == RuntimeFlavor::MultiThread,
                handle,
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
async fn run_chunk(inner: Arc<Inner>, sink: CompletionSink, mut jobs: Vec<Job>) {
    let mut done = Reports::default();
    run_jobs(&inner, &sink, &mut jobs, &mut done, &mut None).await;
    done.flush(&sink);
}

/// Jobs that finished on their first poll, not reported yet: reported together, but at least
/// every [`FLUSH_AFTER`], so a slow job does not hold back the results of quick ones.
#[derive(Default)]
struct Reports {
    list: Vec<(JobId, JobOutcome)>,
    /// When the first of them finished.
    since: Option<Instant>,
}

impl Reports {
    fn push(&mut self, sink: &CompletionSink, id: JobId, out: JobOutcome) {
        self.list.push((id, out));
        let t = *self.since.get_or_insert_with(Instant::now);
        // Reading the clock costs more than a no-op job: look every 8 reports.
        if self.list.len().is_multiple_of(8) && t.elapsed() >= FLUSH_AFTER {
            self.flush(sink);
        }
    }

    /// Whether the first of them finished [`FLUSH_AFTER`] ago or more.
    fn due(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() >= FLUSH_AFTER)
    }

    fn flush(&mut self, sink: &CompletionSink) {
        self.since = None;
        sink.started_and_completed_many(std::mem::take(&mut self.list));
    }

    /// [`flush`](Self::flush); whether the reports dispatched jobs (released dependents).
    fn flush_released(&mut self, sink: &CompletionSink) -> bool {
        DISPATCHED.set(false);
        self.flush(sink);
        DISPATCHED.get()
    }
}

thread_local! {
    /// Set by every dispatch on this thread (read by [`Reports::flush_released`]).
    static DISPATCHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The body of [`run_chunk`]: runs (and empties) `jobs`, adding the quick ones to `done`. A
/// drainer that owns the queue passes its generation and the time it took these jobs in
/// `owner`: once that is [`FLUSH_AFTER`] ago and more jobs are queued, it hands the queue to a
/// new drainer before it polls its next job, and `owner` becomes `None` (as when a dispatch
/// found it stuck in a poll and gave the queue to a new drainer).
async fn run_jobs(
    inner: &Arc<Inner>,
    sink: &CompletionSink,
    jobs: &mut Vec<Job>,
    done: &mut Reports,
    owner: &mut Option<(u64, Instant)>,
) {
    for job in jobs.drain(..) {
        let id = job.id;
        if let Some((generation, taken)) = *owner {
            if inner.owner.load(Ordering::Relaxed) != generation {
                *owner = None;
            } else if inner.queued.load(Ordering::Relaxed) && taken.elapsed() >= FLUSH_AFTER {
                hand_over(inner, sink);
                *owner = None;
            }
        }
        // A job cancelled while queued has no entry any more (its cancel was reported).
        if !inner.shard(id).contains_key(&id) {
            continue;
        }
        if job.is_blocking() {
            let (task_inner, task_sink) = (inner.clone(), sink.clone());
            spawn_tracked(inner, id, run_blocking(task_inner, task_sink, job));
            continue;
        }
        let mut work = Work::new(job, inner.registry.as_ref(), &inner.resources);
        // While the owner polls, a dispatch may find it stuck (see `Inner::owner_stuck`).
        let since = owner.map(|_| {
            let now = inner.now();
            inner.polling_since.store(now, Ordering::Relaxed);
            now
        });
        let polled = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut work).poll(cx))).await;
        if let Some(since) = since {
            let _ = inner.polling_since.compare_exchange(
                since,
                0,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        match polled {
            Poll::Ready(out) => {
                // Whoever removes the entry reports the job (a cancel may have won).
                if inner.shard(id).remove(&id).is_some() {
                    done.push(sink, id, out);
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
                spawn_tracked(inner, id, async move {
                    let out = work.await;
                    if task_inner.shard(id).remove(&id).is_some() {
                        task_sink.completed(id, out);
                    }
                });
            }
        }
    }
}

/// How long a drainer that keeps finding jobs waits (spinning, without yielding) for the next
/// before it exits: more than a `submit` takes, so a loop of `submit` calls keeps one drainer.
const LINGER: Duration = Duration::from_micros(5);

/// Most rounds (takes of the queue) one drainer task runs before it hands the queue over, so
/// that it does not keep its worker from other tasks (e.g. on a current-thread runtime).
const MAX_ROUNDS: u32 = 64;

/// Largest job buffer a drainer keeps for the queue.
const MAX_BUFFER: usize = 1024;

/// The drainer task ([`Queue`]): owns the queue, takes every job queued and runs them in
/// chunks (the first inline, the others on chunk tasks of their own, spreading over the
/// workers), reports them, then takes what was queued meanwhile, until the queue stays empty.
/// Jobs dispatched one at a time in quick succession (a loop of `submit`, or the dependents its
/// reports release) thus share one spawn, and their reports are batched: quick jobs are
/// reported when the queue is empty (while jobs stream in, after waiting up to [`LINGER`] for
/// more) and at least every [`FLUSH_AFTER`].
///
/// A job queued while the drainer runs others waits for them, like a job in a chunk. So that
/// it is not held back long, the drainer hands the queue to a new drainer (on another worker if
/// one is free) before its next poll once it has been running jobs for [`FLUSH_AFTER`], and a
/// dispatch finding it in one poll for that long gives the queue to a new drainer at once.
/// (A job queued just as a long first poll begins still waits for it, unless another dispatch
/// comes.)
async fn drain(inner: Arc<Inner>, sink: CompletionSink, generation: u64) {
    /// Should the drainer panic (e.g. in a waker its reports wake) or be dropped, another takes
    /// the queue, so jobs dispatched later still run.
    struct Release<'a>(&'a Arc<Inner>, &'a CompletionSink, u64);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            let Release(inner, sink, generation) = *self;
            let mut q = inner.queue.lock();
            if q.generation != generation {
                return;
            }
            if q.jobs.is_empty() {
                q.drainer = false;
            } else {
                let generation = inner.new_owner(&mut q);
                drop(q);
                inner
                    .handle
                    .spawn(drain(inner.clone(), sink.clone(), generation));
            }
        }
    }
    let release = Release(&inner, &sink, generation);
    drain_rounds(&inner, &sink, generation).await;
    std::mem::forget(release);
}

/// The body of [`drain`], until it gives up the queue.
async fn drain_rounds(inner: &Arc<Inner>, sink: &CompletionSink, generation: u64) {
    let mut rounds = 0u32;
    // The jobs of a round; its buffer goes back to the queue (no allocation per round).
    let mut jobs: Vec<Job> = Vec::new();
    // Quick jobs' reports, across rounds (sent at least every FLUSH_AFTER).
    let mut done = Reports::default();
    // Whether jobs keep coming while reports are pending (e.g. from a loop of `submit`, which
    // does not wait for them): then, when the queue is empty, first wait a moment for more
    // before reporting, unless the last reports released jobs (dependents, whose runs wait
    // for the reports).
    let mut stream = false;
    let mut released = true;
    loop {
        if done.due() {
            done.flush(sink);
        }
        {
            let mut q = inner.queue.lock();
            if q.generation != generation {
                // A dispatch found this drainer stuck in a poll and gave the queue to another.
                drop(q);
                done.flush(sink);
                return;
            }
            let streaming = rounds >= 2 && inner.linger;
            if !q.jobs.is_empty() && !done.list.is_empty() {
                stream = true;
            }
            if q.jobs.is_empty() && streaming && stream && !released {
                drop(q);
                stream = linger(inner);
                q = inner.queue.lock();
            }
            if q.jobs.is_empty() {
                drop(q);
                released = done.flush_released(sink);
                q = inner.queue.lock();
                // Jobs are coming one by one: wait for the next a moment (spinning, a few
                // microseconds) rather than have the next dispatch spawn a drainer.
                if q.jobs.is_empty() && streaming {
                    drop(q);
                    linger(inner);
                    q = inner.queue.lock();
                }
                if q.generation != generation {
                    drop(q);
                    done.flush(sink);
                    return;
                }
                if q.jobs.is_empty() {
                    q.drainer = false;
                    return;
                }
            }
            inner.queued.store(false, Ordering::Relaxed);
            if jobs.capacity() > MAX_BUFFER {
                jobs = Vec::new();
            }
            std::mem::swap(&mut q.jobs, &mut jobs);
        }
        rounds += 1;
        if jobs.len() > CHUNK {
            let mut rest = jobs.drain(CHUNK..);
            loop {
                let chunk: Vec<Job> = rest.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                inner
                    .handle
                    .spawn(run_chunk(inner.clone(), sink.clone(), chunk));
            }
        }
        let mut owner = Some((generation, Instant::now()));
        run_jobs(inner, sink, &mut jobs, &mut done, &mut owner).await;
        if owner.is_none() {
            done.flush(sink);
            return;
        }
        if rounds == MAX_ROUNDS {
            // Let the runtime run other tasks: a new drainer goes on with the queue.
            done.flush(sink);
            hand_over(inner, sink);
            return;
        }
    }
}

/// Hands the queue to a new drainer task (the caller no longer owns it).
fn hand_over(inner: &Arc<Inner>, sink: &CompletionSink) {
    let generation = inner.new_owner(&mut inner.queue.lock());
    inner
        .handle
        .spawn(drain(inner.clone(), sink.clone(), generation));
}

/// Spins up to [`LINGER`] until a job is queued; whether one was.
fn linger(inner: &Inner) -> bool {
    let start = Instant::now();
    loop {
        if inner.queued.load(Ordering::Relaxed) {
            return true;
        }
        if start.elapsed() >= LINGER {
            return false;
        }
        for _ in 0..64 {
            std::hint::spin_loop();
        }
    }
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
        DISPATCHED.set(true);
        // Entries exist before the jobs are queued, so a chunk always finds its jobs' entries
        // unless they were cancelled.
        for job in &jobs {
            self.inner.shard(job.id).insert(job.id, Slot::Pending);
        }
        // Queue the jobs for the drainer, spawning one unless one owns the queue (it takes
        // these jobs after the ones it is running).
        let spawn = {
            let mut q = self.inner.queue.lock();
            // Into the buffer the drainer left, or the dispatched one if that is larger.
            if q.jobs.is_empty() && q.jobs.capacity() < jobs.len() {
                q.jobs = jobs;
            } else {
                q.jobs.extend(jobs);
            }
            self.inner.queued.store(true, Ordering::Relaxed);
            // A drainer stuck in a long poll would hold these jobs back: take over.
            (!q.drainer || self.inner.owner_stuck()).then(|| self.inner.new_owner(&mut q))
        };
        if let Some(generation) = spawn {
            self.inner
                .handle
                .spawn(drain(self.inner.clone(), sink.clone(), generation));
        }
    }

    fn cancel(&self, id: JobId) {
        let slot = self.inner.shard(id).remove(&id);
        match slot {
            Some(Slot::Running(h)) => h.abort(),
            // Queued (its chunk skips it) or being spawned (aborted on spawn).
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex as StdMutex;
    use std::time::{Duration, Instant};

    use serde::{Deserialize, Serialize};

    use super::TokioBackend;
    use crate::{Client, ExecError, SubmitOptions, Task, TaskContext, TaskError};

    /// Ids of `Mark` tasks that ran.
    static RAN: StdMutex<Option<HashSet<u64>>> = StdMutex::new(None);

    /// Records that it ran and returns its id; with `stall_ms`, first blocks its worker.
    #[derive(Serialize, Deserialize)]
    struct Mark {
        id: u64,
        stall_ms: u64,
    }

    impl Task for Mark {
        type Output = u64;
        const NAME: &'static str = "mark";
        const PURE: bool = false;
        async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
            RAN.lock()
                .unwrap()
                .get_or_insert_with(HashSet::new)
                .insert(self.id);
            std::thread::sleep(Duration::from_millis(self.stall_ms));
            Ok(self.id + ctx.input::<u64>(0).unwrap_or(0))
        }
    }

    fn ran(id: u64) -> bool {
        RAN.lock()
            .unwrap()
            .as_ref()
            .is_some_and(|s| s.contains(&id))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_submitted_one_by_one_share_a_drainer_and_cancelled_ones_are_skipped() {
        let client = Client::new(TokioBackend::new());
        let base = 10_000;
        // Nothing runs before this test yields: all 100 wait in the queue.
        let fs: Vec<_> = (0..100)
            .map(|i| {
                client.submit(Mark {
                    id: base + i,
                    stall_ms: 0,
                })
            })
            .collect();
        for i in [0, 1, 50, 99] {
            fs[i].cancel();
        }
        for (i, f) in fs.into_iter().enumerate() {
            let r = f.await;
            if [0, 1, 50, 99].contains(&i) {
                assert!(matches!(r, Err(ExecError::Cancelled { .. })), "{i}: {r:?}");
                assert!(!ran(base + i as u64), "cancelled job {i} ran");
            } else {
                assert_eq!(r.unwrap(), base + i as u64);
            }
        }
        assert_eq!(client.stats().in_flight, 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_long_chain_runs_on_a_current_thread_runtime() {
        let client = Client::new(TokioBackend::new());
        let mut prev = client.submit(Mark { id: 0, stall_ms: 0 });
        for _ in 0..500 {
            prev = client.submit_after(
                &[prev.erase()],
                Mark { id: 1, stall_ms: 0 },
                SubmitOptions::new(),
            );
        }
        assert_eq!(prev.await.unwrap(), 500);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_is_not_held_back_by_a_drainer_stuck_in_a_long_poll() {
        let client = Client::new(TokioBackend::new());
        let stuck = client.submit(Mark {
            id: 20_000,
            stall_ms: 400,
        });
        while !ran(20_000) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let quick = client.submit(Mark {
            id: 20_001,
            stall_ms: 0,
        });
        assert_eq!(quick.await.unwrap(), 20_001);
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "waited {:?} for the stuck job",
            start.elapsed()
        );
        assert_eq!(stuck.await.unwrap(), 20_000);
    }
}
