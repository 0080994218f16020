//! The HTTP server: a small hyper HTTP/1.1 server on its own thread, one
//! catch-all responder that routes by path, applies the configured behaviours
//! and renders pages from the in-memory site.
//!
//! - [`mock_site`]: [`MockSite`], the handle tests hold (start, paths,
//!   expectations, the request log);
//! - `listener`: the accept loop, one hyper connection task per socket;
//! - `routing`: request → [`RequestInfo`](routing::RequestInfo) and
//!   [`Route`](routing::Route);
//! - `responder`: the catch-all responder (robots, captcha page, pages);
//! - `faults`: latency, captcha, rate limit, `Retry-After`, 500/503;
//! - `state`: per-client windows, the request log, fault memory;
//! - `reply`: the response being built.
//!
//! Nothing here grows with the number of requests served unless the
//! configuration asks for it ([`MockSiteConfig::record_requests`]): client
//! state is swept once its windows and blocks have expired, and the
//! `server_errors` memory is a capped set of URL hashes.

use std::time::{Instant, SystemTime};

#[cfg(doc)]
use crate::config::MockSiteConfig;

mod faults;
mod listener;
mod mock_site;
mod reply;
mod responder;
mod routing;
mod state;

pub use mock_site::MockSite;

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
