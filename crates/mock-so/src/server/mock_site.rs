//! [`MockSite`]: the handle of a running site (start and stop, paths,
//! expected records, the request log).

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use sofleet_extract::{ListingEntry, Question};

use super::listener::serve_connections;
use super::responder::SiteResponder;
use super::state::State;
use super::{RecordedRequest, faults::fails_first};
use crate::config::MockSiteConfig;
use crate::error::MockSiteError;
use crate::site::SiteContent;
use crate::text::encode_tag;

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
        usize::try_from(self.state.lock().received).unwrap_or(usize::MAX)
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
        self.state.lock().log.clone()
    }

    /// Forgets the request log and count, rate-limit windows, captcha
    /// cool-downs and fault attempt memory (the content and whether
    /// requests are recorded stay).
    pub async fn reset(&self) {
        let mut state = self.state.lock();
        let fresh = State::new(&self.content.config);
        *state = fresh;
    }
}
