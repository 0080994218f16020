//! What to crawl ([`CrawlPlan`]) and how politely ([`CrawlConfig`]).

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_records::Sort;
use url::Url;

use crate::error::CrawlError;

/// The listing orders Stack Overflow offers (`?tab=`): the values of [`Sort`].
pub const SORTS: [&str; 4] = [
    Sort::Votes.as_str(),
    Sort::Newest.as_str(),
    Sort::Active.as_str(),
    Sort::Frequent.as_str(),
];

/// The page sizes Stack Overflow offers for tag listings (`&pagesize=`).
pub const PAGE_SIZES: [u32; 3] = [15, 30, 50];

/// Accepted range of [`CrawlConfig::max_pause_ms`]: one second to one day.
pub const MAX_PAUSE_RANGE_MS: RangeInclusive<u64> = 1_000..=24 * 60 * 60 * 1000;

/// Accepted range of [`CrawlConfig::timeout_ms`]: one millisecond to one hour.
pub const TIMEOUT_RANGE_MS: RangeInclusive<u64> = 1..=60 * 60 * 1000;

/// Accepted range of [`CrawlConfig::connect_timeout_ms`]: one millisecond to five minutes.
pub const CONNECT_TIMEOUT_RANGE_MS: RangeInclusive<u64> = 1..=5 * 60 * 1000;

/// Accepted range of [`CrawlConfig::parse_budget_ms`]: one millisecond to ten minutes.
pub const PARSE_BUDGET_RANGE_MS: RangeInclusive<u64> = 1..=10 * 60 * 1000;

/// Highest accepted [`CrawlConfig::requests_per_second`]: one request per microsecond. Above it the
/// rate limiter's period rounds towards zero; leave the rate unset for no limit.
pub const MAX_REQUESTS_PER_SECOND: f64 = 1_000_000.0;

