//! What to crawl ([`CrawlPlan`]) and how politely ([`CrawlConfig`], [`RetryConfig`]).
//!
//! Every duration of a configuration is a [`Duration`]; on the wire (jobs sent to workers,
//! journals) it stays whole milliseconds under its old `_ms` name ([`millis`]), so what was
//! written before reads the same.

mod millis;
mod plan;
mod retry;

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::CrawlError;

pub(crate) use millis::as_millis;
pub use plan::{CrawlPlan, PAGE_SIZES, SORTS};
pub use retry::RetryConfig;

/// Accepted range of [`CrawlConfig::max_pause`]: one second to one day.
pub const MAX_PAUSE_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(24 * 60 * 60);

/// Accepted range of [`CrawlConfig::timeout`]: one millisecond to one hour.
pub const TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(60 * 60);

/// Accepted range of [`CrawlConfig::connect_timeout`]: one millisecond to five minutes.
pub const CONNECT_TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(5 * 60);

/// Accepted range of [`CrawlConfig::parse_budget`]: one millisecond to ten minutes.
pub const PARSE_BUDGET_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(10 * 60);

/// Highest accepted [`CrawlConfig::requests_per_second`]: one request per microsecond. Above it the
/// rate limiter's period rounds towards zero; leave the rate unset for no limit.
pub const MAX_REQUESTS_PER_SECOND: f64 = 1_000_000.0;

