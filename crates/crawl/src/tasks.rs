//! The crawl as executor tasks: [`RobotsTask`], [`ListingTask`] and [`QuestionTask`], each
//! producing a [`CrawlReport`] (a [`CrawlOutput`] plus the running worker's statistics) so one
//! `as_completed` stream can carry them all. Tasks carry only the job (URLs, run id, the
//! client's preferences); the fetcher, its policy, cache and source address belong to the
//! [`CrawlWorker`] running them, read from the task's context.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_executor::{Task, TaskContext, TaskError};
use sofleet_extract::{ExtractError, ExtractLimits, Question};
use sofleet_records::{FailureKind, FailureRecord, Stage};
use url::Url;

use crate::config::CrawlConfig;
use crate::error::{CrawlError, FetchFailure};
use crate::fetch::{Fetcher, Page};
use crate::stats::FetchStats;
use crate::worker::CrawlWorker;

/// One question link found on a listing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingLink {
    /// Question id.
    pub id: u64,
    /// Absolute URL of the question page.
    pub url: String,
}

/// A listing page that was fetched and extracted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingResult {
    /// The listing URL.
    pub url: String,
    /// The listing's tag.
    pub tag: Option<String>,
    /// The listing's page number.
    pub page: Option<u32>,
    /// Question links on the page, in page order (links to other hosts are kept here and refused
    /// by the pipeline).
    pub links: Vec<ListingLink>,
    /// Question titles in page order.
    pub titles: Vec<String>,
    /// When the page was fetched, Unix ms.
    pub fetched_at_ms: i64,
    /// Requests made (0 when served from the cache).
    pub attempts: u32,
}

/// A question page that was fetched and extracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    /// The URL the question was fetched from (after redirects within the allowed hosts).
    pub url: String,
    /// The extracted question.
    pub question: Question,
    /// When the page was fetched, Unix ms.
    pub fetched_at_ms: i64,
    /// Requests made (0 when served from the cache).
    pub attempts: u32,
}

/// What a crawl task produces: a result, or a failure row (failures are data, never dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CrawlOutput {
    /// robots.txt was read (or the site has none): the host may be crawled.
    Robots,
    /// A listing page.
    Listing(ListingResult),
    /// A question page.
    Question(Box<QuestionResult>),
    /// The page failed after every retry.
    Failed(FailureRecord),
}

/// Which worker ran a task, from where, and its request counters for the task's run so far
/// (counters only grow: the newest report of a worker has its totals).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// The worker's name (`local` for a local crawl).
    pub name: String,
    /// Where its requests leave from (see [`WorkerPolicy::source`](crate::WorkerPolicy::source)).
    pub source: String,
    /// The worker's counters for this run.
    pub stats: FetchStats,
}

/// A crawl task's output and the report of the worker that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlReport {
    /// What the task produced.
    pub output: CrawlOutput,
    /// Who produced it, with the worker's counters.
    pub worker: WorkerReport,
}

impl CrawlReport {
    fn new(output: CrawlOutput, fetcher: &Fetcher) -> CrawlReport {
        CrawlReport {
            output,
            worker: WorkerReport {
                name: fetcher.worker_name().to_owned(),
                source: fetcher.source().to_owned(),
                stats: fetcher.stats(),
            },
        }
    }
}

/// Reads robots.txt of the crawl's host once, before any page: an unreachable robots.txt is
/// one failure row, and the crawl fetches nothing from the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RobotsTask {
    /// How to crawl (the job's preferences).
    pub config: CrawlConfig,
    /// The crawl run (selects the worker's fetcher for the run).
    pub run_id: u64,
}

/// Fetches and extracts one listing page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListingTask {
    /// How to crawl (the job's preferences; the worker's policy has the last word).
    pub config: CrawlConfig,
    /// The crawl run (selects the worker's fetcher for the run).
    pub run_id: u64,
    /// The listing URL.
    pub url: String,
    /// The listing's tag, if a tag listing.
    pub tag: Option<String>,
    /// The listing's page number.
    pub page: Option<u32>,
}

/// Fetches and extracts one question page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuestionTask {
    /// How to crawl (the job's preferences; the worker's policy has the last word).
    pub config: CrawlConfig,
    /// The crawl run (selects the worker's fetcher for the run).
    pub run_id: u64,
    /// The question URL.
    pub url: String,
}

