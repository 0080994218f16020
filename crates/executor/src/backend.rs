// BACKEND-API-STABLE
//! The [`Backend`] trait and the type-erased job envelope it executes.
//!
//! The [`Client`](crate::Client) owns all scheduling: keys and deduplication, dependencies,
//! retries and backoff, resource limits, cancellation, reference counting and events. A backend
//! only **executes ready jobs** and reports back through a [`CompletionSink`]:
//!
//! 1. [`Backend::attach`] is called once, by [`Client::new`](crate::Client::new), with the sink.
//! 2. [`Backend::dispatch`] hands over a batch of [`Job`]s whose dependencies are all finished.
//!    It must not block: enqueue (or spawn) and return. A remote backend may buffer and pipeline
//!    the jobs however it likes.
//! 3. For every job the backend calls [`CompletionSink::started`] when the job begins running
//!    (optional, but it drives [`TaskStatus::Running`](crate::TaskStatus) and `Started` events)
//!    and **exactly once** [`CompletionSink::completed`] with a [`JobOutcome`]; reports for a job
//!    the client no longer waits for are ignored, so reporting twice is harmless.
//! 4. [`Backend::cancel`] asks, best effort, that a dispatched job be abandoned; the backend
//!    still reports it (usually [`JobOutcome::Cancelled`]).
//!
//! # Wire format
//!
//! What a job runs is its [`JobWork`], one of two shapes. A backend that returns `false` from
//! [`Backend::runs_in_process`] always gets [`JobWork::Serialized`]: the **serde_json** encoding
//! of the task struct; inputs and outputs are serde_json too ([`JobValue::Bytes`]). The client
//! fails closure tasks ([`Client::submit_fn`](crate::Client::submit_fn)) itself on such a
//! backend, so it never sees one. In-process backends get [`JobWork::Local`]: a [`LocalRunner`]
//! holding the typed task or closure, and values travel as [`JobValue::Local`] (no
//! serialisation). A worker runs a serialised job with [`TaskRegistry::run_serialized`] or
//! simply [`run_job`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use std::time::Instant;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::key::{TaskKey, TaskName};
use crate::resources::Resources;
use crate::task::{ErasedValue, TaskContext, TaskError, TaskRegistry};

/// Identifies one dispatch of one job (a retry is a new dispatch with a new id). Opaque to
/// backends: report results with the id the job came with (a remote backend may send the
/// number over the wire and rebuild the id from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub u64);

impl JobId {
    /// Bits that count the dispatches of one node; the bits above are the node's id. The only
    /// place that knows the layout (the scheduler makes ids, the tokio backend shards by node).
    pub(crate) const DISPATCH_BITS: u32 = 20;

    /// The id of dispatch number `dispatch` (counted from 1, wrapping) of node `node`.
    pub(crate) fn for_dispatch(node: u64, dispatch: u64) -> JobId {
        JobId((node << Self::DISPATCH_BITS) | (dispatch & ((1 << Self::DISPATCH_BITS) - 1)))
    }

    /// The scheduler's node this job is a dispatch of.
    pub(crate) fn node(self) -> u64 {
        self.0 >> Self::DISPATCH_BITS
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job#{}", self.0)
    }
}

/// A task output or dependency input: either an in-process value (no serialisation) or
/// serde_json bytes (from or for another process). Cheap to clone.
#[derive(Clone)]
pub enum JobValue {
    /// A value living in this process.
    Local(Arc<dyn ErasedValue>),
    /// serde_json bytes.
    Bytes(Arc<[u8]>),
}

impl fmt::Debug for JobValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobValue::Local(v) => write!(f, "JobValue::Local({})", v.type_name()),
            JobValue::Bytes(b) => write!(f, "JobValue::Bytes({} bytes)", b.len()),
        }
    }
}

impl JobValue {
    /// Wraps a serialisable value for in-process hand-over.
    pub fn local<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        JobValue::Local(Arc::new(crate::task::SerValue(value)))
    }

    /// Wraps a local-only value (cannot be serialised, e.g. a closure's output).
    pub fn local_only<T: Send + Sync + 'static>(value: T) -> Self {
        JobValue::Local(Arc::new(crate::task::LocalValue(value)))
    }

    /// serde_json bytes of the value (serialising a local value if needed).
    pub fn to_bytes(&self) -> Result<Arc<[u8]>, String> {
        match self {
            JobValue::Local(v) => v.to_json().map(Arc::from),
            JobValue::Bytes(b) => Ok(b.clone()),
        }
    }

    /// Reads the value as a `U`: downcast and clone for a local value, deserialise for bytes.
    pub fn get<U: DeserializeOwned + Clone + 'static>(&self) -> Result<U, String> {
        match self {
            JobValue::Local(v) => downcast(&**v),
            JobValue::Bytes(b) => serde_json::from_slice(b).map_err(|e| {
                format!(
                    "cannot deserialise value as {}: {e}",
                    std::any::type_name::<U>()
                )
            }),
        }
    }

    /// Reads a local value as a `U` by downcast only (local-only values have no bytes form).
    pub fn get_local<U: Clone + 'static>(&self) -> Result<U, String> {
        match self {
            JobValue::Local(v) => downcast(&**v),
            JobValue::Bytes(_) => Err(format!(
                "value arrived serialised but {} is a local-only type",
                std::any::type_name::<U>()
            )),
        }
    }
}

