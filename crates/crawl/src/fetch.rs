//! The polite fetcher: one shared HTTP client, per-host rate limit, pause and concurrency cap,
//! robots.txt, retries with back-off, the on-disk cache ([`ResponseCache`], with expiry: pages as
//! old as the caller accepts, robots.txt for [`ROBOTS_CACHE_TTL`]) and counters.
//!
//! All network I/O runs on one process-wide I/O runtime owned by this module, whatever executor
//! backend runs the calling task: a `reqwest` connection pool must stay on the runtime that
//! created its connections, and tasks on the threads backend each run on their own short-lived
//! runtime. Tasks hand requests to that runtime and await the answer.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::header::{LOCATION, RETRY_AFTER};
use sofleet_extract::{BlockKind, classify_block};
use sofleet_records::FailureKind;
use texting_robots::Robot;
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

use crate::cache::{Lookup, ROBOTS_CACHE_TTL, ResponseCache};
use crate::config::CrawlConfig;
use crate::error::{CrawlError, FetchFailure};
use crate::stats::{FetchStats, StatsCounters};

/// A fetched page (from the network or the on-disk cache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The URL requested.
    pub url: String,
    /// The HTTP status of the response.
    pub status: u16,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
    /// When the response arrived (for cached pages: when it was first fetched), Unix ms.
    pub fetched_at_ms: i64,
    /// Requests made for this page (0 for a cache hit).
    pub attempts: u32,
    /// Whether the page came from the on-disk cache.
    pub from_cache: bool,
}

/// The robots.txt rules in force for the crawled host.
enum RobotsRules {
    AllowAll,
    Rules(Box<Robot>),
    /// robots.txt could not be fetched (5xx / network): crawl nothing, as Google does.
    Unavailable(FetchFailure),
}

/// Per-host shared state: every request to the host goes through it.
struct HostState {
    limiter: RwLock<Option<Arc<DefaultDirectRateLimiter>>>,
    /// No request may be sent before this instant (`Retry-After`, captcha pause).
    not_before: Mutex<Option<Instant>>,
    in_flight: Semaphore,
    robots: OnceCell<RobotsRules>,
}

