//! Configuration of the mock site: content size and switchable behaviours.

use std::time::Duration;

use crate::error::MockSiteError;

/// Added latency applied to every response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Latency {
    /// Answer as fast as possible.
    #[default]
    None,
    /// Delay every response by exactly this long.
    Fixed(Duration),
    /// Delay every response by a duration drawn uniformly from `min..=max`
    /// (deterministic sequence derived from the site seed).
    Random {
        /// Shortest delay.
        min: Duration,
        /// Longest delay.
        max: Duration,
    },
}

/// Per-client rate limit: past `requests_per_second` accepted requests within
/// any one-second window the client gets `429 Too Many Requests` with a
/// `Retry-After` header, and keeps getting 429 until `retry_after` has passed.
///
/// Clients are told apart by the [`CLIENT_HEADER`](crate::CLIENT_HEADER)
/// request header; requests without it all count as one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Accepted requests allowed per sliding one-second window.
    pub requests_per_second: u32,
    /// How long a client that went over the limit is blocked; the
    /// `Retry-After` header carries it rounded up to whole seconds.
    pub retry_after: Duration,
}

/// Deterministic intermittent server errors.
///
/// About one URL (path plus query) in `every_nth` is "faulty": its first
/// request answers 500 or 503 (which one is fixed per URL), later requests
/// succeed, so a client that retries recovers. `every_nth == 1` makes every
/// URL fail its first attempt. Use
/// [`MockSite::fails_first_attempt`](crate::MockSite::fails_first_attempt) to
/// know which URLs are faulty.
///
/// The site remembers which faulty URLs already failed as 8-byte hashes, at
/// most [`MAX_REMEMBERED_FAULTS`] of them; when that many are remembered the
/// memory is cleared, and those URLs fail their next attempt once more (so
/// unbounded traffic over unbounded URLs runs in bounded memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Roughly one URL in this many fails its first attempt (must be >= 1).
    pub every_nth: u32,
}

/// Most faulty URLs [`Faults`] remembers as "already failed once".
pub const MAX_REMEMBERED_FAULTS: usize = 1 << 20;

/// Longest delay any duration setting may ask for (`latency`, `slow_body`,
/// `captcha_cooldown`, [`RateLimit::retry_after`]): 10 minutes.
pub const MAX_DELAY: Duration = Duration::from_secs(600);

/// Largest robots.txt the site serves (`robots_txt`, `robots_txt_bytes`): 16 MiB.
pub const MAX_ROBOTS_TXT_BYTES: usize = 16 << 20;

/// Longest header text a setting may give (`redirects` locations,
/// `retry_after_header`, `crawl_delay`): 8 KiB.
pub const MAX_HEADER_TEXT_BYTES: usize = 8 << 10;

