//! A fleet polite as a whole: a real `redis-server`, real `sofleet worker` processes and the
//! mock site (which answers 429 past its per-address limit), all on loopback. The assertions
//! read the site's request log; wall times are printed for the closing figures, never
//! asserted.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fleet::{Worker, limited_site, redis, worker_command};
use common::{number_after, redact, run, signal, sofleet, stderr, stdout};
use sofleet_analysis::{Format, read_frame};
use sofleet_mock_so::{MockSite, MockSiteConfig, RecordedRequest};

fn crawl(base_url: &str, redis: &str, out: &Path, pages: &str, rate: &str) -> Command {
    let mut cmd = sofleet();
    cmd.args(["crawl", "--base-url", base_url, "--backend", redis])
        .args(["--tag", "dask", "--pages", pages, "--rate", rate])
        .args(["--concurrency", "4", "--no-progress"])
        .arg("--out")
        .arg(out);
    cmd
}

fn question_count(out: &Path) -> usize {
    read_frame(out, Format::JsonLines).unwrap().height()
}

fn too_many(requests: &[RecordedRequest]) -> usize {
    requests.iter().filter(|r| r.status == 429).count()
}

/// Requests per second the site saw from `client`, first to last arrival.
fn observed_rate(requests: &[RecordedRequest], client: &str) -> f64 {
    let times: Vec<Instant> = requests
        .iter()
        .filter(|r| r.client == client)
        .map(|r| r.at)
        .collect();
    let span = times
        .iter()
        .max()
        .zip(times.iter().min())
        .map_or(0.0, |(last, first)| (*last - *first).as_secs_f64());
    (times.len().saturating_sub(1)) as f64 / span.max(1e-9)
}

