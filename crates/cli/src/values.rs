//! The values flags take, and their parsers: page ranges, rates, durations, backends, tags.
//! Parsing fails with a message that names the bad value and shows a good one.

use std::ops::RangeInclusive;
use std::time::Duration;

/// Which executor backend runs the tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// The tokio backend (async I/O).
    Tokio,
    /// The OS-thread pool backend.
    Threads,
    /// Remote workers through Redis (`redis://…` or `rediss://…`).
    Redis(String),
}

/// A request rate: `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed…
    pub count: u32,
    /// …per this period.
    pub per: Duration,
}

impl Rate {
    /// The rate in requests per second.
    pub fn per_second(self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }
}

/// `1-10` or `3` → an inclusive range of page numbers (pages start at 1).
pub fn parse_page_range(text: &str) -> Result<RangeInclusive<u32>, String> {
    let hint = "write a page number like `3` or a range like `1-10` (pages start at 1)";
    let parse = |part: &str| {
        part.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{part}` is not a page number; {hint}"))
    };
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let page = parse(text)?;
            (page, page)
        }
    };
    if first == 0 {
        return Err(format!("page 0 does not exist; {hint}"));
    }
    if first > last {
        return Err(format!("`{text}` runs backwards; {hint}"));
    }
    if last - first >= 10_000 {
        return Err(format!(
            "`{text}` is more than 10,000 pages; crawl it in parts"
        ));
    }
    Ok(first..=last)
}

/// `5/s`, `30/min`, `1/h`, `2/500ms` → a [`Rate`], between one request per day and a million
/// per second.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let hint = "write it as COUNT/PERIOD, e.g. `1/s`, `30/min` or `5/2s`";
    let (count, period) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not a rate; {hint}"))?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| format!("`{count}` in `{text}` is not a whole number; {hint}"))?;
    if count == 0 {
        return Err(format!("a rate of 0 would never send a request; {hint}"));
    }
    let period = period.trim();
    let per = match period {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        other => humantime::parse_duration(other)
            .map_err(|_| format!("`{other}` in `{text}` is not a period; {hint}"))?,
    };
    if per.is_zero() {
        return Err(format!("`{text}` has a zero period; {hint}"));
    }
    let rate = Rate { count, per };
    // One request per day at the slowest (a longer wait is also refused by --max-pause), a
    // million per second at the fastest.
    if per / count > Duration::from_secs(24 * 3600) {
        return Err(format!(
            "`{text}` waits more than a day between requests; the slowest rate is 1/24h"
        ));
    }
    if rate.per_second() > 1_000_000.0 {
        return Err(format!(
            "`{text}` is more than 1,000,000 requests per second; the fastest rate is 1000000/s"
        ));
    }
    Ok(rate)
}

/// `100ms`, `1s`, `0ms` → a [`Duration`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. `100ms` or `2s`"))
}

/// `--max-pause`: a duration from one second to one day.
pub fn parse_max_pause(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(24 * 3600) {
        return Err(format!(
            "`{text}` is outside 1s..=24h; write e.g. `5min` or `1h`"
        ));
    }
    Ok(d)
}

/// A request timeout: 1 ms to 1 h.
pub fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(1) || d > Duration::from_secs(3600) {
        return Err(format!("`{text}` is outside 1ms..=1h; write e.g. `30s`"));
    }
    Ok(d)
}

/// A cache lifetime or age: a duration of at most 100 years (`0s` allowed).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d > Duration::from_secs(100 * 365 * 24 * 3600) {
        return Err(format!(
            "`{text}` is longer than 100 years; write e.g. `1h` or `30days`"
        ));
    }
    Ok(d)
}

/// `tokio` or `threads` (case-insensitive).
pub fn parse_backend(text: &str) -> Result<BackendChoice, String> {
    match text.to_ascii_lowercase().as_str() {
        "tokio" => Ok(BackendChoice::Tokio),
        "threads" | "thread" => Ok(BackendChoice::Threads),
        _ if text.starts_with("redis://") || text.starts_with("rediss://") => {
            Ok(BackendChoice::Redis(text.to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not a backend; choose `tokio` (async I/O), `threads` (OS threads) \
             or a Redis URL `redis://HOST:PORT` (remote workers started with `sofleet worker`)"
        )),
    }
}

/// A Stack Overflow tag: lower-case letters, digits and `+ # . -`, at most 35 characters.
pub fn parse_tag(text: &str) -> Result<String, String> {
    let tag = text.trim();
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-');
    if tag.is_empty() || tag.chars().count() > 35 || !tag.chars().all(ok_char) {
        return Err(format!(
            "`{text}` is not a Stack Overflow tag: tags are up to 35 letters, digits and `+ # . -` \
             (e.g. `dask`, `c++`, `python-3.x`)"
        ));
    }
    Ok(tag.to_lowercase())
}

/// 15, 30 or 50.
pub fn parse_pagesize(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ (15 | 30 | 50)) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a page size Stack Overflow offers; use 15, 30 or 50"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ranges() {
        assert_eq!(parse_page_range("1-10").unwrap(), 1..=10);
        assert_eq!(parse_page_range("3").unwrap(), 3..=3);
        assert!(parse_page_range("0-3").unwrap_err().contains("page 0"));
        assert!(parse_page_range("5-2").unwrap_err().contains("backwards"));
        assert!(parse_page_range("a-b").unwrap_err().contains("`a`"));
        assert!(parse_page_range("").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5/s").unwrap().per_second(), 5.0);
        assert_eq!(parse_rate("30/min").unwrap().per_second(), 0.5);
        assert_eq!(parse_rate("1/500ms").unwrap().per_second(), 2.0);
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("fast").unwrap_err().contains("COUNT/PERIOD"));
        assert!(parse_rate("5/fortnight").is_err());
        // Hostile periods are refused with a message, never a panic (they used to crash).
        for (text, needle) in [
            ("1/600y", "more than a day"),
            ("1/100y", "more than a day"),
            ("1/18446744073709551615s", "more than a day"),
            ("1/99999999999999999999999y", "not a period"),
            ("4294967295/1ns", "1,000,000 requests per second"),
        ] {
            let err = parse_rate(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert_eq!(parse_rate("1/24h").unwrap().per_second(), 1.0 / 86_400.0);
        assert!(parse_max_pause("0s").is_err());
        assert!(parse_max_pause("2days").is_err());
        assert_eq!(parse_max_pause("5min").unwrap(), Duration::from_secs(300));
    }

    #[test]
    fn tags_and_backends() {
        assert_eq!(parse_tag("C++").unwrap(), "c++");
        assert_eq!(parse_tag("python-3.x").unwrap(), "python-3.x");
        assert!(parse_tag("two words").is_err());
        assert!(parse_tag("a/b").is_err());
        assert_eq!(parse_backend("Tokio").unwrap(), BackendChoice::Tokio);
        assert!(parse_backend("gpu").unwrap_err().contains("not a backend"));
        assert_eq!(
            parse_backend("redis://127.0.0.1:6379").unwrap(),
            BackendChoice::Redis("redis://127.0.0.1:6379".into())
        );
        assert_eq!(parse_pagesize("50").unwrap(), 50);
        assert!(parse_pagesize("20").is_err());
    }
}
