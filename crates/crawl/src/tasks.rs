//! The crawl as executor tasks: [`ListingTask`] and [`QuestionTask`], both producing a
//! [`CrawlOutput`] so one `as_completed` stream can carry both.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_executor::{Task, TaskContext, TaskError};
use sofleet_extract::{ExtractError, ExtractLimits, Question};
use sofleet_records::{FailureKind, FailureRecord, Stage};
use url::Url;

use crate::config::CrawlConfig;
use crate::error::FetchFailure;
use crate::fetch::{Fetcher, Page};

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
    /// A listing page.
    Listing(ListingResult),
    /// A question page.
    Question(Box<QuestionResult>),
    /// The page failed after every retry.
    Failed(FailureRecord),
}

/// Fetches and extracts one listing page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListingTask {
    /// How to crawl.
    pub config: CrawlConfig,
    /// The crawl run (selects the shared [`Fetcher`] in this process).
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
    /// How to crawl.
    pub config: CrawlConfig,
    /// The crawl run (selects the shared [`Fetcher`] in this process).
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
    let limits = ExtractLimits::default()
        .with_time_budget(Duration::from_millis(fetcher.config().parse_budget_ms));
    let max_attempts = fetcher.config().retry.max_attempts;
    let max_age = match stage {
        Stage::Listing => Duration::from_millis(fetcher.config().listing_cache_ttl_ms),
        Stage::Question => Duration::from_millis(fetcher.config().question_cache_ttl_ms),
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

fn shared_fetcher(
    config: &CrawlConfig,
    run_id: u64,
    url: &str,
    stage: Stage,
) -> Result<Arc<Fetcher>, CrawlOutput> {
    Fetcher::shared(config, run_id).map_err(|e| {
        CrawlOutput::Failed(FailureRecord {
            url: url.to_owned(),
            stage,
            kind: FailureKind::Other,
            http_status: None,
            attempts: 0,
            message: e.to_string(),
        })
    })
}

impl ListingTask {
    /// Runs the task body directly (what the executor calls).
    pub async fn execute(self) -> CrawlOutput {
        let fetcher = match shared_fetcher(&self.config, self.run_id, &self.url, Stage::Listing) {
            Ok(f) => f,
            Err(out) => return out,
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
            Err(record) => return CrawlOutput::Failed(record),
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
        CrawlOutput::Listing(ListingResult {
            url: self.url,
            tag: self.tag,
            page: self.page,
            links,
            titles: listing.questions.into_iter().map(|q| q.title).collect(),
            fetched_at_ms: page.fetched_at_ms,
            attempts,
        })
    }
}

impl QuestionTask {
    /// Runs the task body directly (what the executor calls).
    pub async fn execute(self) -> CrawlOutput {
        let fetcher = match shared_fetcher(&self.config, self.run_id, &self.url, Stage::Question) {
            Ok(f) => f,
            Err(out) => return out,
        };
        match fetch_parsed(
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
        }
    }
}

impl Task for ListingTask {
    type Output = CrawlOutput;
    const NAME: &'static str = "sofleet-crawl.listing";

    async fn run(self, _ctx: TaskContext) -> Result<CrawlOutput, TaskError> {
        Ok(self.execute().await)
    }
}

impl Task for QuestionTask {
    type Output = CrawlOutput;
    const NAME: &'static str = "sofleet-crawl.question";

    async fn run(self, _ctx: TaskContext) -> Result<CrawlOutput, TaskError> {
        Ok(self.execute().await)
    }
}
