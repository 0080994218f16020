//! Where the dashboard's workers and panels come from, besides the client's monitor.

use async_trait::async_trait;

use crate::status::{Panel, WorkerRow};

/// What a [`WorkerSource`] reports: its workers and, for a fleet, its queue.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Workers {
    /// One row per worker.
    pub rows: Vec<WorkerRow>,
    /// Jobs waiting to be taken by a worker, when the source knows.
    pub queued: Option<u64>,
    /// Jobs taken by a worker and not answered yet, when the source knows.
    pub pending: Option<u64>,
}

impl Workers {
    /// Just rows, no queue.
    ///
    /// ```
    /// use sofleet_dashboard::{WorkerRow, Workers};
    /// let w = Workers::rows(vec![WorkerRow::new("w1", "box")]);
    /// assert_eq!((w.rows.len(), w.queued), (1, None));
    /// ```
    pub fn rows(rows: Vec<WorkerRow>) -> Workers {
        Workers {
            rows,
            ..Workers::default()
        }
    }
}

/// Workers the dashboard lists (a Redis fleet's, read from their heartbeats). Asked once per
/// update, with a time limit; an error is shown on the page and the next update asks again.
///
/// ```
/// use sofleet_dashboard::{WorkerRow, WorkerSource, Workers};
///
/// struct Fixed;
///
/// #[async_trait::async_trait]
/// impl WorkerSource for Fixed {
///     async fn workers(&self) -> Result<Workers, String> {
///         Ok(Workers::rows(vec![WorkerRow::new("w1", "box")]))
///     }
/// }
/// # let _ = std::sync::Arc::new(Fixed) as std::sync::Arc<dyn WorkerSource>;
/// ```
#[async_trait]
pub trait WorkerSource: Send + Sync + 'static {
    /// The workers now. The error's text is shown on the page as it is: it must not contain a
    /// password.
    async fn workers(&self) -> Result<Workers, String>;
}

/// Tables a program adds to the page (the crawl's politeness per host and its latest
/// failures). Asked once per update: it must be quick and must not block.
///
/// Any `Fn() -> Vec<Panel>` is one:
///
/// ```
/// use sofleet_dashboard::{Panel, PanelSource};
/// let source = || vec![Panel::new("hosts", "Hosts", ["host"])];
/// assert_eq!(source.panels()[0].id, "hosts");
/// ```
pub trait PanelSource: Send + Sync + 'static {
    /// The panels now.
    fn panels(&self) -> Vec<Panel>;
}

impl<F> PanelSource for F
where
    F: Fn() -> Vec<Panel> + Send + Sync + 'static,
{
    fn panels(&self) -> Vec<Panel> {
        self()
    }
}

/// The process the watched client runs its tasks in, listed as one worker (a local
/// backend's threads are its lanes on the task stream).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LocalWorker {
    /// The row's name (default: `local (BACKEND)`).
    pub name: Option<String>,
    /// Tasks run at once (default: the most that ever ran at once).
    pub concurrency: Option<usize>,
    /// Source addresses, shown as given.
    pub addresses: Vec<String>,
}

impl LocalWorker {
    /// A local worker running `concurrency` tasks at once.
    ///
    /// ```
    /// let w = sofleet_dashboard::LocalWorker::with_concurrency(8).address("127.0.0.2");
    /// assert_eq!((w.concurrency, w.addresses.len()), (Some(8), 1));
    /// ```
    pub fn with_concurrency(concurrency: usize) -> LocalWorker {
        LocalWorker {
            concurrency: Some(concurrency),
            ..LocalWorker::default()
        }
    }

    /// Adds a source address.
    pub fn address(mut self, address: impl Into<String>) -> LocalWorker {
        self.addresses.push(address.into());
        self
    }

    /// Sets the row's name.
    pub fn named(mut self, name: impl Into<String>) -> LocalWorker {
        self.name = Some(name.into());
        self
    }
}
