//! The everyday tools of a crawler user, against the real mock site and the real binary:
//! per-request log lines, the summary as JSON, fetching one URL, saved pages into a report,
//! and the error messages (as snapshots: a change to their text is a visible diff).

mod common;

use std::path::Path;
use std::process::Command;

use common::{free_port, last_line, number_after, run, sofleet, stable, stderr, stdout};
use sofleet_mock_so::{MockSite, MockSiteConfig};

async fn site() -> MockSite {
    MockSite::start(MockSiteConfig {
        record_requests: true,
        ..MockSiteConfig::default()
    })
    .await
}

/// `sofleet crawl` of the `tag`'s listing `pages` of the site at `base_url` into `out`, at
/// 50 requests/s.
fn crawl_pages(base_url: &str, tag: &str, pages: &str, out: &Path) -> Command {
    let mut cmd = sofleet();
    cmd.args([
        "crawl",
        "-t",
        tag,
        "-p",
        pages,
        "--rate",
        "50/s",
        "--no-progress",
    ])
    .args(["--base-url", base_url])
    .arg("-o")
    .arg(out);
    cmd
}

/// The first `dask` listing page of `site` into `out`.
fn crawl(site: &MockSite, out: &Path) -> Command {
    crawl_pages(&site.base_url(), "dask", "1", out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_logs_one_line_per_request_without_colour_and_the_summary_as_json() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let mut cmd = crawl(&site, &dir.path().join("posts.jsonl"));
    cmd.arg("-v").arg("--stats-json").arg(&stats);
    let output = run(cmd).await;
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    let request_lines = text
        .lines()
        .filter(|l| l.contains("sofleet_crawl::request") && l.contains(" GET "))
        .count();
    let requests = site.request_count().await;
    assert_eq!(request_lines, requests, "{text}");
    assert_eq!(number_after(&text, "requests") as usize, requests);
    // Piped: no colour codes; the HTML parser's own debug lines stay out.
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(!text.contains("html5ever"), "{text}");

    // --stats-json holds what the summary printed.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(json["command"], "crawl");
    assert!(text.contains("15 questions, 0 failures"), "{text}");
    assert_eq!(json["questions"], 15);
    assert_eq!(json["requests"]["requests"], requests as u64);
    assert_eq!(
        json["requests"]["cache_hits"],
        number_after(&text, "cache hits")
    );
    assert_eq!(
        json["requests"]["too_many_requests"],
        number_after(&text, "429")
    );
    assert_eq!(json["failures"], 0);
    assert!(json["pace"]["serial_seconds_at_rate"].as_f64().unwrap() > 0.0);
    assert!(json["workers"].as_array().is_some_and(|w| !w.is_empty()));

    // -vv adds scheduling events; --log-format json writes one object per line.
    let mut cmd = crawl(&site, &dir.path().join("again.jsonl"));
    cmd.args(["-vv", "--log-format", "json"]);
    let output = run(cmd).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let events: Vec<serde_json::Value> = stderr(&output)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("scheduled question task"))),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["target"] == "sofleet_crawl::request")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_one_url_politely_then_from_the_cache() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let question = format!(
        "/questions/{}",
        site.expected_listing("dask", "votes", 1, 15)[0]
    );
    let fetch = |path: &str| {
        let mut cmd = sofleet();
        cmd.args([
            "fetch",
            path,
            "--base-url",
            &site.base_url(),
            "--rate",
            "50/s",
        ])
        .arg("--cache-dir")
        .arg(&cache);
        cmd
    };
    let output = run(fetch(&question)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let record: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(record["kind"], "question");
    assert_eq!(record["record"]["id"].as_u64(), question[11..].parse().ok());
    assert!(
        stderr(&output).contains("(2 requests,"),
        "{}",
        stderr(&output)
    ); // robots.txt first
    let before = site.request_count().await;
    let output = run(fetch(&question)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("(cache hit,"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        site.request_count().await,
        before,
        "a cache hit made a request"
    );
    // --html prints the page itself.
    let mut html = fetch(&question);
    html.arg("--html");
    assert!(stdout(&run(html).await).contains("<html"));

    // The default User-Agent names sofleet and where to find it; --user-agent replaces it,
    // robots.txt included.
    assert!(
        site.requests().await.iter().all(|r| r
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("sofleet/") && ua.contains("https://"))),
        "{:?}",
        site.requests().await
    );
    site.reset().await;
    let uncached = || {
        let mut cmd = sofleet();
        cmd.args([
            "fetch",
            &question,
            "--base-url",
            &site.base_url(),
            "--rate",
            "50/s",
        ]);
        cmd
    };
    let mut custom = uncached();
    custom.args(["--user-agent", "research-bot/1.0 (+mailto:me@example.org)"]);
    assert!(run(custom).await.status.success());
    let agents: Vec<_> = site
        .requests()
        .await
        .into_iter()
        .map(|r| r.user_agent)
        .collect();
    assert_eq!(
        agents,
        vec![Some("research-bot/1.0 (+mailto:me@example.org)".to_owned()); 2],
        "robots.txt and the page"
    );
    // --max-body: a page over it is a too_large failure (exit 4).
    let mut small = uncached();
    small.args(["--max-body", "1KiB"]);
    let output = run(small).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("too_large"), "{}", stderr(&output));

    // robots.txt is obeyed: /search is disallowed, and never requested.
    let output = run(fetch("/search?q=dask")).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    insta::assert_snapshot!(
        "fetch_disallowed",
        stable(&stderr(&output), &site.base_url(), dir.path())
    );
    assert!(
        !site
            .requests()
            .await
            .iter()
            .any(|r| r.path.starts_with("/search")),
        "a disallowed page was requested"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_pages_become_a_report() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let mut pages = Vec::new();
    for (n, id) in site
        .expected_listing("dask", "votes", 1, 15)
        .into_iter()
        .take(4)
        .enumerate()
    {
        let mut html = sofleet();
        html.args([
            "fetch",
            &format!("/questions/{id}"),
            "--html",
            "--rate",
            "50/s",
        ])
        .args(["--base-url", &site.base_url()]);
        let output = run(html).await;
        assert!(output.status.success(), "{}", stderr(&output));
        let page = dir.path().join(format!("q{n}.html"));
        std::fs::write(&page, &output.stdout).unwrap();
        pages.push(page);
    }
    let records = dir.path().join("records.jsonl");
    let mut extract = sofleet();
    extract.args(["extract", "--records"]).args(&pages);
    let output = run(extract).await;
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::write(&records, &output.stdout).unwrap();

    let output = run({
        let mut report = sofleet();
        report.arg("report").arg(&records).args(["--by", "tag"]);
        report
    })
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("4 questions:"), "{text}");
    assert!(text.contains("\nby tag\n  dask: 4 questions"), "{text}");

    // Plain `extract` output is not records: report says so in CLI terms.
    let plain = dir.path().join("plain.jsonl");
    let mut extract = sofleet();
    extract.arg("extract").args(&pages);
    std::fs::write(&plain, run(extract).await.stdout).unwrap();
    let mut report = sofleet();
    report.arg("report").arg(&plain);
    let output = run(report).await;
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(
        "report_not_records",
        stable(&stderr(&output), &site.base_url(), dir.path())
    );
}

