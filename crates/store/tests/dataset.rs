//! The dataset on real files: journal → output, merges with an existing output, bad journal
//! lines, an unreadable existing output, and every format.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use sofleet_analysis::{Format, read_frame, read_metadata};
use sofleet_mock_so::{MockSiteConfig, SiteContent};
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord, Stage};
use sofleet_store::{Dataset, Journal, StoreError};

fn site() -> SiteContent {
    SiteContent::generate(&MockSiteConfig::default()).unwrap()
}

fn record(site: &SiteContent, id: u64, fetched_at_ms: i64) -> CrawledQuestion {
    CrawledQuestion {
        question: site.expected_question(id).expect("the site has it"),
        source_url: format!("http://127.0.0.1:9{}", site.question_path(id)),
        listing_url: Some("http://127.0.0.1:9/questions/tagged/dask?page=1".into()),
        listing_tag: Some("dask".into()),
        listing_page: Some(1),
        fetched_at_ms,
    }
}

fn ids_and_times(path: &Path, format: Format) -> Vec<(u64, i64)> {
    let frame = read_frame(path, format).unwrap();
    let ids = frame.column("question_id").unwrap().u64().unwrap().clone();
    let at = frame
        .column("fetched_at")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    let mut rows: Vec<(u64, i64)> = ids
        .into_iter()
        .zip(at.i64().unwrap())
        .map(|(id, at)| (id.unwrap(), at.unwrap()))
        .collect();
    rows.sort_unstable();
    rows
}

/// The first row's text in `column` of `frame`.
fn first_text(frame: &DataFrame, column: &str) -> String {
    let values = frame.column(column).unwrap().str().unwrap();
    values.get(0).unwrap().to_owned()
}

/// A dataset writing `file_name` in a new temporary folder (kept alive by the first element),
/// and its journal.
fn fresh(file_name: &str) -> (tempfile::TempDir, Dataset, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(&dir.path().join(file_name)).unwrap();
    let journal = dataset.open_journal(0).unwrap();
    (dir, dataset, journal)
}

fn failure(url: &str, kind: FailureKind) -> FailureRecord {
    FailureRecord {
        url: url.into(),
        stage: Stage::Question,
        kind,
        http_status: Some(503),
        attempts: 3,
        message: "HTTP 503".into(),
    }
}

#[test]
fn journal_then_existing_output_merge_keeps_each_question_once_newest_wins() {
    let site = site();
    let ids = site.question_ids();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let dataset = Dataset::new(&out).unwrap();

    // First run: three questions (the second one journalled twice: the later line wins).
    let mut journal = dataset.open_journal(1_000).unwrap();
    for (id, at) in [(ids[0], 10), (ids[1], 11), (ids[1], 12), (ids[2], 13)] {
        journal.append_question(&record(&site, id, at)).unwrap();
    }
    let done = dataset
        .finalise(&[("sofleet.tags".into(), "[\"dask\"]".into())])
        .unwrap();
    assert_eq!((done.questions, done.kept, done.from_journal), (3, 0, 3));
    journal.remove().unwrap();
    assert!(!dataset.has_journal());
    assert_eq!(
        ids_and_times(&out, Format::Parquet),
        vec![(ids[0], 10), (ids[1], 12), (ids[2], 13)]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        read_metadata(&out).unwrap(),
        vec![("sofleet.tags".to_owned(), "[\"dask\"]".to_owned())]
    );

    // Second run into the same output: one refreshed, one new.
    let mut journal = dataset.open_journal(2_000).unwrap();
    assert!(!journal.resumed());
    journal.append_question(&record(&site, ids[0], 20)).unwrap();
    journal.append_question(&record(&site, ids[3], 21)).unwrap();
    let existing = dataset.existing_questions().unwrap();
    assert_eq!(existing.len(), 3);
    assert_eq!(existing[&ids[1]], 12);
    let done = dataset.finalise(&[]).unwrap();
    assert_eq!((done.questions, done.kept, done.from_journal), (4, 2, 2));
    let mut want = vec![(ids[0], 20), (ids[1], 12), (ids[2], 13), (ids[3], 21)];
    want.sort_unstable();
    assert_eq!(ids_and_times(&out, Format::Parquet), want);
}

