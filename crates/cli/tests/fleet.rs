//! The crawl on a fleet: a real `redis-server`, real `sofleet worker`
//! processes and the mock site, all on loopback.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fleet::{Worker, limited_site, redis};
use common::{expected_ids, question_ids, run, sofleet, stderr, wait_or_kill};
use sofleet_analysis::polars::prelude::{DataFrame, SortMultipleOptions};
use sofleet_analysis::{Format, read_frame};
use sofleet_mock_so::{Latency, MockSite, MockSiteConfig};

/// A worker of these tests: a job of a killed worker is reclaimed after a second.
fn worker(redis: &str, extra: &[&str]) -> Worker {
    Worker::start(redis, &[&["--visibility-timeout", "1s"], extra].concat())
}

fn crawl_command(base_url: &str, backend: &str, out: &Path, tags: &[&str], pages: &str) -> Command {
    let mut cmd = sofleet();
    cmd.args(["crawl", "--base-url", base_url, "--backend", backend])
        .args(["--pages", pages, "--rate", "200/s", "--concurrency", "8"])
        .arg("--out")
        .arg(out);
    for tag in tags {
        cmd.args(["--tag", tag]);
    }
    cmd
}

/// Runs the crawl, asserts it succeeded, and returns how long it took.
async fn crawl_ok(what: &str, cmd: Command) -> Duration {
    let started = Instant::now();
    let output = run(cmd).await;
    let took = started.elapsed();
    assert!(output.status.success(), "{what}: {}", stderr(&output));
    took
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_on_three_workers_gives_the_same_records_as_tokio() {
    let site = MockSite::start(MockSiteConfig::default()).await;
    let redis = redis();
    let _workers: Vec<Worker> = (0..3).map(|_| worker(&redis.url(), &[])).collect();
    let dir = tempfile::tempdir().unwrap();
    let tags = ["dask", "pandas"];
    let remote_out = dir.path().join("remote.jsonl");
    let local_out = dir.path().join("local.jsonl");

    let remote_crawl = crawl_command(&site.base_url(), &redis.url(), &remote_out, &tags, "1-2");
    crawl_ok("remote crawl", remote_crawl).await;
    let local_crawl = crawl_command(&site.base_url(), "tokio", &local_out, &tags, "1-2");
    crawl_ok("local crawl", local_crawl).await;

    let remote = content(&remote_out);
    let local = content(&local_out);
    let expected = expected_ids(&site, &tags, 1..=2);
    assert_eq!(
        question_ids(&remote),
        expected,
        "each question exactly once"
    );
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
    let redis = redis();
    let mut workers: Vec<Worker> = (0..3).map(|_| worker(&redis.url(), &[])).collect();
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

    let status =
        tokio::task::spawn_blocking(move || wait_or_kill(&mut crawl, Duration::from_secs(120)))
            .await
            .unwrap()
            .expect("the crawl finishes after a worker was killed");
    assert!(status.success(), "crawl exit: {status}");
    let frame = content(&out);
    let expected = expected_ids(&site, &tags, 1..=3);
    assert_eq!(
        question_ids(&frame),
        expected,
        "every question exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_bound_to_two_addresses_spread_requests_over_both() {
    // The mock site limits each source address to 5 requests/s (429 + Retry-After past it);
    // the proxy in front of it tells it each request's real source address.
    let (site, proxy) = limited_site(5, Duration::from_secs(1), None).await;
    let redis = redis();
    let dir = tempfile::tempdir().unwrap();
    let tags = ["dask"];
    let expected = expected_ids(&site, &tags, 1..=2);

    // Two workers, one per address.
    let two = [
        worker(&redis.url(), &["--bind-ip", "127.0.0.2"]),
        worker(&redis.url(), &["--bind-ip", "127.0.0.3"]),
    ];
    let out = dir.path().join("two.jsonl");
    let crawl = crawl_command(&proxy.base_url(), &redis.url(), &out, &tags, "1-2");
    let two_workers = crawl_ok("two addresses", crawl).await;
    assert_eq!(
        question_ids(&content(&out)),
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
    let _one = worker(&redis.url(), &["--bind-ip", "127.0.0.2"]);
    let out = dir.path().join("one.jsonl");
    let crawl = crawl_command(&proxy.base_url(), &redis.url(), &out, &tags, "1-2");
    let one_worker = crawl_ok("one address", crawl).await;
    assert_eq!(question_ids(&content(&out)), expected);
    println!(
        "per-address limit 5/s, {} questions: two addresses {:.2} s, one address {:.2} s",
        expected.len(),
        two_workers.as_secs_f64(),
        one_worker.as_secs_f64()
    );
}
