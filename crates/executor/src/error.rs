//! [`ExecError`] and [`TaskStatus`].

use std::fmt;

use crate::backend::BackendError;
use crate::key::{TaskKey, TaskName};

/// Why a future did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The task returned an error (after all retries allowed by its policy).
    #[error("task {key} ({name}) failed after {attempts} attempt(s): {message}")]
    Task {
        /// Key of the failed task.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
        /// The task's error message.
        message: String,
        /// Whether the last error was classified retryable (retries ran out).
        retryable: bool,
        /// How many times it ran.
        attempts: u32,
    },
    /// The task panicked; the worker pool keeps running.
    #[error("task {key} ({name}) panicked: {message}")]
    Panicked {
        /// Key of the task.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
        /// Panic message.
        message: String,
    },
    /// The task was cancelled (explicitly, or because every handle was dropped).
    #[error("task {key} was cancelled")]
    Cancelled {
        /// Key of the cancelled task.
        key: TaskKey,
    },
    /// A task this one was submitted after failed or was cancelled, so this one never ran.
    #[error("task {key} did not run because its dependency {dep_key} failed: {reason}")]
    DependencyFailed {
        /// Key of the task that did not run.
        key: TaskKey,
        /// Key of the dependency that failed first (the root cause, also through chains).
        dep_key: TaskKey,
        /// The dependency's error.
        reason: String,
        /// Whether that root dependency was cancelled rather than failed (see
        /// [`ExecError::is_cancelled`]).
        dep_cancelled: bool,
    },
    /// A wait or blocking call timed out.
    #[error("timed out")]
    Timeout,
    /// The backend could not run the task.
    #[error(transparent)]
    Backend(BackendError),
    /// The task's arguments could not be serialised.
    #[error("cannot serialise arguments of task {name}: {message}")]
    Serialization {
        /// Task type name.
        name: TaskName,
        /// serde_json's message.
        message: String,
    },
    /// The future's value is not of the type the handle expects (two task types submitted
    /// under one explicit key).
    #[error("result of task {key} cannot be read: {message}")]
    TypeMismatch {
        /// Key of the task.
        key: TaskKey,
        /// What did not match.
        message: String,
    },
    /// A dependency handle belongs to another [`Client`](crate::Client).
    #[error("dependency {dep_key} of task {key} belongs to another Client")]
    ForeignFuture {
        /// Key of the submitted task.
        key: TaskKey,
        /// Key of the foreign dependency.
        dep_key: TaskKey,
    },
    /// A blocking call was made on a single-threaded async runtime, where it would deadlock.
    #[error(
        "blocking result() of task {key} called inside a current-thread tokio runtime; `.await` the future instead"
    )]
    BlockingInAsync {
        /// Key of the task.
        key: TaskKey,
    },
}

impl ExecError {
    /// The key of the task this error is about, if any.
    pub fn key(&self) -> Option<&TaskKey> {
        match self {
            ExecError::Task { key, .. }
            | ExecError::Panicked { key, .. }
            | ExecError::Cancelled { key }
            | ExecError::DependencyFailed { key, .. }
            | ExecError::TypeMismatch { key, .. }
            | ExecError::ForeignFuture { key, .. }
            | ExecError::BlockingInAsync { key } => Some(key),
            ExecError::Backend(b) => b.key.as_ref(),
            ExecError::Timeout | ExecError::Serialization { .. } => None,
        }
    }

    /// Whether this is a cancellation (of the task itself or of a dependency).
    pub fn is_cancelled(&self) -> bool {
        match self {
            ExecError::Cancelled { .. } => true,
            ExecError::DependencyFailed { dep_cancelled, .. } => *dep_cancelled,
            _ => false,
        }
    }
}

/// Lifecycle state of a future, as in Dask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting for dependencies, a resource slot, a retry delay or a worker.
    Pending,
    /// A worker is running it.
    Running,
    /// Produced a value.
    Finished,
    /// Failed (task error, panic, backend error or failed dependency).
    Error,
    /// Cancelled, or a dependency was cancelled.
    Cancelled,
}

impl TaskStatus {
    /// Whether the future is done (finished, error or cancelled).
    pub fn is_done(self) -> bool {
        matches!(
            self,
            TaskStatus::Finished | TaskStatus::Error | TaskStatus::Cancelled
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Finished => "finished",
            TaskStatus::Error => "error",
            TaskStatus::Cancelled => "cancelled",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_is_typed_not_read_from_the_message() {
        let failed = |dep_cancelled| ExecError::DependencyFailed {
            key: TaskKey::new("b"),
            dep_key: TaskKey::new("a"),
            reason: "task a was cancelled".to_owned(),
            dep_cancelled,
        };
        // The same text either way: only the flag decides.
        assert!(failed(true).is_cancelled());
        assert!(!failed(false).is_cancelled());
        assert!(
            ExecError::Cancelled {
                key: TaskKey::new("a")
            }
            .is_cancelled()
        );
        assert!(!ExecError::Timeout.is_cancelled());
    }
}
