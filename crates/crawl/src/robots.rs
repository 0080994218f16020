//! robots.txt under the limits the major crawlers use: at most [`ROBOTS_MAX_BYTES`] are read
//! (Google stops at 500 KiB and ignores the rest), at most [`ROBOTS_MAX_RULES`] `Allow` /
//! `Disallow` lines are kept, a rule longer than [`ROBOTS_MAX_RULE_BYTES`] is dropped, and at
//! most [`ROBOTS_MAX_ANCHORED_RULES`] rules may end with `$` (each of those costs a compiled
//! regular expression). Past that limit an anchored `Disallow` loses its anchor, so it
//! disallows *more* (the polite direction), and an anchored `Allow` is dropped.
//!
//! [`limit_robots`] applies the limits in one pass over the bytes, so parsing time and memory
//! stay linear in the file's size; the rules are then parsed and matched by `texting_robots`.

use std::sync::Arc;

use sofleet_records::FailureKind;
use texting_robots::Robot;
use tokio::sync::OnceCell;
use url::Url;

use crate::cache::ROBOTS_CACHE_TTL;
use crate::error::FetchFailure;
use crate::fetch::{Fetcher, Page};
use crate::response::BodyLimit;
use crate::stats::StatsCounters;

/// Bytes of robots.txt read; the rest is ignored (RFC 9309 §2.5 asks for at least 500 KiB).
pub const ROBOTS_MAX_BYTES: usize = 500 * 1024;

/// `Allow` / `Disallow` lines kept; later ones are ignored.
pub const ROBOTS_MAX_RULES: usize = 10_000;

/// Longest rule path kept, bytes (longer paths never match a real URL's prefix anyway).
pub const ROBOTS_MAX_RULE_BYTES: usize = 2_048;

/// Rules ending in `$` kept as anchored rules (each compiles a regular expression).
pub const ROBOTS_MAX_ANCHORED_RULES: usize = 500;

/// The robots.txt rules in force for one host.
pub(crate) enum RobotsRules {
    /// No robots.txt (4xx), `ignore_robots`, or an unparsable file.
    AllowAll,
    /// The parsed rules for our agent.
    Rules(Box<Robot>),
    /// robots.txt could not be fetched (5xx / network): crawl nothing, as Google does.
    Unavailable(FetchFailure),
}

/// What [`limit_robots`] had to leave out, for one warning.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RobotsTrimmed {
    /// Bytes ignored past [`ROBOTS_MAX_BYTES`].
    pub bytes_ignored: usize,
    /// Rules ignored past [`ROBOTS_MAX_RULES`].
    pub rules_ignored: usize,
    /// Rules dropped for being longer than [`ROBOTS_MAX_RULE_BYTES`].
    pub long_rules_dropped: usize,
    /// Anchored rules past [`ROBOTS_MAX_ANCHORED_RULES`] (Disallow unanchored, Allow dropped).
    pub anchors_removed: usize,
}

impl RobotsTrimmed {
    /// Whether anything was left out.
    pub fn any(&self) -> bool {
        *self != RobotsTrimmed::default()
    }
}

