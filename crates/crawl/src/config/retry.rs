//! The fetcher's retry policy ([`RetryConfig`]) and its back-off schedule, computed with
//! [`backon`].

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use serde::{Deserialize, Serialize};

use super::millis;

/// Retry policy of the fetcher: exponential back-off with jitter for connect errors, timeouts,
/// 5xx, 429 (where `Retry-After` wins when present) and captcha pages.
///
/// On the wire (jobs, journals) the delays are whole milliseconds named `initial_backoff_ms`
/// and `max_backoff_ms`, as they always were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Attempts per URL for errors (connect, timeout, 5xx, truncated body), the first included
    /// (at least 1). Refusals that tell the crawler to wait (429, captcha, 503 with
    /// `Retry-After`) have a budget of twice this many, counted separately.
    pub max_attempts: u32,
    /// First back-off delay.
    #[serde(rename = "initial_backoff_ms", with = "millis")]
    pub initial_backoff: Duration,
    /// Largest back-off delay (at most [`CrawlConfig::max_pause`](crate::CrawlConfig::max_pause)).
    #[serde(rename = "max_backoff_ms", with = "millis")]
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Retries past this many all wait the largest delay (`2^63` times the first is past any cap).
const MAX_DOUBLINGS: u32 = 64;

impl RetryConfig {
    /// The back-off schedule before jitter, as a [`backon`] builder: the first retry waits
    /// [`initial_backoff`](Self::initial_backoff) (at most [`max_backoff`](Self::max_backoff)),
    /// each further one twice the one before, capped at `max_backoff`; at most
    /// `max_attempts - 1` retries. The fetcher adds its own "equal jitter" (half of each delay
    /// fixed, half random), so the schedule has none.
    ///
    /// ```
    /// use backon::BackoffBuilder;
    /// use std::time::Duration;
    /// let retry = sofleet_crawl::RetryConfig {
    ///     max_attempts: 4,
    ///     initial_backoff: Duration::from_millis(500),
    ///     max_backoff: Duration::from_millis(1500),
    /// };
    /// let delays: Vec<Duration> = retry.schedule().build().collect();
    /// assert_eq!(delays, [500, 1000, 1500].map(Duration::from_millis));
    /// ```
    pub fn schedule(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.initial_backoff.min(self.max_backoff))
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
    }

    /// The back-off before retry number `retry` (1 = first retry; 0 counts as 1), before
    /// jitter: delay number `retry` of [`schedule`](Self::schedule) however many attempts the
    /// policy allows, i.e. `initial * 2^(retry-1)` capped at `max_backoff`.
    ///
    /// [`backon`] multiplies in `f32` seconds; the delay is rounded to the millisecond (the unit
    /// of the configuration on the wire), which gives the exact product for every delay up to
    /// about two hours (an uncapped delay longer than that may be a few milliseconds off).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let retry = sofleet_crawl::RetryConfig {
    ///     initial_backoff: Duration::from_millis(100),
    ///     max_backoff: Duration::from_millis(350),
    ///     ..Default::default()
    /// };
    /// assert_eq!(retry.backoff(1), Duration::from_millis(100));
    /// assert_eq!(retry.backoff(2), Duration::from_millis(200));
    /// assert_eq!(retry.backoff(3), Duration::from_millis(350));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let nth = retry.clamp(1, MAX_DOUBLINGS) as usize - 1;
        let delay = self
            .schedule()
            .without_max_times()
            .build()
            .nth(nth)
            .unwrap_or(self.max_backoff);
        round_to_millis(delay).min(self.max_backoff)
    }
}

/// `d` rounded to the nearest millisecond.
fn round_to_millis(d: Duration) -> Duration {
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 >= 500_000);
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The schedule before it was computed with backon, in whole milliseconds.
    fn by_hand(initial_ms: u64, max_ms: u64, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let ms = initial_ms.saturating_mul(1u64 << exp);
        Duration::from_millis(ms.min(max_ms))
    }

    #[test]
    fn backon_gives_the_schedule_computed_by_hand() {
        let two_hours = 2 * 60 * 60 * 1000;
        for initial in [0, 1, 3, 10, 20, 100, 333, 500, 1_000, 12_345, 60_000] {
            for max in [1, 50, 350, 500, 30_000, 5 * 60 * 1000, two_hours] {
                let retry = RetryConfig {
                    max_attempts: 5,
                    initial_backoff: Duration::from_millis(initial),
                    max_backoff: Duration::from_millis(max),
                };
                for n in 0..=70 {
                    assert_eq!(
                        retry.backoff(n),
                        by_hand(initial, max, n),
                        "initial {initial} ms, max {max} ms, retry {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_schedule_allows_max_attempts_minus_one_retries() {
        let retry = RetryConfig::default();
        let delays: Vec<Duration> = retry.schedule().build().collect();
        assert_eq!(
            delays,
            [500, 1_000, 2_000, 4_000].map(Duration::from_millis)
        );
        let once = RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        };
        assert_eq!(once.schedule().build().count(), 0);
    }

    #[test]
    fn the_wire_form_is_unchanged() {
        let json = serde_json::to_value(RetryConfig::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"max_attempts": 5, "initial_backoff_ms": 500, "max_backoff_ms": 30000})
        );
        let old: RetryConfig = serde_json::from_str(
            r#"{"max_attempts":3,"initial_backoff_ms":20,"max_backoff_ms":500}"#,
        )
        .unwrap();
        assert_eq!(old.initial_backoff, Duration::from_millis(20));
        assert_eq!(old.max_backoff, Duration::from_millis(500));
    }
}
