//! The end of a fetching command: the summary lines, an honest comparison with fetching one
//! page after another at the same rate limit, and the same figures as JSON (`--stats-json`).

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sofleet_crawl::CrawlSummary;

use crate::exit::Failure;

/// How a run's requests were paced: what one-after-another would have cost at the same rate
/// limit, and whether the rate limit (not the site or the network) set the pace.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// `--rate`, requests per second (`None`: unlimited).
    pub rate: Option<f64>,
    /// Requests sent (cache hits excluded).
    pub requests: u64,
    /// Wall time of the run.
    pub wall: Duration,
    /// Time in requests, summed over every request.
    pub request_time: Duration,
}

impl Pace {
    /// The least time the rate limit allows for the requests: one interval between each two.
    pub fn rate_floor(&self) -> Duration {
        match self.rate {
            Some(rate) if rate > 0.0 && self.requests > 1 => {
                Duration::from_secs_f64((self.requests - 1) as f64 / rate)
            }
            _ => Duration::ZERO,
        }
    }

    /// What the same requests would take one after another at the same rate limit: each
    /// waits for its slot and for the previous response.
    pub fn serial_at_rate(&self) -> Duration {
        self.rate_floor().max(self.request_time)
    }

    /// Whether the rate limit set the pace: the run took less than 25% longer than the rate
    /// allows at the very least.
    pub fn rate_bound(&self) -> bool {
        let floor = self.rate_floor();
        !floor.is_zero() && self.wall.as_secs_f64() <= floor.as_secs_f64() * 1.25
    }

    /// `wall time 2.03 s for 92 requests; one after another at --rate 50/s: about 9.43 s (4.6x)`
    /// and, when the rate limit set the pace, a note saying so.
    pub fn lines(&self) -> Vec<String> {
        let rate = self
            .rate
            .map_or_else(|| "no rate limit".to_owned(), describe_rate);
        let serial = self.serial_at_rate().as_secs_f64();
        let mut lines = vec![format!(
            "wall time {:.2} s for {} requests; one after another at {rate}: about {serial:.2} s \
             ({:.1}x)",
            self.wall.as_secs_f64(),
            self.requests,
            serial / self.wall.as_secs_f64().max(1e-9)
        )];
        if self.rate_bound() {
            lines.push(format!(
                "note: the rate limit set the pace ({} requests need at least {:.1} s at {rate}); \
                 parallel requests help only up to --rate (raise it only if the site allows)",
                self.requests,
                self.rate_floor().as_secs_f64()
            ));
        }
        lines
    }

    /// The same figures for `--stats-json`.
    pub fn json(&self) -> Value {
        json!({
            "wall_seconds": self.wall.as_secs_f64(),
            "rate_per_second": self.rate,
            "serial_seconds_at_rate": self.serial_at_rate().as_secs_f64(),
            "rate_bound": self.rate_bound(),
        })
    }
}

/// `--rate` as a user writes it: `1/s`, `0.5/s`, `20/s`.
pub fn describe_rate(rate: f64) -> String {
    let rounded = (rate * 100.0).round() / 100.0;
    format!("--rate {rounded}/s")
}

/// A crawl's summary as JSON: the same fields for a local run and a fleet (whose `workers`
/// lists every worker).
pub fn crawl_json(summary: &CrawlSummary, pace: &Pace, out: &Path, failures: &Path) -> Value {
    json!({
        "command": "crawl",
        "questions": summary.questions,
        "failures": summary.failures,
        "listing_pages": summary.listings,
        "listing_pages_resumed": summary.listings_resumed,
        "questions_skipped": summary.questions_skipped,
        "not_fetched": summary.not_fetched,
        "stopped": summary.stopped,
        "pace": pace.json(),
        "requests": summary.stats,
        "workers": summary.workers,
        "output": out.display().to_string(),
        "failures_file": failures.display().to_string(),
    })
}

/// Writes `value` to `path` (through a temporary file beside it, so a reader never sees half a
/// file).
pub fn write_json(path: &Path, value: &Value) -> Result<(), Failure> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Input(e.into()))?;
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut f| {
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.persist(path).map_err(|e| e.error)
    });
    written.map_err(|e| {
        Failure::Input(anyhow::anyhow!(
            "cannot write --stats-json {}: {e} (choose a writable path)",
            path.display()
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(rate: Option<f64>, requests: u64, wall: f64, request_time: f64) -> Pace {
        Pace {
            rate,
            requests,
            wall: Duration::from_secs_f64(wall),
            request_time: Duration::from_secs_f64(request_time),
        }
    }

    #[test]
    fn one_after_another_at_the_same_rate() {
        // 39 requests at 1/s: at least 38 s, whatever the requests took.
        let p = pace(Some(1.0), 39, 40.0, 0.04);
        assert_eq!(p.serial_at_rate(), Duration::from_secs(38));
        assert!(p.rate_bound());
        let lines = p.lines();
        assert_eq!(
            lines[0],
            "wall time 40.00 s for 39 requests; one after another at --rate 1/s: about 38.00 s (0.9x)"
        );
        assert!(
            lines[1].starts_with("note: the rate limit set the pace"),
            "{lines:?}"
        );
        // Slow responses at a generous rate: the requests' own time, and no note.
        let p = pace(Some(100.0), 92, 2.03, 9.43);
        assert_eq!(p.serial_at_rate(), Duration::from_secs_f64(9.43));
        assert!(!p.rate_bound());
        assert_eq!(p.lines().len(), 1);
        assert!(pace(None, 5, 1.0, 0.5).lines()[0].contains("no rate limit"));
    }
}
