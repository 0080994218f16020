//! [`TaskRegistry`]: runs a task from its serialised envelope, and the registrations every
//! `#[sofleet::task]` (or [`register_task!`](crate::register_task)) adds to the binary.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Task, TaskContext, TaskError};
use crate::backend::{JobOutcome, JobValue, panic_message};

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
        async move {
            let ran = if T::BLOCKING {
                run_blocking(task, ctx).await
            } else {
                std::panic::AssertUnwindSafe(task.run(ctx))
                    .catch_unwind()
                    .await
                    .map_err(|panic| panic_message(&*panic))
            };
            match ran {
                Ok(Ok(out)) => match serde_json::to_vec(&out) {
                    Ok(bytes) => JobOutcome::Success(JobValue::Bytes(bytes.into())),
                    Err(e) => JobOutcome::Failed(TaskError::fatal(format!(
                        "cannot serialise output of task {key}: {e}"
                    ))),
                },
                Ok(Err(e)) => JobOutcome::Failed(e),
                Err(panic) => JobOutcome::Panicked(panic),
            }
        }
        .boxed()
    }
}

type Ran<O> = Result<Result<O, TaskError>, String>;

/// Runs a [blocking](Task::BLOCKING) task on tokio's blocking pool when called inside a tokio
/// runtime (a worker's async loop must not block), else on the calling thread.
async fn run_blocking<T: Task>(task: T, ctx: TaskContext) -> Ran<T::Output> {
    let run = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures::executor::block_on(task.run(ctx))
        }))
        .map_err(|panic| panic_message(&*panic))
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(run)
            .await
            .unwrap_or_else(|e| Err(format!("blocking task was stopped: {e}"))),
        Err(_) => run(),
    }
}

/// One task type compiled into the binary, added by `#[sofleet::task]` or
/// [`register_task!`](crate::register_task) and collected by [`TaskRegistry::collected`].
pub struct TaskRegistration {
    name: &'static str,
    version: u32,
    type_name: fn() -> &'static str,
    register: fn(&mut TaskRegistry),
}

impl TaskRegistration {
    /// The registration of task type `T`.
    pub const fn of<T: Task>() -> Self {
        TaskRegistration {
            name: T::NAME,
            version: T::VERSION,
            type_name: std::any::type_name::<T>,
            register: register_one::<T>,
        }
    }

    /// The task's `NAME`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The task's `VERSION`.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The Rust type registered.
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }
}

impl fmt::Debug for TaskRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{} ({})", self.name, self.version, self.type_name())
    }
}

fn register_one<T: Task>(registry: &mut TaskRegistry) {
    registry.register::<T>();
}

inventory::collect!(TaskRegistration);

/// Registers a hand-written [`Task`] type in the binary, as `#[sofleet::task]` does for the
/// types it generates, so [`TaskRegistry::collected`] (and so every worker built from this
/// code) runs it.
///
/// ```
/// use sofleet_executor::conformance_free_example::Double;
/// use sofleet_executor::{TaskRegistry, register_task};
///
/// register_task!(Double);
///
/// let registry = TaskRegistry::collected().unwrap();
/// assert!(registry.contains("double", 1));
/// ```
#[macro_export]
macro_rules! register_task {
    ($task:ty) => {
        $crate::__private::inventory::submit! {
            $crate::task::TaskRegistration::of::<$task>()
        }
    };
}

/// Two different types registered under one task name and version (see
/// [`TaskRegistry::collected`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "task {name} v{version} is registered twice, by {first} and by {second}: give one of them \
     another name (`#[task(name = \"...\")]` or `Task::NAME`) or bump its version"
)]
#[non_exhaustive]
pub struct DuplicateTask {
    /// The task name.
    pub name: String,
    /// The version both claim.
    pub version: u32,
    /// The first Rust type.
    pub first: String,
    /// The second Rust type.
    pub second: String,
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

    /// Every task type registered in this binary (by `#[sofleet::task]` or
    /// [`register_task!`](crate::register_task)): what a worker built from the same code as
    /// its clients runs, with no hand-written list.
    ///
    /// Fails when two different types claim one name and version.
    pub fn collected() -> Result<TaskRegistry, DuplicateTask> {
        let mut registry = TaskRegistry::new();
        let mut seen: HashMap<(&'static str, u32), &TaskRegistration> = HashMap::new();
        for reg in inventory::iter::<TaskRegistration> {
            match seen.get(&(reg.name, reg.version)) {
                Some(first) if first.type_name() != reg.type_name() => {
                    let (mut a, mut b) = (first.type_name(), reg.type_name());
                    if b < a {
                        std::mem::swap(&mut a, &mut b);
                    }
                    return Err(DuplicateTask {
                        name: reg.name.to_owned(),
                        version: reg.version,
                        first: a.to_owned(),
                        second: b.to_owned(),
                    });
                }
                Some(_) => continue,
                None => {
                    seen.insert((reg.name, reg.version), reg);
                    (reg.register)(&mut registry);
                }
            }
        }
        Ok(registry)
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
        if let Some(r) = self.runners.get(&(name.to_string(), version)) {
            return r.run(ctx, payload);
        }
        let others: Vec<String> = self
            .runners
            .keys()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| format!("v{v}"))
            .collect();
        let outcome = if others.is_empty() {
            JobOutcome::BackendError(format!(
                "unknown task type {name} v{version} for task {}: register it in the worker's \
                 TaskRegistry (a `#[sofleet::task]` in the code the worker was built from)",
                ctx.key()
            ))
        } else {
            // The same task in another version: the client and the worker were built from
            // different code. Running it could give an output the client's key does not mean.
            JobOutcome::Failed(TaskError::fatal(format!(
                "version mismatch for task {}: the client submitted {name} v{version}, but \
                 this worker runs {name} {}; build the worker from the same code as the client",
                ctx.key(),
                others.join(", ")
            )))
        };
        futures::future::ready(outcome).boxed()
    }
}