/// How the mock site behaves.
///
/// Default: 3 tags (`python`, `dask`, `pandas`), 10 listing pages per tag and
/// sort, 500 questions per tag (so 10 pages of 50 exist), no latency, no
/// faults, a permissive robots.txt, no request recording, content derived
/// deterministically from `seed`.
///
/// Question-page faults apply in this order, after the captcha and the rate
/// limit: `always_429`, `redirects`, the first attempt of a `server_errors`
/// URL, `not_found`, `truncated`; `slow_body` delays whatever answered 200.
/// An id may be in `redirects` or `always_429` only if it is in no other
/// per-id list.
///
/// ```
/// use sofleet_mock_so::{MockSiteConfig, RateLimit};
/// use std::time::Duration;
///
/// let config = MockSiteConfig {
///     tags: vec!["rust".into()],
///     questions_per_tag: Some(40),
///     rate_limit: Some(RateLimit { requests_per_second: 5, retry_after: Duration::from_secs(1) }),
///     ..MockSiteConfig::default()
/// };
/// assert!(config.validate().is_ok());
///
/// // A hostile site: an off-site redirect, a 429 whose Retry-After is no
/// // number, and a robots.txt asking for an absurd Crawl-delay.
/// let hostile = MockSiteConfig {
///     redirects: vec![(67_000_001, "http://127.0.0.2:9/questions/67000001/x".into())],
///     always_429: vec![67_000_002],
///     retry_after_header: Some("soon".into()),
///     crawl_delay: Some("1e30".into()),
///     ..MockSiteConfig::default()
/// };
/// assert!(hostile.validate().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct MockSiteConfig {
    /// Seed of every generated value (content, fault choice, random latency).
    pub seed: u64,
    /// The tags questions are generated for (each question has one of them
    /// as its primary tag; about one in five also carries a second one).
    /// Lowercase ASCII letters, digits and `+ # . -` only.
    pub tags: Vec<String>,
    /// Listing pages that exist per tag and sort (whatever the page size);
    /// pages past the last one answer 404.
    pub pages_per_tag: u32,
    /// Latency added to every response.
    pub latency: Latency,
    /// Per-client rate limit (429 + `Retry-After`).
    pub rate_limit: Option<RateLimit>,
    /// After more than this many requests from one client within one second,
    /// every request of that client is redirected (302) to
    /// `/nocaptcha?s=...` (a human-verification page) for `captcha_cooldown`.
    pub captcha_after: Option<u32>,
    /// How long the captcha redirect lasts once triggered.
    pub captcha_cooldown: Duration,
    /// Intermittent 500/503 on the first attempt of some URLs.
    pub server_errors: Option<Faults>,
    /// Question ids whose page is always cut in half (200, the first half of
    /// the bytes, no closing tags).
    pub truncated: Vec<u64>,
    /// Question pages (only question pages) are delayed by this long on top
    /// of `latency`, for timeout tests.
    pub slow_body: Option<Duration>,
    /// Question ids that answer 404 with a real-looking "Page not found" page.
    pub not_found: Vec<u64>,
    /// robots.txt body; `None` serves a permissive default
    /// ([`DEFAULT_ROBOTS_TXT`](crate::DEFAULT_ROBOTS_TXT)). At most one of
    /// `robots_txt`, `robots_txt_bytes` and `crawl_delay` may be set.
    pub robots_txt: Option<String>,
    /// robots.txt as raw bytes, served verbatim (need not be UTF-8: a BOM,
    /// Latin-1, binary garbage), at most [`MAX_ROBOTS_TXT_BYTES`].
    pub robots_txt_bytes: Option<Vec<u8>>,
    /// Serve `User-agent: *\nCrawl-delay: VALUE\n` followed by the default
    /// rules (the value verbatim: `2.5`, `-5`, `1e30`, `soon`). No control
    /// characters (a newline would add lines; use `robots_txt` for that).
    pub crawl_delay: Option<String>,
    /// Question ids whose page answers `301 Moved Permanently` with this
    /// `Location`, sent verbatim: absolute (an off-site
    /// `http://127.0.0.2:PORT/questions/ID/x`) or a relative on-site path
    /// (`/questions/ID2/y`). Not empty, no control characters.
    pub redirects: Vec<(u64, String)>,
    /// Raw `Retry-After` header text sent with every 429 (the rate
    /// limiter's and `always_429`'s) instead of the computed whole seconds:
    /// `1e30`, `-5`, `Wed, 21 Oct 2015 07:28:00 GMT`, `soon`, even empty.
    /// The rate limiter still blocks for [`RateLimit::retry_after`]. No
    /// control characters.
    pub retry_after_header: Option<String>,
    /// Question ids whose page always answers 429, with
    /// `retry_after_header` as `Retry-After` (`1` when that is `None`), with
    /// no rate limit needed.
    pub always_429: Vec<u64>,
    /// Keep a log of every request for [`MockSite::requests`](crate::MockSite::requests)
    /// (tests). Off by default: the log grows with every request, and the
    /// site otherwise serves unbounded traffic in flat memory.
    pub record_requests: bool,
    /// Questions generated per configured tag; `None` means
    /// `pages_per_tag * 50`. The site holds `tags.len() * questions_per_tag`
    /// distinct questions (at most [`MAX_QUESTIONS`](crate::MAX_QUESTIONS)).
    pub questions_per_tag: Option<u32>,
    /// Port to listen on (on 127.0.0.1); `None` or `Some(0)` picks a free
    /// port. A busy port makes [`MockSite::try_start`](crate::MockSite::try_start)
    /// fail with [`MockSiteError::Bind`].
    pub port: Option<u16>,
}

