//! [`SubmitOptions`] and [`RetryPolicy`].

use std::time::Duration;

use crate::key::TaskKey;

/// How a task is retried after a [retryable](crate::TaskError::retryable) error.
///
/// The delay before retry `n` (1-based) is `min(max, base * 2^(n-1))` for exponential backoff
/// (constant `base` for [`fixed`](RetryPolicy::fixed)); with jitter (the default for
/// exponential) it is drawn uniformly from `[delay/2, delay]` so retries of many tasks spread
/// out. Fatal errors and panics are never retried.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// First delay.
    pub base: Duration,
    /// Upper bound of a delay.
    pub max: Duration,
    /// Growth factor per retry (2.0 exponential, 1.0 fixed).
    pub multiplier: f64,
    /// Randomise each delay in `[delay/2, delay]`.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::none()
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            base: Duration::ZERO,
            max: Duration::ZERO,
            multiplier: 1.0,
            jitter: false,
        }
    }

    /// Up to `max_retries` retries with exponential backoff from `base`, capped at `max`, with
    /// jitter.
    pub fn exponential(max_retries: u32, base: Duration, max: Duration) -> Self {
        RetryPolicy {
            max_retries,
            base,
            max: max.max(base),
            multiplier: 2.0,
            jitter: true,
        }
    }

    /// Up to `max_retries` retries, `delay` apart (no jitter).
    pub fn fixed(max_retries: u32, delay: Duration) -> Self {
        RetryPolicy {
            max_retries,
            base: delay,
            max: delay,
            multiplier: 1.0,
            jitter: false,
        }
    }

    /// Up to `max_retries` retries with the default backoff: exponential from 100 ms, capped
    /// at 30 s, with jitter (what `#[sofleet::task(retries = n)]` gives a task).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sofleet_executor::RetryPolicy;
    ///
    /// let p = RetryPolicy::retries(3);
    /// assert_eq!(p.max_retries, 3);
    /// assert_eq!(p.nominal_delay(2), Duration::from_millis(200));
    /// ```
    pub fn retries(max_retries: u32) -> Self {
        Self::exponential(
            max_retries,
            Duration::from_millis(100),
            Duration::from_secs(30),
        )
    }

    /// Turns jitter on or off.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The upper bound of the delay before retry number `retry` (1-based), before jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sofleet_executor::RetryPolicy;
    ///
    /// let p = RetryPolicy::exponential(5, Duration::from_millis(100), Duration::from_millis(300));
    /// assert_eq!(p.nominal_delay(1), Duration::from_millis(100));
    /// assert_eq!(p.nominal_delay(2), Duration::from_millis(200));
    /// assert_eq!(p.nominal_delay(3), Duration::from_millis(300));
    /// ```
    pub fn nominal_delay(&self, retry: u32) -> Duration {
        use backon::BackoffBuilder;
        let steps = retry.saturating_sub(1).min(64) as usize;
        let delay = self.schedule().build().nth(steps).unwrap_or(self.max);
        // backon multiplies in f32 (20 ms x 2 = 39.999999 ms): round to the microsecond.
        let micros = (delay.as_secs_f64() * 1e6).round();
        Duration::from_secs_f64(micros / 1e6).min(self.max)
    }

    /// The schedule without jitter, on the workspace's one backoff implementation (`backon`).
    fn schedule(&self) -> backon::ExponentialBuilder {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.max)
            .with_factor(self.multiplier.max(1.0) as f32)
            .with_max_times(65)
    }

    /// The delay before retry number `retry` (1-based), with jitter applied if enabled.
    pub fn delay(&self, retry: u32) -> Duration {
        let d = self.nominal_delay(retry);
        if self.jitter && !d.is_zero() {
            let f: f64 = rand::random_range(0.5..=1.0);
            d.mul_f64(f)
        } else {
            d
        }
    }
}

/// Per-submission options. `Default` is: per-type purity, content key, the task type's retries
/// ([`Task::retry_policy`](crate::Task::retry_policy), none unless set), no resource tags, cancelled when every handle is dropped.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SubmitOptions {
    /// Overrides [`Task::PURE`](crate::Task::PURE): `Some(false)` gives a fresh key every time.
    pub pure: Option<bool>,
    /// Explicit key (takes precedence over purity; identical explicit keys deduplicate).
    pub key: Option<TaskKey>,
    /// Retry policy for retryable errors; `None` takes the task type's
    /// ([`Task::retry_policy`](crate::Task::retry_policy)).
    pub retry: Option<RetryPolicy>,
    /// Resource tags such as `"host=stackoverflow.com"`; each tag with a limit set by
    /// [`Client::set_resource_limit`](crate::Client::set_resource_limit) bounds how many tagged
    /// tasks are dispatched at once.
    pub resources: Vec<String>,
    /// Keep running even when every handle is dropped.
    pub fire_and_forget: bool,
}

impl SubmitOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets purity (see [`SubmitOptions::pure`]).
    pub fn pure(mut self, pure: bool) -> Self {
        self.pure = Some(pure);
        self
    }

    /// Sets an explicit key.
    pub fn key(mut self, key: impl Into<TaskKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the retry policy (overriding the task type's; [`RetryPolicy::none`] turns its
    /// retries off).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Adds a resource tag.
    pub fn resource(mut self, tag: impl Into<String>) -> Self {
        self.resources.push(tag.into());
        self
    }

    /// Sets fire-and-forget.
    pub fn fire_and_forget(mut self, yes: bool) -> Self {
        self.fire_and_forget = yes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_delays_grow_and_cap() {
        let p = RetryPolicy::exponential(5, Duration::from_millis(10), Duration::from_millis(50));
        assert_eq!(p.nominal_delay(1), Duration::from_millis(10));
        assert_eq!(p.nominal_delay(2), Duration::from_millis(20));
        assert_eq!(p.nominal_delay(3), Duration::from_millis(40));
        assert_eq!(p.nominal_delay(4), Duration::from_millis(50));
        assert_eq!(p.nominal_delay(60), Duration::from_millis(50));
        for retry in 1..6 {
            for _ in 0..50 {
                let d = p.delay(retry);
                let n = p.nominal_delay(retry);
                assert!(
                    d <= n && d >= n / 2,
                    "{d:?} not within [{:?}, {n:?}]",
                    n / 2
                );
            }
        }
    }

    #[test]
    fn fixed_and_none() {
        let p = RetryPolicy::fixed(3, Duration::from_millis(7));
        assert_eq!(p.delay(1), Duration::from_millis(7));
        assert_eq!(p.delay(3), Duration::from_millis(7));
        assert_eq!(RetryPolicy::none().max_retries, 0);
        let o = SubmitOptions::new()
            .pure(false)
            .key("k")
            .resource("host=a")
            .fire_and_forget(true);
        assert_eq!(o.pure, Some(false));
        assert_eq!(o.key.unwrap().as_str(), "k");
        assert_eq!(o.resources, vec!["host=a".to_string()]);
        assert!(o.fire_and_forget);
    }
}
