//! Typed, named, serialisable tasks: [`Task`], [`TaskError`], [`TaskContext`] and the
//! [`TaskRegistry`] that remote workers use to run a task from its serialised envelope.
//!
//! # Serialisation format
//!
//! Task payloads (the task struct), dependency inputs and outputs cross process boundaries as
//! **serde_json** bytes. The payload bytes are also what a pure task's key is hashed from, so
//! two tasks with equal fields get the same key. Struct fields serialise in declaration order;
//! keep map-typed fields in a `BTreeMap` (not a `HashMap`) if you rely on deduplication.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::backend::{JobOutcome, JobValue, panic_message};
use crate::key::TaskKey;
use crate::resources::Resources;

/// A unit of work that can be submitted to a [`Client`](crate::Client).
///
/// A task is a plain serde-serialisable struct holding its arguments; `NAME` and `VERSION`
/// identify its code, so a remote worker that registered the type in a [`TaskRegistry`] can
/// run it from bytes. Its key (see [`TaskKey`]) is a hash of `NAME`, `VERSION`, the
/// serialised struct and the keys of its dependencies.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sofleet_executor::{Task, TaskContext, TaskError};
///
/// #[derive(Serialize, Deserialize)]
/// struct Inc { x: u64 }
///
/// impl Task for Inc {
///     type Output = u64;
///     const NAME: &'static str = "inc";
///     async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
///         Ok(self.x + 1)
///     }
/// }
/// ```
pub trait Task: Serialize + DeserializeOwned + Send + 'static {
    /// What the task produces. Cloned to every handle that reads it; serialised with
    /// serde_json when it crosses a process boundary.
    type Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;
    /// Stable name of the task type; part of the key and of the registry lookup.
    const NAME: &'static str;
    /// Code version; bump it when the output for the same arguments changes, so keys change.
    const VERSION: u32 = 1;
    /// Per-type purity default: pure tasks get a content key (identical submissions share one
    /// future and run once), impure tasks get a fresh key every time.
    const PURE: bool = true;
    /// Runs the task. Return [`TaskError::retryable`] for transient failures that a
    /// [`RetryPolicy`](crate::RetryPolicy) may retry, [`TaskError::fatal`] otherwise.
    fn run(self, ctx: TaskContext) -> impl Future<Output = Result<Self::Output, TaskError>> + Send;
}

/// The error a task returns: a message plus whether a retry could help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    message: String,
    retryable: bool,
}

impl TaskError {
    /// A transient failure (timeout, connection reset, HTTP 503...): retried if the task's
    /// [`RetryPolicy`](crate::RetryPolicy) has retries left.
    pub fn retryable(message: impl Into<String>) -> Self {
        TaskError {
            message: message.into(),
            retryable: true,
        }
    }

    /// A permanent failure (bad input, HTTP 404...): never retried.
    pub fn fatal(message: impl Into<String>) -> Self {
        TaskError {
            message: message.into(),
            retryable: false,
        }
    }

    /// Whether a retry could succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TaskError {}

/// What a running task knows about itself: its key, which attempt this is, the outputs of
/// the futures it was submitted after, and the [`Resources`] of the worker running it.
pub struct TaskContext {
    key: TaskKey,
    attempt: u32,
    inputs: Vec<JobValue>,
    resources: Resources,
}

impl TaskContext {
    /// Builds a context (without resources); backends and remote workers call this before
    /// running a job.
    pub fn new(key: TaskKey, attempt: u32, inputs: Vec<JobValue>) -> Self {
        TaskContext {
            key,
            attempt,
            inputs,
            resources: Resources::new(),
        }
    }

    /// The context with the worker's `resources` (what [`TaskContext::resource`] reads).
    pub fn with_resources(mut self, resources: Resources) -> Self {
        self.resources = resources;
        self
    }

    /// The worker's resource of type `T`: something the worker running this task owns and
    /// lends to every task (an HTTP client, a pool, its policy), given to the backend with
    /// e.g. [`ThreadsBackend::with_resources`](crate::ThreadsBackend::with_resources).
    ///
    /// Fails (fatally, with a message naming the type and what the worker has) when the worker
    /// was not given one.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use serde::{Deserialize, Serialize};
    /// use sofleet_executor::{Client, Resources, Task, TaskContext, TaskError, ThreadsBackend};
    ///
    /// /// Owned by the worker: every task it runs counts into the same counter.
    /// #[derive(Default)]
    /// struct Hits(AtomicU64);
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Visit { page: u32 }
    /// impl Task for Visit {
    ///     type Output = u64;
    ///     const NAME: &'static str = "visit";
    ///     const PURE: bool = false;
    ///     async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
    ///         let hits = ctx.resource::<Hits>()?;
    ///         Ok(hits.0.fetch_add(1, Ordering::SeqCst) + 1)
    ///     }
    /// }
    ///
    /// let backend = ThreadsBackend::new(2).with_resources(Resources::new().with(Hits::default()));
    /// let client = Client::new(backend);
    /// let mut counts: Vec<u64> = client
    ///     .map((0..3).map(|page| Visit { page }))
    ///     .iter()
    ///     .map(|f| f.result().unwrap())
    ///     .collect();
    /// counts.sort();
    /// assert_eq!(counts, vec![1, 2, 3]);
    /// ```
    pub fn resource<T: Send + Sync + 'static>(&self) -> Result<Arc<T>, TaskError> {
        self.resources.get::<T>().ok_or_else(|| {
            let have = self.resources.type_names();
            TaskError::fatal(format!(
                "task {} needs a worker resource of type {}, but the worker running it was not \
                 given one (it has {}); give it to the backend or worker with \
                 `Resources::new().with(value)`",
                self.key,
                std::any::type_name::<T>(),
                if have.is_empty() {
                    "none".to_owned()
                } else {
                    have.join(", ")
                }
            ))
        })
    }