/// Longest accepted cache TTL: 365 days, in milliseconds. A longer one is most likely a unit
/// mistake (microseconds given for milliseconds).
const MAX_CACHE_TTL_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// How the crawler behaves towards a site. Serializable, because it travels inside every task
/// (tasks may run on remote workers).
///
/// [`CrawlConfig::default`] gives the polite defaults for the real site: base
/// `https://stackoverflow.com`, one request per second, two requests in flight, robots.txt obeyed,
/// cached listings served for an hour and cached questions for 30 days (when a cache directory
/// is set), no pause longer than five minutes.
///
/// Every duration that reaches the crawler from outside (this configuration, a `Retry-After`
/// header, robots.txt's `Crawl-delay`) is checked against a range: [`CrawlConfig::validate`]
/// refuses configured values outside theirs, and a pause the *site* asks for that is longer than
/// [`CrawlConfig::max_pause_ms`] stops that host's pages with `pause_too_long` failure rows
/// instead of waiting silently.
///
/// ```
/// let config = sofleet_crawl::CrawlConfig::default();
/// assert_eq!(config.base_url, "https://stackoverflow.com");
/// assert_eq!(config.requests_per_second, Some(1.0));
/// assert!(!config.ignore_robots);
/// assert_eq!(config.listing_cache_ttl_ms, 60 * 60 * 1000);
/// assert_eq!(config.question_cache_ttl_ms, 30 * 24 * 60 * 60 * 1000);
/// assert_eq!(config.max_pause_ms, 5 * 60 * 1000);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrawlConfig {
    /// Scheme and host of the crawled site, e.g. `https://stackoverflow.com`. Only links on this
    /// host are followed.
    pub base_url: String,
    /// The `User-Agent` header: names the crawler and how to reach its operator.
    pub user_agent: String,
    /// Per-host request rate; `None` means no rate limit (only for mock sites and benchmarks).
    pub requests_per_second: Option<f64>,
    /// Per-host cap on requests (and crawl tasks) in flight at once.
    pub max_concurrency_per_host: u32,
    /// Skip robots.txt (rules and `Crawl-delay`). Off by default.
    pub ignore_robots: bool,
    /// Directory of the on-disk response cache; `None` disables the cache. robots.txt is served
    /// from it for at most 24 hours ([`ROBOTS_CACHE_TTL`](crate::ROBOTS_CACHE_TTL)), listing and
    /// question pages for their TTLs below.
    pub cache_dir: Option<PathBuf>,
    /// How long a cached listing page is served before it is fetched again, milliseconds.
    /// Default 1 hour: listings change as questions are asked, answered and voted on. `0` never
    /// serves listings from the cache (fetched pages are still written to it, for a later run
    /// with a longer TTL). At most 365 days.
    pub listing_cache_ttl_ms: u64,
    /// How long a cached question page is served before it is fetched again, milliseconds.
    /// Default 30 days. `0` never serves questions from the cache (fetched pages are still
    /// written to it). At most 365 days.
    pub question_cache_ttl_ms: u64,
    /// TCP/TLS connect timeout, milliseconds.
    pub connect_timeout_ms: u64,
    /// Total timeout for one request including the body, milliseconds.
    pub timeout_ms: u64,
    /// Largest accepted response body, bytes; larger bodies fail with `too_large`.
    pub max_body_bytes: u64,
    /// Retry and back-off policy for one URL.
    pub retry: RetryConfig,
    /// How long a whole host is paused after a captcha / human-verification page, milliseconds.
    /// At most [`CrawlConfig::max_pause_ms`].
    pub captcha_pause_ms: u64,
    /// The longest pause the crawler accepts, milliseconds: a `Retry-After` (on a 429 or 503)
    /// or a robots.txt `Crawl-delay` longer than this stops the host's pages in this run with
    /// `pause_too_long` failure rows that say why (a re-run later resumes them); the
    /// configured rate, back-off and captcha pause must stay within it. Range
    /// [`MAX_PAUSE_RANGE_MS`]; default five minutes.
    pub max_pause_ms: u64,
    /// Hosts besides the crawled one that a redirect may lead to (exact host names, e.g.
    /// `stackoverflow.blog`). A redirect to any other host fails the page as
    /// `off_site_redirect`. robots.txt of an allowed host is fetched and obeyed too.
    pub redirect_hosts: Vec<String>,
    /// Time budget for extracting one page, milliseconds (parsing runs on a blocking thread;
    /// a page over it is a `parse` failure row). Range [`PARSE_BUDGET_RANGE_MS`]; default 10 s.
    pub parse_budget_ms: u64,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            base_url: "https://stackoverflow.com".to_owned(),
            user_agent: format!(
                "sofleet/{} (+{}; polite research crawler, obeys robots.txt)",
                env!("CARGO_PKG_VERSION"),
                env!("CARGO_PKG_REPOSITORY")
            ),
            requests_per_second: Some(1.0),
            max_concurrency_per_host: 2,
            ignore_robots: false,
            cache_dir: None,
            listing_cache_ttl_ms: 60 * 60 * 1000,
            question_cache_ttl_ms: 30 * 24 * 60 * 60 * 1000,
            connect_timeout_ms: 10_000,
            timeout_ms: 30_000,
            max_body_bytes: 8 * 1024 * 1024,
            retry: RetryConfig::default(),
            captcha_pause_ms: 60_000,
            max_pause_ms: 5 * 60 * 1000,
            redirect_hosts: Vec::new(),
            parse_budget_ms: 10_000,
        }
    }
}

/// Retry policy of the fetcher: exponential back-off with jitter for connect errors, timeouts,
/// 5xx, 429 (where `Retry-After` wins when present) and captcha pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Attempts per URL for errors (connect, timeout, 5xx, truncated body), the first included
    /// (at least 1). Refusals that tell the crawler to wait (429, captcha, 503 with
    /// `Retry-After`) have a budget of twice this many, counted separately.
    pub max_attempts: u32,
    /// First back-off delay, milliseconds.
    pub initial_backoff_ms: u64,
    /// Largest back-off delay, milliseconds (at most [`CrawlConfig::max_pause_ms`]).
    pub max_backoff_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
        }
    }
}

impl RetryConfig {
    /// The back-off before retry number `retry` (1 = first retry), before jitter:
    /// `initial * 2^(retry-1)`, capped at `max_backoff_ms`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let retry = sofleet_crawl::RetryConfig { initial_backoff_ms: 100, max_backoff_ms: 350, ..Default::default() };
    /// assert_eq!(retry.backoff(1), Duration::from_millis(100));
    /// assert_eq!(retry.backoff(2), Duration::from_millis(200));
    /// assert_eq!(retry.backoff(3), Duration::from_millis(350));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let ms = self.initial_backoff_ms.saturating_mul(1u64 << exp);
        Duration::from_millis(ms.min(self.max_backoff_ms))
    }
}

