//! [`TokioBackend`]: runs tasks as tokio tasks, for async I/O.
//!
//! - `mod.rs`: the backend and the dispatch queue;
//! - `entries.rs`: job entries (sharded, made when a drainer takes the jobs) and cancellation;
//! - `drainer.rs`: the task that takes queued jobs and runs them in chunks;
//! - `chunk.rs`: how a chunk runs jobs and reports them, and blocking jobs.

mod chunk;
mod drainer;
mod entries;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::AbortHandle;

use crate::backend::{Backend, BackendError, CompletionSink, Job, JobId};
use crate::id_hash::SequentialHasher;
use crate::resources::Resources;
use crate::task::TaskRegistry;

use self::drainer::drain;

const SHARDS: usize = 32;

enum Slot {
    /// Taken by a drainer: waiting in its round or a chunk, in its first poll, or being moved
    /// to a task of its own.
    Pending,
    /// Task spawned; abort handle for cancellation.
    Running(AbortHandle),
}

impl Slot {
    /// Aborts the job's task, if it has one (a pending job is skipped where it waits).
    fn abort(self) {
        if let Slot::Running(handle) = self {
            handle.abort();
        }
    }
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
    /// Jobs taken from the queue and not reported, sharded to keep workers from contending;
    /// whoever removes a job's entry reports it (exactly once). See [`entries`].
    running: Vec<Shard>,
    /// Jobs dispatched and not yet taken by a drainer task (see [`drain`]), with their count;
    /// on a cache line of their own, which dispatches write.
    queue: CachePadded<QueueLine>,
    /// The generation of the drainer owning the queue ([`Queue::generation`], for it to see
    /// without the lock whether it still owns it).
    owner: AtomicU64,
    /// When the owning drainer began the round of jobs it is running (nanoseconds since
    /// `epoch`, plus one), or 0: a dispatch finding it there for long lets a new drainer take
    /// the queue over. On a cache line of its own, which the drainer writes.
    polling_since: CachePadded<AtomicU64>,
    epoch: Instant,
    /// Whether a drainer may linger (a multi-thread runtime: others can dispatch meanwhile).
    linger: bool,
}

/// What dispatches write: the queue and, readable without its lock, its length.
#[derive(Default)]
struct QueueLine {
    jobs: Mutex<Queue>,
    /// How many jobs `jobs` holds, read without the lock by a lingering drainer (a hint).
    len: AtomicUsize,
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
    /// Takes of the queue whose jobs' entries are not all made yet ([`entries`]).
    in_transit: usize,
    /// Jobs cancelled while (perhaps) queued, dropped by the next take ([`entries`]).
    cancel_queued: Vec<JobId>,
    /// Jobs cancelled while (perhaps) in transit, removed when the transit ends ([`entries`]).
    cancel_in_transit: Vec<JobId>,
    /// Set by a shutdown during a transit: its jobs are cancelled when it ends.
    shut_down_in_transit: bool,
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

    /// Whether the owning drainer has been in one round of jobs for [`FLUSH_AFTER`] or more.
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
    /// ([`TaskContext::resource`](crate::TaskContext::resource)); call it before handing the
    /// backend to a [`Client`](crate::Client).
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
                queue: CachePadded::default(),
                owner: AtomicU64::new(0),
                polling_since: CachePadded::default(),
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
        chunk::DISPATCHED_HERE.set(true);
        // Queue the jobs for the drainer, spawning one unless one owns the queue (it takes
        // these jobs after the ones it is running).
        let spawn = {
            let mut q = self.inner.queue.jobs.lock();
            // Into the buffer the drainer left, or the dispatched one if that is larger.
            if q.jobs.is_empty() && q.jobs.capacity() < jobs.len() {
                q.jobs = jobs;
            } else {
                q.jobs.extend(jobs);
            }
            self.inner.queue.len.store(q.jobs.len(), Ordering::Relaxed);
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
        self.inner.cancel(id);
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        self.inner.cancel_all();
        Ok(())
    }
}
