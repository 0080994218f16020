//! [`SharedBudget`]: one politeness budget per (target host, source address) shared by every
//! worker of a fleet, and the key it is kept under.

use std::time::Duration;

use futures::future::BoxFuture;

/// A rate budget kept outside the process (e.g. in the Redis a fleet already uses), so that
/// every worker sending from one address to one host is limited together: `--rate 5/s` means
/// 5 requests a second to that host from that address, however many workers share it.
///
/// The crawl calls [`reserve`](SharedBudget::reserve) before each request,
/// [`raise_interval`](SharedBudget::raise_interval) when robots.txt asks for a `Crawl-delay`
/// slower than the rate, and [`pause`](SharedBudget::pause) when the site asks to wait (a
/// 429's `Retry-After`, a captcha). When a call fails (the store is unreachable), the worker falls back to its own
/// limiter at a quarter of the rate ([`FALLBACK_SLOWDOWN`]) — never to no limit.
///
/// ```
/// use std::time::Duration;
/// use futures::future::BoxFuture;
/// use sofleet_crawl::SharedBudget;
///
/// /// A budget that never makes anyone wait (for a test).
/// struct Unlimited;
/// impl SharedBudget for Unlimited {
///     fn reserve<'a>(&'a self, _key: &'a str, _interval: Duration)
///         -> BoxFuture<'a, Result<Duration, String>> {
///         Box::pin(async { Ok(Duration::ZERO) })
///     }
///     fn raise_interval<'a>(&'a self, _key: &'a str, _interval: Duration)
///         -> BoxFuture<'a, Result<(), String>> {
///         Box::pin(async { Ok(()) })
///     }
///     fn pause<'a>(&'a self, _key: &'a str, _pause: Duration) -> BoxFuture<'a, Result<(), String>> {
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait SharedBudget: Send + Sync + 'static {
    /// Takes the next slot of `key` at one request per `interval`; returns how long to wait
    /// before sending (the slot is taken by the call).
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
    ) -> BoxFuture<'a, Result<Duration, String>>;

    /// Spaces every later slot of `key`, by every holder, at least `interval` apart without
    /// taking a slot (a robots.txt `Crawl-delay` learned by one worker slows all of them
    /// before their next request). A shorter interval never lowers a longer one.
    fn raise_interval<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Makes every holder of `key` wait at least `pause` from now.
    fn pause<'a>(&'a self, key: &'a str, pause: Duration) -> BoxFuture<'a, Result<(), String>>;
}

/// How much slower than the budget a worker sends while the shared budget is unreachable.
pub const FALLBACK_SLOWDOWN: u32 = 4;

/// The budget key of requests to `host` (`host[:port]`) leaving from `source` (an IP address,
/// or `host:NAME` for a machine's default address).
///
/// ```
/// assert_eq!(
///     sofleet_crawl::budget_key("stackoverflow.com", "192.0.2.7"),
///     "to=stackoverflow.com|from=192.0.2.7"
/// );
/// ```
pub fn budget_key(host: &str, source: &str) -> String {
    format!("to={host}|from={source}")
}