#[test]
fn failures_file_keeps_real_failures_once_and_drops_pages_that_later_succeeded() {
    let site = site();
    let ids = site.question_ids();
    let (_dir, dataset, mut journal) = fresh("posts.jsonl");
    let ok = record(&site, ids[0], 5);
    journal
        .append_failure(&failure(&ok.source_url, FailureKind::ServerError))
        .unwrap();
    journal.append_question(&ok).unwrap();
    journal
        .append_failure(&failure(
            "http://127.0.0.1:9/questions/1/x",
            FailureKind::Timeout,
        ))
        .unwrap();
    journal
        .append_failure(&failure(
            "http://127.0.0.1:9/questions/1/x",
            FailureKind::ServerError,
        ))
        .unwrap();
    let done = dataset.finalise(&[]).unwrap();
    assert_eq!(done.failures, 1);
    let failures = read_frame(dataset.failures_path(), Format::JsonLines).unwrap();
    assert_eq!(failures.height(), 1);
    let kind = failures.column("kind").unwrap().str().unwrap().get(0);
    assert_eq!(kind, Some("server_error"));
}

#[test]
fn an_unreadable_journal_line_becomes_a_failure_row_and_the_rest_is_written() {
    let site = site();
    let ids = site.question_ids();
    let (_dir, dataset, mut journal) = fresh("posts.csv");
    journal.append_question(&record(&site, ids[0], 1)).unwrap();
    // A complete line that is not a record (a bit flip, a newer format, a hostile edit).
    let path = dataset.journal_dir().join("questions.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"{\"question\": {\"id\": \"not a number\"}}\n")
        .unwrap();
    drop(f);
    journal.append_question(&record(&site, ids[1], 2)).unwrap();

    let done = dataset.finalise(&[]).unwrap();
    assert_eq!(done.questions, 2);
    assert_eq!(done.failures, 1);
    let failures = read_frame(dataset.failures_path(), Format::Csv).unwrap();
    let message = first_text(&failures, "message");
    assert!(message.contains("journal line 2"), "{message}");
    let url = first_text(&failures, "url");
    assert!(url.contains("questions.jsonl"), "{url}");
}

#[test]
fn an_unreadable_existing_output_is_an_error_and_is_left_alone() {
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    std::fs::write(&out, b"this is not parquet").unwrap();
    let dataset = Dataset::new(&out).unwrap();
    let err = dataset.existing_questions().unwrap_err();
    assert!(matches!(err, StoreError::ReadExisting { .. }), "{err}");
    assert!(err.to_string().contains("posts.parquet"), "{err}");
    let mut journal = dataset.open_journal(0).unwrap();
    journal
        .append_question(&record(&site, site.question_ids()[0], 1))
        .unwrap();
    assert!(dataset.finalise(&[]).is_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"this is not parquet");
    assert!(dataset.has_journal(), "the journal is kept for another try");
}

#[test]
fn bad_output_paths_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let err = Dataset::new(dir.path()).unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
    let err = Dataset::new(&dir.path().join("posts.txt")).unwrap_err();
    assert!(
        err.to_string().contains(".parquet, .csv or .jsonl"),
        "{err}"
    );
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Dataset::new(&file.join("posts.parquet")).unwrap_err();
    assert!(matches!(err, StoreError::BadOutput { .. }), "{err}");
    // A missing folder is not created: a typo in --out must not make a directory tree.
    let missing = dir.path().join("no-such-folder").join("posts.parquet");
    let err = Dataset::new(&missing).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains("no-such-folder"), "{err}");
    assert!(!dir.path().join("no-such-folder").exists());
}

#[test]
fn every_format_round_trips_a_large_journal_in_batches() {
    let site = site();
    let ids = site.question_ids();
    for format in Format::ALL {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("posts.{}", format.extension()));
        let dataset = Dataset::new(&out).unwrap();
        let mut journal = dataset.open_journal(0).unwrap();
        // More than one write batch (1,000 records), each id once.
        let n = ids.len().min(2_500);
        for (i, id) in ids.iter().take(n).enumerate() {
            journal
                .append_question(&record(&site, *id, i64::try_from(i).unwrap()))
                .unwrap();
        }
        let done = dataset.finalise(&[]).unwrap();
        assert_eq!(done.questions, n, "{format}");
        let rows = ids_and_times(&out, format);
        assert_eq!(rows.len(), n, "{format}");
    }
}
