//! [`TokioBackend`]: runs tasks as tokio tasks, for async I/O.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::backend::{
    Backend, BackendError, CompletionSink, Job, JobId, JobOutcome, run_job, run_job_inline,
};
use crate::task::TaskRegistry;

const SHARDS: usize = 32;

enum Slot {
    /// Entry made, task being spawned.
    Spawning,
    /// Task spawned; abort handle for cancellation.
    Running(AbortHandle),
}

type Shard = Mutex<HashMap<JobId, Slot, BuildHasherDefault<crate::client::IdHasher>>>;

struct Inner {
    handle: Handle,
    sink: OnceLock<CompletionSink>,
    registry: Option<TaskRegistry>,
    /// Jobs dispatched and not reported, sharded to keep workers from contending; whoever
    /// removes a job's entry reports it (exactly once).
    running: Vec<Shard>,
}

impl Inner {
    fn shard(
        &self,
        id: JobId,
    ) -> MutexGuard<'_, HashMap<JobId, Slot, BuildHasherDefault<crate::client::IdHasher>>> {
        let i = ((id.0 >> 20) ^ id.0) as usize % SHARDS;
        self.running[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs each job as a task on a tokio runtime (blocking closures go to `spawn_blocking`).
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
        Self::build(handle, None)
    }

    /// Receives jobs serialised, as a remote worker would, and runs them through `registry`
    /// on the current runtime (panics outside one).
    pub fn serialized(registry: TaskRegistry) -> Self {
        match Handle::try_current() {
            Ok(h) => Self::build(h, Some(registry)),
            Err(e) => panic!("{}", NoRuntime(e.to_string())),
        }
    }

    fn build(handle: Handle, registry: Option<TaskRegistry>) -> Self {
        let in_process = registry.is_none();
        TokioBackend {
            inner: Arc::new(Inner {
                handle,
                sink: OnceLock::new(),
                registry,
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

async fn run_one(inner: Arc<Inner>, sink: CompletionSink, job: Job) {
    let id = job.id;
    if !job.is_blocking() {
        let mut fut = std::pin::pin!(run_job_inline(job, inner.registry.as_ref()));
        // Most short tasks finish on their first poll: report start and end in one step.
        if let std::task::Poll::Ready(out) = futures::poll!(&mut fut) {
            if inner.shard(id).remove(&id).is_some() {
                sink.started_and_completed(id, out);
            }
            return;
        }
        sink.started(id);
        let out = fut.await;
        if inner.shard(id).remove(&id).is_some() {
            sink.completed(id, out);
        }
        return;
    }
    // A blocking closure: run it where blocking is allowed.
    sink.started(id);
    let out =
        match tokio::task::spawn_blocking(move || futures::executor::block_on(run_job(job, None)))
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
        for job in jobs {
            let id = job.id;
            // The entry exists before the task can end, so the task always finds it.
            self.inner.shard(id).insert(id, Slot::Spawning);
            let h = self
                .inner
                .handle
                .spawn(run_one(self.inner.clone(), sink.clone(), job));
            let mut shard = self.inner.shard(id);
            match shard.get_mut(&id) {
                Some(slot) => *slot = Slot::Running(h.abort_handle()),
                // Already finished (abort is a no-op) or cancelled while spawning.
                None => h.abort(),
            }
        }
    }

    fn cancel(&self, id: JobId) {
        let slot = self.inner.shard(id).remove(&id);
        match slot {
            Some(Slot::Running(h)) => h.abort(),
            Some(Slot::Spawning) => {} // the dispatcher aborts it when it sees no entry
            None => return,
        }
        if let Some(s) = self.inner.sink.get() {
            s.completed(id, JobOutcome::Cancelled);
        }
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        let mut all = Vec::new();
        for shard in &self.inner.running {
            all.extend(shard.lock().unwrap_or_else(|e| e.into_inner()).drain());
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
