//! A [`Monitor`]: what a dashboard shows of a client, recorded by the scheduler itself.
//!
//! [`Client::events`](crate::Client::events) hands every subscriber every event through a
//! channel: exact, but it costs a send per event and a reader that keeps up. A monitor instead
//! keeps, inside the scheduler and under its lock, counters per task name and a bounded ring of
//! the last [`SPAN_CAPACITY`] task spans (start to end, with a lane). Reading it is a copy taken
//! when the reader asks, so a slow or absent reader costs nothing and memory stays bounded
//! however many tasks run.
//!
//! Counters count every task. Spans are a sample once tasks come faster than a page can draw:
//! each read sets the sampling for what follows so that about [`SPANS_PER_SECOND`] spans are
//! recorded (1 task in [`MonitorSnapshot::sampled_one_in`], chosen by task, so an attempt's
//! start and end are both recorded or neither; a task not sampled costs no clock read).
//!
//! ```
//! use sofleet_executor::conformance_free_example::Double;
//! use sofleet_executor::{Client, ThreadsBackend};
//!
//! let client = Client::new(ThreadsBackend::new(2));
//! let monitor = client.monitor();
//! let futures = client.map((0..10).map(|x| Double { x }));
//! for f in &futures {
//!     f.result().unwrap();
//! }
//!
//! let snapshot = monitor.snapshot(0);
//! let progress = &snapshot.tasks[0];
//! assert_eq!((progress.finished, progress.failed), (10, 0));
//! assert_eq!(snapshot.spans.len(), 10); // one span per task, each on a lane
//! ```

use std::sync::Weak;
use std::time::{Duration, Instant};

use crate::key::TaskName;
use crate::scheduler::Shared;

/// The number of finished spans a monitor keeps (older ones are dropped).
pub const SPAN_CAPACITY: usize = 4096;

/// The number of distinct task names counted separately; later names share one row,
/// [`OTHER_TASKS`].
pub const NAME_CAPACITY: usize = 256;

/// The spans per second a monitor aims to record once it is read regularly (see the
/// [module docs](self)).
pub const SPANS_PER_SECOND: u64 = 2048;

/// The widest sampling: 1 task in this many.
pub const MAX_SAMPLING: u64 = 1 << 20;

/// Lanes of the task stream, at most: past this many attempts at once, the newest share the
/// last lane.
pub const MAX_LANES: usize = 128;

/// The row that counts tasks whose name came after [`NAME_CAPACITY`] others.
pub const OTHER_TASKS: &str = "(other tasks)";

/// A handle on a client's recorder (see the [module docs](self)). Cheap to clone; it does not
/// keep the client alive: once every client clone is gone, snapshots are empty.
#[derive(Clone)]
pub struct Monitor {
    pub(crate) shared: Weak<Shared>,
    pub(crate) backend: String,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// The name of the client's backend (`threads`, `tokio`, `redis`…).
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// What the client is doing now: counters per task name, the running tasks, and the spans
    /// that ended with a sequence number of at least `spans_since` (pass the last snapshot's
    /// [`MonitorSnapshot::next_span`] to get only new ones, 0 for all that are kept).
    pub fn snapshot(&self, spans_since: u64) -> MonitorSnapshot {
        self.snapshot_recent(spans_since, usize::MAX)
    }

    /// [`snapshot`](Self::snapshot) with at most the newest `max_spans` ended spans (a reader
    /// that draws them cannot use more, and copies less while the scheduler waits).
    ///
    /// ```
    /// use sofleet_executor::{Client, ThreadsBackend};
    /// let client = Client::new(ThreadsBackend::new(2));
    /// let monitor = client.monitor();
    /// for i in 0..10 {
    ///     client.submit_fn("step", move || i).result().unwrap();
    /// }
    /// let s = monitor.snapshot_recent(0, 3);
    /// assert_eq!(s.spans.len(), 3);
    /// assert_eq!(s.spans[2].seq + 1, s.next_span); // the newest three
    /// ```
    pub fn snapshot_recent(&self, spans_since: u64, max_spans: usize) -> MonitorSnapshot {
        match self.shared.upgrade() {
            Some(shared) => shared.monitor_snapshot(spans_since, max_spans),
            None => MonitorSnapshot {
                client_alive: false,
                ..MonitorSnapshot::default()
            },
        }
    }
}

