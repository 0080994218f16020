//! [`TaskContext`]: what a running task knows about itself.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::TaskError;
use crate::backend::JobValue;
use crate::key::TaskKey;
use crate::resources::Resources;

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