    /// All of the worker's resources.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The key of the task being run.
    pub fn key(&self) -> &TaskKey {
        &self.key
    }

    /// Attempt number, 0 for the first run, 1 for the first retry, ...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Number of dependency inputs.
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// The output of the `i`-th dependency given to
    /// [`Client::submit_after`](crate::Client::submit_after). In-process backends hand the value
    /// over without serialising it; remote ones deserialise it from JSON.
    ///
    /// Fails (fatally) if there is no such input or it is not a `U`.
    pub fn input<U: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        i: usize,
    ) -> Result<U, TaskError> {
        let value = self.inputs.get(i).ok_or_else(|| {
            TaskError::fatal(format!(
                "task {} asked for input {i} but was submitted after {} dependencies",
                self.key,
                self.inputs.len()
            ))
        })?;
        value
            .get::<U>()
            .map_err(|e| TaskError::fatal(format!("task {}: input {i}: {e}", self.key)))
    }
}

/// Runs one registered task type from serialised bytes.
trait ErasedRunner: Send + Sync {
    fn run(&self, ctx: TaskContext, payload: &[u8]) -> BoxFuture<'static, JobOutcome>;
}

struct TypedRunner<T>(std::marker::PhantomData<fn() -> T>);

impl<T: Task> ErasedRunner for TypedRunner<T> {
    fn run(&self, ctx: TaskContext, payload: &[u8]) -> BoxFuture<'static, JobOutcome> {
        let task: T = match serde_json::from_slice(payload) {
            Ok(t) => t,
            Err(e) => {
                return futures::future::ready(JobOutcome::Failed(TaskError::fatal(format!(
                    "cannot deserialise payload of task {} (type {} v{}): {e}",
                    ctx.key(),
                    T::NAME,
                    T::VERSION
                ))))
                .boxed();
            }
        };
        let key = ctx.key().clone();
        std::panic::AssertUnwindSafe(async move { task.run(ctx).await })
            .catch_unwind()
            .map(move |r| match r {
                Ok(Ok(out)) => match serde_json::to_vec(&out) {
                    Ok(bytes) => JobOutcome::Success(JobValue::Bytes(bytes.into())),
                    Err(e) => JobOutcome::Failed(TaskError::fatal(format!(
                        "cannot serialise output of task {key}: {e}"
                    ))),
                },
                Ok(Err(e)) => JobOutcome::Failed(e),
                Err(panic) => JobOutcome::Panicked(panic_message(&*panic)),
            })
            .boxed()
    }
}

/// Maps `(task name, version)` to code that runs the task from its serialised payload and
/// serialised inputs and produces serialised output. Remote workers build one with every task
/// type they can run; in-process backends use it for jobs that arrive without a local runner.
#[derive(Default, Clone)]
pub struct TaskRegistry {
    runners: HashMap<(String, u32), Arc<dyn ErasedRunner>>,
}

impl fmt::Debug for TaskRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRegistry")
            .field("tasks", &self.tasks())
            .finish()
    }
}

impl TaskRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers task type `T` under `(T::NAME, T::VERSION)`.
    pub fn register<T: Task>(&mut self) -> &mut Self {
        self.runners.insert(
            (T::NAME.to_string(), T::VERSION),
            Arc::new(TypedRunner::<T>(std::marker::PhantomData)),
        );
        self
    }

    /// Whether `(name, version)` is registered.
    pub fn contains(&self, name: &str, version: u32) -> bool {
        self.runners.contains_key(&(name.to_string(), version))
    }

    /// All registered `(name, version)` pairs, sorted.
    pub fn tasks(&self) -> Vec<(String, u32)> {
        let mut v: Vec<_> = self.runners.keys().cloned().collect();
        v.sort();
        v
    }

    /// Runs a task from its serialised payload (serde_json of the task struct). The returned
    /// future never panics: a panicking task becomes [`JobOutcome::Panicked`], an unknown
    /// `(name, version)` becomes [`JobOutcome::BackendError`] and a success carries the output
    /// as [`JobValue::Bytes`] (serde_json).
    pub fn run_serialized(
        &self,
        name: &str,
        version: u32,
        ctx: TaskContext,
        payload: &[u8],
    ) -> BoxFuture<'static, JobOutcome> {
        match self.runners.get(&(name.to_string(), version)) {
            Some(r) => r.run(ctx, payload),
            None => futures::future::ready(JobOutcome::BackendError(format!(
                "unknown task type {name} v{version} for task {}: register it in the worker's TaskRegistry",
                ctx.key()
            )))
            .boxed(),
        }
    }
}

/// A value stored type-erased in a [`JobValue::Local`]: downcastable, and serialisable when the
/// value came from a [`Task`] (closure outputs are local-only).
pub trait ErasedValue: Any + Send + Sync {
    /// The value as `Any`, for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// serde_json bytes of the value, or why it cannot be serialised.
    fn to_json(&self) -> Result<Vec<u8>, String>;
    /// Rust type name of the value (for error messages).
    fn type_name(&self) -> &'static str;
}

/// A serialisable in-process value.
pub(crate) struct SerValue<T>(pub(crate) T);

impl<T: Serialize + Send + Sync + 'static> ErasedValue for SerValue<T> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn to_json(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(&self.0).map_err(|e| e.to_string())
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// A local-only in-process value (output of a closure task).
pub(crate) struct LocalValue<T>(pub(crate) T);

impl<T: Send + Sync + 'static> ErasedValue for LocalValue<T> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn to_json(&self) -> Result<Vec<u8>, String> {
        Err(format!(
            "value of type {} came from a local closure task and cannot be serialised",
            std::any::type_name::<T>()
        ))
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}
