//! The scheduler behind every [`Client`](crate::Client): one per client, whatever the backend.
//!
//! It owns keys and deduplication, dependencies, retries and their timers, resource limits,
//! cancellation, reference counting and events; a backend only executes the [`Job`]s it
//! dispatches. All state sits in one [`State`] under one lock. Every operation collects its
//! side effects (jobs to dispatch, cancellations, wake-ups, retry timers) in an [`Fx`] while
//! holding the lock and performs them after releasing it ([`Shared::apply`]), so a backend or a
//! woken future never runs under the scheduler's lock.
//!
//! - `state.rs`: registering submissions and reading the backend's reports;
//! - `dispatch.rs`: a ready node becomes a job, within its resource limits;
//! - `outcome.rs`: finishing, retrying and failing nodes, failure propagation, clean-up;
//! - `node.rs`: what is kept per node.

mod dispatch;
mod node;
mod outcome;
mod state;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use parking_lot::{Mutex, MutexGuard};

pub(crate) use node::{Runner, remake_typed, typed_runner};

use self::node::{Node, Resource};
use crate::backend::{Backend, CompletionSink, Job, JobId, JobListener, JobOutcome};
use crate::client::ClientStats;
use crate::error::{ExecError, TaskStatus};
use crate::events::Event;
use crate::future::{AnyFuture, Cell, Handle, Wakers};
use crate::id_hash::{KeyMap, NodeMap as IdMap};
use crate::key::{TaskKey, TaskName};
use crate::monitor::MonitorSnapshot;
use crate::monitor::recorder::Recorder;
use crate::options::{RetryPolicy, SubmitOptions};

/// Side effects collected under the lock, performed after it ([`Shared::apply`]).
#[derive(Default)]
pub(crate) struct Fx {
    jobs: Vec<Job>,
    cancels: Vec<JobId>,
    wakers: Wakers,
    timers: Vec<(Duration, u64, u32)>,
}

/// Work queued while failing or releasing nodes (processed without recursion).
enum Op {
    Fail(u64, ExecError, TaskStatus),
    Decref(u64),
}

/// Everything the scheduler knows, under one lock.
struct State {
    nodes: IdMap<Node>,
    by_key: KeyMap<TaskKey, u64>,
    resources: HashMap<String, Resource>,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
    /// The monitor's recorder, once [`Client::monitor`](crate::Client::monitor) was called.
    monitor: Option<Box<Recorder>>,
    next_id: u64,
    in_process: bool,
    /// The backend's name, for messages.
    backend_name: String,
    stats: ClientStats,
}

impl State {
    fn stats(&self) -> ClientStats {
        let mut s = self.stats;
        s.live = self.nodes.len();
        s.unfinished = self.nodes.values().filter(|n| !n.done).count();
        s.in_flight = self.nodes.values().filter(|n| n.inflight.is_some()).count();
        s
    }
}

/// The scheduler shared by a client's clones and its futures' handles.
pub(crate) struct Shared {
    state: Mutex<State>,
    backend: Box<dyn Backend>,
    in_process: bool,
    /// The monitor's sampling (0 without a monitor), shared with the backend's listener.
    monitoring: Arc<AtomicU64>,
}

/// One prepared submission: key, payload or runner, or the error that fails it at once.
pub(crate) struct Sub {
    pub(crate) key: TaskKey,
    /// Whether the key can be looked up for deduplication (false for random keys).
    pub(crate) indexed: bool,
    pub(crate) name: TaskName,
    pub(crate) version: u32,
    pub(crate) payload: Option<Arc<[u8]>>,
    pub(crate) runner: Option<Runner>,
    /// The retries it gets (the submission's, else its type's).
    pub(crate) retry: RetryPolicy,
    pub(crate) error: Option<ExecError>,
}

/// The backend's [`CompletionSink`] reports into the scheduler (weakly: reports after the
/// client is gone are dropped).
struct Listener(Weak<Shared>, Arc<AtomicU64>);

