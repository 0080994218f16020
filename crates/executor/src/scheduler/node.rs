//! What the scheduler keeps per submitted task: the node, its dispatch spec and in-process
//! runner, and the per-tag resource queues.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::backend::{JobId, JobValue, LocalRunner};
use crate::future::Cell;
use crate::options::RetryPolicy;
use crate::task::Task;

/// The in-process runner of a node: the first attempt's runner, made at submission, and (for
/// typed tasks) a function re-making one from the payload for retries.
pub(crate) struct Runner {
    pub(crate) first: Option<LocalRunner>,
    pub(crate) remake: Option<RemakeFn>,
}

/// Re-makes a typed task's runner from its payload bytes.
pub(crate) type RemakeFn = fn(&[u8]) -> Result<LocalRunner, String>;

impl Runner {
    pub(super) fn make(&mut self, payload: Option<&[u8]>) -> Result<LocalRunner, String> {
        if let Some(r) = self.first.take() {
            return Ok(r);
        }
        match (self.remake, payload) {
            (Some(f), Some(p)) => f(p),
            _ => Err("this task cannot be re-run (closure tasks run at most once)".to_string()),
        }
    }
}

pub(crate) fn typed_runner<T: Task>(task: T) -> LocalRunner {
    if T::BLOCKING {
        // A synchronous body behind `run`: one poll finishes it, on a thread that may block.
        return LocalRunner::Blocking(Box::new(move |ctx| {
            futures::executor::block_on(task.run(ctx)).map(JobValue::local)
        }));
    }
    LocalRunner::Async(Box::new(move |ctx| {
        Box::pin(async move { task.run(ctx).await.map(JobValue::local) })
    }))
}

pub(crate) fn remake_typed<T: Task>(bytes: &[u8]) -> Result<LocalRunner, String> {
    serde_json::from_slice::<T>(bytes)
        .map(typed_runner)
        .map_err(|e| format!("cannot deserialise task {}: {e}", T::NAME))
}

/// What is needed to (re)dispatch a node; dropped when the node is done.
pub(super) struct Spec {
    pub(super) version: u32,
    pub(super) payload: Option<Arc<[u8]>>,
    pub(super) runner: Option<Runner>,
    pub(super) deps: Vec<u64>,
    pub(super) waiting_on: usize,
    pub(super) retry: RetryPolicy,
    pub(super) attempt: u32,
    pub(super) dispatches: u64,
    pub(super) queued: bool,
}

pub(super) struct Node {
    pub(super) cell: Arc<Cell>,
    pub(super) refs: usize,
    pub(super) spec: Option<Spec>,
    pub(super) dependents: Vec<u64>,
    pub(super) resources: Vec<String>,
    pub(super) holding: bool,
    pub(super) inflight: Option<JobId>,
    pub(super) fire_and_forget: bool,
    pub(super) done: bool,
    pub(super) indexed: bool,
    /// Whether the monitor counts an attempt of this node as running.
    pub(super) monitor_running: bool,
}

#[derive(Default)]
pub(super) struct Resource {
    pub(super) limit: Option<usize>,
    pub(super) in_use: usize,
    pub(super) queue: VecDeque<u64>,
}
