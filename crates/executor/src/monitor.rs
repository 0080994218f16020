//! A [`Monitor`]: what a dashboard shows of a client, recorded by the scheduler itself.
//!
//! [`Client::events`](crate::Client::events) hands every subscriber every event through a
//! channel: exact, but it costs a send per event and a reader that keeps up. A monitor instead
//! keeps, inside the scheduler and under its lock, counters per task name and a bounded ring of
//! the last [`SPAN_CAPACITY`] task spans (start to end, with a lane). Reading it is a copy taken
//! when the reader asks, so a slow or absent reader costs nothing and memory stays bounded
//! however many tasks run.
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

use crate::ClientStats;
use crate::key::TaskName;
use crate::scheduler::Shared;

/// The number of finished spans a monitor keeps (older ones are dropped).
pub const SPAN_CAPACITY: usize = 4096;

/// The number of distinct task names counted separately; later names share one row,
/// [`OTHER_TASKS`].
pub const NAME_CAPACITY: usize = 256;

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
        match self.shared.upgrade() {
            Some(shared) => shared.monitor_snapshot(spans_since),
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
    /// The client's counters.
    pub stats: ClientStats,
    /// Counters per task name, in the order the names were first seen.
    pub tasks: Vec<TaskProgress>,
    /// Attempts running now (started, not ended), with their lanes.
    pub running: Vec<TaskSpan>,
    /// Ended attempts with a sequence number from `spans_since` on, oldest first.
    pub spans: Vec<TaskSpan>,
    /// The sequence number the next ended span will get.
    pub next_span: u64,
    /// Lanes used so far (a lane is one place an attempt runs at a time: at most the number of
    /// attempts that ever ran at once).
    pub lanes: u32,
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
        lanes: Vec<Lane>,
        ended: VecDeque<Ended>,
        next_seq: u64,
    }

    impl Recorder {
        pub(crate) fn new() -> Recorder {
            Recorder {
                started_at: Instant::now(),
                names: Vec::new(),
                slots: HashMap::new(),
                last: None,
                open: NodeMap::default(),
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

        pub(crate) fn started(&mut self, node: u64, name: &TaskName, at: Instant) {
            if self.open.contains_key(&node) {
                return;
            }
            let slot = self.slot(name);
            self.names[slot as usize].1.running += 1;
            let lane = self.take_lane(at);
            self.open.insert(
                node,
                Open {
                    slot,
                    lane,
                    start: at,
                    end: None,
                },
            );
        }

        /// Sets the end of `node`'s running attempt, measured by the backend.
        pub(crate) fn set_end(&mut self, node: u64, end: Instant) {
            if let Some(open) = self.open.get_mut(&node) {
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

        /// The attempt of `node` ended with `outcome`; the task's counters move accordingly.
        pub(crate) fn ended(&mut self, node: u64, name: &TaskName, outcome: SpanOutcome) {
            let slot = match self.open.remove(&node) {
                Some(open) => {
                    let row = &mut self.names[open.slot as usize].1;
                    row.running = row.running.saturating_sub(1);
                    let end = open.end.unwrap_or_else(Instant::now);
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
                    open.slot
                }
                None => self.slot(name),
            };
            let row = &mut self.names[slot as usize].1;
            match outcome {
                SpanOutcome::Finished => row.finished += 1,
                SpanOutcome::Retried => row.retried += 1,
                SpanOutcome::Failed => row.failed += 1,
                SpanOutcome::Cancelled => row.cancelled += 1,
                SpanOutcome::Running => {}
            }
        }

        pub(crate) fn snapshot(&self, stats: ClientStats, spans_since: u64) -> MonitorSnapshot {
            let now = Instant::now();
            let since = |t: Instant| t.saturating_duration_since(self.started_at);
            let name = |slot: u32| self.names[slot as usize].0.clone();
            let first_seq = self.next_seq - self.ended.len() as u64;
            let skip = spans_since.saturating_sub(first_seq) as usize;
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
                stats,
                tasks: self.names.iter().map(|(_, row)| row.clone()).collect(),
                running,
                spans,
                next_span: self.next_seq,
                lanes: self.lanes.len() as u32,
            }
        }
    }
}
