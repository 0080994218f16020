//! The whole pipeline: listing pages -> question links -> question records, as executor tasks.
//!
//! [`crawl_resume`] keeps at most a bounded window of tasks submitted at once (questions before
//! listings, so the queue of links found but not yet fetched stays short) and forgets every page
//! as soon as it is reported: its memory does not grow with the number of questions crawled.
//!
//! One run (`run::Run`) goes through its stages in order: robots.txt first (`robots.rs`),
//! then the submission window (`window.rs`: what is queued, submitted and in flight), each
//! result as it completes (`results.rs`: records, failure rows, the links a listing adds), a
//! stop request at any point (`window.rs`: cancel, report the rest as not fetched), and the
//! summary at the end.

mod results;
mod robots;
mod run;
mod window;

use std::collections::HashSet;

use sofleet_executor::{Client, ExecError};
use sofleet_records::{FailureKind, FailureRecord, Stage};
use tokio::time::Instant;
use url::Url;

use crate::config::{CrawlConfig, CrawlPlan};
use crate::error::CrawlError;
use crate::events::{CrawlEvent, CrawlSummary, StopFlag};
use crate::tasks::ListingResult;
use run::Run;

/// What earlier runs already did, so that this run does not do it again (resuming a stopped
/// crawl, or adding to an existing dataset).
///
/// ```
/// let mut resume = sofleet_crawl::CrawlResume::default();
/// resume.have_questions.insert(42);
/// assert!(resume.listings.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrawlResume {
    /// Questions the dataset already has: their pages are not fetched (counted as skipped).
    pub have_questions: HashSet<u64>,
    /// Listing pages an unfinished earlier run already read (from
    /// [`CrawlEvent::Listing`]): not fetched again; their links are used as they are.
    pub listings: Vec<ListingResult>,
}

/// Runs the whole crawl on `client`; see [`crawl_resume`].
///
/// # Errors
/// As [`crawl_resume`].
pub async fn crawl(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    crawl_resume(
        client,
        config,
        plan,
        &StopFlag::new(),
        CrawlResume::default(),
        sink,
    )
    .await
}

/// Runs the whole crawl on `client` until done or until `stop` is set; see [`crawl_resume`].
///
/// # Errors
/// As [`crawl_resume`].
pub async fn crawl_until(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    stop: &StopFlag,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    crawl_resume(client, config, plan, stop, CrawlResume::default(), sink).await
}

/// Runs the crawl: robots.txt first (a [`RobotsTask`](crate::RobotsTask)), then a
/// [`ListingTask`](crate::ListingTask) for every tag and page of `plan` (except those `resume`
/// already has), and for each question link on the crawled host not seen before (and not in
/// `resume`) a [`QuestionTask`](crate::QuestionTask). Question records, failure rows, listing pages read and pages left
/// unfetched go to `sink` as they happen; the same question seen on two listings is fetched and
/// emitted once (with the listing where it was first seen).
///
/// When `stop` is set the crawl submits nothing more, cancels what is queued or in flight,
/// keeps every result that still arrives, and reports each page it did not get as
/// [`CrawlEvent::NotFetched`] — never as a failure.
///
/// # Errors
/// [`CrawlError::InvalidConfig`] / [`CrawlError::InvalidPlan`] for bad input and
/// [`CrawlError::Client`] if the HTTP client cannot be built; page failures are rows, not errors.
pub async fn crawl_resume(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    stop: &StopFlag,
    resume: CrawlResume,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let base = config.validate()?;
    plan.validate()?;
    let run_id = fresh_run_id();
    // The cache directory belongs to the worker (its policy), never to a job.
    let job = config.for_job();
    let mut run = Run::new(client, &job, plan, stop, resume, sink, base, run_id);
    run.run().await;
    Ok(run.summary(started.elapsed()))
}

/// A random id for a new run: each worker keeps one fetcher per (configuration, run).
pub(crate) fn fresh_run_id() -> u64 {
    rand::random::<u64>()
}

/// The failure row for a task the executor could not run.
pub(crate) fn exec_failure(stage: Stage, url: &str, err: &ExecError) -> FailureRecord {
    FailureRecord {
        url: url.to_owned(),
        stage,
        kind: if err.is_cancelled() {
            FailureKind::Cancelled
        } else {
            FailureKind::Other
        },
        http_status: None,
        attempts: 0,
        message: format!("task failed in the executor: {err}"),
    }
}

/// The resource tag limiting concurrent tasks on one host.
pub fn host_resource(base: &Url) -> String {
    format!(
        "host={}",
        match base.port() {
            Some(port) => format!("{}:{port}", base.host_str().unwrap_or("")),
            None => base.host_str().unwrap_or("").to_owned(),
        }
    )
}