/// The shared fetcher of one crawl run. Cheap to share (`Arc`); get it with
/// [`Fetcher::shared`] from inside tasks.
pub struct Fetcher {
    config: CrawlConfig,
    base: Url,
    client: reqwest::Client,
    host: HostState,
    /// The on-disk cache, when [`CrawlConfig::cache_dir`] is set.
    cache: Option<ResponseCache>,
    stats: StatsCounters,
    io: tokio::runtime::Handle,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// The process-wide runtime that runs every request.
fn io_runtime() -> Result<tokio::runtime::Handle, CrawlError> {
    static IO: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sofleet-crawl-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map(|rt| rt.handle().clone())
    .map_err(|e| CrawlError::Client(format!("could not start the I/O runtime: {e}")))
}

type Registry = Mutex<HashMap<(String, u64), Arc<Fetcher>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn make_limiter(period: Duration) -> Option<Arc<DefaultDirectRateLimiter>> {
    Quota::with_period(period)
        .map(|q| Arc::new(RateLimiter::direct(q.allow_burst(NonZeroU32::MIN))))
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(sofleet_crawl::parse_retry_after("3"), Some(Duration::from_secs(3)));
/// assert_eq!(sofleet_crawl::parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
/// assert_eq!(sofleet_crawl::parse_retry_after("soon"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The local address this process's HTTP requests leave from, if set.
static LOCAL_ADDRESS: OnceLock<std::net::IpAddr> = OnceLock::new();

/// Makes every HTTP request of this process leave from `addr` (a worker's `--bind-ip`), so a
/// fleet of workers, one per address, spreads requests over addresses the way a cluster of
/// machines does. Set it once, before the first fetcher is built; a later call with another
/// address fails.
///
/// # Errors
/// [`CrawlError::InvalidConfig`] if a different address was already set.
pub fn set_local_address(addr: std::net::IpAddr) -> Result<(), CrawlError> {
    let current = *LOCAL_ADDRESS.get_or_init(|| addr);
    if current == addr {
        Ok(())
    } else {
        Err(CrawlError::InvalidConfig {
            field: "local_address",
            message: format!("this process already sends from {current}; cannot switch to {addr}"),
        })
    }
}

/// The address set with [`set_local_address`], if any.
pub fn local_address() -> Option<std::net::IpAddr> {
    LOCAL_ADDRESS.get().copied()
}

/// The outcome of one request.
enum Attempt {
    Done(Page),
    Permanent(FetchFailure),
    Retry {
        failure: FetchFailure,
        /// Pause the whole host this long (Retry-After, captcha); otherwise back off this request.
        host_pause: Option<Duration>,
    },
}

fn failure(kind: FailureKind, status: Option<u16>, message: String) -> FetchFailure {
    FetchFailure {
        kind,
        http_status: status,
        attempts: 0,
        message,
    }
}

/// Aborts the spawned I/O future when the awaiting task is dropped (cancelled).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Fetcher {
    /// Builds a fetcher for `config` (not registered; see [`Fetcher::shared`]).
    ///
    /// # Errors
    /// [`CrawlError::InvalidConfig`] or [`CrawlError::Client`].
    pub fn new(config: &CrawlConfig) -> Result<Fetcher, CrawlError> {
        let base = config.validate()?;
        let io = io_runtime()?;
        let redirect = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().path().starts_with("/nocaptcha")
                || attempt.url().path().contains("captcha")
            {
                attempt.stop()
            } else if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else {
                attempt.follow()
            }
        });
        let client = {
            let _guard = io.enter();
            reqwest::Client::builder()
                .user_agent(config.user_agent.clone())
                .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
                .timeout(Duration::from_millis(config.timeout_ms))
                .gzip(true)
                .brotli(true)
                .redirect(redirect)
                .pool_max_idle_per_host(config.max_concurrency_per_host as usize)
                .local_address(local_address())
                .build()
                .map_err(|e| CrawlError::Client(e.to_string()))?
        };
        let limiter = config
            .requests_per_second
            .and_then(|rate| make_limiter(Duration::from_secs_f64(1.0 / rate)));
        Ok(Fetcher {
            config: config.clone(),
            base,
            client,
            host: HostState {
                limiter: RwLock::new(limiter),
                not_before: Mutex::new(None),
                in_flight: Semaphore::new(config.max_concurrency_per_host as usize),
                robots: OnceCell::new(),
            },
            cache: config
                .cache_dir
                .as_ref()
                .map(|dir| ResponseCache::new(dir, config.max_body_bytes)),
            stats: StatsCounters::default(),
            io,
        })
    }

    /// The fetcher of crawl run `run_id` with `config`, created on first use and shared by every
    /// task of the run in this process (so they share the connection pool, rate limiter, host
    /// pauses, robots.txt and counters).
    ///
    /// # Errors
    /// As [`Fetcher::new`].
    pub fn shared(config: &CrawlConfig, run_id: u64) -> Result<Arc<Fetcher>, CrawlError> {
        let key = (config.digest(), run_id);
        let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = map.get(&key) {
            return Ok(f.clone());
        }
        let fetcher = Arc::new(Fetcher::new(config)?);
        map.insert(key, fetcher.clone());
        Ok(fetcher)
    }

    /// Drops the registry entry of a finished run (tasks still holding it keep working).
    pub fn release(config: &CrawlConfig, run_id: u64) {
        let key = (config.digest(), run_id);
        registry()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
    }

    /// The configuration this fetcher was built with.
    pub fn config(&self) -> &CrawlConfig {
        &self.config
    }

    /// The crawled site's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> FetchStats {
        self.stats.snapshot()
    }

    /// Whether `url` is on the crawled host (same scheme, host and port).
    pub fn on_host(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Pauses every request to the host until at least `pause` from now.
    pub fn pause_host(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut nb = self
            .host
            .not_before
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if nb.is_none_or(|t| t < until) {
            *nb = Some(until);
        }
    }

    /// Fetches `url` politely, on the fetcher's I/O runtime. With `max_age` `Some(age)`, a page
    /// in the on-disk cache fetched less than `age` ago is returned without a request (a zero
    /// age never is); an older one is fetched again (and replaced once [`Fetcher::store`]d).
    /// `None` bypasses the cache. Never panics; every failure is a [`FetchFailure`] with its
    /// kind.
    ///
    /// # Errors
    /// The [`FetchFailure`] after every retry.
    pub async fn fetch(
        self: &Arc<Self>,
        url: &str,
        max_age: Option<Duration>,
    ) -> Result<Page, FetchFailure> {
        let this = self.clone();
        let owned = url.to_owned();
        let handle = self
            .io
            .spawn(async move { this.fetch_inner(&owned, max_age).await });
        AbortOnDrop(handle).await.unwrap_or_else(|e| {
            Err(FetchFailure::before_request(
                if e.is_cancelled() {
                    FailureKind::Cancelled
                } else {
                    FailureKind::Other
                },
                format!("fetch task ended abnormally: {e}"),
            ))
        })
    }

    /// Loads robots.txt (once per run) and reports whether it could be fetched.
    ///
    /// # Errors
    /// The failure when robots.txt is unavailable (5xx or network errors after every retry); the
    /// crawl then fetches nothing from the host.
    pub async fn ensure_robots(self: &Arc<Self>) -> Result<(), FetchFailure> {
        let this = self.clone();
        let handle = self.io.spawn(async move {
            match this.robots().await {
                RobotsRules::Unavailable(f) => Err(f.clone()),
                _ => Ok(()),
            }
        });
        AbortOnDrop(handle).await.unwrap_or_else(|e| {
            Err(FetchFailure::before_request(
                FailureKind::Other,
                e.to_string(),
            ))
        })
    }

    /// Stores a page that proved good in the on-disk cache (no-op without a cache directory).
    pub async fn store(self: &Arc<Self>, page: &Page) {
        if self.config.cache_dir.is_none() || page.from_cache {
            return;
        }
        let this = self.clone();
        let page = page.clone();
        let _ = AbortOnDrop(self.io.spawn(async move { this.store_inner(&page).await })).await;
    }

    async fn store_inner(&self, page: &Page) {
        let Some(cache) = &self.cache else {
            return;
        };
        if let Err(e) = cache.put(page).await {
            tracing::warn!(url = %page.url, error = %e, "could not write the response cache");
        }
    }

    /// The cached page of `url` if it was fetched less than `max_age` ago.
    async fn cached(&self, url: &str, max_age: Duration) -> Option<Page> {
        let cache = self.cache.as_ref()?;
        if max_age.is_zero() {
            return None;
        }
        match cache.get(url, max_age).await {
            Lookup::Fresh(page) => {
                StatsCounters::add(&self.stats.cache_hits, 1);
                Some(page)
            }
            Lookup::Stale { fetched_at_ms } => {
                tracing::debug!(url, fetched_at_ms, "cache entry expired; refetching");
                None
            }
            Lookup::Missing => None,
            Lookup::Unreadable(e) => {
                tracing::warn!(url, error = %e, "unreadable cache entry; refetching");
                None
            }
        }
    }

    async fn fetch_inner(
        &self,
        url: &str,
        max_age: Option<Duration>,
    ) -> Result<Page, FetchFailure> {
        let parsed = Url::parse(url).map_err(|e| {
            FetchFailure::before_request(FailureKind::Other, format!("{url:?} is not a URL: {e}"))
        })?;
        if !self.on_host(&parsed) {
            return Err(FetchFailure::before_request(
                FailureKind::OffHost,
                format!("{url} is not on the crawled host {}", self.base),
            ));
        }
        if let Some(max_age) = max_age
            && let Some(page) = self.cached(parsed.as_str(), max_age).await
        {
            return match page.status {
                200..=299 => Ok(page),
                status => Err(failure(
                    if matches!(status, 404 | 410) {
                        FailureKind::NotFound
                    } else {
                        FailureKind::HttpStatus
                    },
                    Some(status),
                    format!("HTTP {status} (cached)"),
                )),
            };
        }
        match self.robots().await {
            RobotsRules::AllowAll => {}
            RobotsRules::Rules(robot) => {
                if !robot.allowed(url) {
                    StatsCounters::add(&self.stats.robots_disallowed, 1);
                    return Err(FetchFailure::before_request(
                        FailureKind::DisallowedByRobots,
                        format!(
                            "robots.txt disallows {url} for {:?}",
                            self.config.robots_agent()
                        ),
                    ));
                }
            }
            RobotsRules::Unavailable(f) => {
                StatsCounters::add(&self.stats.robots_disallowed, 1);
                return Err(FetchFailure::before_request(
                    FailureKind::DisallowedByRobots,
                    format!(
                        "robots.txt could not be fetched ({}), so nothing is crawled",
                        f.message
                    ),
                ));
            }
        }
        let result = self.fetch_network(&parsed).await;
        if let Err(f) = &result
            && f.kind == FailureKind::NotFound
            && let Some(status) = f.http_status
        {
            // A missing page stays missing: remember it so a re-run does not ask again.
            self.store_inner(&Page {
                url: parsed.to_string(),
                status,
                body: String::new(),
                fetched_at_ms: now_ms(),
                attempts: f.attempts,
                from_cache: false,
            })
            .await;
        }
        result
    }

    async fn robots(&self) -> &RobotsRules {
        self.host.robots.get_or_init(|| self.load_robots()).await
    }

    async fn load_robots(&self) -> RobotsRules {
        if self.config.ignore_robots {
            return RobotsRules::AllowAll;
        }
        let mut robots_url = self.base.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        let page = match self.cached(robots_url.as_str(), ROBOTS_CACHE_TTL).await {
            Some(page) => Ok(page),
            None => self.fetch_network(&robots_url).await,
        };
        match page {
            Ok(page) => {
                if !page.from_cache {
                    self.store_inner(&page).await;
                }
                match Robot::new(self.config.robots_agent(), page.body.as_bytes()) {
                    Ok(robot) => {
                        if let Some(delay) = robot.delay.filter(|d| d.is_finite() && *d > 0.0) {
                            self.apply_crawl_delay(Duration::from_secs_f64(f64::from(delay)));
                        }
                        RobotsRules::Rules(Box::new(robot))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "unparsable robots.txt; treating it as empty");
                        RobotsRules::AllowAll
                    }
                }
            }
            // No robots.txt (4xx): everything is allowed.
            Err(f)
                if matches!(f.http_status, Some(400..=499))
                    && f.kind != FailureKind::RateLimited =>
            {
                if let Some(status) = f.http_status {
                    self.store_inner(&Page {
                        url: robots_url.to_string(),
                        status,
                        body: String::new(),
                        fetched_at_ms: now_ms(),
                        attempts: f.attempts,
                        from_cache: false,
                    })
                    .await;
                }
                RobotsRules::AllowAll
            }
            Err(f) => RobotsRules::Unavailable(f),
        }
    }

    /// Slows the host to at most one request per `delay` (robots.txt `Crawl-delay`).
    fn apply_crawl_delay(&self, delay: Duration) {
        let configured = self
            .config
            .requests_per_second
            .map(|r| Duration::from_secs_f64(1.0 / r))
            .unwrap_or(Duration::ZERO);
        if delay > configured {
            let fresh = make_limiter(delay);
            if let Some(l) = &fresh {
                // robots.txt itself was the request just made: the next one waits a full delay.
                let _ = l.check();
            }
            let mut limiter = self.host.limiter.write().unwrap_or_else(|p| p.into_inner());
            *limiter = fresh;
        }
    }

    /// Waits until the host pause is over and the rate limiter grants a slot.
    async fn wait_turn(&self) {
        let start = Instant::now();
        loop {
            let pause = *self
                .host
                .not_before
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(until) = pause
                && until > Instant::now()
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            let limiter = self
                .host
                .limiter
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(limiter) = limiter {
                limiter.until_ready().await;
            }
            // A pause may have started while we waited for the limiter.
            let pause = *self
                .host
                .not_before
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if pause.is_some_and(|until| until > Instant::now()) {
                continue;
            }
            break;
        }
        self.stats.waited(start.elapsed());
    }

    async fn fetch_network(&self, url: &Url) -> Result<Page, FetchFailure> {
        let retry = &self.config.retry;
        let mut attempt = 0u32;
        let (mut errors, mut blocked) = (0u32, 0u32);
        loop {
            attempt += 1;
            if attempt > 1 {
                StatsCounters::add(&self.stats.retries, 1);
            }
            let outcome = {
                let _permit = self.host.in_flight.acquire().await;
                self.wait_turn().await;
                StatsCounters::add(&self.stats.requests, 1);
                let sent = Instant::now();
                let outcome = self.send_once(url).await;
                self.stats.requested(sent.elapsed());
                outcome
            };
            match outcome {
                Attempt::Done(mut page) => {
                    page.attempts = attempt;
                    return Ok(page);
                }
                Attempt::Permanent(mut f) => {
                    f.attempts = attempt;
                    return Err(f);
                }
                Attempt::Retry {
                    mut failure,
                    host_pause,
                } => {
                    failure.attempts = attempt;
                    // The site telling us to wait (429, captcha) gets its own, larger budget:
                    // obeying it costs the site nothing.
                    let exhausted = match host_pause {
                        Some(_) => {
                            blocked += 1;
                            blocked >= retry.max_attempts.saturating_mul(2)
                        }
                        None => {
                            errors += 1;
                            errors >= retry.max_attempts
                        }
                    };
                    if exhausted {
                        return Err(failure);
                    }
                    match host_pause {
                        Some(pause) if pause > Duration::from_millis(retry.max_retry_after_ms) => {
                            failure.message = format!(
                                "{}; the server asks to wait {:.0} s, more than the {:.0} s allowed",
                                failure.message,
                                pause.as_secs_f64(),
                                retry.max_retry_after_ms as f64 / 1e3
                            );
                            return Err(failure);
                        }
                        Some(pause) => self.pause_host(pause),
                        None => {
                            let base = retry.backoff(errors);
                            // "Equal jitter": half fixed, half random.
                            let half = base / 2;
                            let jitter = rand::rng().random_range(0..=half.as_micros() as u64);
                            let delay = half + Duration::from_micros(jitter);
                            self.stats.waited(delay);
                            tokio::time::sleep(delay).await;
                        }
                    }
                }
            }
        }
    }

    async fn send_once(&self, url: &Url) -> Attempt {
        let response = match self.client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                StatsCounters::add(&self.stats.transport_errors, 1);
                let kind = if e.is_timeout() {
                    FailureKind::Timeout
                } else if e.is_connect() {
                    FailureKind::Connect
                } else if e.is_redirect() {
                    return Attempt::Permanent(failure(
                        FailureKind::HttpStatus,
                        None,
                        e.to_string(),
                    ));
                } else {
                    FailureKind::Other
                };
                return Attempt::Retry {
                    failure: failure(kind, None, format!("request failed: {e}")),
                    host_pause: None,
                };
            }
        };
        let status = response.status().as_u16();
        self.stats.status(status);
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        match status {
            200..=299 => {}
            300..=399 => {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                if location.contains("captcha") {
                    return self.captcha(status, &format!("redirected to {location}"));
                }
                return Attempt::Permanent(failure(
                    FailureKind::HttpStatus,
                    Some(status),
                    format!("HTTP {status} redirect to {location:?} not followed"),
                ));
            }
            404 | 410 => {
                return Attempt::Permanent(failure(
                    FailureKind::NotFound,
                    Some(status),
                    format!("HTTP {status} for {url}"),
                ));
            }
            429 => {
                StatsCounters::add(&self.stats.too_many_requests, 1);
                let pause = retry_after.unwrap_or_else(|| self.config.retry.backoff(1));
                return Attempt::Retry {
                    failure: failure(
                        FailureKind::RateLimited,
                        Some(status),
                        format!(
                            "HTTP 429 Too Many Requests (Retry-After {:.1} s)",
                            pause.as_secs_f64()
                        ),
                    ),
                    host_pause: Some(pause),
                };
            }
            408 => {
                return Attempt::Retry {
                    failure: failure(
                        FailureKind::Timeout,
                        Some(status),
                        "HTTP 408 Request Timeout".into(),
                    ),
                    host_pause: None,
                };
            }
            500..=599 => {
                return Attempt::Retry {
                    failure: failure(
                        FailureKind::ServerError,
                        Some(status),
                        format!("HTTP {status}"),
                    ),
                    // A 503 with Retry-After is the server asking the whole host to slow down.
                    host_pause: retry_after,
                };
            }
            _ => {
                return Attempt::Permanent(failure(
                    FailureKind::HttpStatus,
                    Some(status),
                    format!("HTTP {status} is not retried"),
                ));
            }
        }
        let max = self.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > max) {
            return Attempt::Permanent(failure(
                FailureKind::TooLarge,
                Some(status),
                format!(
                    "body of {} bytes exceeds the {max}-byte limit",
                    response.content_length().unwrap_or(0)
                ),
            ));
        }
        let mut response = response;
        let mut body: Vec<u8> = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    StatsCounters::add(&self.stats.bytes, chunk.len() as u64);
                    if (body.len() + chunk.len()) as u64 > max {
                        return Attempt::Permanent(failure(
                            FailureKind::TooLarge,
                            Some(status),
                            format!("body exceeds the {max}-byte limit"),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    StatsCounters::add(&self.stats.transport_errors, 1);
                    let kind = if e.is_timeout() {
                        FailureKind::Timeout
                    } else {
                        FailureKind::Truncated
                    };
                    return Attempt::Retry {
                        failure: failure(
                            kind,
                            Some(status),
                            format!("reading the body failed: {e}"),
                        ),
                        host_pause: None,
                    };
                }
            }
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        match classify_block(&body) {
            Some(BlockKind::Captcha) => {
                return self.captcha(status, "human-verification page served instead of content");
            }
            Some(BlockKind::TooManyRequests) => {
                StatsCounters::add(&self.stats.too_many_requests, 1);
                return Attempt::Retry {
                    failure: failure(
                        FailureKind::RateLimited,
                        Some(status),
                        "\"Too Many Requests\" page served instead of content".into(),
                    ),
                    host_pause: Some(retry_after.unwrap_or_else(|| self.config.retry.backoff(1))),
                };
            }
            _ => {}
        }
        Attempt::Done(Page {
            url: url.to_string(),
            status,
            body,
            fetched_at_ms: now_ms(),
            attempts: 0,
            from_cache: false,
        })
    }

    fn captcha(&self, status: u16, message: &str) -> Attempt {
        StatsCounters::add(&self.stats.captchas, 1);
        Attempt::Retry {
            failure: failure(
                FailureKind::Captcha,
                Some(status),
                format!("captcha: {message}"),
            ),
            host_pause: Some(Duration::from_millis(self.config.captcha_pause_ms)),
        }
    }

    /// Records a captcha noticed only by the extractor: pauses the host like a fetched one.
    pub fn report_captcha(&self) {
        StatsCounters::add(&self.stats.captchas, 1);
        self.pause_host(Duration::from_millis(self.config.captcha_pause_ms));
    }
}