#[test]
fn community_wiki_can_be_left_out_of_the_rankings() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pages");
    let pages: Vec<_> = [
        "a-q-accepted.html",
        "a-q-community-wiki.html",
        "a-q-no-answers.html",
    ]
    .iter()
    .map(|p| fixtures.join(p))
    .collect();
    let output = sofleet()
        .args(["extract", "--records"])
        .args(&pages)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let records = dir.path().join("records.jsonl");
    std::fs::write(&records, &output.stdout).unwrap();
    let report = |extra: &[&str]| {
        let output = sofleet()
            .arg("report")
            .arg(&records)
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    let with = report(&[]);
    assert!(with.contains("community wiki"), "{with}");
    let without = report(&["--exclude-community-wiki"]);
    assert!(!without.contains("community wiki"), "{without}");
    assert!(without.starts_with("3 questions: 2 answered"), "{without}");
    // Both reports whole, as a user reads them.
    insta::assert_snapshot!("report_fixture_pages", stable(&with, "", dir.path()));
    insta::assert_snapshot!(
        "report_fixture_pages_without_community_wiki",
        stable(&without, "", dir.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_messages() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();

    // Nothing listens on the port: connection refused, exit 3, and nothing written.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let out = dir.path().join("posts.jsonl");
    let mut cmd = sofleet();
    cmd.args(["crawl", "-t", "dask", "--retries", "0", "--no-progress"])
        .args(["--base-url", &dead])
        .arg("-o")
        .arg(&out);
    let output = run(cmd).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let last = last_line(&output);
    insta::assert_snapshot!("unreachable_site", last.replace(&dead, "http://DEAD"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files written for a site that never answered"
    );

    // https to a server that speaks plain HTTP: a TLS failure, named as such, exit 3.
    let tls = site.base_url().replace("http://", "https://");
    let output = run({
        let mut cmd = sofleet();
        cmd.args([
            "fetch",
            "/questions/1",
            "--retries",
            "0",
            "--base-url",
            &tls,
        ]);
        cmd
    })
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let last = last_line(&output);
    insta::assert_snapshot!("tls_failure", last.replace(&tls, "https://SITE"));

    // A misspelt tag.
    let typo = crawl_pages(
        &site.base_url(),
        "dsak",
        "1",
        &dir.path().join("typo.jsonl"),
    );
    let output = run(typo).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let last = last_line(&output);
    insta::assert_snapshot!("tag_not_found", stable(&last, &site.base_url(), dir.path()));

    // More pages than the tag has.
    let far = crawl_pages(
        &site.base_url(),
        "dask",
        "900-901",
        &dir.path().join("far.jsonl"),
    );
    let output = run(far).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let last = last_line(&output);
    insta::assert_snapshot!(
        "page_not_found",
        stable(&last, &site.base_url(), dir.path())
    );

    // A missing file to extract.
    let output = sofleet()
        .arg("extract")
        .arg(dir.path().join("missing.html"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let last = last_line(&output);
    insta::assert_snapshot!("extract_missing_file", stable(&last, "", dir.path()));

    // The mock site on a port in use: the hint once, in CLI terms.
    let busy = site.base_url().rsplit(':').next().unwrap().to_owned();
    let output = sofleet()
        .args(["mock-site", "--port", &busy])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output).replace(&busy, "PORT");
    insta::assert_snapshot!("mock_site_port_in_use", text.trim_end());
}
