//! Criterion benchmark `extract`: question and listing pages per second and
//! MB/s through `sofleet_extract`, on the project's real-size fixture pages
//! (150–460 KB each, with a real page's amount of head, navigation, sidebar,
//! footer and script markup around the content).
//!
//! * `question/<page>`: `parse_question` on one page (Throughput: bytes → MB/s).
//! * `question_pages`: the four real-size question pages in turn
//!   (Throughput: elements → pages/s), through the public API
//!   (`4_real_size_pages`: the fast path, html5ever when it declines), the
//!   reference path alone (`reference`: html5ever, the extractor before the
//!   fast path) and the `scraper` DOM of the whole page alone (`dom_only`, no
//!   extraction: the floor of any DOM-based extractor).
//! * `listing/<page>`: `parse_listing` on a 50-row tagged listing (MB/s).
//! * `listing_pages`: the same listing, pages/s, through the same three
//!   routes.
//!
//! Run: `cargo bench -p sofleet-benches --features extract --bench extract`.

// criterion_group!/criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sofleet_extract::paths::{self, FastOutcome};
use sofleet_extract::{ExtractLimits, Page};

const QUESTION_PAGES: [&str; 4] = [
    "d-q-duplicate-notice",
    "c-q-real-size",
    "e-q-real-size",
    "e-q-real-size-long",
];
const LISTING_PAGES: [&str; 1] = ["e-list-tagged"];

fn load(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/pages")
        .join(format!("{name}.html"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Sanity: the fast path takes the page (a bench of the fallback would lie)
/// and agrees with the reference.
fn assert_fast_path_taken(name: &str, html: &str) {
    let limits = ExtractLimits::default();
    match paths::fast(html, &limits) {
        FastOutcome::Done(page) => assert_eq!(page, paths::reference(html, &limits), "{name}"),
        FastOutcome::Declined(why) => panic!("{name}: the fast path declined ({why})"),
    }
}

fn reference(html: &str) -> Page {
    paths::reference(html, &ExtractLimits::default()).unwrap()
}

fn bench_extract(c: &mut Criterion) {
    let questions: Vec<(&str, String)> = QUESTION_PAGES.iter().map(|n| (*n, load(n))).collect();

    let mut group = c.benchmark_group("question");
    group.sample_size(15);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, html) in &questions {
        // Sanity: the page really extracts (a bench of an error path would lie).
        let q = sofleet_extract::parse_question(html).expect("fixture extracts");
        assert!(!q.answers.is_empty());
        assert_fast_path_taken(name, html);
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{name} ({} KB)", html.len() / 1024)),
            html,
            |b, html| b.iter(|| sofleet_extract::parse_question(black_box(html)).unwrap()),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("question_pages");
    group.sample_size(15);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(questions.len() as u64));
    group.bench_function("4_real_size_pages", |b| {
        b.iter(|| {
            for (_, html) in &questions {
                black_box(sofleet_extract::parse_question(black_box(html)).unwrap());
            }
        })
    });
    group.bench_function("reference", |b| {
        b.iter(|| {
            for (_, html) in &questions {
                black_box(reference(black_box(html)));
            }
        })
    });
    group.bench_function("dom_only", |b| {
        b.iter(|| {
            for (_, html) in &questions {
                black_box(paths::dom_only(black_box(html)));
            }
        })
    });
    group.finish();

    let listings: Vec<(&str, String)> = LISTING_PAGES.iter().map(|n| (*n, load(n))).collect();
    let mut group = c.benchmark_group("listing");
    group.sample_size(15);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, html) in &listings {
        assert!(
            !sofleet_extract::parse_listing(html)
                .unwrap()
                .questions
                .is_empty()
        );
        assert_fast_path_taken(name, html);
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{name} ({} KB)", html.len() / 1024)),
            html,
            |b, html| b.iter(|| sofleet_extract::parse_listing(black_box(html)).unwrap()),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("listing_pages");
    group.sample_size(15);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(listings.len() as u64));
    group.bench_function("public", |b| {
        b.iter(|| {
            for (_, html) in &listings {
                black_box(sofleet_extract::parse_listing(black_box(html)).unwrap());
            }
        })
    });
    group.bench_function("reference", |b| {
        b.iter(|| {
            for (_, html) in &listings {
                black_box(reference(black_box(html)));
            }
        })
    });
    group.bench_function("dom_only", |b| {
        b.iter(|| {
            for (_, html) in &listings {
                black_box(paths::dom_only(black_box(html)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
