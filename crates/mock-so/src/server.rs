//! The HTTP server: a small hyper HTTP/1.1 server on its own thread, one
//! catch-all responder that routes by path, applies the configured behaviours
//! and renders pages from the in-memory site.
//!
//! Nothing here grows with the number of requests served unless the
//! configuration asks for it ([`MockSiteConfig::record_requests`]): client
//! state is swept once its windows and blocks have expired, and the
//! `server_errors` memory is a capped set of URL hashes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sofleet_extract::{ListingEntry, Question};

use crate::config::{Latency, MAX_REMEMBERED_FAULTS, MockSiteConfig};
use crate::content::{SiteContent, Sort, normalize_pagesize};
use crate::error::MockSiteError;
use crate::render::{captcha_page, error_page};
use crate::rng::{Rng, hash_str};
use crate::text::{encode_tag, percent_decode};

/// Request header that names the client for rate limiting and the captcha
/// burst detector. Requests without it are all one client, `"default"`. (To
/// key clients by source address instead, put a
/// [`PeerTaggingProxy`](crate::PeerTaggingProxy) in front of the site.)
pub const CLIENT_HEADER: &str = "x-sofleet-client";

/// The robots.txt served when the configuration gives none: crawling
/// `/questions` is allowed.
pub const DEFAULT_ROBOTS_TXT: &str = "User-Agent: *\nDisallow: /posts/\nDisallow: /search\nDisallow: /users/login\nDisallow: /nocaptcha\nAllow: /\n";

/// The robots.txt served for [`MockSiteConfig::crawl_delay`]: one
/// `User-agent: *` group with `Crawl-delay: VALUE` (verbatim) and the
/// default rules.
///
/// ```
/// let robots = sofleet_mock_so::robots_txt_with_crawl_delay("1e30");
/// assert!(robots.starts_with("User-agent: *\nCrawl-delay: 1e30\nDisallow: /posts/\n"));
/// ```
pub fn robots_txt_with_crawl_delay(value: &str) -> String {
    let rules = DEFAULT_ROBOTS_TXT
        .split_once('\n')
        .map_or("", |(_, rules)| rules);
    format!("User-agent: *\nCrawl-delay: {value}\n{rules}")
}

/// One request the mock site received, in arrival order (kept only with
/// [`MockSiteConfig::record_requests`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method (`GET`, `HEAD`, ...).
    pub method: String,
    /// Path plus query, e.g. `/questions/tagged/dask?tab=votes&page=2&pagesize=15`.
    pub path: String,
    /// The client key ([`CLIENT_HEADER`] value or `"default"`).
    pub client: String,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The status the site answered with.
    pub status: u16,
    /// Arrival time (monotonic), for ordering and spacing checks.
    pub at: Instant,
    /// Arrival time (wall clock).
    pub time: SystemTime,
}

#[derive(Default)]
struct ClientState {
    /// Accepted requests within the last second (rate limit window).
    accepted: VecDeque<Instant>,
    /// All requests within the last second (captcha burst window).
    burst: VecDeque<Instant>,
    blocked_until: Option<Instant>,
    captcha_until: Option<Instant>,
}

impl ClientState {
    /// Nothing left that could change how the next request is answered: the
    /// windows hold only expired entries and no block or cool-down runs.
    fn is_idle(&self, now: Instant) -> bool {
        let expired = |t: &Instant| now.duration_since(*t) >= Duration::from_secs(1);
        self.accepted.iter().all(expired)
            && self.burst.iter().all(expired)
            && self.blocked_until.is_none_or(|until| now >= until)
            && self.captcha_until.is_none_or(|until| now >= until)
    }
}

/// How often idle clients are swept from the state.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

struct State {
    /// `Some` when the configuration records requests.
    log: Option<Vec<RecordedRequest>>,
    received: u64,
    clients: HashMap<String, ClientState>,
    next_sweep: Instant,
    /// Hashes of the `server_errors` URLs whose first attempt already failed.
    failed_once: HashSet<u64>,
    latency_rng: Rng,
    captcha_seq: u64,
}

impl State {
    fn new(config: &MockSiteConfig) -> State {
        State {
            log: config.record_requests.then(Vec::new),
            received: 0,
            clients: HashMap::new(),
            next_sweep: Instant::now() + SWEEP_EVERY,
            failed_once: HashSet::new(),
            latency_rng: Rng::derive(config.seed, 0x01A7_E2C7),
            captcha_seq: 0,
        }
    }