impl CrawlConfig {
    /// A configuration for a local (mock) site: no rate limit, robots obeyed, fast timeouts and
    /// back-offs, short captcha pause.
    ///
    /// ```
    /// let config = sofleet_crawl::CrawlConfig::for_local_site("http://127.0.0.1:8080");
    /// assert_eq!(config.requests_per_second, None);
    /// ```
    pub fn for_local_site(base_url: &str) -> CrawlConfig {
        CrawlConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            requests_per_second: None,
            max_concurrency_per_host: 8,
            connect_timeout_ms: 2_000,
            timeout_ms: 10_000,
            retry: RetryConfig {
                max_attempts: 5,
                initial_backoff_ms: 20,
                max_backoff_ms: 500,
            },
            captcha_pause_ms: 300,
            max_pause_ms: 30_000,
            ..CrawlConfig::default()
        }
    }

    /// Checks the configuration and returns the parsed base URL.
    ///
    /// # Errors
    /// [`CrawlError::InvalidConfig`] naming the field and what to do.
    pub fn validate(&self) -> Result<Url, CrawlError> {
        let invalid =
            |field: &'static str, message: String| CrawlError::InvalidConfig { field, message };
        let url = Url::parse(&self.base_url).map_err(|e| {
            invalid(
                "base_url",
                format!(
                    "{:?} is not an absolute URL ({e}); use e.g. https://stackoverflow.com",
                    self.base_url
                ),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                "base_url",
                format!("{:?} must be an http(s) URL with a host", self.base_url),
            ));
        }
        for (field, value, range, span) in [
            (
                "max_pause_ms",
                self.max_pause_ms,
                MAX_PAUSE_RANGE_MS,
                "1 s to 24 h",
            ),
            (
                "timeout_ms",
                self.timeout_ms,
                TIMEOUT_RANGE_MS,
                "1 ms to 1 h",
            ),
            (
                "connect_timeout_ms",
                self.connect_timeout_ms,
                CONNECT_TIMEOUT_RANGE_MS,
                "1 ms to 5 min",
            ),
            (
                "parse_budget_ms",
                self.parse_budget_ms,
                PARSE_BUDGET_RANGE_MS,
                "1 ms to 10 min",
            ),
        ] {
            if !range.contains(&value) {
                return Err(invalid(
                    field,
                    format!(
                        "{value} ms is outside {}..={} ms ({span})",
                        range.start(),
                        range.end()
                    ),
                ));
            }
        }
        let max_pause = Duration::from_millis(self.max_pause_ms);
        if let Some(rate) = self.requests_per_second {
            if !(rate.is_finite() && rate > 0.0 && rate <= MAX_REQUESTS_PER_SECOND) {
                return Err(invalid(
                    "requests_per_second",
                    format!(
                        "{rate} must be a positive number up to {MAX_REQUESTS_PER_SECOND} \
                         (or unset for no limit)"
                    ),
                ));
            }
            // 1/rate is finite and at most 1/MIN_POSITIVE here; compare in f64 so no
            // conversion to Duration can overflow.
            if 1.0 / rate > max_pause.as_secs_f64() {
                return Err(invalid(
                    "requests_per_second",
                    format!(
                        "{rate}/s waits {:.0} s between requests, longer than max_pause \
                         ({} s); raise the rate or max_pause",
                        1.0 / rate,
                        max_pause.as_secs()
                    ),
                ));
            }
        }
        if self.max_concurrency_per_host == 0 {
            return Err(invalid(
                "max_concurrency_per_host",
                "must be at least 1".to_owned(),
            ));
        }
        if self.retry.max_attempts == 0 {
            return Err(invalid(
                "retry.max_attempts",
                "must be at least 1".to_owned(),
            ));
        }
        for (field, value) in [
            ("captcha_pause_ms", self.captcha_pause_ms),
            ("retry.max_backoff_ms", self.retry.max_backoff_ms),
            ("retry.initial_backoff_ms", self.retry.initial_backoff_ms),
        ] {
            if value > self.max_pause_ms {
                return Err(invalid(
                    field,
                    format!(
                        "{value} ms is longer than max_pause ({} ms)",
                        self.max_pause_ms
                    ),
                ));
            }
        }
        for host in &self.redirect_hosts {
            if url::Host::parse(host).is_err() || host.contains(['/', ':']) {
                return Err(invalid(
                    "redirect_hosts",
                    format!("{host:?} is not a host name; give e.g. stackoverflow.blog"),
                ));
            }
        }
        if self.max_body_bytes == 0 {
            return Err(invalid("max_body_bytes", "must be positive".to_owned()));
        }
        for (field, ttl) in [
            ("listing_cache_ttl_ms", self.listing_cache_ttl_ms),
            ("question_cache_ttl_ms", self.question_cache_ttl_ms),
        ] {
            if ttl > MAX_CACHE_TTL_MS {
                return Err(invalid(
                    field,
                    format!(
                        "{ttl} ms is more than 365 days ({MAX_CACHE_TTL_MS} ms); the TTL is in \
                         milliseconds (0 never serves that kind of page from the cache)"
                    ),
                ));
            }
        }
        if self.user_agent.trim().is_empty() {
            return Err(invalid("user_agent", "must name the crawler".to_owned()));
        }
        Ok(url)
    }

    /// The robots.txt product token: the user agent up to the first `/` or space.
    pub fn robots_agent(&self) -> &str {
        let ua = self.user_agent.trim();
        ua.split(['/', ' ']).next().unwrap_or(ua)
    }

    /// A stable digest of the whole configuration (used in task keys).
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        blake3::hash(&json).to_hex()[..16].to_owned()
    }

    /// What a task carries: this configuration without what belongs to the worker that runs
    /// it (the cache directory; see [`WorkerPolicy`](crate::WorkerPolicy)).
    ///
    /// ```
    /// let config = sofleet_crawl::CrawlConfig { cache_dir: Some("cache".into()), ..Default::default() };
    /// assert_eq!(config.for_job().cache_dir, None);
    /// ```
    pub fn for_job(&self) -> CrawlConfig {
        CrawlConfig {
            cache_dir: None,
            ..self.clone()
        }
    }
}

