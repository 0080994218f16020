//! What the client and its I/O thread share: the jobs in flight, the writer's commands and
//! the way outcomes reach the executor's sink.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use sofleet_executor::TaskKey;
use sofleet_executor::backend::{CompletionSink, JobId, JobOutcome};
use tokio::sync::{mpsc, watch};

use crate::RedisOptions;
use crate::conn::Link;
use crate::keys::Keys;
use crate::wire::EncodedJob;

/// A job sent (or about to be sent) and not yet reported.
pub(super) struct InFlight {
    pub(super) key: TaskKey,
    pub(super) encoded: Arc<EncodedJob>,
    /// Id of its job stream entry once sent (for cancellation).
    pub(super) entry_id: Option<String>,
    /// Whether `started` was reported (a worker may skip the separate report when the job
    /// finishes at once; the client then reports it just before the completion).
    pub(super) started: bool,
}

/// What the writer loop is asked to do.
pub(super) enum Cmd {
    /// Send these jobs (their encoded form is in [`Inner::jobs`]).
    Send(Vec<JobId>),
    /// Delete this job entry (a cancelled job no worker has taken yet).
    Cancel(String),
    /// Refresh the liveness marker now and resubmit everything if it was lost.
    CheckMarker,
}

/// The state of one backend, shared by its handle and the tasks of its I/O thread.
pub(super) struct Inner {
    pub(super) opts: RedisOptions,
    /// The Redis URL with its password masked.
    pub(super) url: String,
    pub(super) keys: Keys,
    pub(super) client_id: String,
    pub(super) reply_key: String,
    pub(super) marker_key: String,
    pub(super) sink: OnceLock<CompletionSink>,
    pub(super) jobs: Mutex<HashMap<JobId, InFlight>>,
    pub(super) tx: mpsc::UnboundedSender<Cmd>,
    /// The I/O thread's runtime.
    pub(super) handle: tokio::runtime::Handle,
    /// The connection of one-off commands (PING, listing workers, cleanup).
    pub(super) control: tokio::sync::Mutex<Link>,
    pub(super) closed: AtomicBool,
    pub(super) stop: watch::Sender<bool>,
}

impl Inner {
    /// Reports outcomes to the sink (logged and dropped if none is attached).
    pub(super) fn report(&self, outcomes: Vec<(JobId, JobOutcome)>) {
        if outcomes.is_empty() {
            return;
        }
        match self.sink.get() {
            Some(sink) => sink.completed_many(outcomes),
            None => tracing::error!(
                "redis backend: {} job reports dropped: Backend::attach was never called",
                outcomes.len()
            ),
        }
    }

    /// Fails every job in flight (e.g. Redis unreachable for too long).
    pub(super) fn fail_all(&self, message: &str) {
        let drained: Vec<(JobId, InFlight)> = self.jobs.lock().drain().collect();
        if !drained.is_empty() {
            tracing::error!("redis backend: failing {} jobs: {message}", drained.len());
        }
        let outcomes = drained
            .into_iter()
            .map(|(id, j)| {
                (
                    id,
                    JobOutcome::BackendError(format!("task {}: {message}", j.key)),
                )
            })
            .collect();
        self.report(outcomes);
    }
}