    /// Drops the clients that are idle, at most once per [`SWEEP_EVERY`].
    fn sweep_clients(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP_EVERY;
        self.clients.retain(|_, cs| !cs.is_idle(now));
        if self.clients.capacity() > 64 && self.clients.capacity() > 4 * self.clients.len() {
            self.clients.shrink_to_fit();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A response being built: status, headers, body, and how long to wait
/// before sending it.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, HeaderValue)>,
    content_type: &'static str,
    body: Vec<u8>,
    delay: Duration,
}

impl Reply {
    fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "text/html; charset=utf-8",
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header. Values come from validated configuration or from the
    /// site itself; one that still cannot be a header value is sent empty.
    fn header(mut self, name: &'static str, value: &str) -> Reply {
        let value =
            HeaderValue::from_bytes(value.as_bytes()).unwrap_or(HeaderValue::from_static(""));
        self.headers.push((name, value));
        self
    }

    fn into_response(self) -> hyper::Response<Full<Bytes>> {
        let mut response = hyper::Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(self.status).unwrap_or(hyper::StatusCode::OK);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            headers.append(HeaderName::from_static(name), value);
        }
        response
    }
}

enum Route {
    Robots,
    Captcha(String),
    Question(u64),
    Listing {
        tag: Option<String>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    },
    NotFound,
}

fn route(url: &url::Url) -> Route {
    let path = url.path();
    let query = |names: &[&str]| {
        url.query_pairs()
            .find(|(k, _)| names.contains(&k.as_ref()))
            .map(|(_, v)| v.into_owned())
    };
    let sort = query(&["tab", "sort"])
        .and_then(|v| Sort::parse(&v))
        .unwrap_or(Sort::Newest);
    // Out-of-range page numbers are kept out of range (they answer 404).
    let page = query(&["page"])
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&p| p > 0)
        .map_or(1, |p| u32::try_from(p).unwrap_or(u32::MAX));
    let pagesize = normalize_pagesize(query(&["pagesize"]).and_then(|v| v.parse::<u32>().ok()));
    if path == "/robots.txt" {
        return Route::Robots;
    }
    if path == "/nocaptcha" {
        return Route::Captcha(query(&["s"]).unwrap_or_default());
    }
    if path == "/" {
        return Route::Listing {
            tag: None,
            sort,
            page,
            pagesize,
        };
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["questions"] | ["questions", ""] => Route::Listing {
            tag: None,
            sort,
            page,
            pagesize,
        },
        ["questions", "tagged", tag] | ["questions", "tagged", tag, ""] => Route::Listing {
            tag: Some(percent_decode(tag).to_lowercase()),
            sort,
            page,
            pagesize,
        },
        ["questions", id] | ["questions", id, _] => match id.parse::<u64>() {
            Ok(id) => Route::Question(id),
            Err(_) => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

fn html(status: u16, body: String) -> Reply {
    let mut reply = Reply::new(status)
        .header("cache-control", "private")
        .header("x-frame-options", "SAMEORIGIN");
    reply.body = body.into_bytes();
    reply
}

/// What the responder needs of a request.
struct RequestInfo<'a> {
    method: &'a str,
    /// Path plus query.
    key: String,
    url: url::Url,
    client: String,
    user_agent: Option<String>,
}

struct SiteResponder {
    content: Arc<SiteContent>,
    state: Arc<Mutex<State>>,
}

impl SiteResponder {
    fn latency(&self, state: &mut State) -> Duration {
        match self.content.config.latency {
            Latency::None => Duration::ZERO,
            Latency::Fixed(d) => d,
            Latency::Random { min, max } => {
                let span = (max - min).as_micros() as u64;
                min + Duration::from_micros(state.latency_rng.below(span + 1))
            }
        }
    }

    /// The `Retry-After` text of a 429: the configured raw text, else `computed`.
    fn retry_after(&self, computed: impl FnOnce() -> String) -> Reply {
        let text = match &self.content.config.retry_after_header {
            Some(raw) => raw.clone(),
            None => computed(),
        };
        html(429, error_page(429)).header("retry-after", &text)
    }

    /// Captcha and rate-limit decisions for one request; `Some` short-circuits.
    fn gate(&self, state: &mut State, client: &str, now: Instant, path: &str) -> Option<Reply> {
        let config = &self.content.config;
        if config.captcha_after.is_none() && config.rate_limit.is_none() {
            return None;
        }
        state.sweep_clients(now);
        if !state.clients.contains_key(client) {
            state
                .clients
                .insert(client.to_string(), ClientState::default());
        }
        let cs = state.clients.get_mut(client).expect("inserted above");
        if let Some(limit) = config.captcha_after {
            let redirect = match cs.captcha_until {
                Some(until) if now < until => true,
                _ => {
                    cs.captcha_until = None;
                    cs.burst.push_back(now);
                    while cs
                        .burst
                        .front()
                        .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
                    {
                        cs.burst.pop_front();
                    }
                    if cs.burst.len() > limit as usize {
                        cs.captcha_until = Some(now + config.captcha_cooldown);
                        cs.burst.clear();
                        cs.burst.shrink_to_fit();
                        true
                    } else {
                        false
                    }
                }
            };
            if redirect {
                state.captcha_seq += 1;
                // Like the real site, `s` carries the blocked URL (percent-encoded).
                let token = encode_tag(path);
                return Some(
                    html(302, String::new()).header("location", &format!("/nocaptcha?s={token}")),
                );
            }
        }
        if let Some(limit) = config.rate_limit {
            let retry = |remaining: Duration| {
                self.retry_after(|| {
                    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
                    secs.to_string()
                })
            };
            if let Some(until) = cs.blocked_until {
                if now < until {
                    return Some(retry(until - now));
                }
                cs.blocked_until = None;
            }
            while cs
                .accepted
                .front()
                .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
            {
                cs.accepted.pop_front();
            }
            if cs.accepted.len() >= limit.requests_per_second as usize {
                cs.blocked_until = Some(now + limit.retry_after);
                return Some(retry(limit.retry_after));
            }
            cs.accepted.push_back(now);
        }
        None
    }

    fn page(&self, state: &mut State, route: Route, key: &str) -> Reply {
        let config = &self.content.config;
        if let Route::Question(id) = route {
            if config.always_429.contains(&id) {
                return self.retry_after(|| "1".to_string());
            }
            if let Some((_, location)) = config.redirects.iter().find(|(r, _)| *r == id) {
                return html(301, String::new()).header("location", location);
            }
        }
        if let Some(faults) = config.server_errors
            && fails_first(config.seed, faults.every_nth, key)
        {
            if state.failed_once.len() >= MAX_REMEMBERED_FAULTS {
                state.failed_once = HashSet::new();
            }
            if state
                .failed_once
                .insert(hash_str(config.seed ^ 0x0F1E_57A7, key))
            {
                let status = fault_status(config.seed, key);
                return html(status, error_page(status));
            }
        }
        match route {
            Route::Question(id) => {
                if config.not_found.contains(&id) {
                    return html(404, self.content.render_not_found_page());
                }
                match self.content.render_question_page(id) {
                    None => html(404, self.content.render_not_found_page()),
                    Some(mut page) => {
                        if config.truncated.contains(&id) {
                            let mut cut = page.len() / 2;
                            while !page.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            page.truncate(cut);
                        }
                        let mut reply = html(200, page);
                        // Slow bodies: successful question pages only, on top of the latency.
                        reply.delay = config.slow_body.unwrap_or_default();
                        reply
                    }
                }
            }
            Route::Listing {
                tag,
                sort,
                page,
                pagesize,
            } => match self
                .content
                .render_listing_page(tag.as_deref(), sort, page, pagesize)
            {
                Some(body) => html(200, body),
                None => html(404, self.content.render_not_found_page()),
            },
            _ => html(404, self.content.render_not_found_page()),
        }
    }

    fn robots(&self) -> Reply {
        let config = &self.content.config;
        let body = if let Some(bytes) = &config.robots_txt_bytes {
            bytes.clone()
        } else if let Some(text) = &config.robots_txt {
            text.clone().into_bytes()
        } else if let Some(value) = &config.crawl_delay {
            robots_txt_with_crawl_delay(value).into_bytes()
        } else {
            DEFAULT_ROBOTS_TXT.as_bytes().to_vec()
        };
        let mut reply = Reply::new(200);
        reply.content_type = "text/plain; charset=utf-8";
        reply.body = body;
        reply
    }

    fn respond(&self, request: RequestInfo<'_>) -> Reply {
        let now = Instant::now();
        let RequestInfo {
            method,
            key,
            url,
            client,
            user_agent,
        } = request;
        let mut state = lock(&self.state);
        state.received += 1;
        let latency = self.latency(&mut state);
        let mut reply = if method != "GET" && method != "HEAD" {
            html(405, error_page(405)).header("allow", "GET, HEAD")
        } else {
            match route(&url) {
                Route::Robots => self.robots(),
                Route::Captcha(token) => html(200, captcha_page(&token)),
                other => match self.gate(&mut state, &client, now, &key) {
                    Some(short) => short,
                    None => self.page(&mut state, other, &key),
                },
            }
        };
        if let Some(log) = &mut state.log {
            log.push(RecordedRequest {
                method: method.to_string(),
                path: key,
                client,
                user_agent,
                status: reply.status,
                at: now,
                time: SystemTime::now(),
            });
        }
        drop(state);
        reply.delay += latency;
        reply
    }
}

fn fails_first(seed: u64, every_nth: u32, key: &str) -> bool {
    every_nth > 0 && hash_str(seed ^ 0xFA17_FA17, key).is_multiple_of(u64::from(every_nth))
}

fn fault_status(seed: u64, key: &str) -> u16 {
    if (hash_str(seed ^ 0x0050_0503, key) >> 17) & 1 == 0 {
        500
    } else {
        503
    }
}

/// Serves `responder` on `listener` until `shutdown` is dropped; runs on the
/// site's own thread.
async fn serve_connections(
    listener: std::net::TcpListener,
    responder: Arc<SiteResponder>,
    mut shutdown: tokio::sync::watch::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let responder = responder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let responder = responder.clone();
                async move {
                    let reply = responder.respond(request_info(&request));
                    let delay = reply.delay;
                    // Wait outside the state lock, so one slow response delays nothing else.
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Ok::<_, Infallible>(reply.into_response())
                }
            });
            // A broken connection only ends that connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn request_info(request: &hyper::Request<Incoming>) -> RequestInfo<'_> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let key = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    let url = url::Url::parse("http://127.0.0.1/")
        .and_then(|base| base.join(&key))
        .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").expect("a valid URL"));
    RequestInfo {
        method: request.method().as_str(),
        key,
        url,
        client: header(CLIENT_HEADER).unwrap_or_else(|| "default".to_string()),
        user_agent: header("user-agent"),
    }
}

