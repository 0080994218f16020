//! One request and what its response means for the crawl: [`Attempt`] (a page, a redirect to
//! follow, a permanent failure, or a retry with or without a host pause), `Retry-After` parsing,
//! and the body read under its size limit.

use std::time::{Duration, SystemTime};

use reqwest::header::{LOCATION, RETRY_AFTER};
use sofleet_extract::{BlockKind, classify_block};
use sofleet_records::FailureKind;
use url::Url;

use crate::error::FetchFailure;
use crate::fetch::{Fetcher, Page, now_ms};
use crate::stats::StatsCounters;

/// Parses a `Retry-After` value: delay seconds (a decimal number, as some servers send) or an
/// HTTP date. A delay too long for a [`Duration`] saturates at [`Duration::MAX`] (the fetcher
/// then refuses it as longer than its `max_pause`); negative, non-finite and unreadable values
/// are `None`. Never panics.
///
/// ```
/// use std::time::Duration;
/// use sofleet_crawl::parse_retry_after;
/// assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("1e30"), Some(Duration::MAX));
/// assert_eq!(parse_retry_after("soon"), None);
/// assert_eq!(parse_retry_after("-5"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// `secs` as a [`Duration`]: `None` unless finite and non-negative; saturates at
/// [`Duration::MAX`]. Never panics (unlike `Duration::from_secs_f64`).
pub(crate) fn seconds(secs: f64) -> Option<Duration> {
    if !(secs.is_finite() && secs >= 0.0) {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// How much of a body is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyLimit {
    /// A longer body fails the page as `too_large`.
    Fail(u64),
    /// Read this many bytes and ignore the rest (robots.txt, as Google does).
    Truncate(u64),
}

/// The outcome of one request.
pub(crate) enum Attempt {
    Done(Page),
    /// A 3xx with a `Location` (not a captcha): the caller decides whether to follow it.
    Redirect {
        status: u16,
        location: String,
    },
    Permanent(FetchFailure),
    Retry {
        failure: FetchFailure,
        /// Pause the whole host this long (Retry-After, captcha); otherwise back off this request.
        host_pause: Option<Duration>,
    },
}

impl Attempt {
    /// One debug line per request (`sofleet -v`): method, URL, status, bytes, time, attempt
    /// and the wait for the rate limit.
    pub(crate) fn log(&self, url: &Url, attempt: u32, waited: Duration, took: Duration) {
        if !tracing::enabled!(target: "sofleet_crawl::request", tracing::Level::DEBUG) {
            return;
        }
        let outcome = match self {
            Attempt::Done(page) => format!("{} {} bytes", page.status, page.body.len()),
            Attempt::Redirect { status, location } => format!("{status} -> {location}"),
            Attempt::Permanent(f) | Attempt::Retry { failure: f, .. } => match f.http_status {
                Some(status) => format!("{status} {}", f.kind.as_str()),
                None => format!("failed: {}", f.message),
            },
        };
        let retry = if matches!(self, Attempt::Retry { .. }) {
            ", will retry"
        } else {
            ""
        };
        tracing::debug!(
            target: "sofleet_crawl::request",
            "GET {url} {outcome} in {} ms (attempt {attempt}, waited {} ms for the rate limit{retry})",
            took.as_millis(),
            waited.as_millis()
        );
    }
}

pub(crate) fn failure(kind: FailureKind, status: Option<u16>, message: String) -> FetchFailure {
    FetchFailure {
        kind,
        http_status: status,
        attempts: 0,
        message,
    }
}

impl Fetcher {
    /// Sends one GET for `url` (redirects are not followed here) and classifies the response.
    pub(crate) async fn send_once(&self, url: &Url, limit: BodyLimit) -> Attempt {
        let response = match self.client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                StatsCounters::add(&self.stats.transport_errors, 1);
                let kind = if e.is_timeout() {
                    FailureKind::Timeout
                } else if e.is_connect() {
                    FailureKind::Connect
                } else {
                    FailureKind::Other
                };
                return Attempt::Retry {
                    failure: failure(kind, None, transport_message(&e)),
                    host_pause: None,
                };
            }
        };
        let status = response.status().as_u16();
        self.stats.status(status);
        let raw_retry_after: Option<String> = response.headers().get(RETRY_AFTER).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(80)
                .collect()
        });
        let retry_after = match &raw_retry_after {
            None => None,
            Some(raw) => {
                let parsed = parse_retry_after(raw);
                if parsed.is_none() {
                    self.warn_once(
                        "retry-after-unreadable",
                        format!(
                            "{} sent `Retry-After: {}`, which is neither seconds nor an HTTP \
                             date; backing off instead",
                            self.host_name(),
                            raw
                        ),
                    );
                }
                parsed
            }
        };
        match status {
            200..=299 => {}
            300..=399 => {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                return match location {
                    Some(location) if location.contains("captcha") => {
                        self.captcha(status, &format!("redirected to {location}"))
                    }
                    Some(location) if !location.trim().is_empty() => Attempt::Redirect {
                        status,
                        location: location.trim().to_owned(),
                    },
                    _ => Attempt::Permanent(failure(
                        FailureKind::HttpStatus,
                        Some(status),
                        format!("HTTP {status} without a Location to follow"),
                    )),
                };
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
                        match &raw_retry_after {
                            Some(raw) => format!("HTTP 429 Too Many Requests (Retry-After: {raw})"),
                            None => format!(
                                "HTTP 429 Too Many Requests (no Retry-After; backing off {:.1} s)",
                                pause.as_secs_f64()
                            ),
                        },
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
                        match &raw_retry_after {
                            Some(raw) => format!("HTTP {status} (Retry-After: {raw})"),
                            None => format!("HTTP {status}"),
                        },
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
        let (max, truncate) = match limit {
            BodyLimit::Fail(max) => (max, false),
            BodyLimit::Truncate(max) => (max, true),
        };
        if !truncate && response.content_length().is_some_and(|len| len > max) {
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
                        if truncate {
                            let room = (max as usize).saturating_sub(body.len());
                            body.extend_from_slice(&chunk[..room.min(chunk.len())]);
                            break;
                        }
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
            redirected_to: None,
            status,
            body,
            fetched_at_ms: now_ms(),
            attempts: 0,
            from_cache: false,
        })
    }

    pub(crate) fn captcha(&self, status: u16, message: &str) -> Attempt {
        StatsCounters::add(&self.stats.captchas, 1);
        Attempt::Retry {
            failure: failure(
                FailureKind::Captcha,
                Some(status),
                format!("captcha: {message}"),
            ),
            host_pause: Some(self.config.captcha_pause),
        }
    }
}

