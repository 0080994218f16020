//! The whole pipeline: listing pages -> question links -> question records, as executor tasks.

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sofleet_executor::{Client, ExecError, SubmitOptions, TaskFuture, as_completed};
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord, Stage};
use tokio::sync::Notify;
use url::Url;

use crate::config::{CrawlConfig, CrawlPlan};
use crate::error::CrawlError;
use crate::fetch::Fetcher;
use crate::stats::FetchStats;
use crate::tasks::{CrawlOutput, ListingResult, ListingTask, QuestionTask};

/// Something the crawl produced, handed to the caller's sink as soon as it is known.
#[derive(Debug, Clone, PartialEq)]
pub enum CrawlEvent {
    /// A question record (each question once, however many listings show it).
    Question(Box<CrawledQuestion>),
    /// A failure row: a page that could not be turned into a record.
    Failure(FailureRecord),
    /// Progress counters, after every completed task.
    Progress(CrawlProgress),
}

/// How far the crawl has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlProgress {
    /// Listing pages finished (fetched or failed).
    pub listings_done: usize,
    /// Listing pages planned.
    pub listings_total: usize,
    /// Question pages finished (fetched or failed).
    pub questions_done: usize,
    /// Distinct question links found so far.
    pub questions_total: usize,
    /// Failure rows emitted so far.
    pub failures: usize,
}

/// What a finished (or stopped) crawl did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlSummary {
    /// The fetcher's counters for this run.
    pub stats: FetchStats,
    /// Question records emitted.
    pub questions: usize,
    /// Failure rows emitted.
    pub failures: usize,
    /// Listing pages fetched successfully.
    pub listings: usize,
    /// Wall time of the crawl.
    pub elapsed: Duration,
    /// Whether the crawl was stopped early by its [`StopFlag`].
    pub stopped: bool,
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} questions, {} failures, {} listing pages in {:.1} s{}\n{}",
            self.questions,
            self.failures,
            self.listings,
            self.elapsed.as_secs_f64(),
            if self.stopped { " (stopped early)" } else { "" },
            self.stats
        )
    }
}

/// A stop request shared with e.g. a Ctrl-C handler: the crawl stops submitting, cancels what
/// is queued, records every page it did not get as a `cancelled` failure and returns what it
/// has.
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

    async fn stopped(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}

/// Where a pending task came from.
struct Pending {
    stage: Stage,
    url: String,
}

/// Listing context of a question link: where it was first seen.
struct Seen {
    listing_url: String,
    tag: Option<String>,
    page: Option<u32>,
}

/// Runs the whole crawl on `client`; see [`crawl_until`].
///
/// # Errors
/// As [`crawl_until`].
pub async fn crawl(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    crawl_until(client, config, plan, &StopFlag::new(), sink).await
}

fn fresh_run_id() -> u64 {
    rand::random::<u64>()
}

fn exec_failure(pending: &Pending, err: &ExecError) -> FailureRecord {
    let text = err.to_string();
    let kind = if err.is_cancelled() {
        FailureKind::Cancelled
    } else {
        FailureKind::Other
    };
    FailureRecord {
        url: pending.url.clone(),
        stage: pending.stage,
        kind,
        http_status: None,
        attempts: 0,
        message: format!("task failed in the executor: {text}"),
    }
}

