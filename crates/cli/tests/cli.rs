//! End-to-end tests of the `sofleet` binary: real processes against the mock
//! site on 127.0.0.1, real files, checked for outputs, messages and exit codes.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use sofleet_mock_so::{MockSite, MockSiteConfig};

fn sofleet() -> Command {
    let mut cmd = Command::cargo_bin("sofleet").unwrap();
    cmd.env_remove("RUST_LOG");
    cmd
}

/// Runs the command on a blocking thread so the mock site keeps serving.
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn crawl_into(site: &MockSite, out: &Path, backend: &str) -> Output {
    let mut cmd = sofleet();
    cmd.args(["crawl", "--base-url", &site.base_url()])
        .args(["--tag", "dask", "--tag", "pandas", "--pages", "1-2"])
        .args([
            "--backend",
            backend,
            "--rate",
            "200/s",
            "--concurrency",
            "8",
        ])
        .arg("--out")
        .arg(out);
    run(cmd).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_then_report_writes_records_report_and_charts() {
    let site = MockSite::start(MockSiteConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let output = crawl_into(&site, &out, "tokio").await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "crawl failed: {stderr}");
    assert!(out.exists());
    assert!(dir.path().join("posts.failures.parquet").exists());
    // Not a terminal: plain progress lines, no escape codes.
    assert!(stderr.contains("progress: listings"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "control codes in non-TTY output: {stderr:?}"
    );
    assert!(stderr.contains("one after another"), "{stderr}");

    // The file holds exactly the questions of those listing pages, each once.
    let mut expected: Vec<u64> = ["dask", "pandas"]
        .iter()
        .flat_map(|tag| (1..=2).flat_map(|page| site.expected_listing(tag, "votes", page, 15)))
        .collect();
    expected.sort_unstable();
    expected.dedup();
    let frame = sofleet_analysis::read_frame(&out, sofleet_analysis::Format::Parquet).unwrap();
    assert_eq!(frame.height(), expected.len());

    let charts = dir.path().join("charts");
    let mut cmd = sofleet();
    cmd.arg("report")
        .arg(&out)
        .args(["--top", "5", "--charts"])
        .arg(&charts);
    let output = run(cmd).await;
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "report failed: {}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("top answerers by total top-answer votes"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{} questions", expected.len())),
        "{stdout}"
    );
    assert!(charts.join("report.md").exists());
    let pngs = std::fs::read_dir(&charts)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(pngs >= 3, "expected the three charts as PNG, found {pngs}");

    // The mock site's names (李雷, 田中 花子, عمر فاروق, דוד כהן, Zoë Ångström, …) are all
    // covered by the embedded chart fonts.
    assert!(
        !text(&output.stderr).contains("no glyph"),
        "{}",
        text(&output.stderr)
    );

    // Extra chart fonts: a real one is accepted, a non-font is exit 1 naming it.
    let test_font = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../analysis/tests/fonts/fallback-test.ttf");
    let mut cmd = sofleet();
    cmd.arg("report")
        .arg(&out)
        .arg("--charts")
        .arg(dir.path().join("charts-font"))
        .arg("--chart-font")
        .arg(&test_font);
    let output = run(cmd).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut cmd = sofleet();
    cmd.arg("report")
        .arg(&out)
        .arg("--charts")
        .arg(dir.path().join("charts-bad-font"))
        .arg("--chart-font")
        .arg(&out);
    let output = run(cmd).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("posts.parquet") && stderr.contains("--chart-font"),
        "{stderr}"
    );

    let mut cmd = sofleet();
    cmd.arg("report").arg(&out).args(["--format", "json"]);
    let output = run(cmd).await;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["questions"].as_u64().unwrap() as usize, expected.len());

    // A top author renamed to characters no embedded font has (CJK
    // extension A): the report warns, naming them and the fix.
    let top = json["authors_by_votes"][0]["author"].as_str().unwrap();
    let jsonl = dir.path().join("renamed.jsonl");
    sofleet_analysis::write_frame(
        &mut frame.clone(),
        &jsonl,
        sofleet_analysis::Format::JsonLines,
    )
    .unwrap();
    let renamed = std::fs::read_to_string(&jsonl)
        .unwrap()
        .replace(&serde_json::to_string(top).unwrap(), "\"\u{3400}\u{3401}\"");
    std::fs::write(&jsonl, renamed).unwrap();
    let mut cmd = sofleet();
    cmd.arg("report")
        .arg(&jsonl)
        .arg("--charts")
        .arg(dir.path().join("charts-renamed"));
    let output = run(cmd).await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("no glyph for \u{3400}\u{3401} (U+3400 U+3401)")
            && stderr.contains("--chart-font"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_backend_gives_the_same_records() {
    let site = MockSite::start(MockSiteConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let tokio_out = dir.path().join("tokio.jsonl");
    let threads_out = dir.path().join("threads.jsonl");
    assert!(
        crawl_into(&site, &tokio_out, "tokio")
            .await
            .status
            .success()
    );
    assert!(
        crawl_into(&site, &threads_out, "threads")
            .await
            .status
            .success()
    );
    let ids = |path: &Path| {
        let frame =
            sofleet_analysis::read_frame(path, sofleet_analysis::Format::JsonLines).unwrap();
        let mut ids: Vec<u64> = frame
            .column("question_id")
            .unwrap()
            .cast(&sofleet_analysis::polars::prelude::DataType::UInt64)
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids(&tokio_out), ids(&threads_out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_prints_every_page_title_serial_and_parallel() {
    let site = MockSite::start(MockSiteConfig::default()).await;
    let mut cmd = sofleet();
    cmd.args([
        "titles",
        "--pages",
        "1-3",
        "--rate",
        "100/s",
        "--base-url",
        &site.base_url(),
    ]);
    let output = run(cmd).await;
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "titles failed: {}",
        text(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("page ")).count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains("serial"), "{stdout}");
    assert!(stdout.contains("parallel"), "{stdout}");
}

#[test]
fn extract_prints_one_json_line_per_file_and_flags_unknown_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("q.html");
    std::fs::write(
        &good,
        r#"<html><head><title>Q - Stack Overflow</title></head><body>
<div id="question-header"><h1><a href="/questions/42/q" class="question-hyperlink">Q</a></h1></div>
<div id="question" class="question" data-questionid="42" data-score="3">
  <div class="s-prose js-post-body"><p>Why?</p></div>
  <a class="post-tag" href="/questions/tagged/rust">rust</a>
</div>
<div id="answers"></div></body></html>"#,
    )
    .unwrap();
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "just some notes, not a page").unwrap();
    let missing = dir.path().join("missing.html");

    let output = sofleet()
        .arg("extract")
        .args([&good, &junk, &missing])
        .output()
        .unwrap();
    // A file that cannot be read is an input error (exit 1), named; the others still print.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "question");
    assert_eq!(lines[0]["record"]["id"], 42);
    assert_eq!(lines[1]["kind"], "error");
    assert_eq!(lines[2]["kind"], "error");
    assert_eq!(lines[2]["error_kind"], "io");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot read {}", missing.display()))
            && stderr.contains("1 of the other files could not be extracted"),
        "{stderr}"
    );
    // Without the missing file: a partial result (exit 4).
    let output = sofleet()
        .arg("extract")
        .args([&good, &junk])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("1 of 2 files"));
}