/// The failure kind for an extraction error.
pub fn extract_failure_kind(e: &ExtractError) -> FailureKind {
    match e {
        ExtractError::Captcha { .. } => FailureKind::Captcha,
        ExtractError::TooManyRequests => FailureKind::RateLimited,
        ExtractError::NotFound => FailureKind::NotFound,
        ExtractError::Truncated { .. } | ExtractError::Empty => FailureKind::Truncated,
        _ => FailureKind::Parse,
    }
}

/// Fetches `url` and parses it with `parse`; refetches (bypassing the cache) when the page turns
/// out to be a block page or truncated, up to the retry budget. Good pages go into the cache.
async fn fetch_parsed<T>(
    fetcher: &Arc<Fetcher>,
    url: &str,
    stage: Stage,
    parse: fn(&str, &ExtractLimits) -> Result<T, ExtractError>,
) -> Result<(T, Page, u32), FailureRecord>
where
    T: Send + 'static,
{
    let limits = ExtractLimits::default().with_time_budget(fetcher.config().parse_budget);
    let max_attempts = fetcher.config().retry.max_attempts;
    let max_age = match stage {
        Stage::Listing => fetcher.config().listing_cache_ttl,
        Stage::Question => fetcher.config().question_cache_ttl,
        Stage::Robots => crate::cache::ROBOTS_CACHE_TTL,
    };
    let mut attempts = 0u32;
    let mut content_tries = 0u32;
    loop {
        // A page refetched because its content was bad must not come from the cache.
        let cache = (content_tries == 0).then_some(max_age);
        let page = fetcher.fetch(url, cache).await.map_err(|f| {
            FetchFailure {
                attempts: attempts + f.attempts,
                ..f
            }
            .into_record(url, stage)
        })?;
        attempts += page.attempts;
        // Parsing is CPU work: off the async threads, so a hard page never stalls request
        // scheduling, and within the per-page time budget.
        let (parsed, page) = match tokio::task::spawn_blocking(move || {
            let parsed = parse(&page.body, &limits);
            (parsed, page)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                return Err(FailureRecord {
                    url: url.to_owned(),
                    stage,
                    kind: FailureKind::Parse,
                    http_status: None,
                    attempts: attempts.max(1),
                    message: format!("the page could not be parsed: {e}"),
                });
            }
        };
        match parsed {
            Ok(value) => {
                fetcher.store(&page).await;
                return Ok((value, page, attempts));
            }
            Err(e) => {
                content_tries += 1;
                let kind = extract_failure_kind(&e);
                if !e.is_retryable() || content_tries >= max_attempts {
                    return Err(FailureRecord {
                        url: url.to_owned(),
                        stage,
                        kind,
                        http_status: Some(page.status),
                        attempts: attempts.max(1),
                        message: e.to_string(),
                    });
                }
                match kind {
                    FailureKind::Captcha => fetcher.report_captcha(),
                    FailureKind::RateLimited => {
                        fetcher.pause_host(fetcher.config().retry.backoff(content_tries))
                    }
                    _ => {
                        tokio::time::sleep(
                            fetcher
                                .config()
                                .retry
                                .backoff(content_tries)
                                .min(Duration::from_secs(5)),
                        )
                        .await
                    }
                }
            }
        }
    }
}

/// The fetcher of the task's run from the worker running it, or the failure report when the
/// worker has no [`CrawlWorker`] or refuses the job.
fn worker_fetcher(
    ctx: &TaskContext,
    config: &CrawlConfig,
    run_id: u64,
    url: &str,
    stage: Stage,
) -> Result<Arc<Fetcher>, Box<CrawlReport>> {
    let failed = |kind, message: String, worker: WorkerReport| {
        Box::new(CrawlReport {
            output: CrawlOutput::Failed(FailureRecord {
                url: url.to_owned(),
                stage,
                kind,
                http_status: None,
                attempts: 0,
                message,
            }),
            worker,
        })
    };
    let worker = ctx.resource::<CrawlWorker>().map_err(|e| {
        failed(
            FailureKind::Other,
            e.message().to_owned(),
            WorkerReport::default(),
        )
    })?;
    worker.fetcher(config, run_id).map_err(|e| {
        let kind = match e {
            CrawlError::Refused { .. } => FailureKind::WorkerRefused,
            _ => FailureKind::Other,
        };
        failed(
            kind,
            e.to_string(),
            WorkerReport {
                name: worker.policy().name.clone(),
                source: worker.policy().source(),
                stats: FetchStats::default(),
            },
        )
    })
}

