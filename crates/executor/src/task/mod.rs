//! Typed, named, serialisable tasks: [`Task`], [`TaskError`], [`TaskContext`] and the
//! [`TaskRegistry`] that remote workers use to run a task from its serialised envelope.
//!
//! # Serialisation format
//!
//! Task payloads (the task struct), dependency inputs and outputs cross process boundaries as
//! **serde_json** bytes. The payload bytes are also what a pure task's key is hashed from, so
//! two tasks with equal fields get the same key. Struct fields serialise in declaration order;
//! keep map-typed fields in a `BTreeMap` (not a `HashMap`) if you rely on deduplication.

mod context;
mod registry;
mod value;

use std::fmt;
use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use context::TaskContext;
pub use registry::{DuplicateTask, TaskRegistration, TaskRegistry};
pub use value::ErasedValue;
pub(crate) use value::{LocalValue, SerValue};

use crate::future::AnyFuture;
use crate::options::RetryPolicy;

/// A unit of work that can be submitted to a [`Client`](crate::Client).
///
/// The usual way to make one is `#[sofleet::task]` on a plain function (crate `sofleet`); this
/// trait is what that attribute generates, and what you implement by hand for full control.
///
/// A task is a plain serde-serialisable struct holding its arguments; `NAME` and `VERSION`
/// identify its code, so a remote worker that registered the type in a [`TaskRegistry`] (by
/// hand, or with [`register_task!`](crate::register_task) and [`TaskRegistry::collected`]) can
/// run it from bytes. Its key (see [`TaskKey`](crate::TaskKey)) is a hash of `NAME`, `VERSION`, the
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
    /// Whether [`run`](Task::run) blocks the thread (a synchronous function's body): backends
    /// then run it where blocking is allowed (the threads backend's threads, tokio's blocking
    /// pool), never on an async worker thread.
    const BLOCKING: bool = false;
    /// The retries this task type gets when the submission does not set
    /// [`SubmitOptions::retry`](crate::SubmitOptions::retry) (none by default).
    fn retry_policy() -> RetryPolicy {
        RetryPolicy::none()
    }
    /// Moves out the futures this task takes as arguments: the client submits it after them,
    /// as with [`Client::submit_after`](crate::Client::submit_after), and their outputs come
    /// after the explicit dependencies among the context's inputs. None by default;
    /// `#[sofleet::task]` takes them out of its [`Input`](crate::Input) arguments
    /// ([`Input::take_dependency`](crate::Input::take_dependency)), so a submitted task does
    /// not keep its dependencies' handles alive.
    fn dependencies(&mut self) -> Vec<AnyFuture> {
        Vec::new()
    }
    /// Runs the task. Return [`TaskError::retryable`] for transient failures that a
    /// [`RetryPolicy`] may retry, [`TaskError::fatal`] otherwise.
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
    /// [`RetryPolicy`] has retries left.
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
