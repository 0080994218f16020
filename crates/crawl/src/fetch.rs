//! The polite fetcher: one shared HTTP client, per-host rate limit, pause and concurrency cap,
//! robots.txt, retries with back-off, the on-disk cache ([`ResponseCache`], with expiry: pages as
//! old as the caller accepts, robots.txt for [`ROBOTS_CACHE_TTL`]) and counters.
//!
//! All network I/O runs on the I/O runtime of the [`CrawlWorker`](crate::CrawlWorker) that made
//! the fetcher (or the caller's runtime for [`Fetcher::new`]), whatever executor backend runs
//! the calling task: a `reqwest` connection pool must stay on the runtime that created its
//! connections, and tasks on the threads backend each run on their own short-lived runtime.
//! Tasks hand requests to that runtime and await the answer. With a
//! [`SharedBudget`](crate::SharedBudget) the rate limit and host pauses are shared by every
//! worker sending from the same address to the host.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use rand::Rng;
use sofleet_records::FailureKind;
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

use crate::budget::{SharedBudget, budget_key};
use crate::cache::{Lookup, ResponseCache};
use crate::config::CrawlConfig;
use crate::error::{CrawlError, FetchFailure};
use crate::host::{HostState, SharedLimit, describe, make_limiter};
use crate::response::{Attempt, BodyLimit, failure};
use crate::robots::RobotsRules;
use crate::stats::{FetchStats, StatsCounters};

/// Redirects followed for one page; one more fails it.
pub const MAX_REDIRECTS: usize = 5;

/// A fetched page (from the network or the on-disk cache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The URL requested (the cache key).
    pub url: String,
    /// The URL the page was finally fetched from when the request was redirected (on the
    /// crawled host or one of [`CrawlConfig::redirect_hosts`]); `None` when it was not.
    pub redirected_to: Option<String>,
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

impl Page {
    /// An answer without a body worth keeping (a 404, a missing robots.txt), fetched now: cached
    /// so a re-run does not ask again.
    pub(crate) fn bodiless(url: &str, status: u16, attempts: u32) -> Page {
        Page {
            url: url.to_owned(),
            redirected_to: None,
            status,
            body: String::new(),
            fetched_at_ms: now_ms(),
            attempts,
            from_cache: false,
        }
    }
}

/// The shared fetcher of one crawl run. Cheap to share (`Arc`); get it with
/// [`CrawlWorker::fetcher`](crate::CrawlWorker::fetcher) from inside tasks.
pub struct Fetcher {
    pub(crate) config: CrawlConfig,
    base: Url,
    pub(crate) client: reqwest::Client,
    pub(crate) host: HostState,
    /// The on-disk cache, when [`CrawlConfig::cache_dir`] is set.
    cache: Option<ResponseCache>,
    pub(crate) stats: StatsCounters,
    pub(crate) io: tokio::runtime::Handle,
    /// robots.txt of the other hosts redirects may lead to, by origin.
    pub(crate) other_robots: Mutex<HashMap<String, Arc<OnceCell<RobotsRules>>>>,
    /// Warnings already printed (each once per run).
    warned: Mutex<HashSet<&'static str>>,
    /// The fleet-wide budget, its key for this host and source address, and the local limiter
    /// used while it is unreachable.
    pub(crate) shared: Option<SharedLimit>,
    /// The worker's name and source address (for per-worker statistics).
    worker: String,
    source: String,
}

/// What a [`CrawlWorker`](crate::CrawlWorker) lends the fetchers it makes.
pub(crate) struct WorkerLink {
    pub(crate) io: tokio::runtime::Handle,
    pub(crate) http: reqwest::Client,
    pub(crate) budget: Option<Arc<dyn SharedBudget>>,
    pub(crate) source: String,
    pub(crate) worker: String,
}