impl RobotsTask {
    /// Runs the task body with the worker's resources in `ctx`.
    pub async fn execute(self, ctx: &TaskContext) -> CrawlReport {
        let robots = Url::parse(&self.config.base_url)
            .map(|mut u| {
                u.set_path("/robots.txt");
                u.set_query(None);
                u.to_string()
            })
            .unwrap_or_else(|_| format!("{}/robots.txt", self.config.base_url));
        let fetcher = match worker_fetcher(ctx, &self.config, self.run_id, &robots, Stage::Robots) {
            Ok(f) => f,
            Err(report) => return *report,
        };
        let output = match fetcher.ensure_robots().await {
            Ok(()) => CrawlOutput::Robots,
            Err(f) => CrawlOutput::Failed(f.into_record(&robots, Stage::Robots)),
        };
        CrawlReport::new(output, &fetcher)
    }
}

impl ListingTask {
    /// Runs the task body with the worker's resources in `ctx` (what the executor calls).
    pub async fn execute(self, ctx: &TaskContext) -> CrawlReport {
        let fetcher =
            match worker_fetcher(ctx, &self.config, self.run_id, &self.url, Stage::Listing) {
                Ok(f) => f,
                Err(report) => return *report,
            };
        let (listing, page, attempts) = match fetch_parsed(
            &fetcher,
            &self.url,
            Stage::Listing,
            sofleet_extract::parse_listing_with,
        )
        .await
        {
            Ok(v) => v,
            Err(record) => return CrawlReport::new(CrawlOutput::Failed(record), &fetcher),
        };
        let base = Url::parse(&self.url).unwrap_or_else(|_| fetcher.base().clone());
        let links = listing
            .questions
            .iter()
            .filter_map(|q| {
                let url = base.join(&q.link).ok()?;
                Some(ListingLink {
                    id: q.id,
                    url: url.to_string(),
                })
            })
            .collect();
        let output = CrawlOutput::Listing(ListingResult {
            url: self.url,
            tag: self.tag,
            page: self.page,
            links,
            titles: listing.questions.into_iter().map(|q| q.title).collect(),
            fetched_at_ms: page.fetched_at_ms,
            attempts,
        });
        CrawlReport::new(output, &fetcher)
    }
}

impl QuestionTask {
    /// Runs the task body with the worker's resources in `ctx` (what the executor calls).
    pub async fn execute(self, ctx: &TaskContext) -> CrawlReport {
        let fetcher =
            match worker_fetcher(ctx, &self.config, self.run_id, &self.url, Stage::Question) {
                Ok(f) => f,
                Err(report) => return *report,
            };
        let output = match fetch_parsed(
            &fetcher,
            &self.url,
            Stage::Question,
            sofleet_extract::parse_question_with,
        )
        .await
        {
            Ok((question, page, attempts)) => CrawlOutput::Question(Box::new(QuestionResult {
                // The URL actually fetched: a redirect (within the allowed hosts) is followed.
                url: page.redirected_to.unwrap_or(self.url),
                question,
                fetched_at_ms: page.fetched_at_ms,
                attempts,
            })),
            Err(record) => CrawlOutput::Failed(record),
        };
        CrawlReport::new(output, &fetcher)
    }
}

impl Task for RobotsTask {
    type Output = CrawlReport;
    const NAME: &'static str = "sofleet-crawl.robots";
    const PURE: bool = false;

    async fn run(self, ctx: TaskContext) -> Result<CrawlReport, TaskError> {
        Ok(self.execute(&ctx).await)
    }
}

impl Task for ListingTask {
    type Output = CrawlReport;
    const NAME: &'static str = "sofleet-crawl.listing";
    const VERSION: u32 = 2;

    async fn run(self, ctx: TaskContext) -> Result<CrawlReport, TaskError> {
        Ok(self.execute(&ctx).await)
    }
}

impl Task for QuestionTask {
    type Output = CrawlReport;
    const NAME: &'static str = "sofleet-crawl.question";
    const VERSION: u32 = 2;

    async fn run(self, ctx: TaskContext) -> Result<CrawlReport, TaskError> {
        Ok(self.execute(&ctx).await)
    }
}

// Every binary linking the crawl runs its tasks from `TaskRegistry::collected()` (e.g.
// `sofleet worker`), with no hand-written list.
sofleet_executor::register_task!(RobotsTask);
sofleet_executor::register_task!(ListingTask);
sofleet_executor::register_task!(QuestionTask);