/// A clone of an in-process value as a `U`, or an error naming both types.
fn downcast<U: Clone + 'static>(value: &dyn ErasedValue) -> Result<U, String> {
    value.as_any().downcast_ref::<U>().cloned().ok_or_else(|| {
        format!(
            "value has type {}, expected {}",
            value.type_name(),
            std::any::type_name::<U>()
        )
    })
}

/// Async runner future type of a [`LocalRunner::Async`].
pub type RunnerFuture = BoxFuture<'static, Result<JobValue, TaskError>>;

/// In-process code for a job, skipping serialisation. Only present when the backend
/// [`runs_in_process`](Backend::runs_in_process).
pub enum LocalRunner {
    /// An async task ([`Task::run`](crate::Task::run)).
    Async(Box<dyn FnOnce(TaskContext) -> RunnerFuture + Send>),
    /// A blocking closure ([`Client::submit_fn`](crate::Client::submit_fn)); async backends
    /// should run it on a blocking thread.
    Blocking(Box<dyn FnOnce(TaskContext) -> Result<JobValue, TaskError> + Send>),
}

impl fmt::Debug for LocalRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalRunner::Async(_) => f.write_str("LocalRunner::Async"),
            LocalRunner::Blocking(_) => f.write_str("LocalRunner::Blocking"),
        }
    }
}

/// The envelope of one ready job handed to a [`Backend`].
#[derive(Debug)]
pub struct Job {
    /// Dispatch id; report results with it.
    pub id: JobId,
    /// Task key.
    pub key: TaskKey,
    /// Task type name (registry lookup).
    pub name: TaskName,
    /// Task type version (registry lookup).
    pub version: u32,
    /// Attempt number (0 first, 1 first retry, ...).
    pub attempt: u32,
    /// Outputs of the job's dependencies, in the order given to `submit_after`.
    pub inputs: Vec<JobValue>,
    /// What to run.
    pub work: JobWork,
}

/// What a [`Job`] runs: one of its two legal shapes (see the [module docs](self)).
#[derive(Debug)]
pub enum JobWork {
    /// For a backend that [runs in process](Backend::runs_in_process): the typed task (or a
    /// closure) itself, run without serialisation.
    Local(LocalRunner),
    /// For a backend that runs jobs elsewhere: serde_json of the task struct, run by the
    /// worker's [`TaskRegistry`] under the job's name and version.
    Serialized(Arc<[u8]>),
}

impl Job {
    /// Whether the job is a blocking closure (run it where blocking is allowed).
    pub fn is_blocking(&self) -> bool {
        matches!(self.work, JobWork::Local(LocalRunner::Blocking(_)))
    }

    /// The serialised task, for a backend that sends jobs to another process (`None` for an
    /// in-process job).
    pub fn payload(&self) -> Option<&Arc<[u8]>> {
        match &self.work {
            JobWork::Serialized(bytes) => Some(bytes),
            JobWork::Local(_) => None,
        }
    }

    /// Dependency inputs converted to serde_json bytes, for sending to another process.
    pub fn inputs_as_bytes(&self) -> Result<Vec<Arc<[u8]>>, String> {
        self.inputs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.to_bytes()
                    .map_err(|e| format!("input {i} of task {}: {e}", self.key))
            })
            .collect()
    }
}

/// How one job ended.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// The task returned a value.
    Success(JobValue),
    /// The task returned an error (the client retries it if retryable and allowed).
    Failed(TaskError),
    /// The task panicked; the message is the panic payload.
    Panicked(String),
    /// The backend could not run the job (unknown task type, worker lost too often, ...).
    BackendError(String),
    /// The job was abandoned after [`Backend::cancel`].
    Cancelled,
}

