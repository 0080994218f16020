//! A politeness budget shared by a whole fleet: a GCRA reservation kept in Redis.
//!
//! Every [`RateBudget::reserve`] of a key takes the next free slot of that key, whichever
//! process (worker or client) asked for it: the slot comes at least one interval after the
//! previous slot, where the interval is the longest one any caller asked for on that key
//! recently. So a `Crawl-delay` learned by one worker spaces the requests of every worker,
//! also those of a worker that has not read robots.txt yet. The arithmetic runs in a Lua
//! script on the Redis server with the server's clock (`TIME`), so the clocks of the machines
//! sharing the budget do not need to agree.
//!
//! Redis layout: one hash `{namespace}:budget:{key}` per key with the fields `last` (the
//! latest slot handed out), `floor` (the longest interval asked for while the key was live)
//! and `pause` (the end of the longest pause); times in microseconds of the server's clock.
//! The hash expires a minute after the next slot and the pause have passed, and with it the
//! interval floor.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::oneshot;

use crate::conn::{needs_reconnect, open_client, redact_url};
use crate::error::RedisError;
use crate::options::validate_name;

/// Longest key accepted by [`RateBudget::reserve`] and [`RateBudget::pause`], in bytes.
const MAX_KEY_BYTES: usize = 512;
/// Longest interval or pause: a day.
const MAX_SPAN: Duration = Duration::from_secs(24 * 3600);
/// Bound on establishing a connection (the caller falls back to a local limit on errors).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Bound on one script call once connected.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed connection attempt, calls fail at once (with that error) for this long
/// instead of each waiting for a connection of their own.
const RETRY_CONNECT_AFTER: Duration = Duration::from_secs(1);

/// Shared prelude of both scripts: server time in microseconds and the key's state.
/// `redis.replicate_commands` is needed (and present) only on Redis < 5, where a script that
/// reads `TIME` must replicate its effects instead of itself.
const PRELUDE: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local st = redis.call('HMGET', KEYS[1], 'last', 'floor', 'pause')
local last = tonumber(st[1])
local floor = tonumber(st[2]) or 0
local pause = tonumber(st[3]) or 0
local function keep_until(last)
  if last > now then
    redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil((last - now) / 1000) + 60000))
  end
end
";

/// `KEYS[1]` the budget hash, `ARGV[1]` the interval in µs; returns the wait in µs.
static RESERVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        "{PRELUDE}
local iv = math.max(tonumber(ARGV[1]), floor)
local start = math.max(now, pause)
if last then start = math.max(start, last + iv) end
redis.call('HSET', KEYS[1], 'last', string.format('%.0f', start), 'floor', string.format('%.0f', iv))
keep_until(math.max(start + iv, pause))
return start - now
"
    ))
});

/// `KEYS[1]` the budget hash, `ARGV[1]` the interval in µs; returns 0.
static RAISE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        "{PRELUDE}
local iv = tonumber(ARGV[1])
if iv > floor then
  floor = iv
  redis.call('HSET', KEYS[1], 'floor', string.format('%.0f', floor))
end
keep_until(math.max((last or now) + floor, pause))
return 0
"
    ))
});

/// `KEYS[1]` the budget hash, `ARGV[1]` the pause in µs; returns the remaining pause in µs.
static PAUSE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        "{PRELUDE}
local until_t = now + tonumber(ARGV[1])
if until_t > pause and until_t > now then
  pause = until_t
  redis.call('HSET', KEYS[1], 'pause', string.format('%.0f', pause))
  keep_until(math.max((last or 0) + floor, pause))
end
return math.max(pause - now, 0)
"
    ))
});

/// One politeness budget per key for a whole fleet.
///
/// Every worker and client that opens a `RateBudget` on the same Redis and namespace shares
/// one schedule per key (e.g. a target host and a source address): [`reserve`](Self::reserve)
/// hands out slots one interval apart across all of them, and [`pause`](Self::pause) (a 429's
/// `Retry-After`, a captcha) holds every one of them back. Cheap to clone; clones share one
/// connection, served by a small I/O thread of the budget's own, so it works from any async
/// runtime. Every call is bounded (about a second on connection trouble, two at worst), so a
/// caller can fall back to a conservative local limit when Redis is unreachable. Errors
/// name the Redis URL with its password masked.
///
/// ```no_run
/// # async fn demo() -> Result<(), sofleet_redis::RedisError> {
/// use std::time::Duration;
/// use sofleet_redis::RateBudget;
///
/// let budget = RateBudget::new("redis://:secret@10.0.0.5:6379", "sofleet", None)?;
/// let key = "stackoverflow.com|203.0.113.7";
/// let wait = budget.reserve(key, Duration::from_millis(500)).await?;
/// tokio::time::sleep(wait).await;
/// // ... send the request; on a 429 with Retry-After: 30 ...
/// budget.pause(key, Duration::from_secs(30)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RateBudget {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RateBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateBudget")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// The URL with its password masked.
    url: String,
    /// `{namespace}:budget:`.
    prefix: String,
    client: redis::Client,
    config: AsyncConnectionConfig,
    /// The I/O thread's runtime.
    handle: tokio::runtime::Handle,
    state: tokio::sync::Mutex<ConnState>,
    /// Dropped with the last clone: the I/O thread then ends.
    _stop: oneshot::Sender<()>,
}

