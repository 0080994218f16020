//! A polite, fault-tolerant Stack Overflow crawler expressed as sofleet executor tasks.
//!
//! The pipeline ([`crawl`], [`crawl_resume`]) submits one [`ListingTask`] per tag and listing
//! page, and as each listing completes (`as_completed` + `add`) one [`QuestionTask`] per question
//! link not seen before, through a bounded submission window so memory stays flat however large
//! the crawl. A [`CrawlResume`] hands it what earlier runs did (questions the dataset has,
//! listings already read) so a stopped crawl resumes without fetching anything twice. Every task fetches through the run's shared [`Fetcher`]: one connection pool, a per-host
//! rate limit (governor) and pause (`Retry-After`, captcha), robots.txt with `Crawl-delay`,
//! retries with exponential back-off and jitter, an on-disk cache and counters ([`FetchStats`]).
//! Question records and failure rows come out through the caller's sink as [`CrawlEvent`]s.

mod cache;
mod config;
mod error;
mod events;
mod fetch;
mod pipeline;
mod response;
mod robots;
mod stats;
mod tasks;
mod titles;

pub use cache::{CacheError, Lookup, ROBOTS_CACHE_TTL, ResponseCache};
pub use config::{
    CONNECT_TIMEOUT_RANGE_MS, CrawlConfig, CrawlPlan, MAX_PAUSE_RANGE_MS, MAX_REQUESTS_PER_SECOND,
    PAGE_SIZES, PARSE_BUDGET_RANGE_MS, RetryConfig, SORTS, TIMEOUT_RANGE_MS,
};
pub use error::{CrawlError, FetchFailure};
pub use events::{CrawlEvent, CrawlProgress, CrawlSummary, NotFetched, StopFlag};
pub use fetch::{Fetcher, MAX_REDIRECTS, Page, local_address, set_local_address};
pub use pipeline::{CrawlResume, crawl, crawl_resume, crawl_until, host_resource};
pub use response::parse_retry_after;
pub use robots::{
    ROBOTS_MAX_ANCHORED_RULES, ROBOTS_MAX_BYTES, ROBOTS_MAX_RULE_BYTES, ROBOTS_MAX_RULES,
    RobotsTrimmed, limit_robots,
};
pub use stats::FetchStats;
pub use tasks::{
    CrawlOutput, ListingLink, ListingResult, ListingTask, QuestionResult, QuestionTask,
    extract_failure_kind,
};
pub use titles::{fetch_titles, newest_url};