/// Receives job reports from a backend. Implemented by the client's scheduler.
pub trait JobListener: Send + Sync + 'static {
    /// A job began running.
    fn started(&self, id: JobId);
    /// A job ended.
    fn completed(&self, id: JobId, outcome: JobOutcome);
    /// A job began and ended at once (e.g. it finished on its first poll): same as
    /// [`started`](JobListener::started) then [`completed`](JobListener::completed), in one step.
    fn started_and_completed(&self, id: JobId, outcome: JobOutcome) {
        self.started(id);
        self.completed(id, outcome);
    }
    /// Whether the listener records when job `id` starts (a [`Monitor`](crate::Monitor) is
    /// attached and samples this job): a backend that reports start and end in one step then
    /// reads the clock before running the job and after it, and reports with
    /// [`completed_with_times`](JobListener::completed_with_times). Checked once per job: keep
    /// it cheap.
    fn wants_start_time(&self, id: JobId) -> bool {
        let _ = id;
        false
    }
    /// A job ran from `started` to `ended` (one step, like
    /// [`started_and_completed`](JobListener::started_and_completed)).
    fn completed_with_times(
        &self,
        id: JobId,
        started: Instant,
        ended: Instant,
        outcome: JobOutcome,
    ) {
        let _ = (started, ended);
        self.started_and_completed(id, outcome);
    }
    /// Many jobs ended: the same as calling [`completed`](JobListener::completed) (or, if
    /// `also_started`, [`started_and_completed`](JobListener::started_and_completed)) for each
    /// report in order, but a listener may process the batch in one step.
    fn completed_batch(&self, reports: Vec<(JobId, JobOutcome)>, also_started: bool) {
        for (id, outcome) in reports {
            if also_started {
                self.started_and_completed(id, outcome);
            } else {
                self.completed(id, outcome);
            }
        }
    }
}

/// The handle a backend reports through. Cheap to clone, usable from any thread; it does not
/// keep the client alive (reports after the client is gone are dropped).
#[derive(Clone)]
pub struct CompletionSink {
    inner: Arc<dyn JobListener>,
}

impl fmt::Debug for CompletionSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CompletionSink")
    }
}

impl CompletionSink {
    /// Wraps a listener.
    pub fn new(listener: Arc<dyn JobListener>) -> Self {
        CompletionSink { inner: listener }
    }

    /// Reports that job `id` began running.
    pub fn started(&self, id: JobId) {
        self.inner.started(id)
    }

    /// Reports how job `id` ended.
    pub fn completed(&self, id: JobId, outcome: JobOutcome) {
        self.inner.completed(id, outcome)
    }

    /// Reports that job `id` began and ended at once (cheaper than `started` + `completed`).
    pub fn started_and_completed(&self, id: JobId, outcome: JobOutcome) {
        self.inner.started_and_completed(id, outcome)
    }

    /// Whether the client records when job `id` starts (see
    /// [`JobListener::wants_start_time`]).
    pub fn wants_start_time(&self, id: JobId) -> bool {
        self.inner.wants_start_time(id)
    }

    /// Reports that job `id` ran from `started` to `ended` (see
    /// [`JobListener::completed_with_times`]).
    pub fn completed_with_times(
        &self,
        id: JobId,
        started: Instant,
        ended: Instant,
        outcome: JobOutcome,
    ) {
        self.inner.completed_with_times(id, started, ended, outcome)
    }

    /// Reports many ended jobs (e.g. a pipelined batch from a remote backend).
    pub fn completed_many(&self, outcomes: impl IntoIterator<Item = (JobId, JobOutcome)>) {
        let reports: Vec<_> = outcomes.into_iter().collect();
        if !reports.is_empty() {
            self.inner.completed_batch(reports, false);
        }
    }

    /// Reports many jobs that each began and ended at once (see
    /// [`started_and_completed`](CompletionSink::started_and_completed)), in one step.
    pub fn started_and_completed_many(&self, reports: Vec<(JobId, JobOutcome)>) {
        if !reports.is_empty() {
            self.inner.completed_batch(reports, true);
        }
    }
}

/// An error of a backend as a whole (not of one job).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("backend error{}: {message}", key.as_ref().map(|k| format!(" on task {k}")).unwrap_or_default())]
pub struct BackendError {
    /// The task concerned, if any.
    pub key: Option<TaskKey>,
    /// What went wrong.
    pub message: String,
}

impl BackendError {
    /// A backend error not tied to one task.
    pub fn new(message: impl Into<String>) -> Self {
        BackendError {
            key: None,
            message: message.into(),
        }
    }
}

