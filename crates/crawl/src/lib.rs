//! A polite, fault-tolerant Stack Overflow crawler expressed as sofleet executor tasks.
//!
//! The pipeline ([`crawl`], [`crawl_resume`]) submits one [`ListingTask`] per tag and listing
//! page, and as each listing completes (`as_completed` + `add`) one [`QuestionTask`] per question
//! link not seen before, through a bounded submission window so memory stays flat however large
//! the crawl. A [`CrawlResume`] hands it what earlier runs did (questions the dataset has,
//! listings already read) so a stopped crawl resumes without fetching anything twice.
//!
//! Tasks carry only the job; what fetches belongs to the worker running them: a
//! [`CrawlWorker`] given to the executor backend as a resource, with its [`WorkerPolicy`]
//! (hosts, robots.txt, cache, limits, source address) and, in a fleet, a [`SharedBudget`] that
//! every worker on one address shares. Every task of a run fetches through the worker's
//! [`Fetcher`] for that run: one connection pool, a per-host
//! rate limit (governor) and pause (`Retry-After`, captcha), robots.txt with `Crawl-delay`,
//! retries with exponential back-off and jitter, an on-disk cache and counters ([`FetchStats`]).
//! Question records and failure rows come out through the caller's sink as [`CrawlEvent`]s.

mod budget;
mod cache;
mod config;
mod error;
mod events;
mod fetch;
mod host;
mod pipeline;
mod politeness;
mod response;
mod robots;
mod stats;
mod tasks;
mod titles;
mod worker;

pub use budget::{FALLBACK_SLOWDOWN, SharedBudget, budget_key};
pub use cache::{CacheError, Lookup, ROBOTS_CACHE_TTL, ResponseCache};
pub use config::{
    CONNECT_TIMEOUT_RANGE, CrawlConfig, CrawlPlan, MAX_PAUSE_RANGE, MAX_REQUESTS_PER_SECOND,
    PAGE_SIZES, PARSE_BUDGET_RANGE, RetryConfig, SORTS, TIMEOUT_RANGE,
};
pub use error::{CrawlError, FetchFailure};
pub use events::{CrawlEvent, CrawlProgress, CrawlSummary, NotFetched, StopFlag, WorkerSummary};
pub use fetch::{Fetcher, MAX_REDIRECTS, Page};
pub use pipeline::{CrawlResume, crawl, crawl_resume, crawl_until, host_resource};
pub use politeness::HostPoliteness;
pub use response::parse_retry_after;
pub use robots::{
    ROBOTS_MAX_ANCHORED_RULES, ROBOTS_MAX_BYTES, ROBOTS_MAX_RULE_BYTES, ROBOTS_MAX_RULES,
    RobotsTrimmed, limit_robots,
};
pub use stats::FetchStats;
pub use tasks::{
    CrawlOutput, CrawlReport, ListingLink, ListingResult, ListingTask, QuestionResult,
    QuestionTask, RobotsTask, WorkerReport, extract_failure_kind,
};
pub use titles::{fetch_titles, newest_url};
pub use worker::{CrawlWorker, MAX_RUNS_KEPT, RUN_IDLE_RELEASE, WorkerPolicy};
