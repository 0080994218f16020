//! A polite, fault-tolerant Stack Overflow crawler expressed as sofleet executor tasks.
//!
//! The pipeline ([`crawl`]) submits one [`ListingTask`] per tag and listing page, and as each
//! listing completes (`as_completed` + `add`) one [`QuestionTask`] per question link not seen
//! before. Every task fetches through the run's shared [`Fetcher`]: one connection pool, a per-host
//! rate limit (governor) and pause (`Retry-After`, captcha), robots.txt with `Crawl-delay`,
//! retries with exponential back-off and jitter, an on-disk cache and counters ([`FetchStats`]).
//! Question records and failure rows come out through the caller's sink as [`CrawlEvent`]s.

mod config;
mod error;
mod fetch;
mod pipeline;
mod stats;
mod tasks;

pub use config::{CrawlConfig, CrawlPlan, PAGE_SIZES, RetryConfig, SORTS};
pub use error::{CrawlError, FetchFailure};
pub use fetch::{Fetcher, Page, local_address, parse_retry_after, set_local_address};
pub use pipeline::{
    CrawlEvent, CrawlProgress, CrawlSummary, StopFlag, crawl, crawl_until, fetch_titles,
    host_resource, newest_url,
};
pub use stats::FetchStats;
pub use tasks::{
    CrawlOutput, ListingLink, ListingResult, ListingTask, QuestionResult, QuestionTask,
    extract_failure_kind,
};