/// Runs the crawl: listing tasks for every tag and page of `plan`, then, as each listing
/// completes, a question task for each question link on the crawled host not seen before.
/// Question records and failure rows go to `sink` as they arrive; the same question seen on two
/// listings is fetched and emitted once (with the listing where it was first seen). Stops early
/// when `stop` is set.
///
/// # Errors
/// [`CrawlError::InvalidConfig`] / [`CrawlError::InvalidPlan`] for bad input and
/// [`CrawlError::Client`] if the HTTP client cannot be built; page failures are rows, not errors.
pub async fn crawl_until(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    stop: &StopFlag,
    mut sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let base = config.validate()?;
    plan.validate()?;
    let run_id = fresh_run_id();
    let fetcher = Fetcher::shared(config, run_id)?;
    let result = run(
        client, config, plan, stop, &mut sink, &base, &fetcher, run_id,
    )
    .await;
    Fetcher::release(config, run_id);
    let (questions, failures, listings, stopped) = result;
    Ok(CrawlSummary {
        stats: fetcher.stats(),
        questions,
        failures,
        listings,
        elapsed: started.elapsed(),
        stopped,
    })
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

#[allow(clippy::too_many_arguments)]
async fn run(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    stop: &StopFlag,
    sink: &mut impl FnMut(CrawlEvent),
    base: &Url,
    fetcher: &Arc<Fetcher>,
    run_id: u64,
) -> (usize, usize, usize, bool) {
    let mut progress = CrawlProgress::default();
    let mut questions = 0usize;
    let mut listings = 0usize;
    let mut failures = 0usize;
    let emit_failure =
        |sink: &mut dyn FnMut(CrawlEvent), record: FailureRecord, failures: &mut usize| {
            *failures += 1;
            sink(CrawlEvent::Failure(record));
        };

    // robots.txt first, so an unreachable one is recorded once as a robots failure.
    if let Err(f) = fetcher.ensure_robots().await {
        let mut robots = base.clone();
        robots.set_path("/robots.txt");
        emit_failure(
            sink,
            f.into_record(robots.as_str(), Stage::Robots),
            &mut failures,
        );
    }

    let resource = host_resource(base);
    client.set_resource_limit(&resource, config.max_concurrency_per_host as usize);
    let options = |key: Option<String>| {
        let opts = SubmitOptions::new().resource(resource.clone());
        match key {
            Some(key) => opts.key(key),
            None => opts,
        }
    };

    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut live: HashMap<String, TaskFuture<CrawlOutput>> = HashMap::new();
    let mut listing_futures: Vec<TaskFuture<CrawlOutput>> = Vec::new();
    let mut planned: Vec<(String, String, u32)> = Vec::new();
    for tag in &plan.tags {
        for page in plan.pages.clone() {
            planned.push((
                plan.listing_url(base, tag, page).to_string(),
                tag.clone(),
                page,
            ));
        }
    }
    progress.listings_total = planned.len();
    let mut unsubmitted: Vec<Pending> = Vec::new();
    for (url, tag, page) in planned {
        if stop.is_stopped() {
            unsubmitted.push(Pending {
                stage: Stage::Listing,
                url,
            });
            continue;
        }
        let task = ListingTask {
            config: config.clone(),
            run_id,
            url: url.clone(),
            tag: Some(tag),
            page: Some(page),
        };
        let fut = client.submit_with(task, options(None));
        pending.insert(
            fut.key().to_string(),
            Pending {
                stage: Stage::Listing,
                url,
            },
        );
        live.insert(fut.key().to_string(), fut.clone());
        listing_futures.push(fut);
    }

    let mut seen_ids: HashSet<u64> = HashSet::new();
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut completed = as_completed(listing_futures);
    let mut stopped = stop.is_stopped();

    while !pending.is_empty() {
        let next = tokio::select! {
            biased;
            _ = stop.stopped(), if !stopped => None,
            item = completed.next() => match item { Some(item) => Some(item), None => break },
        };
        let Some((done, result)) = next else {
            stopped = true;
            for fut in live.values() {
                fut.cancel();
            }
            continue;
        };
        let key = done.key().to_string();
        drop(done);
        live.remove(&key);
        let Some(from) = pending.remove(&key) else {
            continue;
        };
        match (from.stage, result) {
            (_, Err(err)) => {
                match from.stage {
                    Stage::Listing => progress.listings_done += 1,
                    _ => progress.questions_done += 1,
                }
                emit_failure(sink, exec_failure(&from, &err), &mut failures);
            }
            (_, Ok(CrawlOutput::Failed(record))) => {
                match from.stage {
                    Stage::Listing => progress.listings_done += 1,
                    _ => progress.questions_done += 1,
                }
                emit_failure(sink, record, &mut failures);
            }
            (_, Ok(CrawlOutput::Listing(listing))) => {
                progress.listings_done += 1;
                listings += 1;
                for link in listing.links {
                    let on_host = Url::parse(&link.url)
                        .map(|u| fetcher.on_host(&u))
                        .unwrap_or(false);
                    if !on_host {
                        emit_failure(
                            sink,
                            FailureRecord {
                                url: link.url,
                                stage: Stage::Question,
                                kind: FailureKind::OffHost,
                                http_status: None,
                                attempts: 0,
                                message: format!(
                                    "link on {} leaves the crawled host {}",
                                    listing.url, base
                                ),
                            },
                            &mut failures,
                        );
                        continue;
                    }
                    if !seen_ids.insert(link.id) {
                        continue;
                    }
                    progress.questions_total += 1;
                    seen.insert(
                        link.url.clone(),
                        Seen {
                            listing_url: listing.url.clone(),
                            tag: listing.tag.clone(),
                            page: listing.page,
                        },
                    );
                    if stopped {
                        unsubmitted.push(Pending {
                            stage: Stage::Question,
                            url: link.url,
                        });
                        continue;
                    }
                    let key = format!(
                        "{}-{}-{}",
                        <QuestionTask as sofleet_executor::Task>::NAME,
                        config.digest(),
                        blake3::hash(link.url.as_bytes()).to_hex()
                    );
                    let task = QuestionTask {
                        config: config.clone(),
                        run_id,
                        url: link.url.clone(),
                    };
                    let fut = client.submit_with(task, options(Some(key)));
                    pending.insert(
                        fut.key().to_string(),
                        Pending {
                            stage: Stage::Question,
                            url: link.url,
                        },
                    );
                    completed.add(fut.clone());
                    live.insert(fut.key().to_string(), fut);
                }
            }
            (_, Ok(CrawlOutput::Question(q))) => {
                progress.questions_done += 1;
                questions += 1;
                let origin = seen.get(&q.url);
                sink(CrawlEvent::Question(Box::new(CrawledQuestion {
                    question: q.question,
                    source_url: q.url.clone(),
                    listing_url: origin.map(|s| s.listing_url.clone()),
                    listing_tag: origin.and_then(|s| s.tag.clone()),
                    listing_page: origin.and_then(|s| s.page),
                    fetched_at_ms: q.fetched_at_ms,
                })));
            }
        }
        progress.failures = failures;
        sink(CrawlEvent::Progress(progress));
    }

    // Defensive: a task the executor never reported is still a row, not a silent gap.
    for (_, p) in pending.drain() {
        emit_failure(
            sink,
            FailureRecord {
                url: p.url,
                stage: p.stage,
                kind: FailureKind::Other,
                http_status: None,
                attempts: 0,
                message: "the executor never reported this task's result".to_owned(),
            },
            &mut failures,
        );
    }
    for p in unsubmitted {
        emit_failure(
            sink,
            FailureRecord {
                url: p.url,
                stage: p.stage,
                kind: FailureKind::Cancelled,
                http_status: None,
                attempts: 0,
                message: "the crawl was stopped before this page was fetched".to_owned(),
            },
            &mut failures,
        );
    }
    (questions, failures, listings, stopped)
}

/// The URL of newest-questions page `page` on `base` (`/questions?tab=newest&page=N`).
pub fn newest_url(base: &Url, page: u32) -> Url {
    let mut url = base.join("/questions").unwrap_or_else(|_| base.clone());
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("tab", "newest")
        .append_pair("page", &page.to_string());
    url
}

fn listing_outcome(
    url: &str,
    output: Result<CrawlOutput, ExecError>,
) -> Result<ListingResult, FailureRecord> {
    let pending = Pending {
        stage: Stage::Listing,
        url: url.to_owned(),
    };
    match output {
        Ok(CrawlOutput::Listing(listing)) => Ok(listing),
        Ok(CrawlOutput::Failed(record)) => Err(record),
        Ok(CrawlOutput::Question(_)) => Err(FailureRecord {
            url: url.to_owned(),
            stage: Stage::Listing,
            kind: FailureKind::Parse,
            http_status: None,
            attempts: 1,
            message: "expected a listing page, got a question page".to_owned(),
        }),
        Err(e) => Err(exec_failure(&pending, &e)),
    }
}

/// The lesson's first exercise: the question titles of the newest-questions pages `pages`,
/// fetched one after another in the caller (`client` = `None`, the serial version) or as
/// parallel listing tasks on `client`. One entry per page, in page order: the page's titles
/// ([`ListingResult::titles`]) or its failure row.
///
/// # Errors
/// [`CrawlError`] for an invalid configuration or page range.
pub async fn fetch_titles(
    client: Option<&Client>,
    config: &CrawlConfig,
    pages: RangeInclusive<u32>,
) -> Result<Vec<Result<ListingResult, FailureRecord>>, CrawlError> {
    let base = config.validate()?;
    if *pages.start() == 0 || pages.is_empty() {
        return Err(CrawlError::InvalidPlan {
            message: format!(
                "page range {}..={} must be non-empty and start at 1 or later",
                pages.start(),
                pages.end()
            ),
        });
    }
    let run_id = fresh_run_id();
    Fetcher::shared(config, run_id)?;
    let tasks: Vec<ListingTask> = pages
        .map(|page| ListingTask {
            config: config.clone(),
            run_id,
            url: newest_url(&base, page).to_string(),
            tag: None,
            page: Some(page),
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    match client {
        None => {
            for task in tasks {
                let url = task.url.clone();
                results.push(listing_outcome(&url, Ok(task.execute().await)));
            }
        }
        Some(client) => {
            let resource = host_resource(&base);
            client.set_resource_limit(&resource, config.max_concurrency_per_host as usize);
            let futures: Vec<(String, TaskFuture<CrawlOutput>)> = tasks
                .into_iter()
                .map(|task| {
                    let url = task.url.clone();
                    (
                        url,
                        client.submit_with(task, SubmitOptions::new().resource(resource.clone())),
                    )
                })
                .collect();
            for (url, future) in futures {
                results.push(listing_outcome(&url, future.await));
            }
        }
    }
    Fetcher::release(config, run_id);
    Ok(results)
}
