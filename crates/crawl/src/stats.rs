//! Counters of everything the fetcher did, and their printable summary.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A snapshot of the fetcher's counters for one crawl run.
///
/// ```
/// let stats = sofleet_crawl::FetchStats { requests: 3, status_2xx: 2, status_4xx: 1, ..Default::default() };
/// let text = stats.to_string();
/// assert!(text.contains("requests 3"), "{text}");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchStats {
    /// HTTP requests sent (retries included, cache hits excluded).
    pub requests: u64,
    /// Response body bytes received.
    pub bytes: u64,
    /// Responses with a 2xx status.
    pub status_2xx: u64,
    /// Responses with a 3xx status (not followed: captcha redirects).
    pub status_3xx: u64,
    /// Responses with a 4xx status (429 included).
    pub status_4xx: u64,
    /// Responses with a 5xx status.
    pub status_5xx: u64,
    /// Responses with status 429 Too Many Requests.
    pub too_many_requests: u64,
    /// Captcha / human-verification responses.
    pub captchas: u64,
    /// Requests that failed without a response (connect error, timeout, broken body).
    pub transport_errors: u64,
    /// Retries made (attempts after the first, for any reason).
    pub retries: u64,
    /// Pages served from the on-disk cache.
    pub cache_hits: u64,
    /// URLs refused because robots.txt disallows them.
    pub robots_disallowed: u64,
    /// Total time spent in requests (send to end of body), milliseconds, summed over every
    /// request: what the same requests would have taken one after another.
    pub request_time_ms: u64,
    /// Total time requests spent waiting for the rate limiter, host pauses (`Retry-After`,
    /// captcha) and back-off, milliseconds (summed over concurrent requests).
    pub rate_limit_wait_ms: u64,
}

impl FetchStats {
    /// Field by field, the larger of the two: the newest of two reports of the same counters
    /// (counters only grow), whatever order they arrive in.
    ///
    /// ```
    /// use sofleet_crawl::FetchStats;
    /// let mut a = FetchStats { requests: 3, bytes: 10, ..Default::default() };
    /// a.merge_newer(&FetchStats { requests: 5, bytes: 7, ..Default::default() });
    /// assert_eq!((a.requests, a.bytes), (5, 10));
    /// ```
    pub fn merge_newer(&mut self, other: &FetchStats) {
        self.zip_with(other, u64::max);
    }

    /// Field by field, the sum: the counters of several workers together.
    ///
    /// ```
    /// use sofleet_crawl::FetchStats;
    /// let mut a = FetchStats { requests: 3, ..Default::default() };
    /// a.add(&FetchStats { requests: 5, ..Default::default() });
    /// assert_eq!(a.requests, 8);
    /// ```
    pub fn add(&mut self, other: &FetchStats) {
        self.zip_with(other, u64::saturating_add);
    }

    fn zip_with(&mut self, o: &FetchStats, f: fn(u64, u64) -> u64) {
        let FetchStats {
            requests,
            bytes,
            status_2xx,
            status_3xx,
            status_4xx,
            status_5xx,
            too_many_requests,
            captchas,
            transport_errors,
            retries,
            cache_hits,
            robots_disallowed,
            request_time_ms,
            rate_limit_wait_ms,
        } = self;
        for (mine, theirs) in [
            (requests, o.requests),
            (bytes, o.bytes),
            (status_2xx, o.status_2xx),
            (status_3xx, o.status_3xx),
            (status_4xx, o.status_4xx),
            (status_5xx, o.status_5xx),
            (too_many_requests, o.too_many_requests),
            (captchas, o.captchas),
            (transport_errors, o.transport_errors),
            (retries, o.retries),
            (cache_hits, o.cache_hits),
            (robots_disallowed, o.robots_disallowed),
            (request_time_ms, o.request_time_ms),
            (rate_limit_wait_ms, o.rate_limit_wait_ms),
        ] {
            *mine = f(*mine, theirs);
        }
    }

    /// Time spent waiting on the rate limit, host pauses and back-off.
    pub fn rate_limit_wait(&self) -> Duration {
        Duration::from_millis(self.rate_limit_wait_ms)
    }

    /// Time spent in requests, summed: what they would have taken one after another.
    pub fn request_time(&self) -> Duration {
        Duration::from_millis(self.request_time_ms)
    }
}

impl fmt::Display for FetchStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "requests {} ({:.1} MB), 2xx {} / 3xx {} / 4xx {} / 5xx {}, 429 {}, captcha {}, \
             transport errors {}, retries {}, cache hits {}, robots-disallowed {}, \
             waiting on rate limit {:.1} s, time in requests {:.1} s",
            self.requests,
            self.bytes as f64 / 1e6,
            self.status_2xx,
            self.status_3xx,
            self.status_4xx,
            self.status_5xx,
            self.too_many_requests,
            self.captchas,
            self.transport_errors,
            self.retries,
            self.cache_hits,
            self.robots_disallowed,
            self.rate_limit_wait_ms as f64 / 1e3,
            self.request_time_ms as f64 / 1e3,
        )
    }
}

/// Live counters shared by every request of one fetcher.
#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub status_2xx: AtomicU64,
    pub status_3xx: AtomicU64,
    pub status_4xx: AtomicU64,
    pub status_5xx: AtomicU64,
    pub too_many_requests: AtomicU64,
    pub captchas: AtomicU64,
    pub transport_errors: AtomicU64,
    pub retries: AtomicU64,
    pub cache_hits: AtomicU64,
    pub robots_disallowed: AtomicU64,
    pub wait_us: AtomicU64,
    pub request_us: AtomicU64,
}

impl StatsCounters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn status(&self, status: u16) {
        let counter = match status {
            200..=299 => &self.status_2xx,
            300..=399 => &self.status_3xx,
            400..=499 => &self.status_4xx,
            _ => &self.status_5xx,
        };
        Self::add(counter, 1);
    }

    pub(crate) fn waited(&self, d: Duration) {
        Self::add(&self.wait_us, d.as_micros() as u64);
    }

    pub(crate) fn requested(&self, d: Duration) {
        Self::add(&self.request_us, d.as_micros() as u64);
    }

    pub(crate) fn snapshot(&self) -> FetchStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FetchStats {
            requests: get(&self.requests),
            bytes: get(&self.bytes),
            status_2xx: get(&self.status_2xx),
            status_3xx: get(&self.status_3xx),
            status_4xx: get(&self.status_4xx),
            status_5xx: get(&self.status_5xx),
            too_many_requests: get(&self.too_many_requests),
            captchas: get(&self.captchas),
            transport_errors: get(&self.transport_errors),
            retries: get(&self.retries),
            cache_hits: get(&self.cache_hits),
            robots_disallowed: get(&self.robots_disallowed),
            rate_limit_wait_ms: get(&self.wait_us) / 1000,
            request_time_ms: get(&self.request_us) / 1000,
        }
    }
}
