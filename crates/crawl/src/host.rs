//! Per-host politeness: the rate limit (local, or a slot of the fleet's [`SharedBudget`]),
//! host pauses (`Retry-After`, captcha, robots.txt `Crawl-delay`) and stopping a host whose
//! site asks for a pause longer than `max_pause`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::{Mutex, RwLock};
use sofleet_records::FailureKind;
use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;

use crate::budget::{FALLBACK_SLOWDOWN, SharedBudget};
use crate::error::FetchFailure;
use crate::fetch::Fetcher;
use crate::robots::RobotsRules;
use crate::stats::StatsCounters;

/// Per-host shared state: every request to the host goes through it.
pub(crate) struct HostState {
    pub(crate) limiter: RwLock<Option<Arc<DefaultDirectRateLimiter>>>,
    /// The time between two requests: the rate's, or robots.txt's longer `Crawl-delay`.
    pub(crate) interval: RwLock<Option<Duration>>,
    /// No request may be sent before this instant (`Retry-After`, captcha pause).
    pub(crate) not_before: Mutex<Option<Instant>>,
    pub(crate) in_flight: Semaphore,
    pub(crate) robots: OnceCell<RobotsRules>,
    /// Why the host's pages are no longer fetched in this run (a pause longer than
    /// `max_pause` was asked for), as the failure every later page gets.
    pub(crate) stopped: Mutex<Option<FetchFailure>>,
}

/// A [`SharedBudget`] as one fetcher uses it.
pub(crate) struct SharedLimit {
    pub(crate) budget: Arc<dyn SharedBudget>,
    pub(crate) key: String,
    pub(crate) fallback: Mutex<Option<(Duration, Arc<DefaultDirectRateLimiter>)>>,
}

pub(crate) fn make_limiter(period: Duration) -> Option<Arc<DefaultDirectRateLimiter>> {
    Quota::with_period(period)
        .map(|q| Arc::new(RateLimiter::direct(q.allow_burst(NonZeroU32::MIN))))
}

