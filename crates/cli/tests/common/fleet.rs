//! A fleet on loopback: a real `redis-server`, real `sofleet worker` processes, and the mock
//! site limiting each source address behind the proxy that tells it each request's address.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sofleet_mock_so::{MockSite, MockSiteConfig, PeerTaggingProxy, RateLimit};
use sofleet_redis::testing::RedisServer;

use super::sofleet;

/// A `redis-server` of the test's own.
pub fn redis() -> RedisServer {
    RedisServer::start().expect("redis-server must be installed")
}

/// `sofleet worker --redis REDIS` for the loopback mock site (allowed, up to 1000/s; the
/// tests' crawls ask for at most 200/s), 4 jobs at a time, then `extra`; its output
/// discarded.
pub fn worker_command(redis: &str, extra: &[&str]) -> Command {
    let mut cmd = sofleet();
    cmd.args(["worker", "--redis", redis, "--concurrency", "4"])
        .args(["--allow-host", "127.0.0.1", "--max-rate", "1000/s"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// A worker process, killed (SIGKILL) when dropped.
pub struct Worker(pub Child);

impl Worker {
    /// [`worker_command`] started.
    pub fn start(redis: &str, extra: &[&str]) -> Worker {
        Worker::spawn(&mut worker_command(redis, extra))
    }

    /// Any worker command started.
    pub fn spawn(cmd: &mut Command) -> Worker {
        Worker(cmd.spawn().expect("start sofleet worker"))
    }

    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The mock site limiting each source address to `per_second` requests a second (429 +
/// `Retry-After: retry_after` past it; `crawl_delay` in its robots.txt), recording its
/// requests, behind the proxy that tells it each request's source address (crawl the
/// proxy's URL).
pub async fn limited_site(
    per_second: u32,
    retry_after: Duration,
    crawl_delay: Option<&str>,
) -> (MockSite, PeerTaggingProxy) {
    let site = MockSite::start(MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: per_second,
            retry_after,
        }),
        crawl_delay: crawl_delay.map(str::to_owned),
        record_requests: true,
        ..MockSiteConfig::default()
    })
    .await;
    let proxy = PeerTaggingProxy::start("127.0.0.1:0".parse().unwrap(), site.addr())
        .await
        .unwrap();
    (site, proxy)
}