/// A running mock Stack Overflow: an HTTP/1.1 server on 127.0.0.1 (random
/// port unless configured) serving the generated site from memory, on its
/// own thread (so it keeps serving while the test's runtime blocks). Dropping
/// it stops the server.
///
/// ```no_run
/// # async fn demo() {
/// use sofleet_mock_so::{MockSite, MockSiteConfig};
///
/// let site = MockSite::start(MockSiteConfig::default()).await;
/// let url = format!("{}{}", site.base_url(), site.listing_path("dask", "votes", 2));
/// let ids = site.expected_listing("dask", "votes", 2, 15);
/// assert_eq!(ids.len(), 15);
/// # let _ = url;
/// # }
/// ```
pub struct MockSite {
    addr: SocketAddr,
    content: Arc<SiteContent>,
    state: Arc<Mutex<State>>,
    /// Dropping it stops the server thread.
    _shutdown: tokio::sync::watch::Sender<()>,
}

impl std::fmt::Debug for MockSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockSite")
            .field("base_url", &self.base_url())
            .field("content", &self.content)
            .finish()
    }
}

impl MockSite {
    /// Generates the site and starts serving it.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`MockSiteConfig::validate`]);
    /// the message names the field. Use [`MockSite::try_start`] to get the
    /// error instead.
    pub async fn start(config: MockSiteConfig) -> MockSite {
        match MockSite::try_start(config).await {
            Ok(site) => site,
            Err(e) => panic!("MockSite::start: {e}"),
        }
    }

