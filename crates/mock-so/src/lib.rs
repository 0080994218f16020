//! A mock Stack Overflow site on a small hyper server, for tests, the offline
//! demo, benchmarks and `sofleet mock-site`.
//!
//! [`MockSite::start`] generates a site deterministically from
//! [`MockSiteConfig::seed`] (questions, answers, users, listing orders; see
//! [`SiteContent`]) and serves it from memory on `127.0.0.1` (random port):
//!
//! - `/robots.txt` ([`DEFAULT_ROBOTS_TXT`] unless configured: text, raw
//!   bytes, or a `Crawl-delay` value via [`robots_txt_with_crawl_delay`]);
//! - `/questions/tagged/{tag}?tab={votes|newest|active|frequent}&page=N&pagesize={15|30|50}`
//!   (`sort=` accepted too; `pagesize` defaults to 15, values above 50 mean
//!   50; pages past the last answer 404);
//! - `/questions?tab=SORT&page=N` and `/` (all tags);
//! - `/questions/{id}/{slug}` (any slug, or none);
//! - `/nocaptcha?s=...`, the human-verification page the captcha redirects to;
//! - anything else: a real-looking 404 page.
//!
//! Pages use the newest Stack Overflow markup (`s-post-summary` rows,
//! `data-score` on post divs, `.s-prose.js-post-body` bodies, `answer-NNN`
//! ids, user cards, community-wiki and deleted-user authors) with realistic
//! head, sidebar and script padding (question pages are 150+ KB).
//! [`MockSite::expected_question`] and [`MockSite::expected_listing`] give
//! the data `sofleet_extract` must read back from them: every field of the
//! `Question` record, bodies (`body_html`, `body_text`, notices) included, is
//! exact — `tests/roundtrip.rs` parses every generated page and compares.
//!
//! Behaviours (all off by default) are switched in [`MockSiteConfig`]:
//! latency, per-client rate limit (429 + `Retry-After`), captcha redirect
//! after a burst, intermittent 500/503 that recover on retry, truncated
//! bodies, slow bodies, 404 ids, and a hostile web: 301 redirects (on-site
//! or off-site), raw `Retry-After` text (`1e30`, `-5`, an HTTP date,
//! `soon`), question pages that always answer 429, and any robots.txt bytes
//! or `Crawl-delay` value. Clients are told apart by the [`CLIENT_HEADER`]
//! request header. `/robots.txt` and `/nocaptcha` are exempt from the rate
//! limit, the captcha and the faults (latency applies to every response). To
//! key clients by their source address instead (a worker bound to 127.0.0.2
//! and one bound to 127.0.0.3 are two clients), crawl through a
//! [`PeerTaggingProxy`] in front of the site.
//!
//! The site serves unbounded traffic in flat memory: requests are recorded
//! only with [`MockSiteConfig::record_requests`] (tests that read
//! [`MockSite::requests`] opt in; without it that accessor panics rather
//! than return an empty log), per-client rate-limit and captcha state is
//! dropped once it has expired, and the `server_errors` memory is capped
//! ([`MAX_REMEMBERED_FAULTS`]). [`MockSite::request_count`] is a plain
//! counter and always works.

// Where to change what: `config` (settings), `model` (the site's data),
// `generator` (deterministic fake content), `site` (`SiteContent` and its
// lookups), `render` (HTML from the askama templates under `templates/`),
// `expected` (the records extract must read back), `server` (HTTP, faults).
mod config;
mod error;
mod expected;
mod generator;
mod model;
mod peer_proxy;
mod render;
mod rng;
mod server;
mod site;
mod text;

pub use config::{
    Faults, Latency, MAX_DELAY, MAX_HEADER_TEXT_BYTES, MAX_QUESTIONS, MAX_REMEMBERED_FAULTS,
    MAX_ROBOTS_TXT_BYTES, MockSiteConfig, RateLimit,
};
pub use error::MockSiteError;
pub use peer_proxy::PeerTaggingProxy;
pub use server::{
    CLIENT_HEADER, DEFAULT_ROBOTS_TXT, MockSite, RecordedRequest, robots_txt_with_crawl_delay,
};
pub use site::{Examples, SITE_HOST, SiteContent, Sort, normalize_pagesize};
pub use text::{encode_tag, slugify};

/// `title_status_suffix` the extractor reports for `[duplicate]` titles.
pub const STATUS_DUPLICATE: &str = "duplicate";
/// `title_status_suffix` the extractor reports for `[closed]` titles.
pub const STATUS_CLOSED: &str = "closed";