/// A copy of a monitor's state (see [`Monitor::snapshot`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MonitorSnapshot {
    /// Whether the client still exists (false: every field is empty).
    pub client_alive: bool,
    /// Time since the monitor started; span times are measured from the same start.
    pub elapsed: Duration,
    /// Counters per task name, in the order the names were first seen.
    pub tasks: Vec<TaskProgress>,
    /// Sampled attempts running now (started, not ended), with their lanes.
    pub running: Vec<TaskSpan>,
    /// Ended sampled attempts with a sequence number from `spans_since` on, oldest first.
    pub spans: Vec<TaskSpan>,
    /// The sequence number the next ended span will get.
    pub next_span: u64,
    /// Lanes used so far (a lane is one place an attempt runs at a time: at most the number of
    /// attempts that ever ran at once).
    pub lanes: u32,
    /// Spans are recorded for 1 task in this many from now on (1: every task).
    pub sampled_one_in: u64,
}

impl MonitorSnapshot {
    /// The counters of every task name added together (`name` is `"all"`).
    ///
    /// ```
    /// use sofleet_executor::{Client, ThreadsBackend};
    /// let client = Client::new(ThreadsBackend::new(1));
    /// let monitor = client.monitor();
    /// let a = client.submit_fn("one", || 1);
    /// let b = client.submit_fn("boom", || -> u8 { panic!("no") });
    /// let _ = (a.result(), b.result());
    /// let total = monitor.snapshot(0).total();
    /// assert_eq!((total.finished, total.failed), (1, 1));
    /// ```
    pub fn total(&self) -> TaskProgress {
        let mut total = TaskProgress {
            name: "all".to_string(),
            ..TaskProgress::default()
        };
        for t in &self.tasks {
            total.submitted += t.submitted;
            total.running += t.running;
            total.finished += t.finished;
            total.failed += t.failed;
            total.retried += t.retried;
            total.cancelled += t.cancelled;
        }
        total
    }
}

/// Counters of one task name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskProgress {
    /// The task name ([`OTHER_TASKS`] for names past [`NAME_CAPACITY`]).
    pub name: String,
    /// Tasks created (deduplicated submissions are not counted again).
    pub submitted: u64,
    /// Attempts running now.
    pub running: u64,
    /// Tasks that produced a value.
    pub finished: u64,
    /// Tasks that failed for good (including those whose dependency failed).
    pub failed: u64,
    /// Attempts that failed and were retried.
    pub retried: u64,
    /// Tasks cancelled.
    pub cancelled: u64,
}

impl TaskProgress {
    /// Tasks created and not yet running nor ended: waiting for dependencies, a resource, a
    /// retry delay or a free worker.
    ///
    /// ```
    /// let mut p = sofleet_executor::monitor::TaskProgress::default();
    /// p.submitted = 10;
    /// p.running = 2;
    /// p.finished = 5;
    /// assert_eq!(p.queued(), 3);
    /// ```
    pub fn queued(&self) -> u64 {
        self.submitted
            .saturating_sub(self.running + self.finished + self.failed + self.cancelled)
    }

    /// Tasks that ended (finished, failed or cancelled).
    pub fn ended(&self) -> u64 {
        self.finished + self.failed + self.cancelled
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpanOutcome {
    /// Still running (only in [`MonitorSnapshot::running`]).
    Running,
    /// The task produced a value.
    Finished,
    /// The attempt failed and the task will run again.
    Retried,
    /// The task failed for good.
    Failed,
    /// The task was cancelled while running.
    Cancelled,
}

impl SpanOutcome {
    /// A lower-case word for the outcome (`finished`, `failed`…).
    ///
    /// ```
    /// assert_eq!(sofleet_executor::monitor::SpanOutcome::Retried.as_str(), "retried");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            SpanOutcome::Running => "running",
            SpanOutcome::Finished => "finished",
            SpanOutcome::Retried => "retried",
            SpanOutcome::Failed => "failed",
            SpanOutcome::Cancelled => "cancelled",
        }
    }
}

/// One attempt of a task, from its start to its end, on a lane.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskSpan {
    /// The ended span's sequence number (0 for a running attempt).
    pub seq: u64,
    /// The task name.
    pub name: TaskName,
    /// The lane: a new attempt takes, of the lanes free since its start, the one freed last
    /// (the slot its worker just left, even when reports arrive out of order), so lanes read
    /// like the worker slots of a task stream and attempts on one lane never overlap (below
    /// [`MAX_LANES`] attempts at once).
    pub lane: u32,
    /// When the attempt started, from the monitor's start.
    pub start: Duration,
    /// When it ended (for a running attempt: the snapshot's time).
    pub end: Duration,
    /// How it ended.
    pub outcome: SpanOutcome,
}

/// The monitor's recorder inside the scheduler state.
pub(crate) mod recorder {
    use std::collections::{HashMap, VecDeque};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::id_hash::NodeMap;

    struct Open {
        slot: u32,
        lane: u32,
        start: Instant,
        /// The end, when the backend measured it (else the time of its report).
        end: Option<Instant>,
    }

    struct Lane {
        open: bool,
        free_since: Instant,
    }

    struct Ended {
        slot: u32,
        lane: u32,
        start: Instant,
        end: Instant,
        outcome: SpanOutcome,
    }

