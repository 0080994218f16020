//! Progress [`Event`]s (see [`Client::events`](crate::Client::events)).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::channel::mpsc;

use crate::key::{TaskKey, TaskName};

/// A change in a task's lifecycle, emitted in scheduler order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A new task was created (deduplicated submissions emit nothing).
    Submitted {
        /// Task key.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
    },
    /// A worker began an attempt.
    Started {
        /// Task key.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
        /// Attempt number (0 first).
        attempt: u32,
    },
    /// The task produced a value.
    Finished {
        /// Task key.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
    },
    /// The task failed for good (error, panic, backend error or failed dependency).
    Failed {
        /// Task key.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
        /// The error's message.
        error: String,
    },
    /// An attempt failed with a retryable error; it will run again after `delay`.
    Retried {
        /// Task key.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
        /// Number of the coming attempt.
        attempt: u32,
        /// Backoff before it.
        delay: Duration,
        /// The error of the failed attempt.
        error: String,
    },
    /// The task was cancelled, or a dependency was.
    Cancelled {
        /// Task key.
        key: TaskKey,
        /// Task type name.
        name: TaskName,
    },
}

impl Event {
    /// The task's key.
    pub fn key(&self) -> &TaskKey {
        self.task().0
    }

    /// The task's type name.
    pub fn name(&self) -> &str {
        self.task().1
    }

    /// The key and type name every event carries.
    fn task(&self) -> (&TaskKey, &TaskName) {
        match self {
            Event::Submitted { key, name, .. }
            | Event::Started { key, name, .. }
            | Event::Finished { key, name, .. }
            | Event::Failed { key, name, .. }
            | Event::Retried { key, name, .. }
            | Event::Cancelled { key, name, .. } => (key, name),
        }
    }

    /// Whether this event ends the task (finished, failed or cancelled).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Event::Finished { .. } | Event::Failed { .. } | Event::Cancelled { .. }
        )
    }
}

/// The stream returned by [`Client::events`](crate::Client::events).
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl EventStream {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<Event>) -> Self {
        EventStream { rx }
    }

    /// The next event if one is already queued (never waits).
    pub fn try_next(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Every event already queued.
    pub fn drain(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.try_next()).collect()
    }
}

impl Stream for EventStream {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}