impl Default for MockSiteConfig {
    fn default() -> Self {
        MockSiteConfig {
            seed: 42,
            tags: vec!["python".into(), "dask".into(), "pandas".into()],
            pages_per_tag: 10,
            latency: Latency::None,
            rate_limit: None,
            captcha_after: None,
            captcha_cooldown: Duration::from_secs(2),
            server_errors: None,
            truncated: Vec::new(),
            slow_body: None,
            not_found: Vec::new(),
            robots_txt: None,
            robots_txt_bytes: None,
            crawl_delay: None,
            redirects: Vec::new(),
            retry_after_header: None,
            always_429: Vec::new(),
            record_requests: false,
            questions_per_tag: None,
            port: None,
        }
    }
}

/// Upper bound on the number of generated questions.
pub const MAX_QUESTIONS: u64 = 200_000;

impl MockSiteConfig {
    /// Questions generated per configured tag.
    pub fn effective_questions_per_tag(&self) -> u32 {
        self.questions_per_tag
            .unwrap_or_else(|| self.pages_per_tag.saturating_mul(50))
    }

    /// Checks the configuration, naming the offending field and what to do.
    pub fn validate(&self) -> Result<(), MockSiteError> {
        let bad =
            |field: &'static str, problem: String| MockSiteError::InvalidConfig { field, problem };
        if self.tags.is_empty() {
            return Err(bad(
                "tags",
                "no tags given; give at least one tag such as \"python\"".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for tag in &self.tags {
            let ok = !tag.is_empty()
                && tag.len() <= 35
                && tag
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+#.-".contains(c));
            if !ok {
                return Err(bad(
                    "tags",
                    format!(
                        "tag {tag:?} is not a valid tag; use 1-35 lowercase ASCII letters, digits or + # . -"
                    ),
                ));
            }
            if !seen.insert(tag.as_str()) {
                return Err(bad(
                    "tags",
                    format!("tag {tag:?} is listed twice; list each tag once"),
                ));
            }
        }
        if self.pages_per_tag == 0 {
            return Err(bad("pages_per_tag", "must be at least 1".into()));
        }
        let per_tag = self.effective_questions_per_tag();
        if per_tag == 0 {
            return Err(bad(
                "questions_per_tag",
                "must be at least 1 (or None for pages_per_tag * 50)".into(),
            ));
        }
        let total = per_tag as u64 * self.tags.len() as u64;
        if total > MAX_QUESTIONS {
            return Err(bad(
                "questions_per_tag",
                format!(
                    "{total} questions requested ({per_tag} per tag x {} tags); at most {MAX_QUESTIONS} are supported",
                    self.tags.len()
                ),
            ));
        }
        if let Latency::Random { min, max } = self.latency
            && min > max
        {
            return Err(bad(
                "latency",
                format!("Random latency has min {min:?} > max {max:?}; swap them"),
            ));
        }
        if let Some(limit) = self.rate_limit
            && limit.requests_per_second == 0
        {
            return Err(bad(
                "rate_limit",
                "requests_per_second must be at least 1 (use None for no limit)".into(),
            ));
        }
        if self.captcha_after == Some(0) {
            return Err(bad(
                "captcha_after",
                "must be at least 1 (use None for no captcha)".into(),
            ));
        }
        if let Some(faults) = self.server_errors
            && faults.every_nth == 0
        {
            return Err(bad(
                "server_errors",
                "every_nth must be at least 1 (use None for no faults)".into(),
            ));
        }
        let too_long = |d: Duration| {
            format!(
                "{d:?} is longer than the {MAX_DELAY:?} (10 minutes) allowed; give a shorter duration"
            )
        };
        match self.latency {
            Latency::Fixed(d) | Latency::Random { max: d, .. } if d > MAX_DELAY => {
                return Err(bad("latency", too_long(d)));
            }
            _ => {}
        }
        if let Some(d) = self.slow_body
            && d > MAX_DELAY
        {
            return Err(bad("slow_body", too_long(d)));
        }
        if self.captcha_cooldown > MAX_DELAY {
            return Err(bad("captcha_cooldown", too_long(self.captcha_cooldown)));
        }
        if let Some(limit) = self.rate_limit
            && limit.retry_after > MAX_DELAY
        {
            return Err(bad("rate_limit", too_long(limit.retry_after)));
        }
        let robots_sources = [
            self.robots_txt.is_some(),
            self.robots_txt_bytes.is_some(),
            self.crawl_delay.is_some(),
        ];
        if robots_sources.iter().filter(|&&set| set).count() > 1 {
            return Err(bad(
                "robots_txt",
                "set at most one of robots_txt, robots_txt_bytes and crawl_delay".into(),
            ));
        }
        let robots_len = self
            .robots_txt
            .as_ref()
            .map(String::len)
            .or(self.robots_txt_bytes.as_ref().map(Vec::len));
        if let Some(len) = robots_len
            && len > MAX_ROBOTS_TXT_BYTES
        {
            let field = if self.robots_txt.is_some() {
                "robots_txt"
            } else {
                "robots_txt_bytes"
            };
            return Err(bad(
                field,
                format!("{len} bytes is more than the {MAX_ROBOTS_TXT_BYTES} (16 MiB) allowed"),
            ));
        }
        if let Some(value) = &self.crawl_delay {
            check_header_text(value, true).map_err(|p| bad("crawl_delay", p))?;
        }
        if let Some(value) = &self.retry_after_header {
            check_header_text(value, true).map_err(|p| bad("retry_after_header", p))?;
        }
        let mut redirected = std::collections::HashSet::new();
        for (id, location) in &self.redirects {
            check_header_text(location, false)
                .map_err(|p| bad("redirects", format!("location of question {id}: {p}")))?;
            if !redirected.insert(*id) {
                return Err(bad(
                    "redirects",
                    format!("question {id} is redirected twice; give each id one location"),
                ));
            }
        }
        for &id in &self.always_429 {
            if redirected.contains(&id) {
                return Err(bad(
                    "always_429",
                    format!("question {id} is also in redirects; give each id one fault"),
                ));
            }
        }
        for (field, ids) in [
            ("not_found", &self.not_found),
            ("truncated", &self.truncated),
        ] {
            for id in ids {
                let clash = if self.always_429.contains(id) {
                    "always_429"
                } else if redirected.contains(id) {
                    "redirects"
                } else {
                    continue;
                };
                return Err(bad(
                    clash,
                    format!("question {id} is also in {field}; give each id one fault"),
                ));
            }
        }
        Ok(())
    }
}

/// A header value (or robots.txt line) given as text: at most
/// [`MAX_HEADER_TEXT_BYTES`], no control characters except tab, and not
/// empty unless `may_be_empty`.
fn check_header_text(value: &str, may_be_empty: bool) -> Result<(), String> {
    if value.is_empty() && !may_be_empty {
        return Err("is empty; give a value".into());
    }
    if value.len() > MAX_HEADER_TEXT_BYTES {
        return Err(format!(
            "is {} bytes long; at most {MAX_HEADER_TEXT_BYTES} are allowed",
            value.len()
        ));
    }
    if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
        return Err(format!(
            "{value:?} contains the control character {c:?}; header text cannot carry it"
        ));
    }
    Ok(())
}