    /// Like [`MockSite::start`], returning configuration errors.
    pub async fn try_start(config: MockSiteConfig) -> Result<MockSite, MockSiteError> {
        let content = Arc::new(SiteContent::generate(&config)?);
        MockSite::serve(content).await
    }

    /// Serves an already generated site (share one [`SiteContent`] between
    /// several servers, e.g. in benchmarks).
    pub async fn serve(content: Arc<SiteContent>) -> Result<MockSite, MockSiteError> {
        content.config.validate()?;
        let state = Arc::new(Mutex::new(State::new(&content.config)));
        let port = content.config.port.unwrap_or(0);
        let bind = |source| MockSiteError::Bind { port, source };
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(bind)?;
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(());
        let responder = Arc::new(SiteResponder {
            content: content.clone(),
            state: state.clone(),
        });
        std::thread::Builder::new()
            .name(format!("mock-site-{}", addr.port()))
            .spawn(move || runtime.block_on(serve_connections(listener, responder, shutdown_rx)))
            .map_err(bind)?;
        Ok(MockSite {
            addr,
            content,
            state,
            _shutdown: shutdown,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the site listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `base_url() + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The generated content (for rendering pages without HTTP).
    pub fn content(&self) -> &Arc<SiteContent> {
        &self.content
    }

    /// The configuration the site runs with.
    pub fn config(&self) -> &MockSiteConfig {
        &self.content.config
    }

    /// `/questions/tagged/TAG?tab=SORT&page=N&pagesize=15` (tag
    /// percent-encoded).
    pub fn listing_path(&self, tag: &str, sort: &str, page: u32) -> String {
        self.listing_path_with_pagesize(tag, sort, page, 15)
    }

    /// `/questions/tagged/TAG?tab=SORT&page=N&pagesize=SIZE`.
    pub fn listing_path_with_pagesize(
        &self,
        tag: &str,
        sort: &str,
        page: u32,
        pagesize: u32,
    ) -> String {
        format!(
            "/questions/tagged/{}?tab={sort}&page={page}&pagesize={pagesize}",
            encode_tag(tag)
        )
    }

    /// `/questions?tab=SORT&page=N&pagesize=SIZE` (all tags).
    pub fn all_listing_path(&self, sort: &str, page: u32, pagesize: u32) -> String {
        format!("/questions?tab={sort}&page={page}&pagesize={pagesize}")
    }

    /// `/questions/ID/slug` (`/questions/ID` for an unknown id).
    pub fn question_path(&self, id: u64) -> String {
        self.content.question_path(id)
    }

    /// Question ids on a tagged listing page, in page order; empty for a page
    /// that answers 404. See [`SiteContent::listing_ids`].
    pub fn expected_listing(&self, tag: &str, sort: &str, page: u32, pagesize: u32) -> Vec<u64> {
        self.content.listing_ids(tag, sort, page, pagesize)
    }

    /// Rows `parse_listing` must return for that page.
    pub fn expected_listing_entries(
        &self,
        tag: &str,
        sort: &str,
        page: u32,
        pagesize: u32,
    ) -> Vec<ListingEntry> {
        self.content
            .expected_listing_entries(tag, sort, page, pagesize)
    }

    /// Number of listing pages of a tag at a page size (pages past it are 404).
    pub fn last_page(&self, tag: &str, pagesize: u32) -> u32 {
        self.content.last_page(Some(tag), pagesize)
    }

    /// The record `parse_question` must produce for this question's page;
    /// `None` for an id the site does not have. Returned regardless of the
    /// fault settings (a `not_found` or `truncated` id still has its data).
    pub fn expected_question(&self, id: u64) -> Option<Question> {
        self.content.expected_question(id)
    }

    /// Whether this path-and-query is one of the URLs whose first request
    /// answers 500/503 under [`Faults`](crate::Faults) (false without faults).
    pub fn fails_first_attempt(&self, path_and_query: &str) -> bool {
        let config = &self.content.config;
        config
            .server_errors
            .is_some_and(|f| fails_first(config.seed, f.every_nth, path_and_query))
    }

    /// Requests received so far (every request, recorded or not; a counter,
    /// so it costs nothing per request).
    pub async fn request_count(&self) -> usize {
        usize::try_from(lock(&self.state).received).unwrap_or(usize::MAX)
    }

    /// Every request received so far (since the last [`reset`](Self::reset)),
    /// in arrival order, with the status it got.
    ///
    /// # Panics
    /// If the site was started without
    /// [`MockSiteConfig::record_requests`]: an empty list would make a "no
    /// request was made" check pass without checking anything. Use
    /// [`MockSite::try_requests`] to get `None` instead.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use sofleet_mock_so::{MockSite, MockSiteConfig};
    ///
    /// let site = MockSite::start(MockSiteConfig {
    ///     record_requests: true,
    ///     ..MockSiteConfig::default()
    /// })
    /// .await;
    /// // ... let the code under test fetch from site.base_url() ...
    /// assert!(site.requests().await.iter().all(|r| r.status == 200));
    /// # }
    /// ```
    pub async fn requests(&self) -> Vec<RecordedRequest> {
        match self.try_requests().await {
            Some(log) => log,
            None => panic!(
                "MockSite::requests: this site does not record requests; start it with \
                 `MockSiteConfig {{ record_requests: true, .. }}` to read the request log \
                 (recording is off by default so the site serves unbounded traffic in flat \
                 memory; `request_count()` works either way)"
            ),
        }
    }

    /// The request log, or `None` if the site does not record requests
    /// ([`MockSiteConfig::record_requests`] is false).
    pub async fn try_requests(&self) -> Option<Vec<RecordedRequest>> {
        lock(&self.state).log.clone()
    }

    /// Forgets the request log and count, rate-limit windows, captcha
    /// cool-downs and fault attempt memory (the content and whether
    /// requests are recorded stay).
    pub async fn reset(&self) {
        let mut state = lock(&self.state);
        let fresh = State::new(&self.content.config);
        *state = fresh;
    }
}