    /// Counters and spans, updated under the scheduler lock.
    pub(crate) struct Recorder {
        started_at: Instant,
        names: Vec<(TaskName, TaskProgress)>,
        slots: HashMap<TaskName, u32>,
        /// The last name looked up (pointer and length) and its slot: a `map` of one task
        /// type finds its row without hashing.
        last: Option<(usize, usize, u32)>,
        open: NodeMap<Open>,
        /// The attempt started last, not yet in `open`: most attempts end in the same report
        /// that starts them, and then never touch the map.
        last_open: Option<(u64, Open)>,
        /// The time of the report being processed, read once for a whole batch.
        batch_now: Option<Instant>,
        /// Spans are recorded for tasks whose node id has these bits clear (`sampling - 1`).
        sample_mask: u64,
        /// The sampling, shared with the backend's listener (0 before the recorder exists).
        sampling: Arc<AtomicU64>,
        /// Attempts started since the last read, and when that was: the rate that sets the
        /// sampling.
        started_since_read: u64,
        last_read: Instant,
        lanes: Vec<Lane>,
        ended: VecDeque<Ended>,
        next_seq: u64,
    }

    impl Recorder {
        /// A recorder publishing its sampling through `sampling`.
        pub(crate) fn new(sampling: Arc<AtomicU64>) -> Recorder {
            sampling.store(1, Ordering::Relaxed);
            let now = Instant::now();
            Recorder {
                sample_mask: 0,
                sampling,
                started_since_read: 0,
                last_read: now,
                started_at: now,
                names: Vec::new(),
                slots: HashMap::new(),
                last: None,
                open: NodeMap::default(),
                last_open: None,
                batch_now: None,
                lanes: Vec::new(),
                ended: VecDeque::with_capacity(SPAN_CAPACITY),
                next_seq: 1,
            }
        }

        fn slot(&mut self, name: &TaskName) -> u32 {
            let id = (name.as_ptr() as usize, name.len());
            if let Some((p, l, slot)) = self.last
                && (p, l) == id
            {
                return slot;
            }
            let slot = match self.slots.get(name) {
                Some(&s) => s,
                None if self.names.len() < NAME_CAPACITY => {
                    let s = self.names.len() as u32;
                    let row = TaskProgress {
                        name: name.to_string(),
                        ..TaskProgress::default()
                    };
                    self.names.push((name.clone(), row));
                    self.slots.insert(name.clone(), s);
                    s
                }
                None => self.other_slot(),
            };
            self.last = Some((id.0, id.1, slot));
            slot
        }

        fn other_slot(&mut self) -> u32 {
            let other = TaskName::Borrowed(OTHER_TASKS);
            if let Some(&s) = self.slots.get(&other) {
                return s;
            }
            let s = self.names.len() as u32;
            let row = TaskProgress {
                name: OTHER_TASKS.to_string(),
                ..TaskProgress::default()
            };
            self.names.push((other.clone(), row));
            self.slots.insert(other, s);
            s
        }

        fn row(&mut self, name: &TaskName) -> &mut TaskProgress {
            let slot = self.slot(name);
            &mut self.names[slot as usize].1
        }

        pub(crate) fn submitted(&mut self, name: &TaskName) {
            self.row(name).submitted += 1;
        }

        /// Reports of one batch are timed by one clock read (they are reported together).
        pub(crate) fn begin_batch(&mut self) {
            self.batch_now = Some(Instant::now());
        }

        /// The end of a batch.
        pub(crate) fn end_batch(&mut self) {
            self.batch_now = None;
        }

        /// Now, or the batch's time.
        pub(crate) fn now(&self) -> Instant {
            self.batch_now.unwrap_or_else(Instant::now)
        }

        /// Whether the attempts of `node` are drawn as spans.
        pub(crate) fn sampled(&self, node: u64) -> bool {
            node & self.sample_mask == 0
        }

        fn take_open(&mut self, node: u64) -> Option<Open> {
            match self.last_open.take() {
                Some((n, open)) if n == node => Some(open),
                other => {
                    self.last_open = other;
                    self.open.remove(&node)
                }
            }
        }

        /// An attempt of `node` started (the caller calls this once per attempt), at `at()`.
        pub(crate) fn started(
            &mut self,
            node: u64,
            name: &TaskName,
            at: impl FnOnce(&Self) -> Instant,
        ) {
            let slot = self.slot(name);
            self.names[slot as usize].1.running += 1;
            self.started_since_read += 1;
            if !self.sampled(node) {
                return;
            }
            let at = at(self);
            let lane = self.take_lane(at);
            let open = Open {
                slot,
                lane,
                start: at,
                end: None,
            };
            if let Some((n, previous)) = self.last_open.replace((node, open)) {
                self.open.insert(n, previous);
            }
        }