#[derive(Default)]
struct ConnState {
    conn: Option<MultiplexedConnection>,
    /// The last failed connection attempt: until when to fail at once, how long it took
    /// and what it said.
    down: Option<(Instant, Duration, redis::RedisError)>,
}

#[derive(Clone, Copy)]
enum Op {
    Reserve,
    Raise,
    Pause,
}

impl Op {
    fn command(self) -> &'static str {
        match self {
            Op::Reserve => "EVALSHA (rate budget reserve)",
            Op::Raise => "EVALSHA (rate budget raise interval)",
            Op::Pause => "EVALSHA (rate budget pause)",
        }
    }

    fn script(self) -> &'static redis::Script {
        match self {
            Op::Reserve => &RESERVE,
            Op::Raise => &RAISE,
            Op::Pause => &PAUSE,
        }
    }
}

impl RateBudget {
    /// Opens a budget store on `redis_url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`, or
    /// `rediss://` for TLS with `tls_ca_file` as a private CA) under the key prefix
    /// `namespace` (workers use [`DEFAULT_NAMESPACE`](crate::DEFAULT_NAMESPACE),
    /// `"sofleet"`). Connects lazily, on the first call; fails only on an invalid URL,
    /// namespace or CA file, or if its I/O thread cannot start.
    ///
    /// ```
    /// let budget = sofleet_redis::RateBudget::new("redis://127.0.0.1:6379", "sofleet", None)?;
    /// assert!(sofleet_redis::RateBudget::new("redis://127.0.0.1", "bad name", None).is_err());
    /// # drop(budget);
    /// # Ok::<(), sofleet_redis::RedisError>(())
    /// ```
    pub fn new(
        redis_url: &str,
        namespace: &str,
        tls_ca_file: Option<&std::path::Path>,
    ) -> Result<RateBudget, RedisError> {
        validate_name("RateBudget namespace", namespace)?;
        let client = open_client(redis_url, tls_ca_file, "RateBudget tls_ca_file")?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(RedisError::Runtime)?;
        let handle = rt.handle().clone();
        let (stop, stop_rx) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sofleet-budget".into())
            .spawn(move || {
                // Resolves (with an error) when the last clone drops the sender.
                let _ = rt.block_on(stop_rx);
                rt.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(RedisError::Runtime)?;
        Ok(RateBudget {
            inner: Arc::new(Inner {
                url: redact_url(redis_url),
                prefix: format!("{namespace}:budget:"),
                client,
                config: AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT)),
                handle,
                state: tokio::sync::Mutex::new(ConnState::default()),
                _stop: stop,
            }),
        })
    }

    /// Reserves the next slot of `key` at one request per `interval` (no burst beyond 1):
    /// returns how long the caller must wait before sending ([`Duration::ZERO`] = now). The
    /// slot is taken by this call and comes at least `interval` after the previous slot of
    /// `key` — or longer, if another caller asked for a longer interval on `key` within the
    /// last minute (the longest interval asked for wins, so a `Crawl-delay` learned by one
    /// process holds for all). Any active [`pause`](Self::pause) of `key` is honoured: the
    /// returned wait ends no earlier than the pause's end.
    ///
    /// `key` must be 1 to 512 bytes and `interval` between 1 µs and 24 h
    /// ([`RedisError::InvalidOption`] otherwise). Connection trouble is an error within about
    /// a second (two at worst).
    ///
    /// ```no_run
    /// # async fn demo(budget: sofleet_redis::RateBudget) -> Result<(), sofleet_redis::RedisError> {
    /// use std::time::Duration;
    /// let wait = budget.reserve("example.org|10.0.0.7", Duration::from_millis(250)).await?;
    /// tokio::time::sleep(wait).await;
    /// # Ok(()) }
    /// ```
    pub async fn reserve(&self, key: &str, interval: Duration) -> Result<Duration, RedisError> {
        self.check_key(key)?;
        let micros = self.check_interval("RateBudget::reserve interval", interval)?;
        let wait = self.call(Op::Reserve, key, micros).await?;
        Ok(Duration::from_micros(u64::try_from(wait).unwrap_or(0)))
    }

