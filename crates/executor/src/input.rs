//! Task arguments that are either a value or the future of one: [`Input`] and [`IntoInput`].
//!
//! A task made by `#[sofleet::task]` keeps each argument as an [`Input`], so the caller can pass
//! a plain value or the [`TaskFuture`] of an earlier task, the way a Dask user passes futures to
//! `client.submit(f, x)`. The client submits the task after every future argument
//! ([`Task::dependencies`](crate::Task::dependencies)); when it runs, each input is
//! [resolved](Input::resolve) to the dependency's output before the function's body starts.
//!
//! ```
//! use sofleet_executor::conformance_free_example::Double;
//! use sofleet_executor::{Client, Input, IntoInput, ThreadsBackend};
//!
//! let client = Client::new(ThreadsBackend::new(1));
//! let four = client.submit(Double { x: 2 });
//! let mut dependencies = 0;
//! let from_value: Input<u64> = 7.into_input(&mut dependencies);
//! let from_future: Input<u64> = four.into_input(&mut dependencies);
//! assert!(!from_value.is_dependency());
//! assert!(from_future.is_dependency());
//! assert_eq!(dependencies, 1); // futures are numbered in argument order
//! ```

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::future::{AnyFuture, TaskFuture};
use crate::task::{TaskContext, TaskError};

/// One argument of a task: a value, or the output of another task (a dependency).
///
/// Serialised as `{"value": …}` for a value and `{"input": n}` for the task's `n`-th own
/// dependency, so a pure task's key changes with its values and with the keys of its
/// dependencies (which the client hashes in), never with a dependency's output.
pub struct Input<T>(Repr<T>);

enum Repr<T> {
    /// A plain value.
    Value(T),
    /// The `index`-th dependency of the task, with its future (client side). Kept small (the
    /// executor's cost per task grows with the task's size): the future type-erased, the index
    /// a `u32`.
    Future { index: u32, future: AnyFuture },
    /// The `index`-th dependency of the task, as read back from its serialised form.
    Dependency { index: u32 },
}

impl<T> Input<T> {
    /// An input holding `value`.
    pub fn value(value: T) -> Self {
        Input(Repr::Value(value))
    }

    /// Whether this input is the output of another task.
    pub fn is_dependency(&self) -> bool {
        !matches!(self.0, Repr::Value(_))
    }

    /// The future this input waits for (client side; `None` for a value, and for an input
    /// read back from bytes, whose dependency the scheduler already knows).
    pub fn dependency(&self) -> Option<AnyFuture> {
        match &self.0 {
            Repr::Future { future, .. } => Some(future.clone()),
            Repr::Value(_) | Repr::Dependency { .. } => None,
        }
    }

    /// Moves the future this input waits for out of it, leaving only its position (what the
    /// client does when it submits the task, so the task does not keep its dependency alive).
    pub fn take_dependency(&mut self) -> Option<AnyFuture> {
        match std::mem::replace(&mut self.0, Repr::Dependency { index: 0 }) {
            Repr::Future { index, future } => {
                self.0 = Repr::Dependency { index };
                Some(future)
            }
            other => {
                self.0 = other;
                None
            }
        }
    }

    /// The argument's value: the value itself, or the output of the dependency, which is input
    /// `base + index` of `ctx` (`base` is where the task's own dependencies start, see
    /// [`input_base`]).
    ///
    /// Fails (fatally, naming the task and the input) when the dependency's output is missing
    /// or is not a `T`.
    pub fn resolve(self, ctx: &TaskContext, base: usize) -> Result<T, TaskError>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        match self.0 {
            Repr::Value(value) => Ok(value),
            Repr::Future { index, .. } | Repr::Dependency { index } => {
                ctx.input(base + index as usize)
            }
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Repr::Future { index, future } => f
                .debug_struct("Future")
                .field("index", index)
                .field("key", future.key())
                .finish(),
            Repr::Dependency { index } => {
                f.debug_struct("Dependency").field("index", index).finish()
            }
        }
    }
}

