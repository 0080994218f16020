//! The wiremock server: one catch-all responder that routes by path, applies
//! the configured behaviours and renders pages from the in-memory site.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use sofleet_extract::{ListingEntry, Question};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::config::{Latency, MockSiteConfig};
use crate::content::{SiteContent, Sort, normalize_pagesize};
use crate::error::MockSiteError;
use crate::render::{captcha_page, error_page};
use crate::rng::{Rng, hash_str};
use crate::text::{encode_tag, percent_decode};

/// Request header that names the client for rate limiting and the captcha
/// burst detector (wiremock does not expose the peer address). Requests
/// without it are all one client, `"default"`.
pub const CLIENT_HEADER: &str = "x-sofleet-client";

/// The robots.txt served when the configuration gives none: crawling
/// `/questions` is allowed.
pub const DEFAULT_ROBOTS_TXT: &str = "User-Agent: *\nDisallow: /posts/\nDisallow: /search\nDisallow: /users/login\nDisallow: /nocaptcha\nAllow: /\n";

/// One request the mock site received, in arrival order.
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

struct State {
    log: Vec<RecordedRequest>,
    clients: HashMap<String, ClientState>,
    attempts: HashMap<String, u32>,
    latency_rng: Rng,
    captcha_seq: u64,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

fn html(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_raw(body.into_bytes(), "text/html; charset=utf-8")
        .insert_header("cache-control", "private")
        .insert_header("x-frame-options", "SAMEORIGIN")
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

    /// Captcha and rate-limit decisions for one request; `Some` short-circuits.
    fn gate(
        &self,
        state: &mut State,
        client: &str,
        now: Instant,
        path: &str,
    ) -> Option<(u16, ResponseTemplate)> {
        let config = &self.content.config;
        let cs = state.clients.entry(client.to_string()).or_default();
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
                let template = html(302, String::new())
                    .insert_header("location", format!("/nocaptcha?s={token}").as_str());
                return Some((302, template));
            }
        }
        let cs = state.clients.entry(client.to_string()).or_default();
        if let Some(limit) = config.rate_limit {
            let retry = |remaining: Duration| {
                let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
                html(429, error_page(429)).insert_header("retry-after", secs.to_string().as_str())
            };
            if let Some(until) = cs.blocked_until {
                if now < until {
                    return Some((429, retry(until - now)));
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
                return Some((429, retry(limit.retry_after)));
            }
            cs.accepted.push_back(now);
        }
        None
    }

    fn page(&self, state: &mut State, route: Route, key: &str) -> (u16, ResponseTemplate) {
        let config = &self.content.config;
        if let Some(faults) = config.server_errors {
            let attempts = state.attempts.entry(key.to_string()).or_insert(0);
            *attempts += 1;
            if *attempts == 1 && fails_first(config.seed, faults.every_nth, key) {
                let status = fault_status(config.seed, key);
                return (status, html(status, error_page(status)));
            }
        }
        match route {
            Route::Question(id) => {
                if config.not_found.contains(&id) {
                    return (404, html(404, self.content.render_not_found_page()));
                }
                match self.content.render_question_page(id) {
                    None => (404, html(404, self.content.render_not_found_page())),
                    Some(mut page) => {
                        if config.truncated.contains(&id) {
                            let mut cut = page.len() / 2;
                            while !page.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            page.truncate(cut);
                        }
                        (200, html(200, page))
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
                Some(body) => (200, html(200, body)),
                None => (404, html(404, self.content.render_not_found_page())),
            },
            _ => (404, html(404, self.content.render_not_found_page())),
        }
    }
}

impl Respond for SiteResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let client = header(CLIENT_HEADER).unwrap_or_else(|| "default".to_string());
        let key = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_string(),
        };
        let mut state = lock(&self.state);
        let latency = self.latency(&mut state);
        let method = request.method.as_str();
        let (status, template) = if method != "GET" && method != "HEAD" {
            (
                405,
                html(405, error_page(405)).insert_header("allow", "GET, HEAD"),
            )
        } else {
            match route(&request.url) {
                Route::Robots => {
                    let body = self
                        .content
                        .config
                        .robots_txt
                        .clone()
                        .unwrap_or_else(|| DEFAULT_ROBOTS_TXT.to_string());
                    (
                        200,
                        ResponseTemplate::new(200)
                            .set_body_raw(body.into_bytes(), "text/plain; charset=utf-8"),
                    )
                }
                Route::Captcha(token) => (200, html(200, captcha_page(&token))),
                other => match self.gate(&mut state, &client, now, &key) {
                    Some(short) => short,
                    None => self.page(&mut state, other, &key),
                },
            }
        };
        state.log.push(RecordedRequest {
            method: method.to_string(),
            path: key,
            client,
            user_agent: header("user-agent"),
            status,
            at: now,
            time: SystemTime::now(),
        });
        drop(state);
        // Slow bodies: successful question pages only, on top of the latency.
        let slow = match (status, route(&request.url)) {
            (200, Route::Question(_)) => self.content.config.slow_body.unwrap_or_default(),
            _ => Duration::ZERO,
        };
        let delay = latency + slow;
        if delay.is_zero() {
            template
        } else {
            template.set_delay(delay)
        }
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

/// A running mock Stack Overflow: a wiremock server on 127.0.0.1 (random
/// port) serving the generated site from memory.
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
    server: MockServer,
    content: Arc<SiteContent>,
    state: Arc<Mutex<State>>,
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
        let state = Arc::new(Mutex::new(State {
            log: Vec::new(),
            clients: HashMap::new(),
            attempts: HashMap::new(),
            latency_rng: Rng::derive(content.config.seed, 0x01A7_E2C7),
            captcha_seq: 0,
        }));
        let mut builder = MockServer::builder();
        if let Some(port) = content.config.port.filter(|&p| p != 0) {
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))
                .map_err(|source| MockSiteError::Bind { port, source })?;
            builder = builder.listener(listener);
        }
        let server = builder.start().await;
        Mock::given(any())
            .respond_with(SiteResponder {
                content: content.clone(),
                state: state.clone(),
            })
            .mount(&server)
            .await;
        Ok(MockSite {
            server,
            content,
            state,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// `base_url() + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.uri())
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

    /// Requests received so far (wiremock's own record).
    pub async fn request_count(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }

    /// Every request received so far, in arrival order, with the status it
    /// got.
    pub async fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).log.clone()
    }

    /// Forgets the request log, rate-limit windows, captcha cool-downs and
    /// fault attempt counters (the content stays).
    pub async fn reset(&self) {
        {
            let mut state = lock(&self.state);
            state.log.clear();
            state.clients.clear();
            state.attempts.clear();
            state.captcha_seq = 0;
        }
        // wiremock's own record is cleared together with the mocks, so re-mount.
        self.server.reset().await;
        Mock::given(any())
            .respond_with(SiteResponder {
                content: self.content.clone(),
                state: self.state.clone(),
            })
            .mount(&self.server)
            .await;
    }
}
