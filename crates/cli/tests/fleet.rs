//! The crawl on a fleet: a real `redis-server`, real `sofleet worker`
//! processes and the mock site, all on loopback.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sofleet_analysis::polars::prelude::{DataFrame, SortMultipleOptions};
use sofleet_analysis::{Format, read_frame};
use sofleet_mock_so::{Latency, MockSite, MockSiteConfig, PeerTaggingProxy, RateLimit};
use sofleet_redis::testing::RedisServer;

fn sofleet_bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("sofleet")
}

/// A worker process, killed (SIGKILL) when dropped.
struct Worker(Child);

impl Worker {
    fn start(redis: &str, extra: &[&str]) -> Worker {
        let child = Command::new(sofleet_bin())
            .args(["worker", "--redis", redis, "--concurrency", "4"])
            .args(["--visibility-timeout", "1s"])
            // The mock site is on loopback; the tests' crawls ask for up to 200/s.
            .args(["--allow-host", "127.0.0.1", "--max-rate", "1000/s"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sofleet worker");
        Worker(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

fn crawl_command(base_url: &str, backend: &str, out: &Path, tags: &[&str], pages: &str) -> Command {
    let mut cmd = Command::new(sofleet_bin());
    cmd.args(["crawl", "--base-url", base_url, "--backend", backend])
        .args(["--pages", pages, "--rate", "200/s", "--concurrency", "8"])
        .arg("--out")
        .arg(out)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for tag in tags {
        cmd.args(["--tag", tag]);
    }
    cmd
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn expected_ids(
    site: &MockSite,
    tags: &[&str],
    pages: std::ops::RangeInclusive<u32>,
) -> BTreeSet<u64> {
    tags.iter()
        .flat_map(|tag| {
            pages
                .clone()
                .flat_map(|page| site.expected_listing(tag, "votes", page, 15))
        })
        .collect()
}

/// The content columns of a records file, sorted by question id (provenance
/// columns — which listing a shared question was first seen on, fetch time —
/// depend on completion order and are left out).
fn content(path: &Path) -> DataFrame {
    let frame = read_frame(path, Format::JsonLines).unwrap();
    frame
        .select([
            "question_id",
            "title",
            "score",
            "tags",
            "answer_count",
            "has_accepted_answer",
            "top_answer_id",
            "top_answer_score",
            "top_answer_author",
            "first_answer_id",
            "first_answer_author",
        ])
        .unwrap()
        .sort(["question_id"], SortMultipleOptions::default())
        .unwrap()
}

fn ids(frame: &DataFrame) -> Vec<u64> {
    frame
        .column("question_id")
        .unwrap()
        .cast(&sofleet_analysis::polars::prelude::DataType::UInt64)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_on_three_workers_gives_the_same_records_as_tokio() {
    let site = MockSite::start(MockSiteConfig::default()).await;
    let redis = RedisServer::start().expect("redis-server must be installed");
    let _workers: Vec<Worker> = (0..3).map(|_| Worker::start(&redis.url(), &[])).collect();
    let dir = tempfile::tempdir().unwrap();
    let tags = ["dask", "pandas"];
    let remote_out = dir.path().join("remote.jsonl");
    let local_out = dir.path().join("local.jsonl");

    let output = run(crawl_command(
        &site.base_url(),
        &redis.url(),
        &remote_out,
        &tags,
        "1-2",
    ))
    .await;
    assert!(
        output.status.success(),
        "remote crawl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run(crawl_command(
        &site.base_url(),
        "tokio",
        &local_out,
        &tags,
        "1-2",
    ))
    .await;
    assert!(
        output.status.success(),
        "local crawl: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let remote = content(&remote_out);
    let local = content(&local_out);
    let expected: Vec<u64> = expected_ids(&site, &tags, 1..=2).into_iter().collect();
    assert_eq!(ids(&remote), expected, "each question exactly once");
    assert!(
        remote.equals_missing(&local),
        "remote:\n{remote}\nlocal:\n{local}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_a_worker_mid_crawl_loses_nothing() {
    let site = MockSite::start(MockSiteConfig {
        latency: Latency::Fixed(Duration::from_millis(40)),
        ..MockSiteConfig::default()
    })
    .await;
    let redis = RedisServer::start().expect("redis-server must be installed");
    let mut workers: Vec<Worker> = (0..3).map(|_| Worker::start(&redis.url(), &[])).collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let tags = ["dask", "pandas"];
    let mut crawl = crawl_command(&site.base_url(), &redis.url(), &out, &tags, "1-3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Kill a worker once question pages are being fetched.
    let started = Instant::now();
    while site.request_count().await < 25 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "crawl never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers[0].kill();

    let status = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = crawl.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = crawl.kill();
                panic!("crawl did not finish after a worker was killed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    assert!(status.success(), "crawl exit: {status}");
    let frame = content(&out);
    let expected: Vec<u64> = expected_ids(&site, &tags, 1..=3).into_iter().collect();
    assert_eq!(ids(&frame), expected, "every question exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_bound_to_two_addresses_spread_requests_over_both() {
    // The mock site limits each source address to 5 requests/s (429 + Retry-After past it);
    // the proxy in front of it tells it each request's real source address.
    let site = MockSite::start(MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 5,
            retry_after: Duration::from_secs(1),
        }),
        // The test reads the site's request log.
        record_requests: true,
        ..MockSiteConfig::default()
    })
    .await;
    let upstream = site
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = PeerTaggingProxy::start("127.0.0.1:0".parse().unwrap(), upstream)
        .await
        .unwrap();
    let redis = RedisServer::start().expect("redis-server must be installed");
    let dir = tempfile::tempdir().unwrap();
    let tags = ["dask"];
    let expected: Vec<u64> = expected_ids(&site, &tags, 1..=2).into_iter().collect();

    // Two workers, one per address.
    let two = [
        Worker::start(&redis.url(), &["--bind-ip", "127.0.0.2"]),
        Worker::start(&redis.url(), &["--bind-ip", "127.0.0.3"]),
    ];
    let out = dir.path().join("two.jsonl");
    let started = Instant::now();
    let output = run(crawl_command(
        &proxy.base_url(),
        &redis.url(),
        &out,
        &tags,
        "1-2",
    ))
    .await;
    let two_workers = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        ids(&content(&out)),
        expected,
        "nothing lost under the per-address limit"
    );
    let requests = site.requests().await;
    for address in ["127.0.0.2", "127.0.0.3"] {
        let from = requests.iter().filter(|r| r.client == address).count();
        assert!(
            from >= expected.len() / 4,
            "only {from} of {} requests came from {address}",
            requests.len()
        );
    }
    assert!(
        requests.iter().all(|r| r.client.starts_with("127.0.0.")),
        "every request is tagged with its source address"
    );
    drop(two);

    // The same crawl from one address, for the closing figures (not asserted: timing).
    site.reset().await;
    let _one = Worker::start(&redis.url(), &["--bind-ip", "127.0.0.2"]);
    let out = dir.path().join("one.jsonl");
    let started = Instant::now();
    let output = run(crawl_command(
        &proxy.base_url(),
        &redis.url(),
        &out,
        &tags,
        "1-2",
    ))
    .await;
    let one_worker = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(ids(&content(&out)), expected);
    println!(
        "per-address limit 5/s, {} questions: two addresses {:.2} s, one address {:.2} s",
        expected.len(),
        two_workers.as_secs_f64(),
        one_worker.as_secs_f64()
    );
}