#[test]
fn bad_arguments_are_usage_errors_naming_the_value() {
    for (args, needle) in [
        (
            vec!["crawl", "--tag", "two words"],
            "not a Stack Overflow tag",
        ),
        (
            vec!["crawl", "--tag", "dask", "--pages", "5-2"],
            "backwards",
        ),
        (
            vec!["crawl", "--tag", "dask", "--pages", "x"],
            "not a page number",
        ),
        (
            vec!["crawl", "--tag", "dask", "--rate", "fast"],
            "COUNT/PERIOD",
        ),
        (
            vec!["crawl", "--tag", "dask", "--backend", "gpu"],
            "not a backend",
        ),
        (
            vec!["crawl", "--tag", "dask", "--out", "posts.xlsx"],
            "xlsx",
        ),
    ] {
        let output = sofleet().args(&args).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn unreachable_site_is_a_network_error() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let output = sofleet()
        .args(["crawl", "--tag", "dask", "--pages", "1", "--retries", "0"])
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .arg("--out")
        .arg(dir.path().join("posts.parquet"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("could not reach"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unwritable_output_fails_before_crawling() {
    let output = sofleet()
        .args(["crawl", "--tag", "dask", "--base-url", "http://127.0.0.1:9"])
        .args(["--out", "/nonexistent-folder/posts.parquet"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/nonexistent-folder/posts.parquet"),
        "{stderr}"
    );
}

#[test]
fn corrupt_or_missing_parquet_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("posts.parquet");
    std::fs::write(&corrupt, b"PAR1 this is not really parquet").unwrap();
    let output = sofleet().arg("report").arg(&corrupt).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("posts.parquet"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let output = sofleet()
        .arg("report")
        .arg(dir.path().join("nothing.parquet"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("does not exist"));
}
