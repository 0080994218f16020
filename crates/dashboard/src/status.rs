//! [`Status`]: everything the page shows, as sent at `/api/status` and on the live stream.

use serde::{Deserialize, Serialize};

/// One update of the dashboard: the JSON at `/api/status` and each message of `/api/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Status {
    /// The dashboard's title (the program and what it runs).
    pub title: String,
    /// What the dashboard watches: a client's backend (`threads`, `tokio`, `redis`) or
    /// `fleet` for a Redis fleet seen from Redis alone.
    pub backend: String,
    /// Updates made so far (1 for the first): a page that shows a growing number is live.
    pub seq: u64,
    /// Seconds since the dashboard started.
    pub elapsed_s: f64,
    /// Time of this update, milliseconds since the Unix epoch.
    pub updated_ms: u64,
    /// Every task name together.
    pub totals: Progress,
    /// Progress per task name (empty for a fleet seen from Redis alone: workers report
    /// totals, not names).
    pub tasks: Vec<Progress>,
    /// The task stream of the last [`Status::stream`]`.window_s` seconds.
    pub stream: TaskStream,
    /// The workers (threads of a local backend, or the processes of a fleet).
    pub workers: Vec<WorkerRow>,
    /// Jobs waiting on a fleet's stream, not yet taken by a worker (fleets only).
    pub queued_remote: Option<u64>,
    /// Jobs a fleet's workers took and have not answered yet (fleets only).
    pub pending_remote: Option<u64>,
    /// Tasks finished (or failed) per second, one point per second, oldest first:
    /// `[seconds since start, tasks/s]`.
    pub throughput: Vec<[f64; 2]>,
    /// Panels added by the program (the crawl's politeness and failures).
    pub panels: Vec<Panel>,
    /// Problems reading a source (shown as a banner; the rest of the page stays live).
    pub errors: Vec<String>,
}

/// Counters of one task name (or of all, in [`Status::totals`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Progress {
    /// The task name (`all` for the totals).
    pub name: String,
    /// Tasks created.
    pub submitted: u64,
    /// Waiting: for dependencies, a resource, a retry delay or a free worker.
    pub queued: u64,
    /// Running now.
    pub running: u64,
    /// Finished with a value.
    pub done: u64,
    /// Failed for good.
    pub failed: u64,
    /// Attempts retried.
    pub retried: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Tasks ended per second over the last few seconds.
    pub rate: f64,
}

/// The task stream: spans of attempts on lanes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskStream {
    /// The span of time shown, in seconds (ending at `now_s`).
    pub window_s: f64,
    /// The time of this update, seconds since the watched client's monitor started.
    pub now_s: f64,
    /// Lanes in use so far.
    pub lanes: u32,
    /// The spans are of 1 task in this many (1: every task; tasks coming faster than a page
    /// can draw are sampled).
    pub sampled_one_in: u64,
    /// Attempts in the window, ended ones first, then the running ones.
    pub spans: Vec<Span>,
}

/// One attempt on the task stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Span {
    /// The task name (its colour).
    pub name: String,
    /// Its lane.
    pub lane: u32,
    /// Start, seconds on the stream's clock.
    pub start_s: f64,
    /// End (for a running attempt, now).
    pub end_s: f64,
    /// `finished`, `failed`, `retried`, `cancelled` or `running`.
    pub outcome: String,
}

/// One worker: a local backend as a whole, or one process of a fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkerRow {
    /// Its name (a fleet worker's consumer name).
    pub name: String,
    /// The machine's host name.
    pub host: String,
    /// Process id, when known.
    pub pid: Option<u32>,
    /// The source addresses it sends from (`--bind-ip`), if set.
    pub addresses: Vec<String>,
    /// How many tasks it runs at once.
    pub concurrency: u64,
    /// Running now.
    pub running: u64,
    /// Tasks it finished with a value.
    pub done: u64,
    /// Tasks it ended with a failure.
    pub failed: u64,
    /// Seconds since its last heartbeat (0 for a local backend, always current).
    pub heartbeat_age_s: f64,
    /// Resident memory of its process, bytes.
    pub rss_bytes: Option<u64>,
}

impl WorkerRow {
    /// A row with a name and host; the counters are zero.
    ///
    /// ```
    /// let mut row = sofleet_dashboard::WorkerRow::new("w1", "box");
    /// row.concurrency = 4;
    /// assert_eq!((row.name.as_str(), row.concurrency), ("w1", 4));
    /// ```
    pub fn new(name: impl Into<String>, host: impl Into<String>) -> WorkerRow {
        WorkerRow {
            name: name.into(),
            host: host.into(),
            ..WorkerRow::default()
        }
    }
}

/// A table a program adds to the page (see [`PanelSource`](crate::PanelSource)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Panel {
    /// A stable identifier (the element id on the page: `panel-{id}`).
    pub id: String,
    /// The heading.
    pub title: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows of cells, as text.
    pub rows: Vec<Vec<String>>,
    /// Shown when there are no rows.
    pub empty: String,
}

impl Panel {
    /// A panel with its columns and no rows.
    ///
    /// ```
    /// let mut panel = sofleet_dashboard::Panel::new("hosts", "Hosts", ["host", "requests"]);
    /// panel.rows.push(vec!["127.0.0.1".into(), "12".into()]);
    /// assert_eq!(panel.columns.len(), panel.rows[0].len());
    /// ```
    pub fn new<S: Into<String>>(
        id: impl Into<String>,
        title: impl Into<String>,
        columns: impl IntoIterator<Item = S>,
    ) -> Panel {
        Panel {
            id: id.into(),
            title: title.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            empty: "nothing yet".to_string(),
        }
    }
}