/// 1, 2, 3 and 4 workers on one address with `--rate 5/s` against a site allowing 5/s per
/// address: every question, no 429, and the site never sees more than the budget (the rate
/// observed is printed for the closing figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_on_one_address_share_one_rate_budget() {
    let (site, proxy) = limited_site(5, Duration::from_secs(1), None).await;
    let redis = redis();
    let dir = tempfile::tempdir().unwrap();
    for n in [1, 2, 3, 4] {
        site.reset().await;
        let workers: Vec<Worker> = (0..n).map(|_| Worker::start(&redis.url(), &[])).collect();
        let out = dir.path().join(format!("posts-{n}.jsonl"));
        let started = Instant::now();
        let output = run(crawl(&proxy.base_url(), &redis.url(), &out, "1-2", "5/s")).await;
        let wall = started.elapsed();
        drop(workers);
        let text = stderr(&output);
        assert!(output.status.success(), "{text}");
        assert_eq!(question_count(&out), 30, "{text}");
        let requests = site.requests().await;
        assert_eq!(
            too_many(&requests),
            0,
            "{n} workers on one address went past the site's 5/s: {text}"
        );
        let rate = observed_rate(&requests, "127.0.0.1");
        assert!(rate <= 5.0, "{n} workers: the site saw {rate:.2}/s");
        // The fleet's summary is the same as a local one, from the workers' own counters,
        // plus a line per worker.
        assert_eq!(
            number_after(&text, "requests") as usize,
            requests.len(),
            "{text}"
        );
        assert_eq!(number_after(&text, "429"), 0);
        assert!(text.contains("  worker "), "{text}");
        println!(
            "{n} worker(s), one address, --rate 5/s: {} requests in {:.2} s, the site saw \
             {rate:.2}/s ({:.0}% of the budget)",
            requests.len(),
            wall.as_secs_f64(),
            rate / 5.0 * 100.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_delay_is_the_whole_fleets_budget_when_it_is_stricter() {
    // The site allows 1 request/s per address and says so in robots.txt.
    let (site, proxy) = limited_site(1, Duration::from_secs(1), Some("1")).await;
    let redis = redis();
    let _workers: Vec<Worker> = (0..3).map(|_| Worker::start(&redis.url(), &[])).collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let output = run(crawl(&proxy.base_url(), &redis.url(), &out, "1", "5/s")).await;
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert_eq!(question_count(&out), 15, "{text}");
    let requests = site.requests().await;
    assert_eq!(too_many(&requests), 0, "{text}");
    // Robots.txt fetched by each worker included: a Crawl-delay learned by one worker spaces
    // the others' requests too.
    let rate = observed_rate(&requests, "127.0.0.1");
    assert!(rate <= 1.0, "the site saw {rate:.2}/s");
    println!("3 workers, Crawl-delay 1, --rate 5/s: the site saw {rate:.2}/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_addresses_get_two_budgets() {
    let (site, proxy) = limited_site(5, Duration::from_secs(1), None).await;
    let redis = redis();
    let dir = tempfile::tempdir().unwrap();

    let one = Worker::start(&redis.url(), &["--bind-ip", "127.0.0.2"]);
    let started = Instant::now();
    let out = dir.path().join("one.jsonl");
    let output = run(crawl(&proxy.base_url(), &redis.url(), &out, "1-2", "5/s")).await;
    let one_address = started.elapsed();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(too_many(&site.requests().await), 0);
    drop(one);

    site.reset().await;
    let _two = [
        Worker::start(&redis.url(), &["--bind-ip", "127.0.0.2"]),
        Worker::start(&redis.url(), &["--bind-ip", "127.0.0.3"]),
    ];
    let started = Instant::now();
    let out = dir.path().join("two.jsonl");
    let output = run(crawl(&proxy.base_url(), &redis.url(), &out, "1-2", "5/s")).await;
    let two_addresses = started.elapsed();
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert_eq!(question_count(&out), 30);
    let requests = site.requests().await;
    assert_eq!(too_many(&requests), 0, "{text}");
    for address in ["127.0.0.2", "127.0.0.3"] {
        assert!(
            requests.iter().filter(|r| r.client == address).count() >= 5,
            "{address} sent almost nothing: {text}"
        );
        assert!(text.contains(&format!("(from {address})")), "{text}");
    }
    println!(
        "--rate 5/s, 30 questions: one address {:.2} s, two addresses {:.2} s ({:.2}x)",
        one_address.as_secs_f64(),
        two_addresses.as_secs_f64(),
        two_addresses.as_secs_f64() / one_address.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_seen_by_one_worker_pauses_the_others() {
    // The crawl asks for 20/s, four times what the site allows: the first 429's Retry-After
    // (2 s) must hold back every worker on the address, not only the one that got it.
    let retry_after = Duration::from_secs(2);
    let (site, proxy) = limited_site(5, retry_after, None).await;
    let redis = redis();
    let _workers: Vec<Worker> = (0..3).map(|_| Worker::start(&redis.url(), &[])).collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let output = run(crawl(&proxy.base_url(), &redis.url(), &out, "1", "20/s")).await;
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert_eq!(question_count(&out), 15, "{text}");
    let requests = site.requests().await;
    let first = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("20/s against a 5/s site gets a 429");
    // Requests already given a slot before the pause (at most --concurrency 4, 50 ms apart)
    // may still arrive just after it; then nothing until the pause is over.
    let quiet = (
        first.at + Duration::from_millis(600),
        first.at + retry_after - Duration::from_millis(50),
    );
    let during: Vec<_> = requests
        .iter()
        .filter(|r| r.at > quiet.0 && r.at < quiet.1)
        .map(|r| (r.path.clone(), r.at - first.at))
        .collect();
    assert!(
        during.is_empty(),
        "requests during another worker's Retry-After: {during:?}"
    );
}

#[test]
fn with_no_live_worker_the_client_says_so_and_gives_up_after_worker_timeout() {
    let redis = redis();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crawl(
        "http://127.0.0.1:9",
        &redis.url(),
        &dir.path().join("p.jsonl"),
        "1",
        "5/s",
    );
    cmd.args(["--worker-timeout", "6s"]);
    let output = cmd.output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(
        text.contains(&format!(
            "no live sofleet worker is serving {} (waited 4 s)",
            redis.url()
        )),
        "{text}"
    );
    assert!(text.contains("sofleet worker --redis"), "{text}");
    assert!(text.contains("--worker-timeout"), "{text}");
    // The hint while waiting and the final error, whole (the progress and summary lines
    // between them carry timings).
    let hint = text
        .lines()
        .find(|l| l.starts_with("no live sofleet worker"))
        .unwrap_or_default();
    let last = text.lines().last().unwrap_or_default();
    insta::assert_snapshot!(
        "no_live_worker",
        redact(
            &format!("{hint}\n…\n{last}"),
            &[(&redis.url(), "redis://REDIS")]
        )
    );
}

#[test]
fn a_redis_password_never_appears_in_any_output() {
    let redis = redis();
    let port = redis.url().rsplit(':').next().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    for password in ["s3cr/et", "p@ss:w0rd", "pa%2Fss"] {
        let url = format!("redis://:{password}@127.0.0.1:{port}");
        let output = crawl(
            "http://127.0.0.1:9",
            &url,
            &dir.path().join("p.jsonl"),
            "1",
            "5/s",
        )
        .output()
        .unwrap();
        let text = format!("{}{}", stderr(&output), stdout(&output));
        assert_eq!(output.status.code(), Some(3), "{text}");
        assert!(!text.contains(password), "{password} printed:\n{text}");
        let worker = sofleet()
            .args(["worker", "--redis", &url])
            .output()
            .unwrap();
        let text = stderr(&worker);
        assert!(!worker.status.success());
        assert!(!text.contains(password), "{password} printed:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_worker_does_not_allow_becomes_failure_rows_naming_its_rule() {
    let site = MockSite::start(MockSiteConfig {
        record_requests: true,
        ..MockSiteConfig::default()
    })
    .await;
    let redis = redis();
    // A worker that only crawls stackoverflow.com (the default) and obeys robots.txt.
    let _strict = Worker::spawn(
        sofleet()
            .args(["worker", "--redis", &redis.url(), "--name", "strict-1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let output = run(crawl(&site.base_url(), &redis.url(), &out, "1", "50/s")).await;
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    let failures = read_frame(&dir.path().join("posts.failures.jsonl"), Format::JsonLines).unwrap();
    let kinds = failures.column("kind").unwrap().str().unwrap().clone();
    assert!(
        kinds.into_iter().all(|k| k == Some("worker_refused")),
        "{failures}"
    );
    let messages = failures.column("message").unwrap().str().unwrap().clone();
    let first = messages.get(0).unwrap_or_default().to_owned();
    assert!(
        first.contains("strict-1") && first.contains("only crawls stackoverflow.com"),
        "{first}"
    );
    assert_eq!(
        site.request_count().await,
        0,
        "a refused job reached the site"
    );

    // Skipping robots.txt is the worker's decision too.
    let out = dir.path().join("skip.jsonl");
    let mut skip = crawl(&site.base_url(), &redis.url(), &out, "1", "50/s");
    skip.arg("--ignore-robots");
    drop(_strict);
    let _loopback = Worker::start(&redis.url(), &["--name", "loopback-1"]);
    let output = run(skip).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let failures = read_frame(&dir.path().join("skip.failures.jsonl"), Format::JsonLines).unwrap();
    let messages = failures.column("message").unwrap().str().unwrap().clone();
    assert!(
        messages
            .into_iter()
            .all(|m| m.is_some_and(|m| m.contains("--ignore-robots"))),
        "{failures}"
    );
    // And where it writes: --cache-dir is refused on the client side before any job.
    let out = dir.path().join("cached.jsonl");
    let mut cache = crawl(&site.base_url(), &redis.url(), &out, "1", "50/s");
    cache.arg("--cache-dir").arg(dir.path());
    let output = run(cache).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("sofleet worker --cache-dir"));
    insta::assert_snapshot!(
        "cache_dir_on_a_fleet",
        redact(
            &stderr(&output),
            &[
                (&dir.path().display().to_string(), "TMP"),
                (&redis.url(), "redis://REDIS"),
                (&site.base_url(), "http://SITE"),
            ]
        )
    );
}

#[test]
fn a_stopped_worker_prints_a_readable_summary() {
    let redis = redis();
    let mut worker =
        Worker::spawn(worker_command(&redis.url(), &["--name", "tidy-1"]).stderr(Stdio::piped()));
    let mut lines = BufReader::new(worker.0.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("worker: connecting to"), "{first}");
    // Give it a moment to connect, then SIGTERM.
    std::thread::sleep(Duration::from_millis(800));
    signal(&worker.0, "TERM");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let text = rest.join("\n");
    // "connected" only once it is true, then the summary.
    assert!(
        text.contains(&format!("worker tidy-1: connected to {}", redis.url())),
        "{text}"
    );
    assert!(
        text.contains("worker tidy-1: 0 jobs done"),
        "no readable summary:\n{text}"
    );
    assert!(!text.contains("WorkerStats {"), "{text}");
}