/// What to crawl: tag listings in one order, a range of pages each, then every question linked.
///
/// ```
/// let plan = sofleet_crawl::CrawlPlan::new(["dask"], "votes", 1..=2);
/// assert_eq!(plan.pagesize, 15);
/// assert!(plan.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlPlan {
    /// Tags whose listings are crawled (`/questions/tagged/{tag}`).
    pub tags: Vec<String>,
    /// Listing order: one of [`SORTS`].
    pub sort: String,
    /// Listing pages to fetch per tag (1-based, inclusive).
    pub pages: RangeInclusive<u32>,
    /// Questions per listing page: one of [`PAGE_SIZES`].
    pub pagesize: u32,
}

impl CrawlPlan {
    /// A plan with the default page size (15).
    pub fn new<S: Into<String>>(
        tags: impl IntoIterator<Item = S>,
        sort: &str,
        pages: RangeInclusive<u32>,
    ) -> CrawlPlan {
        CrawlPlan {
            tags: tags.into_iter().map(Into::into).collect(),
            sort: sort.to_owned(),
            pages,
            pagesize: 15,
        }
    }

    /// Checks the plan.
    ///
    /// # Errors
    /// [`CrawlError::InvalidPlan`] saying what is wrong and what is accepted.
    pub fn validate(&self) -> Result<(), CrawlError> {
        let invalid = |message: String| CrawlError::InvalidPlan { message };
        if self.tags.is_empty() {
            return Err(invalid(
                "no tags given: name at least one tag, e.g. dask".to_owned(),
            ));
        }
        for tag in &self.tags {
            if tag.trim().is_empty() || tag.contains('/') || tag.contains(char::is_whitespace) {
                return Err(invalid(format!(
                    "tag {tag:?} is not a Stack Overflow tag (no spaces or slashes)"
                )));
            }
        }
        if !SORTS.contains(&self.sort.as_str()) {
            return Err(invalid(format!(
                "sort {:?} is not one of {SORTS:?}",
                self.sort
            )));
        }
        if *self.pages.start() == 0 || self.pages.is_empty() {
            return Err(invalid(format!(
                "page range {}..={} must be non-empty and start at 1 or later",
                self.pages.start(),
                self.pages.end()
            )));
        }
        if !PAGE_SIZES.contains(&self.pagesize) {
            return Err(invalid(format!(
                "pagesize {} is not one of {PAGE_SIZES:?}",
                self.pagesize
            )));
        }
        Ok(())
    }

    /// The listing URL of one tag and page on `base`.
    pub fn listing_url(&self, base: &Url, tag: &str, page: u32) -> Url {
        let mut url = base.clone();
        url.set_path("");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().extend(["questions", "tagged", tag]);
        }
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("tab", &self.sort)
            .append_pair("page", &page.to_string())
            .append_pair("pagesize", &self.pagesize.to_string());
        url
    }
}