/// Longest accepted cache TTL: 365 days. A longer one is most likely a unit mistake
/// (microseconds given for milliseconds on the wire).
const MAX_CACHE_TTL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

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
/// [`CrawlConfig::max_pause`] stops that host's pages with `pause_too_long` failure rows
/// instead of waiting silently.
///
/// ```
/// # use std::time::Duration;
/// let config = sofleet_crawl::CrawlConfig::default();
/// assert_eq!(config.base_url, "https://stackoverflow.com");
/// assert_eq!(config.requests_per_second, Some(1.0));
/// assert!(!config.ignore_robots);
/// assert_eq!(config.listing_cache_ttl, Duration::from_secs(60 * 60));
/// assert_eq!(config.question_cache_ttl, Duration::from_secs(30 * 24 * 60 * 60));
/// assert_eq!(config.max_pause, Duration::from_secs(5 * 60));
/// assert!(config.validate().is_ok());
/// ```
///
/// On the wire the durations are whole milliseconds under their `_ms` names, as before:
///
/// ```
/// let json = serde_json::to_value(sofleet_crawl::CrawlConfig::default()).unwrap();
/// assert_eq!(json["max_pause_ms"], 300_000);
/// assert_eq!(json["retry"]["initial_backoff_ms"], 500);
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
    /// How long a cached listing page is served before it is fetched again. Default 1 hour:
    /// listings change as questions are asked, answered and voted on. Zero never serves
    /// listings from the cache (fetched pages are still written to it, for a later run with a
    /// longer TTL). At most 365 days.
    #[serde(rename = "listing_cache_ttl_ms", with = "millis")]
    pub listing_cache_ttl: Duration,
    /// How long a cached question page is served before it is fetched again. Default 30 days.
    /// Zero never serves questions from the cache (fetched pages are still written to it). At
    /// most 365 days.
    #[serde(rename = "question_cache_ttl_ms", with = "millis")]
    pub question_cache_ttl: Duration,
    /// TCP/TLS connect timeout. Range [`CONNECT_TIMEOUT_RANGE`].
    #[serde(rename = "connect_timeout_ms", with = "millis")]
    pub connect_timeout: Duration,
    /// Total timeout for one request including the body. Range [`TIMEOUT_RANGE`].
    #[serde(rename = "timeout_ms", with = "millis")]
    pub timeout: Duration,
    /// Largest accepted response body, bytes; larger bodies fail with `too_large`.
    pub max_body_bytes: u64,
    /// Retry and back-off policy for one URL.
    pub retry: RetryConfig,
    /// How long a whole host is paused after a captcha / human-verification page. At most
    /// [`CrawlConfig::max_pause`].
    #[serde(rename = "captcha_pause_ms", with = "millis")]
    pub captcha_pause: Duration,
    /// The longest pause the crawler accepts: a `Retry-After` (on a 429 or 503) or a
    /// robots.txt `Crawl-delay` longer than this stops the host's pages in this run with
    /// `pause_too_long` failure rows that say why (a re-run later resumes them); the
    /// configured rate, back-off and captcha pause must stay within it. Range
    /// [`MAX_PAUSE_RANGE`]; default five minutes.
    #[serde(rename = "max_pause_ms", with = "millis")]
    pub max_pause: Duration,
    /// Hosts besides the crawled one that a redirect may lead to (exact host names, e.g.
    /// `stackoverflow.blog`). A redirect to any other host fails the page as
    /// `off_site_redirect`. robots.txt of an allowed host is fetched and obeyed too.
    pub redirect_hosts: Vec<String>,
    /// Time budget for extracting one page (parsing runs on a blocking thread; a page over it
    /// is a `parse` failure row). Range [`PARSE_BUDGET_RANGE`]; default 10 s.
    #[serde(rename = "parse_budget_ms", with = "millis")]
    pub parse_budget: Duration,
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
            listing_cache_ttl: Duration::from_secs(60 * 60),
            question_cache_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 8 * 1024 * 1024,
            retry: RetryConfig::default(),
            captcha_pause: Duration::from_secs(60),
            max_pause: Duration::from_secs(5 * 60),
            redirect_hosts: Vec::new(),
            parse_budget: Duration::from_secs(10),
        }
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
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            retry: RetryConfig {
                max_attempts: 5,
                initial_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(500),
            },
            captcha_pause: Duration::from_millis(300),
            max_pause: Duration::from_secs(30),
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
                self.max_pause,
                MAX_PAUSE_RANGE,
                "1 s to 24 h",
            ),
            ("timeout_ms", self.timeout, TIMEOUT_RANGE, "1 ms to 1 h"),
            (
                "connect_timeout_ms",
                self.connect_timeout,
                CONNECT_TIMEOUT_RANGE,
                "1 ms to 5 min",
            ),
            (
                "parse_budget_ms",
                self.parse_budget,
                PARSE_BUDGET_RANGE,
                "1 ms to 10 min",
            ),
        ] {
            if !range.contains(&value) {
                return Err(invalid(
                    field,
                    format!(
                        "{} ms is outside {}..={} ms ({span})",
                        as_millis(value),
                        as_millis(*range.start()),
                        as_millis(*range.end())
                    ),
                ));
            }
        }
        let max_pause = self.max_pause;
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
            ("captcha_pause_ms", self.captcha_pause),
            ("retry.max_backoff_ms", self.retry.max_backoff),
            ("retry.initial_backoff_ms", self.retry.initial_backoff),
        ] {
            if value > self.max_pause {
                return Err(invalid(
                    field,
                    format!(
                        "{} ms is longer than max_pause ({} ms)",
                        as_millis(value),
                        as_millis(self.max_pause)
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
            ("listing_cache_ttl_ms", self.listing_cache_ttl),
            ("question_cache_ttl_ms", self.question_cache_ttl),
        ] {
            if ttl > MAX_CACHE_TTL {
                return Err(invalid(
                    field,
                    format!(
                        "{} ms is more than 365 days ({} ms); the TTL is in milliseconds (0 \
                         never serves that kind of page from the cache)",
                        as_millis(ttl),
                        as_millis(MAX_CACHE_TTL)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A job as sent before the fields were durations: every name and number as it was.
    const OLD_JOB: &str = r#"{
        "base_url": "http://127.0.0.1:8080",
        "user_agent": "sofleet/0",
        "requests_per_second": null,
        "max_concurrency_per_host": 8,
        "ignore_robots": false,
        "cache_dir": null,
        "listing_cache_ttl_ms": 3600000,
        "question_cache_ttl_ms": 0,
        "connect_timeout_ms": 2000,
        "timeout_ms": 10000,
        "max_body_bytes": 8388608,
        "retry": {"max_attempts": 5, "initial_backoff_ms": 20, "max_backoff_ms": 500},
        "captcha_pause_ms": 300,
        "max_pause_ms": 30000,
        "redirect_hosts": [],
        "parse_budget_ms": 10000
    }"#;

    #[test]
    fn a_job_written_before_reads_the_same_and_writes_back_unchanged() {
        let config: CrawlConfig = serde_json::from_str(OLD_JOB).unwrap();
        assert_eq!(
            config,
            CrawlConfig {
                user_agent: "sofleet/0".to_owned(),
                question_cache_ttl: Duration::ZERO,
                ..CrawlConfig::for_local_site("http://127.0.0.1:8080")
            }
        );
        let old: serde_json::Value = serde_json::from_str(OLD_JOB).unwrap();
        assert_eq!(serde_json::to_value(&config).unwrap(), old);
        // Byte for byte, in the same field order: the digest in task keys is unchanged too.
        let compact: String = OLD_JOB.split_whitespace().collect();
        assert_eq!(serde_json::to_string(&config).unwrap(), compact);
    }

    #[test]
    fn missing_fields_take_their_defaults() {
        let config: CrawlConfig = serde_json::from_str(r#"{"max_pause_ms": 1000}"#).unwrap();
        assert_eq!(
            config,
            CrawlConfig {
                max_pause: Duration::from_secs(1),
                ..CrawlConfig::default()
            }
        );
    }

    #[test]
    fn range_errors_name_the_field_in_milliseconds() {
        let err = CrawlConfig {
            timeout: Duration::ZERO,
            ..CrawlConfig::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(err.contains("timeout_ms"), "{err}");
        assert!(
            err.contains("0 ms is outside 1..=3600000 ms (1 ms to 1 h)"),
            "{err}"
        );
        let err = CrawlConfig {
            captcha_pause: Duration::from_secs(600),
            ..CrawlConfig::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("600000 ms is longer than max_pause (300000 ms)"),
            "{err}"
        );
    }
}
