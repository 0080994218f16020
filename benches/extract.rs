//! Criterion benchmark `extract`: question and listing pages per second and
//! MB/s through `sofleet_extract`, on the project's real-size fixture pages
//! (150–460 KB each, with a real page's amount of head, navigation, sidebar,
//! footer and script markup around the content).
//!
//! * `question/<page>`: `parse_question` on one page (Throughput: bytes → MB/s).
//! * `question_pages`: the four real-size question pages in turn
//!   (Throughput: elements → pages/s).
//! * `listing/<page>`: `parse_listing` on a 50-row tagged listing.
//!
//! Run: `cargo bench -p sofleet-benches --features extract --bench extract`.

// criterion_group!/criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

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
    group.finish();

    let mut group = c.benchmark_group("listing");
    group.sample_size(15);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for name in LISTING_PAGES {
        let html = load(name);
        assert!(
            !sofleet_extract::parse_listing(&html)
                .unwrap()
                .questions
                .is_empty()
        );
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{name} ({} KB)", html.len() / 1024)),
            &html,
            |b, html| b.iter(|| sofleet_extract::parse_listing(black_box(html)).unwrap()),
        );
    }
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