impl std::fmt::Display for RobotsTrimmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.bytes_ignored > 0 {
            parts.push(format!(
                "{} bytes past the first {} KiB ignored",
                self.bytes_ignored,
                ROBOTS_MAX_BYTES / 1024
            ));
        }
        if self.rules_ignored > 0 {
            parts.push(format!(
                "{} rules past the first {ROBOTS_MAX_RULES} ignored",
                self.rules_ignored
            ));
        }
        if self.long_rules_dropped > 0 {
            parts.push(format!(
                "{} rules longer than {ROBOTS_MAX_RULE_BYTES} bytes dropped",
                self.long_rules_dropped
            ));
        }
        if self.anchors_removed > 0 {
            parts.push(format!(
                "{} `$` rules past the first {ROBOTS_MAX_ANCHORED_RULES} simplified \
                 (Disallow unanchored, Allow dropped)",
                self.anchors_removed
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The keywords `texting_robots` reads as `Allow` / `Disallow` (misspellings included).
const ALLOW: &[&[u8]] = &[b"allow"];
const DISALLOW: &[&[u8]] = &[
    b"disallow",
    b"dissallow",
    b"dissalow",
    b"disalow",
    b"diasllow",
    b"disallaw",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleKind {
    Allow,
    Disallow,
}

/// If `line` is an `Allow`/`Disallow` line, its kind and the byte range of its path.
fn rule_of(line: &[u8]) -> Option<(RuleKind, usize, usize)> {
    let start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(line.len());
    let rest = &line[start..];
    let keyword = |words: &[&[u8]]| {
        words.iter().find_map(|w| {
            (rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w)).then_some(w.len())
        })
    };
    // "disallow" starts with neither "allow" nor vice versa, so the order does not matter.
    let (kind, len) = if let Some(len) = keyword(DISALLOW) {
        (RuleKind::Disallow, len)
    } else {
        (RuleKind::Allow, keyword(ALLOW)?)
    };
    let after = &rest[len..];
    let spaces = after
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(after.len());
    let value_start = if after.get(spaces) == Some(&b':') {
        spaces + 1
    } else if spaces > 0 {
        spaces
    } else {
        return None;
    };
    let value = &after[value_start..];
    let value = &value[..value.iter().position(|&b| b == b'#').unwrap_or(value.len())];
    let begin = start + len + value_start;
    let lead = value
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(value.len());
    let trail = value
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(lead, |i| i + 1);
    Some((kind, begin + lead, begin + trail))
}

/// Applies the module's limits to a robots.txt body: returns the bytes to parse and what was
/// left out. One pass, linear in `body.len()`.
///
/// ```
/// use sofleet_crawl::{ROBOTS_MAX_RULES, limit_robots};
///
/// let mut txt = String::from("User-agent: *\n");
/// for i in 0..ROBOTS_MAX_RULES + 5 {
///     txt.push_str(&format!("Disallow: /p{i}\n"));
/// }
/// let (kept, trimmed) = limit_robots(txt.as_bytes());
/// assert_eq!(trimmed.rules_ignored, 5);
/// assert!(kept.len() < txt.len());
/// assert!(!limit_robots(b"User-agent: *\nDisallow: /private\n").1.any());
/// ```
pub fn limit_robots(body: &[u8]) -> (Vec<u8>, RobotsTrimmed) {
    let mut trimmed = RobotsTrimmed::default();
    let mut text = body;
    if text.len() > ROBOTS_MAX_BYTES {
        // Cut at the last line end inside the limit, so no rule is cut in half.
        let cut = text[..ROBOTS_MAX_BYTES]
            .iter()
            .rposition(|&b| matches!(b, b'\n' | b'\r' | 0))
            .map_or(ROBOTS_MAX_BYTES, |i| i + 1);
        trimmed.bytes_ignored = text.len() - cut;
        text = &text[..cut];
    }
    let mut out = Vec::with_capacity(text.len());
    let (mut rules, mut anchored) = (0usize, 0usize);
    for line in text.split_inclusive(|&b| matches!(b, b'\n' | b'\r' | 0)) {
        let Some((kind, from, to)) = rule_of(line) else {
            out.extend_from_slice(line);
            continue;
        };
        rules += 1;
        if rules > ROBOTS_MAX_RULES {
            trimmed.rules_ignored += 1;
            continue;
        }
        let path = &line[from..to];
        if path.len() > ROBOTS_MAX_RULE_BYTES {
            trimmed.long_rules_dropped += 1;
            continue;
        }
        if path.contains(&b'$') {
            anchored += 1;
            if anchored > ROBOTS_MAX_ANCHORED_RULES {
                trimmed.anchors_removed += 1;
                if kind == RuleKind::Allow {
                    continue;
                }
                out.extend_from_slice(&line[..from]);
                out.extend(path.iter().filter(|&&b| b != b'$'));
                out.extend_from_slice(&line[to..]);
                continue;
            }
        }
        out.extend_from_slice(line);
    }
    (out, trimmed)
}

/// The parsed rules of a robots.txt body for `agent`, within the module's limits.
pub(crate) struct ParsedRobots {
    /// The rules; `None` when `texting_robots` could not parse the file (treated as empty).
    pub robot: Option<Robot>,
    /// The parse error, when there is one.
    pub error: Option<String>,
    /// What the limits left out.
    pub trimmed: RobotsTrimmed,
}

/// Parses `body` for `agent` after [`limit_robots`].
pub(crate) fn parse_robots(agent: &str, body: &[u8]) -> ParsedRobots {
    let (kept, trimmed) = limit_robots(body);
    match Robot::new(agent, &kept) {
        Ok(robot) => ParsedRobots {
            robot: Some(robot),
            error: None,
            trimmed,
        },
        Err(e) => ParsedRobots {
            robot: None,
            error: Some(format!("{e:#}")),
            trimmed,
        },
    }
}

impl Fetcher {
    /// The crawled host's robots.txt rules, loaded once per run.
    pub(crate) async fn robots(&self) -> &RobotsRules {
        self.host
            .robots
            .get_or_init(|| self.load_robots(self.base()))
            .await
    }

    /// Whether robots.txt lets the crawl fetch `url` (on the crawled host or a host a redirect
    /// may lead to).
    ///
    /// # Errors
    /// `disallowed_by_robots` when the rules disallow it or robots.txt is unavailable, or the
    /// host's `pause_too_long` failure when fetching robots.txt stopped the host.
    pub(crate) async fn robots_verdict(&self, url: &Url) -> Result<(), FetchFailure> {
        if self.on_host(url) {
            return self.verdict(self.robots().await, url);
        }
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut map = self.other_robots.lock();
            map.entry(origin)
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        let rules = cell.get_or_init(|| self.load_robots(url)).await;
        self.verdict(rules, url)
    }

    fn verdict(&self, rules: &RobotsRules, url: &Url) -> Result<(), FetchFailure> {
        match rules {
            RobotsRules::AllowAll => Ok(()),
            RobotsRules::Rules(robot) => {
                if robot.allowed(url.as_str()) {
                    Ok(())
                } else {
                    StatsCounters::add(&self.stats.robots_disallowed, 1);
                    Err(FetchFailure::before_request(
                        FailureKind::DisallowedByRobots,
                        format!(
                            "robots.txt disallows {url} for {:?}",
                            self.config.robots_agent()
                        ),
                    ))
                }
            }
            RobotsRules::Unavailable(f) if f.kind == FailureKind::PauseTooLong => Err(f.clone()),
            // Not counted as disallowed: the summary counts the failed robots.txt requests.
            RobotsRules::Unavailable(f) => Err(FetchFailure::before_request(
                FailureKind::DisallowedByRobots,
                format!(
                    "robots.txt of {} could not be fetched ({}), so nothing is crawled there",
                    url.origin().ascii_serialization(),
                    f.message
                ),
            )),
        }
    }

    /// Fetches (or reads from the cache, for 24 h) and parses the robots.txt of `url`'s origin.
    async fn load_robots(&self, url: &Url) -> RobotsRules {
        if self.config.ignore_robots {
            return RobotsRules::AllowAll;
        }
        let origin = url.origin().ascii_serialization();
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let page = match self.cached(robots_url.as_str(), ROBOTS_CACHE_TTL).await {
            Some(page) => Ok(page),
            None => {
                self.fetch_network(
                    &robots_url,
                    BodyLimit::Truncate(ROBOTS_MAX_BYTES as u64),
                    false,
                )
                .await
            }
        };
        match page {
            Ok(page) => {
                if !page.from_cache {
                    self.store_inner(&page).await;
                }
                let parsed = parse_robots(self.config.robots_agent(), page.body.as_bytes());
                if parsed.trimmed.any() {
                    self.warn_once(
                        "robots-trimmed",
                        format!(
                            "{robots_url} is over the crawler's limits: {}",
                            parsed.trimmed
                        ),
                    );
                }
                match parsed.robot {
                    Some(robot) => {
                        if let Some(delay) = robot.delay {
                            self.apply_crawl_delay(&origin, delay);
                        }
                        RobotsRules::Rules(Box::new(robot))
                    }
                    None => {
                        self.warn_once(
                            "robots-unparsable",
                            format!(
                                "{robots_url} could not be parsed ({}); treating it as empty",
                                parsed.error.unwrap_or_default()
                            ),
                        );
                        RobotsRules::AllowAll
                    }
                }
            }
            // No robots.txt (4xx): everything is allowed.
            Err(f)
                if matches!(f.http_status, Some(400..=499))
                    && f.kind != FailureKind::RateLimited
                    && f.kind != FailureKind::PauseTooLong =>
            {
                if let Some(status) = f.http_status {
                    self.store_inner(&Page::bodiless(robots_url.as_str(), status, f.attempts))
                        .await;
                }
                RobotsRules::AllowAll
            }
            Err(f) => RobotsRules::Unavailable(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_lines_are_recognised_like_texting_robots_does() {
        fn rule(l: &str) -> Option<(RuleKind, &str)> {
            rule_of(l.as_bytes()).map(|(k, a, b)| (k, &l[a..b]))
        }
        assert_eq!(rule("Disallow: /a$ # c"), Some((RuleKind::Disallow, "/a$")));
        assert_eq!(rule("  allow:/b"), Some((RuleKind::Allow, "/b")));
        assert_eq!(rule("DISSALOW /c"), Some((RuleKind::Disallow, "/c")));
        assert_eq!(rule("Allowed: /d"), None);
        assert_eq!(rule("User-agent: *"), None);
        assert_eq!(rule("Disallow:"), Some((RuleKind::Disallow, "")));
    }

    #[test]
    fn a_robots_txt_over_500_kib_is_cut_at_a_line_end() {
        let line = "# a comment, not a rule\n";
        let body = line.repeat(ROBOTS_MAX_BYTES / line.len() + 100);
        let (kept, trimmed) = limit_robots(body.as_bytes());
        assert!(kept.len() <= ROBOTS_MAX_BYTES);
        assert!(kept.ends_with(b"\n"));
        assert_eq!(trimmed.bytes_ignored, body.len() - kept.len());
    }

    #[test]
    fn anchored_rules_past_the_limit_disallow_more_never_less() {
        let mut txt = String::from("User-agent: *\n");
        for i in 0..ROBOTS_MAX_ANCHORED_RULES {
            txt.push_str(&format!("Disallow: /*.x{i}$\n"));
        }
        txt.push_str("Disallow: /*.pdf$\nAllow: /*.html$\n");
        let (kept, trimmed) = limit_robots(txt.as_bytes());
        assert_eq!(trimmed.anchors_removed, 2);
        let kept = String::from_utf8(kept).unwrap();
        assert!(kept.contains("Disallow: /*.pdf\n"), "{kept}");
        assert!(!kept.contains("Allow: /*.html"));
        let robot = Robot::new("sofleet", kept.as_bytes()).unwrap();
        assert!(!robot.allowed("/a.pdf"));
        assert!(!robot.allowed("/a.pdf.old"), "unanchored: disallows more");
        assert!(!robot.allowed("/a.x7"));
    }

    #[test]
    fn long_rules_are_dropped() {
        let long = "a".repeat(ROBOTS_MAX_RULE_BYTES + 1);
        let txt = format!("User-agent: *\nDisallow: /{long}\nDisallow: /short\n");
        let (kept, trimmed) = limit_robots(txt.as_bytes());
        assert_eq!(trimmed.long_rules_dropped, 1);
        let robot = Robot::new("sofleet", &kept).unwrap();
        assert!(!robot.allowed("/short"));
    }

    mod never_panics {
        use proptest::prelude::*;

        /// Lines a hostile robots.txt is made of.
        fn line() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("User-agent: *".to_owned()),
                Just("User-agent: sofleet".to_owned()),
                "(Crawl-delay|crawl delay|CRAWLDELAY) ?:? ?(1e30|2e10|-1|NaN|inf|[0-9.e+-]{0,12})",
                "(Disallow|Allow|dissallow|allow) ?:? ?[/*$a-z0-9%?=.#\\x00\r]{0,30}",
                "Sitemap: [ -~]{0,30}",
                "[ -~\\x00\r\t]{0,40}",
            ]
        }

        proptest! {
            #[test]
            fn robots_bodies(lines in proptest::collection::vec(line(), 0..60), raw in proptest::collection::vec(any::<u8>(), 0..200)) {
                let mut body = lines.join("\n").into_bytes();
                body.extend_from_slice(&raw);
                let parsed = super::super::parse_robots("sofleet", &body);
                if let Some(robot) = parsed.robot {
                    let _ = robot.allowed("/questions/1/x?y=z");
                    let _ = robot.delay.map(|d| crate::response::seconds(f64::from(d)));
                }
            }

            #[test]
            fn retry_after_values(value in "[ -~]{0,40}|[0-9.eE+-]{0,30}") {
                let _ = crate::response::parse_retry_after(&value);
            }
        }
    }
}