/// A duration for messages: `3600 s`, `1.5 s`, or `forever` for one too long to state.
pub(crate) fn describe(d: Duration) -> String {
    if d >= Duration::from_secs(100 * 365 * 24 * 3600) {
        "more than 100 years".to_owned()
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl Fetcher {
    /// Pauses every request to the host until at least `pause` from now (at most
    /// [`CrawlConfig::max_pause`](crate::CrawlConfig::max_pause): a longer pause is cut to it).
    pub fn pause_host(&self, pause: Duration) {
        let pause = pause.min(self.max_pause());
        let now = Instant::now();
        let until = now.checked_add(pause).unwrap_or(now);
        let mut nb = self.host.not_before.lock();
        if nb.is_none_or(|t| t < until) {
            *nb = Some(until);
        }
        drop(nb);
        if let Some(shared) = &self.shared {
            // Every worker on this address waits too (best effort: this worker waits anyway).
            let budget = shared.budget.clone();
            let key = shared.key.clone();
            self.io.spawn(async move {
                if let Err(e) = budget.pause(&key, pause).await {
                    tracing::warn!("could not share a pause of {key} with the fleet: {e}");
                }
            });
        }
    }

    /// Stops fetching the host's pages in this run: every later page fails with `why` (kind
    /// [`FailureKind::PauseTooLong`]). The first reason wins; it is printed once.
    pub(crate) fn stop_host(&self, why: String) -> FetchFailure {
        let mut stopped = self.host.stopped.lock();
        stopped
            .get_or_insert_with(|| {
                tracing::warn!("{why}");
                FetchFailure::before_request(FailureKind::PauseTooLong, why)
            })
            .clone()
    }

    /// The failure of every page of a stopped host, if it is stopped.
    pub fn host_stopped(&self) -> Option<FetchFailure> {
        self.host.stopped.lock().clone()
    }

    /// Slows the host to at most one request per `delay` (robots.txt `Crawl-delay`); a delay
    /// longer than `max_pause` stops the host instead.
    pub(crate) fn apply_crawl_delay(&self, origin: &str, raw: f32) {
        let Some(delay) = crate::response::seconds(f64::from(raw)) else {
            self.warn_once(
                "crawl-delay-unreadable",
                format!(
                    "{origin}/robots.txt has `Crawl-delay: {raw}`, which is not a delay; ignored"
                ),
            );
            return;
        };
        if delay > self.max_pause() {
            self.stop_host(format!(
                "{origin}/robots.txt asks for `Crawl-delay: {raw}` ({}), longer than --max-pause \
                 ({}): {}'s pages are not fetched in this run",
                describe(delay),
                describe(self.max_pause()),
                self.host_name()
            ));
            return;
        }
        let configured = self
            .config
            .requests_per_second
            .and_then(|r| crate::response::seconds(1.0 / r))
            .unwrap_or(Duration::ZERO);
        if delay > configured {
            self.warn_once(
                "crawl-delay-applied",
                format!(
                    "{origin}/robots.txt asks for `Crawl-delay: {raw}`: at most one request per \
                     {} to {} (slower than the configured rate)",
                    describe(delay),
                    self.host_name()
                ),
            );
            let fresh = make_limiter(delay);
            if let Some(l) = &fresh {
                // robots.txt itself was the request just made: the next one waits a full delay.
                let _ = l.check();
            }
            let mut limiter = self.host.limiter.write();
            *limiter = fresh;
            *self.host.interval.write() = Some(delay);
            if let Some(shared) = &self.shared {
                // Every worker on this address slows down before its next request (best
                // effort: this worker's own slots use the delay anyway).
                let budget = shared.budget.clone();
                let key = shared.key.clone();
                self.io.spawn(async move {
                    if let Err(e) = budget.raise_interval(&key, with_margin(delay)).await {
                        tracing::warn!(
                            "could not share a Crawl-delay of {key} with the fleet: {e}"
                        );
                    }
                });
            }
        }
    }

    /// Waits until the host pause is over and the rate limiter grants a slot; returns how
    /// long it waited.
    pub(crate) async fn wait_turn(&self) -> Duration {
        let start = Instant::now();
        loop {
            let pause = *self.host.not_before.lock();
            if let Some(until) = pause
                && until > Instant::now()
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            match &self.shared {
                Some(shared) => self.wait_shared(shared).await,
                None => {
                    let limiter = self.host.limiter.read().clone();
                    if let Some(limiter) = limiter {
                        limiter.until_ready().await;
                    }
                }
            }
            // A pause may have started while we waited for the limiter.
            let pause = *self.host.not_before.lock();
            if pause.is_some_and(|until| until > Instant::now()) {
                continue;
            }
            break;
        }
        let waited = start.elapsed();
        self.stats.waited(waited);
        waited
    }

    /// Waits for this request's slot in the fleet-wide budget; while the budget cannot be
    /// reached, for a local limiter [`FALLBACK_SLOWDOWN`] times slower (never no limit).
    pub(crate) async fn wait_shared(&self, shared: &SharedLimit) {
        let Some(interval) = *self.host.interval.read() else {
            return;
        };
        let interval = with_margin(interval);
        match shared.budget.reserve(&shared.key, interval).await {
            Ok(wait) => {
                // A wait past the longest pause accepted is cut to it (the budget's clock and
                // ours agree on loopback; a far-off slot means a stale key).
                tokio::time::sleep(wait.min(self.max_pause())).await;
            }
            Err(e) => {
                let slow = interval.saturating_mul(FALLBACK_SLOWDOWN);
                self.warn_once(
                    "shared-budget-unreachable",
                    format!(
                        "the fleet's shared rate budget is unreachable ({e}); this worker sends \
                         at most one request per {} to {} until it is back",
                        describe(slow),
                        self.host_name()
                    ),
                );
                let limiter = {
                    let mut fallback = shared.fallback.lock();
                    match &*fallback {
                        Some((period, l)) if *period == slow => Some(l.clone()),
                        _ => {
                            let l = make_limiter(slow);
                            *fallback = l.clone().map(|l| (slow, l));
                            l
                        }
                    }
                };
                if let Some(l) = limiter {
                    l.until_ready().await;
                }
            }
        }
    }

    /// Records a captcha noticed only by the extractor: pauses the host like a fetched one.
    pub fn report_captcha(&self) {
        StatsCounters::add(&self.stats.captchas, 1);
        self.pause_host(self.config.captcha_pause);
    }
}

/// The interval asked of a shared budget: 2% + 2 ms wider than `interval`, so network jitter
/// never makes requests sent at the budget's spacing arrive closer together than the site
/// allows.
fn with_margin(interval: Duration) -> Duration {
    interval + interval / 50 + Duration::from_millis(2)
}
