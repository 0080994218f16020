//! The `sofleet` binary against hostile flags and a hostile mock site: values that used to
//! panic or wait silently are refused with a message, or end the host's pages with failure rows
//! that say why. Tests about a hang wait far longer than needed and print what they measured.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{command_line, stderr};
use sofleet_mock_so::{MockSite, MockSiteConfig};

/// Far above any expected time: only a hang reaches it.
const HANG: Duration = Duration::from_secs(120);

/// [`common::sofleet`], killed past [`HANG`].
fn sofleet() -> Command {
    let mut cmd = Command::from_std(common::sofleet());
    cmd.timeout(HANG);
    cmd
}

/// Runs the command on a blocking thread so the mock site keeps serving, printing its time.
async fn run(what: &str, mut cmd: Command) -> Output {
    let start = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    eprintln!("{what}: {:?}", start.elapsed());
    out
}

/// `sofleet crawl` of the `dask` listing `pages` of `site` into `out`, at 100 requests/s.
fn crawl(site: &MockSite, pages: &str, out: &Path) -> Command {
    let mut cmd = sofleet();
    cmd.args(["crawl", "--tag", "dask", "--pages", pages, "--no-progress"])
        .args(["--base-url", &site.base_url(), "--rate", "100/s"])
        .arg("--out")
        .arg(out);
    cmd
}

/// The question ids of the default `dask` site's first listing page (15 per page).
async fn first_listing() -> Vec<u64> {
    let probe = MockSite::start(MockSiteConfig {
        tags: vec!["dask".into()],
        ..MockSiteConfig::default()
    })
    .await;
    probe.expected_listing("dask", "votes", 1, 15)
}

/// The failure rows of a `.jsonl` output, as JSON values.
fn failures(out: &Path) -> Vec<serde_json::Value> {
    let path = out.with_file_name(format!(
        "{}.failures.jsonl",
        out.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hostile_flag_values_are_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    // Nothing listens there: a refused flag must not even try.
    let base = ["--base-url", "http://127.0.0.1:9"];
    let mut transcript = String::new();
    for (args, needle) in [
        (vec!["--rate", "1/600y"], "more than a day"),
        (vec!["--rate", "1/18446744073709551615s"], "more than a day"),
        (vec!["--rate", "1/100y"], "more than a day"),
        (
            vec!["--rate", "4294967295/1ns"],
            "1,000,000 requests per second",
        ),
        (vec!["--rate", "1/1h"], "--max-pause"),
        (vec!["--max-pause", "0s"], "1s..=24h"),
        (vec!["--max-pause", "30days"], "1s..=24h"),
        (
            vec!["--allow-redirect-host", "evil.example/x"],
            "--allow-redirect-host",
        ),
    ] {
        let output = sofleet()
            .args(["crawl", "--tag", "dask", "--no-progress"])
            .args(base)
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(needle), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        let typed = command_line(
            &[
                &["crawl", "--tag", "dask", "--no-progress"],
                &base[..],
                &args[..],
                &["--out", &out.display().to_string()],
            ]
            .concat(),
        );
        transcript.push_str(&format!("{typed}\n{message}\n"));
    }
    // Each refusal whole, as a user reads it.
    insta::assert_snapshot!(
        "refused_flag_values",
        common::stable(&transcript, "", dir.path())
    );
    let output = sofleet()
        .args(["titles", "--rate", "1/600y"])
        .args(base)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_delay_of_an_hour_ends_the_crawl_with_reasons_not_a_silent_wait() {
    let site = MockSite::start(MockSiteConfig {
        tags: vec!["dask".into()],
        robots_txt: Some("User-agent: *\nCrawl-delay: 3600\nAllow: /\n".into()),
        ..MockSiteConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let output = run("Crawl-delay: 3600", crawl(&site, "1-3", &out)).await;
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // One warning naming the host and the value.
    let host = site.addr().to_string();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("Crawl-delay: 3600"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains(&host), "{stderr}");
    // Every listing page is a failure row that says why.
    let rows = failures(&out);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        assert_eq!(row["kind"], "pause_too_long", "{row}");
        assert!(
            row["message"].as_str().unwrap().contains("--max-pause"),
            "{row}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_of_1e30_stops_the_host_and_the_rest_are_rows_saying_why() {
    let ids = first_listing().await;
    let (throttled, off_site) = (ids[3], ids[5]);
    let site = MockSite::start(MockSiteConfig {
        tags: vec!["dask".into()],
        always_429: vec![throttled],
        retry_after_header: Some("1e30".into()),
        redirects: vec![(off_site, "http://127.0.0.2:9/questions/1/elsewhere".into())],
        ..MockSiteConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let mut cmd = crawl(&site, "1", &out);
    cmd.args(["--concurrency", "1"]);
    let output = run("Retry-After: 1e30", cmd).await;
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let rows = failures(&out);
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    // The throttled page and every page after it stopped with the reason; none was fetched.
    assert!(kinds.contains(&"pause_too_long"), "{rows:?}");
    for row in rows.iter().filter(|r| r["kind"] == "pause_too_long") {
        let message = row["message"].as_str().unwrap();
        assert!(message.contains("1e30"), "{message}");
        assert!(message.contains("--max-pause"), "{message}");
    }
    let warnings = stderr.lines().filter(|l| l.contains("WARN")).count();
    assert_eq!(warnings, 1, "one warning for the stopped host: {stderr}");
    // The records written are each once, and the throttled question is not among them.
    let records = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(!records.contains(&format!("\"id\":{throttled},")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_off_site_redirect_is_a_failure_row_naming_the_target() {
    let ids = first_listing().await;
    let target = "http://127.0.0.2:9/questions/1/elsewhere";
    let site = MockSite::start(MockSiteConfig {
        tags: vec!["dask".into()],
        redirects: vec![(ids[0], target.into())],
        record_requests: true,
        ..MockSiteConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let output = run("off-site redirect", crawl(&site, "1", &out)).await;
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    let rows = failures(&out);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "off_site_redirect");
    assert!(
        rows[0]["message"].as_str().unwrap().contains(target),
        "{rows:?}"
    );
    let records = std::fs::read_to_string(&out).unwrap();
    assert_eq!(records.lines().count(), ids.len() - 1);
}
