//! [`HostPoliteness`]: what a fetcher's politeness looks like right now (for dashboards).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::fetch::Fetcher;
use crate::worker::CrawlWorker;

/// The politeness state of one crawled host from one source address, as one fetcher (one run
/// on one worker) sees it. See [`CrawlWorker::politeness`] and [`Fetcher::politeness`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HostPoliteness {
    /// The host (`host[:port]`).
    pub host: String,
    /// The source address requests leave from (`default` when not chosen).
    pub source: String,
    /// The worker's name.
    pub worker: String,
    /// The time between two requests now allowed (the configured rate, or robots.txt's longer
    /// `Crawl-delay`); `None` without a limit.
    pub interval: Option<Duration>,
    /// Whether the rate is a fleet-wide budget shared through Redis.
    pub shared_budget: bool,
    /// Requests in flight now.
    pub in_flight: usize,
    /// Requests allowed in flight at once.
    pub max_in_flight: usize,
    /// Requests sent so far (retries included, cache hits excluded).
    pub requests: u64,
    /// Responses `429 Too Many Requests`.
    pub too_many_requests: u64,
    /// Captcha answers.
    pub captchas: u64,
    /// Pages served from the disk cache.
    pub cache_hits: u64,
    /// Retries made.
    pub retries: u64,
    /// Time left of a pause the site asked for (`Retry-After`, a captcha), if one is on.
    pub paused_for: Option<Duration>,
    /// Why the host is no longer fetched in this run, if it is stopped.
    pub stopped: Option<String>,
}

impl HostPoliteness {
    /// The rate as requests per second (`None` without a limit).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut p = sofleet_crawl::HostPoliteness::default();
    /// p.interval = Some(Duration::from_millis(250));
    /// assert_eq!(p.requests_per_second(), Some(4.0));
    /// ```
    pub fn requests_per_second(&self) -> Option<f64> {
        self.interval
            .filter(|d| !d.is_zero())
            .map(|d| 1.0 / d.as_secs_f64())
    }
}

impl Fetcher {
    /// This fetcher's politeness state now.
    pub fn politeness(&self) -> HostPoliteness {
        let stats = self.stats();
        let max_in_flight = self.config.max_concurrency_per_host as usize;
        let now = Instant::now();
        let paused_for = (*self.host.not_before.lock())
            .filter(|t| *t > now)
            .map(|t| t - now);
        HostPoliteness {
            host: self.host_name(),
            source: self.source().to_string(),
            worker: self.worker_name().to_string(),
            interval: *self.host.interval.read(),
            shared_budget: self.shared.is_some(),
            in_flight: max_in_flight.saturating_sub(self.host.in_flight.available_permits()),
            max_in_flight,
            requests: stats.requests,
            too_many_requests: stats.too_many_requests,
            captchas: stats.captchas,
            cache_hits: stats.cache_hits,
            retries: stats.retries,
            paused_for,
            stopped: self.host.stopped.lock().as_ref().map(|f| f.message.clone()),
        }
    }
}

impl CrawlWorker {
    /// The politeness state of every run this worker holds a fetcher for, sorted by host and
    /// source address.
    pub fn politeness(&self) -> Vec<HostPoliteness> {
        let mut out: Vec<HostPoliteness> = self.fetchers().iter().map(|f| f.politeness()).collect();
        out.sort_by(|a, b| (&a.host, &a.source).cmp(&(&b.host, &b.source)));
        out
    }
}