/// Where a task's own dependencies start among its context's inputs: they come after the
/// explicit dependencies of [`Client::submit_after`](crate::Client::submit_after).
/// `is_dependency` has one entry per argument.
pub fn input_base(ctx: &TaskContext, is_dependency: &[bool]) -> usize {
    let own = is_dependency.iter().filter(|d| **d).count();
    ctx.input_count().saturating_sub(own)
}

/// What an argument of a `#[sofleet::task]` function accepts: a `T`, a `TaskFuture<T>` or a
/// `&TaskFuture<T>`.
pub trait IntoInput<T> {
    /// The input; a future gets the next dependency number from `dependencies` (which counts
    /// the task's futures in argument order).
    fn into_input(self, dependencies: &mut usize) -> Input<T>;
}

impl<T> IntoInput<T> for T {
    fn into_input(self, _dependencies: &mut usize) -> Input<T> {
        Input::value(self)
    }
}

impl<T> IntoInput<T> for TaskFuture<T> {
    fn into_input(self, dependencies: &mut usize) -> Input<T> {
        // A task with 2^32 future arguments does not fit in memory anyway.
        let index = u32::try_from(*dependencies).unwrap_or(u32::MAX);
        *dependencies += 1;
        Input(Repr::Future {
            index,
            future: self.into(),
        })
    }
}

impl<T> IntoInput<T> for &TaskFuture<T> {
    fn into_input(self, dependencies: &mut usize) -> Input<T> {
        self.clone().into_input(dependencies)
    }
}

/// The serialised form of an [`Input`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Wire<V> {
    Value(V),
    Input(u32),
}

impl<T: Serialize> Serialize for Input<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Value(v) => Wire::Value(v).serialize(serializer),
            Repr::Future { index, .. } | Repr::Dependency { index } => {
                Wire::<&T>::Input(*index).serialize(serializer)
            }
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Input<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Input(match Wire::<T>::deserialize(deserializer)? {
            Wire::Value(v) => Repr::Value(v),
            Wire::Input(index) => Repr::Dependency { index },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::TaskKey;

    #[test]
    fn a_value_and_a_dependency_read_back_from_their_serialised_form() {
        let value: Input<String> = Input::value("x".to_owned());
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(json, r#"{"value":"x"}"#);
        let back: Input<String> = serde_json::from_str(&json).unwrap();
        assert!(!back.is_dependency());

        let dep: Input<String> = serde_json::from_str(r#"{"input":1}"#).unwrap();
        assert!(dep.is_dependency());
        assert!(dep.dependency().is_none());
        let mut dep = dep;
        assert!(dep.take_dependency().is_none());
        assert!(dep.is_dependency());
        assert_eq!(serde_json::to_string(&dep).unwrap(), r#"{"input":1}"#);
        assert!(serde_json::from_str::<Input<String>>(r#"{"other":1}"#).is_err());
    }

    #[test]
    fn dependencies_resolve_after_the_explicit_inputs() {
        use crate::backend::JobValue;
        let ctx = TaskContext::new(
            TaskKey::from("k"),
            0,
            vec![JobValue::local(1u64), JobValue::local(2u64)],
        );
        let base = input_base(&ctx, &[false, true]);
        assert_eq!(base, 1);
        let dep: Input<u64> = serde_json::from_str(r#"{"input":0}"#).unwrap();
        assert_eq!(dep.resolve(&ctx, base).unwrap(), 2);
        let missing: Input<u64> = serde_json::from_str(r#"{"input":5}"#).unwrap();
        let err = missing.resolve(&ctx, base).unwrap_err();
        assert!(err.message().contains("asked for input 6"), "{err}");
        assert_eq!(Input::value(9u64).resolve(&ctx, base).unwrap(), 9);
    }
}
