//! The one retry schedule of the crate: every loop that waits for Redis to come back sleeps
//! for the delays of a [`backon`] exponential schedule (doubling from a first delay up to a
//! cap, without jitter, for as long as the loop keeps trying).
//!
//! * [`reconnect_backoff`] (20 ms doubling to 500 ms): connecting at start (client and
//!   worker, [`Link::connect_within`](crate::conn::Link::connect_within)) and the client's
//!   I/O loops (the job writer and the reply listener of [`RedisBackend`](crate::RedisBackend)),
//!   where a short cap gets jobs moving soon after Redis is back.
//! * [`worker_backoff`] (50 ms doubling to 2 s): a running worker's loops (reading jobs,
//!   recreating a lost consumer group, posting results); a fleet of workers retrying at
//!   once goes easier on a Redis that is coming back.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

/// The schedule of connecting and of the client's I/O loops: 20 ms, 40 ms, ... up to 500 ms.
pub(crate) fn reconnect_backoff() -> ExponentialBuilder {
    exponential(Duration::from_millis(20), Duration::from_millis(500))
}

/// The schedule of a running worker's loops: 50 ms, 100 ms, ... up to 2 s.
pub(crate) fn worker_backoff() -> ExponentialBuilder {
    exponential(Duration::from_millis(50), Duration::from_secs(2))
}

/// Doubling from `first` to `cap`, then `cap` for ever.
fn exponential(first: Duration, cap: Duration) -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(first)
        .with_max_delay(cap)
        .with_factor(2.0)
        .without_max_times()
}

/// The delays of one schedule, restarted by [`reset`](Self::reset) after a success.
pub(crate) struct Backoff {
    schedule: ExponentialBuilder,
    delays: ExponentialBackoff,
    last: Duration,
}

impl Backoff {
    /// The delays of `schedule`, from its first one.
    pub(crate) fn new(schedule: ExponentialBuilder) -> Self {
        Backoff {
            schedule,
            delays: schedule.build(),
            last: Duration::ZERO,
        }
    }

    /// The next delay (the schedules never end: past the cap, the cap again).
    pub(crate) fn next_delay(&mut self) -> Duration {
        if let Some(d) = self.delays.next() {
            self.last = d;
        }
        self.last
    }

    /// Starts the schedule again from its first delay.
    pub(crate) fn reset(&mut self) {
        self.delays = self.schedule.build();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `n` delays in whole milliseconds (backon multiplies in `f32`: 40 ms may
    /// come out a few nanoseconds short).
    fn first(schedule: ExponentialBuilder, n: usize) -> Vec<u64> {
        let mut b = Backoff::new(schedule);
        (0..n)
            .map(|_| (b.next_delay().as_secs_f64() * 1000.0).round() as u64)
            .collect()
    }

    #[test]
    fn schedules_double_up_to_their_cap_and_stay_there() {
        assert_eq!(
            first(reconnect_backoff(), 8),
            [20, 40, 80, 160, 320, 500, 500, 500]
        );
        assert_eq!(
            first(worker_backoff(), 9),
            [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000]
        );
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(worker_backoff());
        b.next_delay();
        b.next_delay();
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(50));
    }
}
