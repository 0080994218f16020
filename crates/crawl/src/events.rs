//! What a crawl tells its caller: [`CrawlEvent`]s as they happen, [`CrawlProgress`] counters, the
//! final [`CrawlSummary`], and the [`StopFlag`] a caller uses to stop it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_records::{CrawledQuestion, FailureRecord, Stage};
use tokio::sync::Notify;

use crate::stats::FetchStats;
use crate::tasks::ListingResult;

/// Something the crawl produced, handed to the caller's sink as soon as it is known.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CrawlEvent {
    /// A question record (each question once, however many listings show it).
    Question(Box<CrawledQuestion>),
    /// A failure row: a page that could not be turned into a record.
    Failure(FailureRecord),
    /// A listing page was fetched and read, with its question links. A caller that keeps
    /// these can hand them back in [`CrawlResume::listings`](crate::CrawlResume::listings) so a
    /// resumed run does not fetch the page again.
    Listing(Box<ListingResult>),
    /// A page the crawl did not fetch because it was stopped: not a failure, just not done.
    NotFetched(NotFetched),
    /// Progress counters, after every completed task.
    Progress(CrawlProgress),
}

/// A page left unfetched by a stopped crawl (see [`CrawlEvent::NotFetched`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotFetched {
    /// The page's URL.
    pub url: String,
    /// Which kind of page it is.
    pub stage: Stage,
}

/// How far the crawl has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlProgress {
    /// Listing pages finished (fetched, failed or taken from the resume state).
    pub listings_done: usize,
    /// Listing pages planned.
    pub listings_total: usize,
    /// Question pages finished (fetched or failed) plus questions skipped because the dataset
    /// already has them.
    pub questions_done: usize,
    /// Distinct question links found so far.
    pub questions_total: usize,
    /// Questions skipped because the dataset already has them (see
    /// [`CrawlResume::have_questions`](crate::CrawlResume::have_questions)).
    pub questions_skipped: usize,
    /// Failure rows emitted so far.
    pub failures: usize,
}

/// What one worker did for a crawl run (one line of a fleet crawl's summary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSummary {
    /// The worker's name (`local` for a local crawl).
    pub name: String,
    /// Where its requests left from.
    pub source: String,
    /// Tasks of this run it reported.
    pub tasks: u64,
    /// Its request counters for this run.
    pub stats: FetchStats,
}

impl std::fmt::Display for WorkerSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (from {}): {} tasks, {} requests, {} cache hits, 429 {}",
            self.name,
            self.source,
            self.tasks,
            self.stats.requests,
            self.stats.cache_hits,
            self.stats.too_many_requests
        )
    }
}

/// The workers' reports of one run, folded as they arrive.
#[derive(Debug, Default)]
pub(crate) struct FleetTally(std::collections::BTreeMap<String, WorkerSummary>);

impl FleetTally {
    pub(crate) fn record(&mut self, report: crate::tasks::WorkerReport) {
        if report.name.is_empty() {
            return;
        }
        let entry = self
            .0
            .entry(report.name.clone())
            .or_insert_with(|| WorkerSummary {
                name: report.name,
                source: report.source,
                ..WorkerSummary::default()
            });
        entry.tasks += 1;
        entry.stats.merge_newer(&report.stats);
    }

    /// The workers (by name) and their counters summed.
    pub(crate) fn finish(self) -> (Vec<WorkerSummary>, FetchStats) {
        let workers: Vec<WorkerSummary> = self.0.into_values().collect();
        let mut total = FetchStats::default();
        for w in &workers {
            total.add(&w.stats);
        }
        (workers, total)
    }
}

/// What a finished (or stopped) crawl did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlSummary {
    /// The request counters of this run, summed over every worker that ran its tasks.
    pub stats: FetchStats,
    /// Each worker that ran tasks of this run, by name.
    pub workers: Vec<WorkerSummary>,
    /// Question records emitted.
    pub questions: usize,
    /// Failure rows emitted.
    pub failures: usize,
    /// Listing pages fetched successfully in this run.
    pub listings: usize,
    /// Listing pages taken from the resume state instead of being fetched.
    pub listings_resumed: usize,
    /// Questions not fetched because the dataset already has them.
    pub questions_skipped: usize,
    /// Pages (listings and questions) not fetched because the crawl was stopped.
    pub not_fetched: usize,
    /// Wall time of the crawl.
    pub elapsed: Duration,
    /// Whether the crawl was stopped early by its [`StopFlag`].
    pub stopped: bool,
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} questions, {} failures, {} listing pages in {:.1} s",
            self.questions,
            self.failures,
            self.listings,
            self.elapsed.as_secs_f64(),
        )?;
        if self.listings_resumed > 0 || self.questions_skipped > 0 {
            write!(
                f,
                "; already done before: {} listing pages, {} questions",
                self.listings_resumed, self.questions_skipped
            )?;
        }
        if self.stopped {
            write!(
                f,
                " (stopped early: {} pages not fetched)",
                self.not_fetched
            )?;
        }
        write!(f, "\n{}", self.stats)
    }
}

/// A stop request shared with e.g. a Ctrl-C handler: the crawl stops submitting, cancels what
/// is queued or in flight, reports every page it did not get as [`CrawlEvent::NotFetched`] and
/// returns what it has.
///
/// ```
/// let stop = sofleet_crawl::StopFlag::new();
/// assert!(!stop.is_stopped());
/// stop.clone().stop();
/// assert!(stop.is_stopped());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<(AtomicBool, Notify)>);

impl StopFlag {
    /// A flag that is not set.
    pub fn new() -> StopFlag {
        StopFlag::default()
    }

    /// Asks the crawl to stop.
    pub fn stop(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    /// Resolves once a stop is asked for.
    pub async fn stopped(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}