/// What went wrong with a request that got no response, named as a user would (connection
/// refused, DNS lookup, TLS, timeout) with the underlying cause and the URL.
fn transport_message(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let causes = || std::iter::successors(e.source(), |&s| s.source());
    let refused = causes().any(|s| {
        s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    let texts: Vec<String> = causes().map(|s| s.to_string()).collect();
    let mentions = |needle: &str| {
        texts
            .iter()
            .any(|t| t.to_ascii_lowercase().contains(needle))
    };
    let url = e.url().map_or_else(String::new, |u| format!(" ({u})"));
    let deepest = texts.last().cloned().unwrap_or_else(|| e.to_string());
    if refused {
        format!("connection refused{url}")
    } else if e.is_timeout() {
        format!("timed out: {deepest}{url}")
    } else if mentions("dns error") || mentions("lookup address") {
        format!("DNS lookup failed: {deepest}{url}")
    } else if mentions("certificate")
        || mentions("tls")
        || mentions("handshake")
        || (e.is_connect()
            && e.url().is_some_and(|u| u.scheme() == "https")
            && !mentions("reset")
            && !mentions("broken pipe"))
    {
        // Past TCP, an https connection fails in its TLS handshake (rustls' messages do not
        // always say "TLS": "received corrupt message of type InvalidContentType").
        format!("TLS failed: {deepest}{url}")
    } else if e.is_connect() {
        format!("could not connect: {deepest}{url}")
    } else {
        format!("request failed: {deepest}{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_never_panics() {
        for v in [
            f64::NAN,
            f64::INFINITY,
            -1.0,
            1e30,
            2e10,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let _ = seconds(v);
        }
        assert_eq!(seconds(1e30), Some(Duration::MAX));
        assert_eq!(seconds(-0.5), None);
        assert_eq!(seconds(1.5), Some(Duration::from_millis(1500)));
    }
}