/// Executes ready jobs for a [`Client`](crate::Client). Object-safe; see the
/// [module docs](crate::backend) for the protocol.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Short name for logs ("threads", "tokio", "redis").
    fn name(&self) -> &str;

    /// Whether jobs run in this process. If `true` the client attaches [`LocalRunner`]s and
    /// passes values as [`JobValue::Local`]; if `false` it always provides payload bytes.
    fn runs_in_process(&self) -> bool {
        true
    }

    /// Called once by [`Client::new`](crate::Client::new) before any dispatch.
    fn attach(&self, sink: CompletionSink);

    /// Hands over ready jobs. Must not block; must eventually report every job to the sink.
    fn dispatch(&self, jobs: Vec<Job>);

    /// Best-effort request to abandon a dispatched job.
    fn cancel(&self, id: JobId) {
        let _ = id;
    }

    /// Checks the backend can run jobs (e.g. a remote connection is up).
    async fn ready(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Stops accepting work and releases resources; jobs already dispatched may be dropped.
    async fn shutdown(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Extracts a readable message from a panic payload.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "task panicked with a non-string payload".to_string()
    }
}

/// Runs a job in the current thread/runtime and turns every ending (value, error, panic,
/// missing registry) into a [`JobOutcome`]. Runs a [`JobWork::Local`] runner directly and a
/// [`JobWork::Serialized`] task through the `registry`. A [`LocalRunner::Blocking`] job runs inline, so call
/// this where blocking is allowed for such jobs (see [`Job::is_blocking`]).
pub fn run_job(job: Job, registry: Option<&TaskRegistry>) -> BoxFuture<'static, JobOutcome> {
    run_job_with(job, registry, &Resources::new())
}

/// [`run_job`] with the worker's [`Resources`] in the task's context.
pub fn run_job_with(
    job: Job,
    registry: Option<&TaskRegistry>,
    resources: &Resources,
) -> BoxFuture<'static, JobOutcome> {
    let Job {
        key,
        name,
        version,
        attempt,
        inputs,
        work,
        ..
    } = job;
    let ctx = TaskContext::new(key.clone(), attempt, inputs).with_resources(resources.clone());
    match work {
        JobWork::Local(LocalRunner::Async(f)) => {
            std::panic::AssertUnwindSafe(async move { f(ctx).await })
                .catch_unwind()
                .map(|r| match r {
                    Ok(Ok(v)) => JobOutcome::Success(v),
                    Ok(Err(e)) => JobOutcome::Failed(e),
                    Err(p) => JobOutcome::Panicked(panic_message(&*p)),
                })
                .boxed()
        }
        JobWork::Local(LocalRunner::Blocking(f)) => {
            let out = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(ctx))) {
                Ok(Ok(v)) => JobOutcome::Success(v),
                Ok(Err(e)) => JobOutcome::Failed(e),
                Err(p) => JobOutcome::Panicked(panic_message(&*p)),
            };
            futures::future::ready(out).boxed()
        }
        JobWork::Serialized(payload) => match registry {
            Some(reg) => reg.run_serialized(&name, version, ctx, &payload),
            None => futures::future::ready(JobOutcome::BackendError(format!(
                "task {key} ({name} v{version}) arrived without an in-process runner and this backend has no TaskRegistry"
            )))
            .boxed(),
        },
    }
}

/// [`run_job`] without boxing the returned future (for this crate's backends).
pub(crate) async fn run_job_inline(
    job: Job,
    registry: Option<&TaskRegistry>,
    resources: &Resources,
) -> JobOutcome {
    match job.work {
        JobWork::Local(LocalRunner::Async(f)) => {
            let ctx = TaskContext::new(job.key, job.attempt, job.inputs)
                .with_resources(resources.clone());
            match std::panic::AssertUnwindSafe(f(ctx)).catch_unwind().await {
                Ok(Ok(v)) => JobOutcome::Success(v),
                Ok(Err(e)) => JobOutcome::Failed(e),
                Err(p) => JobOutcome::Panicked(panic_message(&*p)),
            }
        }
        _ => run_job_with(job, registry, resources).await,
    }
}

/// A shared backend is a backend: keep an `Arc` to ask it backend-specific things (e.g. a
/// remote backend's live workers) while a [`Client`](crate::Client) uses it.
///
/// ```
/// use std::sync::Arc;
/// use sofleet_executor::{Backend, Client, ThreadsBackend};
///
/// let backend = Arc::new(ThreadsBackend::new(1));
/// let client = Client::new(backend.clone());
/// assert_eq!(backend.name(), "threads");
/// # drop(client);
/// ```
#[async_trait]
impl<B: Backend> Backend for Arc<B> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn runs_in_process(&self) -> bool {
        (**self).runs_in_process()
    }
    fn attach(&self, sink: CompletionSink) {
        (**self).attach(sink)
    }
    fn dispatch(&self, jobs: Vec<Job>) {
        (**self).dispatch(jobs)
    }
    fn cancel(&self, id: JobId) {
        (**self).cancel(id)
    }
    async fn ready(&self) -> Result<(), BackendError> {
        (**self).ready().await
    }
    async fn shutdown(&self) -> Result<(), BackendError> {
        (**self).shutdown().await
    }
}