/// The HTTP client for `config` (redirects off: `fetch_network` follows them hop by hop, each
/// checked against the allowed hosts and robots.txt and through the rate limit), sending from
/// `local_address` when set.
pub(crate) fn http_client(
    config: &CrawlConfig,
    io: &tokio::runtime::Handle,
    local_address: Option<std::net::IpAddr>,
) -> Result<reqwest::Client, CrawlError> {
    let _guard = io.enter();
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .gzip(true)
        .brotli(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(config.max_concurrency_per_host as usize)
        .local_address(local_address)
        .build()
        .map_err(|e| CrawlError::Client(e.to_string()))
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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
    /// Builds a fetcher for `config` on the current tokio runtime, with no shared budget
    /// (tests and single-process tools; crawl tasks get theirs from their
    /// [`CrawlWorker`](crate::CrawlWorker)).
    ///
    /// # Errors
    /// [`CrawlError::InvalidConfig`], or [`CrawlError::Client`] outside a tokio runtime or if
    /// the HTTP client cannot be built.
    pub fn new(config: &CrawlConfig) -> Result<Fetcher, CrawlError> {
        config.validate()?;
        let io = tokio::runtime::Handle::try_current().map_err(|e| {
            CrawlError::Client(format!(
                "Fetcher::new needs a tokio runtime ({e}); crawl tasks get their fetcher from a \
                 CrawlWorker"
            ))
        })?;
        let http = http_client(config, &io, None)?;
        Fetcher::with_link(
            config,
            WorkerLink {
                io,
                http,
                budget: None,
                source: "local".to_owned(),
                worker: "local".to_owned(),
            },
        )
    }

    /// Builds a fetcher on a worker's runtime, HTTP client and budget.
    pub(crate) fn with_link(config: &CrawlConfig, link: WorkerLink) -> Result<Fetcher, CrawlError> {
        let base = config.validate()?;
        // `validate` bounded the rate, so its period is a finite, representable duration.
        let interval = config
            .requests_per_second
            .and_then(|rate| crate::response::seconds(1.0 / rate));
        let limiter = interval.and_then(make_limiter);
        let host = match (base.host_str(), base.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => base.to_string(),
        };
        let shared = link.budget.map(|budget| SharedLimit {
            budget,
            key: budget_key(&host, &link.source),
            fallback: Mutex::new(None),
        });
        Ok(Fetcher {
            config: config.clone(),
            base,
            client: link.http,
            host: HostState {
                limiter: RwLock::new(limiter),
                interval: RwLock::new(interval),
                not_before: Mutex::new(None),
                in_flight: Semaphore::new(config.max_concurrency_per_host as usize),
                robots: OnceCell::new(),
                stopped: Mutex::new(None),
            },
            cache: config
                .cache_dir
                .as_ref()
                .map(|dir| ResponseCache::new(dir, config.max_body_bytes)),
            stats: StatsCounters::default(),
            io: link.io,
            other_robots: Mutex::new(HashMap::new()),
            warned: Mutex::new(HashSet::new()),
            shared,
            worker: link.worker,
            source: link.source,
        })
    }

    /// The name of the worker that owns this fetcher (`local` for a local crawl).
    pub fn worker_name(&self) -> &str {
        &self.worker
    }

    /// Where this fetcher's requests leave from (see [`WorkerPolicy::source`](crate::WorkerPolicy::source)).
    pub fn source(&self) -> &str {
        &self.source
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

    pub(crate) async fn store_inner(&self, page: &Page) {
        let Some(cache) = &self.cache else {
            return;
        };
        if let Err(e) = cache.put(page).await {
            tracing::warn!(url = %page.url, error = %e, "could not write the response cache");
        }
    }

    /// The cached page of `url` if it was fetched less than `max_age` ago.
    pub(crate) async fn cached(&self, url: &str, max_age: Duration) -> Option<Page> {
        let cache = self.cache.as_ref()?;
        if max_age.is_zero() {
            return None;
        }
        match cache.get(url, max_age).await {
            Lookup::Fresh(page) => {
                StatsCounters::add(&self.stats.cache_hits, 1);
                tracing::debug!(
                    target: "sofleet_crawl::request",
                    "GET {url} {} (cache hit, fetched {} s ago)",
                    page.status,
                    (now_ms() - page.fetched_at_ms).max(0) / 1000
                );
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
        self.robots_verdict(&parsed).await?;
        if let Some(stopped) = self.host_stopped() {
            return Err(stopped);
        }
        let result = self
            .fetch_network(&parsed, BodyLimit::Fail(self.config.max_body_bytes), true)
            .await;
        if let Err(f) = &result
            && f.kind == FailureKind::NotFound
            && let Some(status) = f.http_status
        {
            // A missing page stays missing: remember it so a re-run does not ask again.
            self.store_inner(&Page::bodiless(parsed.as_str(), status, f.attempts))
                .await;
        }
        result
    }

    /// The longest pause the site may ask for ([`CrawlConfig::max_pause`]).
    pub(crate) fn max_pause(&self) -> Duration {
        self.config.max_pause
    }

    /// The crawled host, for messages (`host[:port]`).
    pub(crate) fn host_name(&self) -> String {
        match (self.base.host_str(), self.base.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => self.base.to_string(),
        }
    }

    /// Logs `message` as a warning the first time `key` is seen in this run.
    pub(crate) fn warn_once(&self, key: &'static str, message: String) {
        let first = self.warned.lock().insert(key);
        if first {
            tracing::warn!("{message}");
        }
    }

    /// Whether a redirect may lead to `url`: the crawled host (any scheme and port of it) or
    /// one of [`CrawlConfig::redirect_hosts`], over http(s).
    pub fn may_redirect_to(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|host| {
                Some(host) == self.base.host_str()
                    || self
                        .config
                        .redirect_hosts
                        .iter()
                        .any(|allowed| allowed.eq_ignore_ascii_case(host))
            })
    }

    /// Requests `url` with retries, following redirects hop by hop (each one on an allowed
    /// host, allowed by its robots.txt when `check_robots`, and through the rate limit).
    pub(crate) async fn fetch_network(
        &self,
        url: &Url,
        limit: BodyLimit,
        check_robots: bool,
    ) -> Result<Page, FetchFailure> {
        let retry = &self.config.retry;
        let mut attempt = 0u32;
        let (mut errors, mut blocked) = (0u32, 0u32);
        let mut current = url.clone();
        let mut hops = 0usize;
        loop {
            attempt += 1;
            if attempt > 1 + hops as u32 {
                StatsCounters::add(&self.stats.retries, 1);
            }
            let outcome = {
                let _permit = self.host.in_flight.acquire().await;
                let waited = self.wait_turn().await;
                // The host may have been stopped while this request waited its turn.
                if let Some(mut stopped) = self.host_stopped() {
                    stopped.attempts = attempt - 1;
                    return Err(stopped);
                }
                StatsCounters::add(&self.stats.requests, 1);
                let sent = Instant::now();
                let outcome = self.send_once(&current, limit).await;
                self.stats.requested(sent.elapsed());
                outcome.log(&current, attempt, waited, sent.elapsed());
                outcome
            };
            match outcome {
                Attempt::Done(mut page) => {
                    page.attempts = attempt;
                    if current != *url {
                        page.url = url.to_string();
                        page.redirected_to = Some(current.to_string());
                    }
                    return Ok(page);
                }
                Attempt::Redirect { status, location } => {
                    hops += 1;
                    let fail = |kind, message| {
                        let mut f = failure(kind, Some(status), message);
                        f.attempts = attempt;
                        f
                    };
                    let target = current.join(&location).map_err(|e| {
                        fail(
                            FailureKind::HttpStatus,
                            format!(
                                "HTTP {status} redirect to {location:?}, which is not a URL ({e})"
                            ),
                        )
                    })?;
                    if hops > MAX_REDIRECTS {
                        return Err(fail(
                            FailureKind::HttpStatus,
                            format!("more than {MAX_REDIRECTS} redirects (the last to {target})"),
                        ));
                    }
                    if !self.may_redirect_to(&target) {
                        return Err(fail(
                            FailureKind::OffSiteRedirect,
                            format!(
                                "HTTP {status} redirect from {current} to {target}, off the \
                                 crawled host {} (allow that host with --allow-redirect-host if \
                                 it is the same site)",
                                self.host_name()
                            ),
                        ));
                    }
                    // Boxed: robots.txt is itself fetched through `fetch_network` (with
                    // `check_robots` false, but the compiler sees the cycle).
                    if check_robots && let Err(mut f) = Box::pin(self.robots_verdict(&target)).await
                    {
                        f.attempts = attempt;
                        f.http_status = Some(status);
                        f.message = format!("{} (redirected from {current})", f.message);
                        return Err(f);
                    }
                    current = target;
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
                    if let Some(pause) = host_pause
                        && pause > self.max_pause()
                    {
                        let why = format!(
                            "{} asks to wait {} ({}), longer than --max-pause ({}): its pages \
                             are not fetched in this run; run the crawl again later to resume",
                            self.host_name(),
                            describe(pause),
                            failure.message,
                            describe(self.max_pause())
                        );
                        let mut stopped = self.stop_host(why);
                        stopped.attempts = attempt;
                        stopped.http_status = failure.http_status;
                        return Err(stopped);
                    }
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
}