impl JobListener for Listener {
    fn wants_start_time(&self, id: JobId) -> bool {
        // 0: no monitor; else the monitor samples 1 node in this many (a power of two).
        let sampling = self.1.load(Ordering::Relaxed);
        sampling != 0 && id.node() & (sampling - 1) == 0
    }
    fn completed_with_times(
        &self,
        id: JobId,
        started: Instant,
        ended: Instant,
        outcome: JobOutcome,
    ) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed_with_times(id, (started, ended), outcome);
        }
    }
    fn started(&self, id: JobId) {
        if let Some(s) = self.0.upgrade() {
            s.on_started(id);
        }
    }
    fn completed(&self, id: JobId, outcome: JobOutcome) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed(id, outcome, false);
        }
    }
    fn started_and_completed(&self, id: JobId, outcome: JobOutcome) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed(id, outcome, true);
        }
    }
    fn completed_batch(&self, reports: Vec<(JobId, JobOutcome)>, also_started: bool) {
        if let Some(s) = self.0.upgrade() {
            s.on_completed_batch(reports, also_started);
        }
    }
}

impl Shared {
    /// A scheduler over `backend`, attached to it as the backend's completion sink.
    pub(crate) fn new(backend: Box<dyn Backend>) -> Arc<Shared> {
        let in_process = backend.runs_in_process();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                nodes: IdMap::default(),
                by_key: KeyMap::default(),
                resources: HashMap::new(),
                subscribers: Vec::new(),
                monitor: None,
                next_id: 1,
                in_process,
                backend_name: backend.name().to_string(),
                stats: ClientStats::default(),
            }),
            backend,
            in_process,
            monitoring: Arc::new(AtomicU64::new(0)),
        });
        let sink = CompletionSink::new(Arc::new(Listener(
            Arc::downgrade(&shared),
            shared.monitoring.clone(),
        )));
        shared.backend.attach(sink);
        shared
    }

    /// The backend jobs go to.
    pub(crate) fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// Whether jobs run in this process (runners instead of payload bytes).
    pub(crate) fn in_process(&self) -> bool {
        self.in_process
    }

    /// Sets (`Some`) or clears (`None`) the limit of resource `tag` and starts what now fits.
    pub(crate) fn set_resource_limit(self: &Arc<Self>, tag: &str, limit: Option<usize>) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            match limit {
                Some(l) => st.resources.entry(tag.to_string()).or_default().limit = Some(l),
                None => {
                    if let Some(r) = st.resources.get_mut(tag) {
                        r.limit = None;
                    }
                }
            }
            st.drain_resource(tag, &mut fx);
        }
        self.apply(fx);
    }

    /// Adds an event subscriber.
    pub(crate) fn subscribe(&self, tx: mpsc::UnboundedSender<Event>) {
        self.lock().subscribers.push(tx);
    }

    /// Current counters.
    pub(crate) fn stats(&self) -> ClientStats {
        self.lock().stats()
    }

    /// Starts the monitor's recorder (once).
    pub(crate) fn start_monitor(&self) {
        let mut st = self.lock();
        if st.monitor.is_none() {
            st.monitor = Some(Box::new(Recorder::new(self.monitoring.clone())));
        }
    }

    /// A copy of the monitor's state (empty if it was never started).
    pub(crate) fn monitor_snapshot(&self, spans_since: u64, max_spans: usize) -> MonitorSnapshot {
        let mut st = self.lock();
        match &mut st.monitor {
            Some(m) => {
                m.adapt_sampling();
                m.snapshot(spans_since, max_spans)
            }
            None => MonitorSnapshot {
                client_alive: true,
                ..MonitorSnapshot::default()
            },
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn apply(self: &Arc<Self>, fx: Fx) {
        fx.wakers.wake_all();
        for id in fx.cancels {
            self.backend.cancel(id);
        }
        for (delay, node, attempt) in fx.timers {
            let weak = Arc::downgrade(self);
            crate::timer::schedule(delay, move || {
                if let Some(s) = weak.upgrade() {
                    s.on_retry_timer(node, attempt);
                }
            });
        }
        if !fx.jobs.is_empty() {
            self.backend.dispatch(fx.jobs);
        }
    }

    pub(crate) fn submit_erased(
        self: &Arc<Self>,
        sub: Sub,
        deps: &[AnyFuture],
        opts: &SubmitOptions,
    ) -> AnyFuture {
        let mut fx = Fx::default();
        let cell = {
            let mut st = self.lock();
            st.submit_one(self, sub, deps, opts, &mut fx)
        };
        self.apply(fx);
        AnyFuture::new(Handle {
            cell,
            shared: self.clone(),
        })
    }

    /// Submits many dependency-free tasks under one lock and one dispatch.
    pub(crate) fn submit_batch(
        self: &Arc<Self>,
        subs: Vec<Sub>,
        opts: &SubmitOptions,
        out: &mut dyn FnMut(AnyFuture),
    ) {
        let mut fx = Fx::default();
        fx.jobs.reserve(subs.len());
        let cells: Vec<Arc<Cell>> = {
            let mut st = self.lock();
            subs.into_iter()
                .map(|sub| st.submit_one(self, sub, &[], opts, &mut fx))
                .collect()
        };
        self.apply(fx);
        for cell in cells {
            out(AnyFuture::new(Handle {
                cell,
                shared: self.clone(),
            }));
        }
    }

    /// A handle was dropped.
    pub(crate) fn release(self: &Arc<Self>, id: u64) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            let Some(n) = st.nodes.get_mut(&id) else {
                return;
            };
            if n.refs > 1 {
                n.refs -= 1;
                return;
            }
            if n.done {
                n.refs = 0;
                st.maybe_remove(id);
                return;
            }
            st.run_ops(vec![Op::Decref(id)], &mut fx);
        }
        self.apply(fx);
    }

    /// Cancels the node (and, through dependency failure, its dependents).
    pub(crate) fn cancel(self: &Arc<Self>, id: u64) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            if let Some(n) = st.nodes.get(&id)
                && !n.done
            {
                let key = n.cell.key.clone();
                st.run_ops(
                    vec![Op::Fail(
                        id,
                        ExecError::Cancelled { key },
                        TaskStatus::Cancelled,
                    )],
                    &mut fx,
                );
            }
        }
        self.apply(fx);
    }

    fn on_started(self: &Arc<Self>, job: JobId) {
        self.lock().started(job, true);
    }

    fn on_completed(self: &Arc<Self>, job: JobId, outcome: JobOutcome, also_started: bool) {
        let mut fx = Fx::default();
        self.lock()
            .job_completed(job, outcome, also_started, &mut fx);
        self.apply(fx);
    }

    fn on_completed_with_times(
        self: &Arc<Self>,
        job: JobId,
        (started, ended): (Instant, Instant),
        outcome: JobOutcome,
    ) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            st.started_at(job, false, Some(started));
            if let Some(m) = &mut st.monitor {
                m.set_end(job.node(), ended);
            }
            st.job_completed(job, outcome, false, &mut fx);
        }
        self.apply(fx);
    }

    /// Many reports under one lock and one round of wake-ups and dispatch.
    fn on_completed_batch(self: &Arc<Self>, reports: Vec<(JobId, JobOutcome)>, also_started: bool) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            if let Some(m) = &mut st.monitor {
                m.begin_batch();
            }
            for (job, outcome) in reports {
                st.job_completed(job, outcome, also_started, &mut fx);
            }
            if let Some(m) = &mut st.monitor {
                m.end_batch();
            }
        }
        self.apply(fx);
    }

    fn on_retry_timer(self: &Arc<Self>, id: u64, attempt: u32) {
        let mut fx = Fx::default();
        {
            let mut st = self.lock();
            let ok = st.nodes.get(&id).is_some_and(|n| {
                !n.done
                    && n.inflight.is_none()
                    && n.spec
                        .as_ref()
                        .is_some_and(|s| s.attempt == attempt && !s.queued)
            });
            if ok {
                st.try_start(id, &mut fx);
            }
        }
        self.apply(fx);
    }
}