        /// Sets the end of `node`'s running attempt, measured by the backend.
        pub(crate) fn set_end(&mut self, node: u64, end: Instant) {
            let open = match &mut self.last_open {
                Some((n, open)) if *n == node => Some(open),
                _ => self.open.get_mut(&node),
            };
            if let Some(open) = open {
                open.end = Some(end.max(open.start));
            }
        }

        /// Of the lanes free since `at` (a start reported late may be in the past), the one
        /// freed last, opened.
        fn take_lane(&mut self, at: Instant) -> u32 {
            let free = self
                .lanes
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.open && l.free_since <= at)
                .max_by_key(|(i, l)| (l.free_since, std::cmp::Reverse(*i)))
                .map(|(i, _)| i);
            let index = match free {
                Some(i) => i,
                None if self.lanes.len() < MAX_LANES => {
                    self.lanes.push(Lane {
                        open: false,
                        free_since: at,
                    });
                    self.lanes.len() - 1
                }
                None => MAX_LANES - 1,
            };
            self.lanes[index].open = true;
            index as u32
        }

        /// The task `node` ended its attempt (if `was_running`) or ended without one, with
        /// `outcome`; the task's counters move accordingly.
        pub(crate) fn ended(
            &mut self,
            node: u64,
            name: &TaskName,
            outcome: SpanOutcome,
            was_running: bool,
        ) {
            let slot = self.slot(name);
            if was_running {
                let row = &mut self.names[slot as usize].1;
                row.running = row.running.saturating_sub(1);
            }
            let open = if was_running && self.sampled(node) {
                self.take_open(node)
            } else {
                None
            };
            if let Some(open) = open {
                let end = open.end.unwrap_or_else(|| self.now());
                let lane = &mut self.lanes[open.lane as usize];
                lane.open = false;
                lane.free_since = lane.free_since.max(end);
                if self.ended.len() == SPAN_CAPACITY {
                    self.ended.pop_front();
                }
                self.ended.push_back(Ended {
                    slot: open.slot,
                    lane: open.lane,
                    start: open.start,
                    end,
                    outcome,
                });
                self.next_seq += 1;
            }
            let row = &mut self.names[slot as usize].1;
            match outcome {
                SpanOutcome::Finished => row.finished += 1,
                SpanOutcome::Retried => row.retried += 1,
                SpanOutcome::Failed => row.failed += 1,
                SpanOutcome::Cancelled => row.cancelled += 1,
                SpanOutcome::Running => {}
            }
        }

        /// Sets the sampling from the rate attempts started at since the last read.
        pub(crate) fn adapt_sampling(&mut self) {
            let now = Instant::now();
            let elapsed = now.duration_since(self.last_read).as_secs_f64();
            if elapsed < 0.05 {
                return;
            }
            let rate = self.started_since_read as f64 / elapsed;
            let wanted = (rate / SPANS_PER_SECOND as f64).ceil().max(1.0) as u64;
            let sampling = wanted.next_power_of_two().min(MAX_SAMPLING);
            self.sample_mask = sampling - 1;
            self.sampling.store(sampling, Ordering::Relaxed);
            self.started_since_read = 0;
            self.last_read = now;
        }

        pub(crate) fn snapshot(&self, spans_since: u64, max_spans: usize) -> MonitorSnapshot {
            let now = Instant::now();
            let since = |t: Instant| t.saturating_duration_since(self.started_at);
            let name = |slot: u32| self.names[slot as usize].0.clone();
            let first_seq = self.next_seq - self.ended.len() as u64;
            let skip = (spans_since.saturating_sub(first_seq) as usize)
                .max(self.ended.len().saturating_sub(max_spans));
            let spans = self
                .ended
                .iter()
                .enumerate()
                .skip(skip)
                .map(|(i, e)| TaskSpan {
                    seq: first_seq + i as u64,
                    name: name(e.slot),
                    lane: e.lane,
                    start: since(e.start),
                    end: since(e.end),
                    outcome: e.outcome,
                })
                .collect();
            let mut running: Vec<TaskSpan> = self
                .open
                .values()
                .chain(self.last_open.as_ref().map(|(_, o)| o))
                .map(|o| TaskSpan {
                    seq: 0,
                    name: name(o.slot),
                    lane: o.lane,
                    start: since(o.start),
                    end: since(now),
                    outcome: SpanOutcome::Running,
                })
                .collect();
            running.sort_by_key(|s| s.lane);
            MonitorSnapshot {
                client_alive: true,
                elapsed: since(now),
                tasks: self.names.iter().map(|(_, row)| row.clone()).collect(),
                running,
                spans,
                next_span: self.next_seq,
                lanes: self.lanes.len() as u32,
                sampled_one_in: self.sample_mask + 1,
            }
        }
    }
}
