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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Roughly one URL in this many fails its first attempt (must be >= 1).
    pub every_nth: u32,
}

/// How the mock site behaves.
///
/// Default: 3 tags (`python`, `dask`, `pandas`), 10 listing pages per tag and
/// sort, 500 questions per tag (so 10 pages of 50 exist), no latency, no
/// faults, a permissive robots.txt, content derived deterministically from
/// `seed`.
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
    /// ([`DEFAULT_ROBOTS_TXT`](crate::DEFAULT_ROBOTS_TXT)).
    pub robots_txt: Option<String>,
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
        Ok(())
    }
}
