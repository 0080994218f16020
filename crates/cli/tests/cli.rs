//! End-to-end tests of the `sofleet` binary: real processes against the mock
//! site on 127.0.0.1, real files, checked for outputs, messages and exit codes.

mod common;

use std::path::Path;
use std::process::Output;

use common::{
    command_line, expected_ids, free_port, question_ids, run, sofleet, stable, stderr, stdout,
    temp_names,
};
use sofleet_mock_so::{MockSite, MockSiteConfig};

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
    let crawl_stderr = stderr(&output);
    assert!(output.status.success(), "crawl failed: {crawl_stderr}");
    assert!(out.exists());
    assert!(dir.path().join("posts.failures.parquet").exists());
    // Not a terminal: plain progress lines, no escape codes.
    assert!(
        crawl_stderr.contains("progress: listings"),
        "{crawl_stderr}"
    );
    assert!(
        !crawl_stderr.contains('\u{1b}'),
        "control codes in non-TTY output: {crawl_stderr:?}"
    );
    assert!(crawl_stderr.contains("one after another"), "{crawl_stderr}");

    // The file holds exactly the questions of those listing pages, each once.
    let expected = expected_ids(&site, &["dask", "pandas"], 1..=2);
    let frame = sofleet_analysis::read_frame(&out, sofleet_analysis::Format::Parquet).unwrap();
    assert_eq!(frame.height(), expected.len());

    let charts = dir.path().join("charts");
    let mut cmd = sofleet();
    cmd.arg("report")
        .arg(&out)
        .args(["--top", "5", "--charts"])
        .arg(&charts);
    let output = run(cmd).await;
    let report = stdout(&output);
    assert!(
        output.status.success(),
        "report failed: {}",
        stderr(&output)
    );
    assert!(
        report.contains("top answerers by total top-answer votes"),
        "{report}"
    );
    assert!(
        report.contains(&format!("{} questions", expected.len())),
        "{report}"
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
    assert!(!stderr(&output).contains("no glyph"), "{}", stderr(&output));

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
    assert!(output.status.success(), "{}", stderr(&output));
    let mut cmd = sofleet();
    cmd.arg("report")
        .arg(&out)
        .arg("--charts")
        .arg(dir.path().join("charts-bad-font"))
        .arg("--chart-font")
        .arg(&out);
    let output = run(cmd).await;
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("posts.parquet") && message.contains("--chart-font"),
        "{message}"
    );
    insta::assert_snapshot!("report_bad_chart_font", stable(&message, "", dir.path()));

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
    let warning = stderr(&output);
    assert!(output.status.success(), "{warning}");
    assert!(
        warning.contains("no glyph for \u{3400}\u{3401} (U+3400 U+3401)")
            && warning.contains("--chart-font"),
        "{warning}"
    );
    // The warning itself (the lines before it list the files written).
    let last = warning.lines().last().unwrap_or_default();
    insta::assert_snapshot!("report_no_glyph", last);
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
        let mut ids = question_ids(&frame);
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
    let titles = stdout(&output);
    assert!(
        output.status.success(),
        "titles failed: {}",
        stderr(&output)
    );
    assert_eq!(
        titles.lines().filter(|l| l.starts_with("page ")).count(),
        3,
        "{titles}"
    );
    assert!(titles.contains("serial"), "{titles}");
    assert!(titles.contains("parallel"), "{titles}");
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
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "question");
    assert_eq!(lines[0]["record"]["id"], 42);
    assert_eq!(lines[1]["kind"], "error");
    assert_eq!(lines[2]["kind"], "error");
    assert_eq!(lines[2]["error_kind"], "io");
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot read {}", missing.display()))
            && message.contains("1 of the other files could not be extracted"),
        "{message}"
    );
    insta::assert_snapshot!("extract_missing_file", stable(&message, "", dir.path()));
    // Without the missing file: a partial result (exit 4).
    let output = sofleet()
        .arg("extract")
        .args([&good, &junk])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("1 of 2 files"));
    insta::assert_snapshot!("extract_partial", stable(&stderr(&output), "", dir.path()));
}

#[test]
fn bad_arguments_are_usage_errors_naming_the_value() {
    let mut transcript = String::new();
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
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(needle), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        transcript.push_str(&format!("{}\n{message}\n", command_line(&args)));
    }
    // Each message whole, as a user reads it.
    insta::assert_snapshot!("usage_errors", transcript);
}

#[test]
fn unreachable_site_is_a_network_error() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let output = sofleet()
        .args(["crawl", "--tag", "dask", "--pages", "1", "--retries", "0"])
        .args(["--base-url", &dead])
        .arg("--out")
        .arg(dir.path().join("posts.parquet"))
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{message}");
    assert!(message.contains("could not reach"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    // The whole message: the `unreachable_site` snapshot of everyday.rs.
}

#[test]
fn unwritable_output_fails_before_crawling() {
    let output = sofleet()
        .args(["crawl", "--tag", "dask", "--base-url", "http://127.0.0.1:9"])
        .args(["--out", "/nonexistent-folder/posts.parquet"])
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("/nonexistent-folder/posts.parquet"),
        "{message}"
    );
    insta::assert_snapshot!("unwritable_output", temp_names(&message));
}

#[test]
fn corrupt_or_missing_parquet_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("posts.parquet");
    std::fs::write(&corrupt, b"PAR1 this is not really parquet").unwrap();
    let output = sofleet().arg("report").arg(&corrupt).output().unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("posts.parquet"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    insta::assert_snapshot!("report_corrupt_parquet", stable(&message, "", dir.path()));

    let output = sofleet()
        .arg("report")
        .arg(dir.path().join("nothing.parquet"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("does not exist"));
    insta::assert_snapshot!(
        "report_missing_file",
        stable(&stderr(&output), "", dir.path())
    );
}
