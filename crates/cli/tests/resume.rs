//! A crawl killed (SIGKILL) or stopped (SIGTERM) at seeded points resumes exactly: the real
//! `sofleet` binary against the mock site, real files, the mock's request log as the witness.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, question_ids, signal, sofleet, stable};
use polars::prelude::*;
use sofleet_analysis::{Format, read_frame, read_metadata};
use sofleet_mock_so::{Latency, MockSite, MockSiteConfig};

const TAGS: [&str; 2] = ["dask", "pandas"];

fn site_config() -> MockSiteConfig {
    MockSiteConfig {
        pages_per_tag: 3,
        latency: Latency::Fixed(Duration::from_millis(40)),
        // The tests read the site's request log as the witness.
        record_requests: true,
        ..MockSiteConfig::default()
    }
}

fn crawl_command(site: &MockSite, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = sofleet();
    cmd.args(["crawl", "--base-url", &site.base_url()])
        .args(["--tag", TAGS[0], "--tag", TAGS[1], "--pages", "1-3"])
        .args(["--rate", "500/s", "--concurrency", "2", "--no-progress"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a command to the end on a blocking thread (the mock site keeps serving).
async fn finish(child: Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

/// A small deterministic generator for the kill points.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Question ids and listing URLs the journal holds (what a resumed run must not fetch).
fn journalled(journal: &Path) -> (HashSet<u64>, HashSet<String>) {
    let lines = |name: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(journal.join(name))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let ids = lines("questions.jsonl")
        .iter()
        .map(|v| v["question"]["id"].as_u64().unwrap())
        .collect();
    let listings = lines("listings.jsonl")
        .iter()
        .map(|v| v["url"].as_str().unwrap().to_owned())
        .collect();
    (ids, listings)
}

/// `/questions/123/slug` → 123.
fn question_id(path: &str) -> Option<u64> {
    let rest = path.strip_prefix("/questions/")?;
    rest.split('/').next()?.parse().ok()
}

/// The dataset's rows as comparable text, sorted by id, without the per-run columns
/// (fetch time, and which listing showed a question first, which depends on timing).
fn rows(out: &Path) -> Vec<String> {
    let frame = read_frame(out, Format::Parquet).unwrap();
    let frame = frame
        .drop_many(["fetched_at", "listing_url", "listing_tag", "listing_page"])
        .sort(["question_id"], SortMultipleOptions::default())
        .unwrap();
    (0..frame.height())
        .map(|i| format!("{:?}", frame.get_row(i).unwrap().0))
        .collect()
}

/// The output's question ids, sorted.
fn ids(out: &Path) -> Vec<u64> {
    let mut ids = question_ids(&read_frame(out, Format::Parquet).unwrap());
    ids.sort_unstable();
    ids
}

/// What the crawl of [`crawl_command`] must write.
fn expected_ids(site: &MockSite) -> Vec<u64> {
    common::expected_ids(site, &TAGS, 1..=3)
}

/// Asserts the requests after `from` in the log fetched nothing the journal already had.
async fn assert_fetched_only_missing(
    site: &MockSite,
    from: usize,
    had: &(HashSet<u64>, HashSet<String>),
) {
    let requests = site.requests().await;
    for r in &requests[from..] {
        if let Some(id) = question_id(&r.path) {
            assert!(
                !had.0.contains(&id),
                "question {id} was fetched again although the journal had it"
            );
        }
        assert!(
            !had.1.iter().any(|url| url.ends_with(&r.path)),
            "listing {} was fetched again although the journal had it",
            r.path
        );
    }
}

async fn reference_rows(site: &MockSite) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reference.parquet");
    let output = finish(crawl_command(site, &out, &[]).spawn().unwrap()).await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    rows(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_seeded_points_then_rerun_gives_the_uninterrupted_dataset() {
    let site = MockSite::start(site_config()).await;
    let want = reference_rows(&site).await;
    assert_eq!(want.len(), expected_ids(&site).len());

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let journal = dir.path().join("posts.parquet.journal");
    let mut rng = XorShift(0x5EED_2026);
    let mut kills = 0;
    let mut had = (HashSet::new(), HashSet::new());
    for round in 0..4 {
        let from = site.requests().await.len();
        let child = crawl_command(&site, &out, &[]).spawn().unwrap();
        let delay = Duration::from_millis(200 + rng.below(700));
        tokio::time::sleep(delay).await;
        let mut child = child;
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            signal(&child, "KILL");
            kills += 1;
        }
        let _ = finish(child).await;
        assert_fetched_only_missing(&site, from, &had).await;
        had = journalled(&journal);
        eprintln!(
            "round {round}: killed after {delay:?}; journal holds {} questions, {} listings",
            had.0.len(),
            had.1.len()
        );
    }
    assert!(kills >= 2, "the kills came too late to test anything");
    assert!(!had.0.is_empty(), "nothing was journalled before the kills");

    // The same command once more, to the end.
    let from = site.requests().await.len();
    let output = finish(crawl_command(&site, &out, &[]).spawn().unwrap()).await;
    let stderr = common::stderr(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("resuming the unfinished crawl"), "{stderr}");
    assert_fetched_only_missing(&site, from, &had).await;
    assert!(!journal.exists(), "a finished crawl removes its journal");
    let got = ids(&out);
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(got.len(), unique.len(), "a question appears twice");
    assert_eq!(got, expected_ids(&site));
    assert_eq!(rows(&out), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sighup_stop_gracefully_with_exit_4_and_the_rerun_completes() {
    let site = MockSite::start(site_config()).await;
    let want = reference_rows(&site).await;
    for name in ["TERM", "HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("posts.parquet");
        let journal = dir.path().join("posts.parquet.journal");
        let child = crawl_command(&site, &out, &[]).spawn().unwrap();
        // Wait until some records are in the journal, then ask to stop.
        let started = Instant::now();
        while journalled(&journal).0.len() < 5 {
            assert!(started.elapsed() < Duration::from_secs(30), "no progress");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        signal(&child, name);
        let output = finish(child).await;
        let stderr = common::stderr(&output);
        assert_eq!(output.status.code(), Some(4), "SIG{name}: {stderr}");
        assert!(
            stderr.contains("to resume, run the same command again"),
            "{stderr}"
        );
        assert!(stderr.contains("were not fetched"), "{stderr}");
        // The partial dataset is a readable file with its parameters; nothing unfetched is
        // called a failure.
        let partial = ids(&out);
        assert!(
            !partial.is_empty() && partial.len() < want.len(),
            "{}",
            partial.len()
        );
        let meta = read_metadata(&out).unwrap();
        assert!(
            meta.contains(&("sofleet.status".to_owned(), "stopped".to_owned())),
            "{meta:?}"
        );
        let failures_file = dir.path().join("posts.failures.parquet");
        let failures = read_frame(&failures_file, Format::Parquet).unwrap();
        assert_eq!(failures.height(), 0, "{failures}");
        assert!(journal.exists(), "a stopped crawl keeps its journal");

        let had = journalled(&journal);
        let from = site.requests().await.len();
        let output = finish(crawl_command(&site, &out, &[]).spawn().unwrap()).await;
        assert!(output.status.success(), "{}", common::stderr(&output));
        assert_fetched_only_missing(&site, from, &had).await;
        assert_eq!(rows(&out), want);
        let meta = read_metadata(&out).unwrap();
        assert!(
            meta.contains(&("sofleet.status".to_owned(), "complete".to_owned())),
            "{meta:?}"
        );
    }
}

/// An earlier run's output of `n` questions the site does not have (ids past the site's), big
/// enough that writing the merged output takes a while.
fn write_earlier_output(site: &MockSite, out: &Path, n: u64) -> Vec<u64> {
    let content = site.content();
    let template = content
        .expected_question(content.question_ids()[0])
        .expect("the site has its first question");
    let dataset = sofleet_store::Dataset::new(out).unwrap();
    let mut journal = dataset.open_journal(0).unwrap();
    let ids: Vec<u64> = (0..n).map(|i| 900_000_000 + i).collect();
    for &id in &ids {
        let mut question = template.clone();
        question.id = id;
        journal
            .append_question(&sofleet_records::CrawledQuestion {
                question,
                source_url: format!("{}/questions/{id}/earlier", site.base_url()),
                listing_url: None,
                listing_tag: None,
                listing_page: None,
                fetched_at_ms: 1_700_000_000_000,
            })
            .unwrap();
    }
    dataset.finalise(&[]).unwrap();
    journal.remove().unwrap();
    ids
}

/// The child's stderr, line by line, read on a thread.
fn stderr_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_at_once_and_the_state_still_resumes() {
    let site = MockSite::start(site_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let journal = dir.path().join("posts.parquet.journal");
    // The graceful stop merges this into the new output: the second signal lands meanwhile.
    let earlier = write_earlier_output(&site, &out, 20_000);
    let mut child = crawl_command(&site, &out, &[]).spawn().unwrap();
    let lines = stderr_lines(&mut child);
    let started = Instant::now();
    while journalled(&journal).0.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&child, "INT");
    // The second signal only once the first was taken (two at once may arrive as one).
    let mut stderr = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the first signal is acknowledged");
        let acknowledged = line.contains("stopping (SIGINT)");
        stderr.push(line);
        if acknowledged {
            break;
        }
    }
    signal(&child, "INT");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    stderr.extend(lines.iter());
    let stderr = stderr.join("\n");
    assert_eq!(status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("stopped at once"), "{stderr}");
    // Stopped in the middle of writing: the output is the earlier one, whole and readable.
    assert_eq!(ids(&out), earlier);

    let output = finish(crawl_command(&site, &out, &[]).spawn().unwrap()).await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    let mut expected = earlier;
    expected.extend(expected_ids(&site));
    expected.sort_unstable();
    assert_eq!(ids(&out), expected);
    assert!(!journal.exists(), "a finished crawl removes its journal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_naming_a_directory_is_refused_before_any_request() {
    let site = MockSite::start(site_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let output = finish(crawl_command(&site, dir.path(), &[]).spawn().unwrap()).await;
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
    insta::assert_snapshot!(
        "out_is_a_directory",
        stable(&stderr, &site.base_url(), dir.path())
    );
    assert_eq!(site.request_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_adds_nothing_twice_and_refresh_after_replaces_rows() {
    let site = MockSite::start(MockSiteConfig {
        latency: Latency::None,
        ..site_config()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let output = finish(crawl_command(&site, &out, &[]).spawn().unwrap()).await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    let first = read_frame(&out, Format::Parquet).unwrap();
    let want = expected_ids(&site);
    assert_eq!(ids(&out), want);

    // Again: the listings are read, no question is fetched, nothing is duplicated.
    let from = site.requests().await.len();
    let output = finish(crawl_command(&site, &out, &[]).spawn().unwrap()).await;
    let stderr = common::stderr(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("already has {} questions", want.len())),
        "{stderr}"
    );
    let requests = site.requests().await;
    assert!(
        requests[from..]
            .iter()
            .all(|r| question_id(&r.path).is_none()),
        "a question was fetched again"
    );
    assert_eq!(ids(&out), want);

    // With --refresh-after 0s every question is due: fetched again, rows replaced, once each.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let from = site.requests().await.len();
    let output = finish(
        crawl_command(&site, &out, &["--refresh-after", "0s"])
            .spawn()
            .unwrap(),
    )
    .await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    let refetched: BTreeSet<u64> = site.requests().await[from..]
        .iter()
        .filter_map(|r| question_id(&r.path))
        .collect();
    assert_eq!(refetched.into_iter().collect::<Vec<_>>(), want);
    assert_eq!(ids(&out), want);
    let second = read_frame(&out, Format::Parquet).unwrap();
    let newest = |df: &DataFrame| {
        df.column("fetched_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .min()
            .unwrap()
    };
    assert!(newest(&second) > newest(&first), "rows were not replaced");
}

/// Starts the site on its configured port, waiting for a previous server to let go of it.
async fn start_on_port(config: MockSiteConfig) -> MockSite {
    for _ in 0..100 {
        if let Ok(site) = MockSite::try_start(config.clone()).await {
            return site;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("port {:?} stayed busy", config.port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_are_refetched_after_the_cache_ttl_and_new_questions_added() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let cache: PathBuf = dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap().to_owned();
    let config = |seed| MockSiteConfig {
        seed,
        port: Some(port),
        latency: Latency::None,
        ..site_config()
    };
    let args = ["--cache-dir", cache_arg.as_str()];

    let first_site = start_on_port(config(1)).await;
    let output = finish(crawl_command(&first_site, &out, &args).spawn().unwrap()).await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    let first_ids = expected_ids(&first_site);
    assert_eq!(ids(&out), first_ids);
    drop(first_site);

    // The site changed (another seed, same address). Within the listing TTL the cached
    // listings are used: nothing new, no request for a listing.
    let second_site = start_on_port(config(2)).await;
    let second_ids = expected_ids(&second_site);
    assert_ne!(first_ids, second_ids, "the seeds must give other listings");
    let output = finish(crawl_command(&second_site, &out, &args).spawn().unwrap()).await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert!(
        second_site
            .requests()
            .await
            .iter()
            .all(|r| !r.path.starts_with("/questions/tagged")),
        "a listing was fetched although its cache entry was fresh"
    );
    assert_eq!(ids(&out), first_ids);

    // Past the TTL (0s: always stale) the listings are fetched again and the new questions
    // are added to the existing ones.
    let mut ttl_args = args.to_vec();
    ttl_args.extend(["--cache-ttl", "0s"]);
    let output = finish(
        crawl_command(&second_site, &out, &ttl_args)
            .spawn()
            .unwrap(),
    )
    .await;
    assert!(output.status.success(), "{}", common::stderr(&output));
    let union: BTreeSet<u64> = first_ids.iter().chain(&second_ids).copied().collect();
    assert_eq!(ids(&out), union.into_iter().collect::<Vec<_>>());
}
