//! The crawl parameters at the top of report.md.

use sofleet_analysis::{
    ChartOptions, PartialAggregate, crawl_parameters, markdown_report, write_report_with,
};

use crate::common::lesson_records;

fn metadata(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Every known key, shuffled, plus unknown `sofleet.*` keys and foreign keys.
fn crawl_metadata() -> Vec<(String, String)> {
    metadata(&[
        ("sofleet.zzz", "z"),
        ("sofleet.not_fetched", "0"),
        ("sofleet.failures", "1"),
        ("sofleet.questions", "42"),
        ("pandas", "{\"ignored\": true}"),
        ("sofleet.finished", "2025-01-02T03:14:05Z"),
        ("sofleet.started", "2025-01-02T03:04:05Z"),
        ("sofleet.pagesize", "15"),
        ("sofleet.pages", "1-3"),
        ("sofleet.sort", "votes"),
        ("sofleet.extra_key", "a|b"),
        ("sofleet.tags", "python,dask"),
        ("sofleet.base_url", "https://stackoverflow.com"),
        ("sofleet.version", "0.1.0"),
        ("sofleet.tags", "a second value is ignored"),
    ])
}

#[test]
fn the_report_starts_with_the_crawl_parameters_in_a_stable_order() {
    let summary = PartialAggregate::from_page(&lesson_records()).summary(3);
    let md = markdown_report(&summary, &[], &crawl_metadata());
    // The crawl table first: the known keys in their fixed order with readable labels (the
    // shuffled input notwithstanding, of a repeated key the first), then the other
    // `sofleet.*` keys by name, Markdown-escaped; foreign keys left out. Then the rest of the
    // report, whole: `tests/it/snapshots/it__report__report_with_crawl_parameters.snap`
    // (`INSTA_UPDATE=always cargo test -p sofleet-analysis` rewrites it after a change).
    insta::assert_snapshot!("report_with_crawl_parameters", md);
}

#[test]
fn only_the_keys_present_are_shown_and_no_sofleet_keys_means_no_table() {
    let summary = PartialAggregate::default().summary(3);
    let md = markdown_report(
        &summary,
        &[],
        &metadata(&[("sofleet.questions", "0"), ("sofleet.tags", "rust")]),
    );
    assert!(
        md.starts_with(
            "# Stack Overflow crawl report\n\n## Crawl\n\n| Parameter | Value |\n|---|---|\n\
             | Tags | rust |\n| Questions | 0 |\n\n## Overview\n"
        ),
        "{md}"
    );
    let md = markdown_report(&summary, &[], &metadata(&[("other", "x")]));
    assert!(
        md.starts_with("# Stack Overflow crawl report\n\n## Overview\n"),
        "{md}"
    );
    assert!(crawl_parameters(&[]).is_empty());
}

#[test]
fn write_report_with_puts_the_metadata_in_report_md() {
    let dir = tempfile::tempdir().unwrap();
    let summary = PartialAggregate::from_page(&lesson_records()).summary(3);
    let files = write_report_with(
        &summary,
        dir.path(),
        &ChartOptions::default(),
        &crawl_metadata(),
    )
    .unwrap();
    let md = std::fs::read_to_string(&files.report).unwrap();
    assert_eq!(
        md,
        markdown_report(&summary, &files.charts, &crawl_metadata())
    );
    assert!(
        md.contains("| Base URL | https://stackoverflow.com |"),
        "{md}"
    );
}