    /// Spaces every later slot of `key`, by any process, at least `interval` apart, without
    /// taking a slot (e.g. a robots.txt `Crawl-delay` just learned: the other workers on the
    /// address slow down before their next request, not after it). A shorter interval never
    /// lowers a longer one; the raised interval lasts while the key is in use and ends a minute
    /// after its last slot. `interval` must be between 1 µs and 24 h.
    ///
    /// ```no_run
    /// # async fn demo(budget: sofleet_redis::RateBudget) -> Result<(), sofleet_redis::RedisError> {
    /// use std::time::Duration;
    /// budget.raise_interval("example.org|10.0.0.7", Duration::from_secs(1)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn raise_interval(&self, key: &str, interval: Duration) -> Result<(), RedisError> {
        self.check_key(key)?;
        let micros = self.check_interval("RateBudget::raise_interval interval", interval)?;
        self.call(Op::Raise, key, micros).await.map(drop)
    }

    /// Pauses `key` for at least `pause` from now (e.g. a 429's `Retry-After`, a captcha):
    /// every later [`reserve`](Self::reserve) of that key, by any process, waits until then.
    /// A shorter pause never shortens a longer one. `pause` must be at most 24 h.
    ///
    /// ```no_run
    /// # async fn demo(budget: sofleet_redis::RateBudget) -> Result<(), sofleet_redis::RedisError> {
    /// use std::time::Duration;
    /// budget.pause("example.org|10.0.0.7", Duration::from_secs(60)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn pause(&self, key: &str, pause: Duration) -> Result<(), RedisError> {
        self.check_key(key)?;
        if pause > MAX_SPAN {
            return Err(self.invalid(
                "RateBudget::pause pause",
                format!("{pause:?} is too long: use at most 24 h"),
            ));
        }
        let micros = pause.as_micros() as u64;
        self.call(Op::Pause, key, micros).await.map(drop)
    }

    /// `interval` in µs, if it is between 1 µs and 24 h.
    fn check_interval(&self, option: &'static str, interval: Duration) -> Result<u64, RedisError> {
        if interval < Duration::from_micros(1) || interval > MAX_SPAN {
            return Err(self.invalid(
                option,
                format!("{interval:?} is out of range: use 1 µs to 24 h"),
            ));
        }
        Ok(interval.as_micros() as u64)
    }

    fn check_key(&self, key: &str) -> Result<(), RedisError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(self.invalid(
                "RateBudget key",
                format!(
                    "a key of {} bytes: use 1 to {MAX_KEY_BYTES} bytes (e.g. \"host|source address\")",
                    key.len()
                ),
            ));
        }
        Ok(())
    }

    fn invalid(&self, option: &'static str, message: String) -> RedisError {
        RedisError::InvalidOption {
            option,
            message: format!("{message} (rate budget on {})", self.inner.url),
        }
    }

    /// Runs `op` on the I/O thread, bounded in time.
    async fn call(&self, op: Op, key: &str, arg: u64) -> Result<i64, RedisError> {
        let inner = self.inner.clone();
        let redis_key = format!("{}{key}", inner.prefix);
        let task = self.inner.handle.spawn(async move {
            let bound = CONNECT_TIMEOUT + RESPONSE_TIMEOUT;
            match tokio::time::timeout(bound, inner.exec(op, &redis_key, arg)).await {
                Ok(r) => r,
                Err(_) => Err(inner.command_error(op, timeout_error(bound))),
            }
        });
        task.await.unwrap_or(Err(RedisError::Shutdown))
    }
}

fn timeout_error(after: Duration) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Io,
        "timed out",
        format!("no answer from Redis within {after:?}"),
    ))
}

impl Inner {
    fn command_error(&self, op: Op, source: redis::RedisError) -> RedisError {
        RedisError::Command {
            url: self.url.clone(),
            command: op.command(),
            source,
        }
    }

    async fn exec(&self, op: Op, key: &str, arg: u64) -> Result<i64, RedisError> {
        let mut conn = self.conn().await?;
        let mut invocation = op.script().key(key);
        invocation.arg(arg);
        let r = match tokio::time::timeout(RESPONSE_TIMEOUT, invocation.invoke_async(&mut conn))
            .await
        {
            Ok(r) => r,
            Err(_) => Err(timeout_error(RESPONSE_TIMEOUT)),
        };
        match r {
            Ok(wait) => Ok(wait),
            Err(e) => {
                if needs_reconnect(&e) {
                    // The next call reconnects (at worst once more than needed when another
                    // call already did).
                    self.state.lock().await.conn = None;
                }
                Err(self.command_error(op, e))
            }
        }
    }

    /// The shared connection, connecting first if there is none (or failing at once after a
    /// recent failed attempt).
    async fn conn(&self) -> Result<MultiplexedConnection, RedisError> {
        let mut st = self.state.lock().await;
        if let Some(c) = &st.conn {
            return Ok(c.clone());
        }
        if let Some((until, waited, e)) = &st.down
            && Instant::now() < *until
        {
            return Err(RedisError::Connect {
                url: self.url.clone(),
                waited: *waited,
                source: e.clone(),
            });
        }
        let start = Instant::now();
        let attempt = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client
                .get_multiplexed_async_connection_with_config(&self.config),
        )
        .await
        .unwrap_or_else(|_| Err(timeout_error(CONNECT_TIMEOUT)));
        match attempt {
            Ok(c) => {
                st.down = None;
                st.conn = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                let waited = start.elapsed();
                st.down = Some((Instant::now() + RETRY_CONNECT_AFTER, waited, e.clone()));
                Err(RedisError::Connect {
                    url: self.url.clone(),
                    waited,
                    source: e,
                })
            }
        }
    }
}
