//! Criterion benchmark `analysis`: aggregate 1,000,000 synthetic question
//! rows with polars (value_counts + group-by sum + top-N), i.e.
//! `Summary::from_frame(&frame, 10)`; plus merging 1,000 per-page partials.
//!
//! Run: `cargo bench -p sofleet-benches --features analysis --bench analysis`.
//! Target: the 1M-row aggregation under 200 ms.
#![allow(missing_docs)] // criterion's macros generate undocumented functions

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sofleet_analysis::polars::prelude::{
    Column, DataFrame, IntoColumn, ListBuilderTrait, ListStringChunkedBuilder, SeriesMethods,
};
use sofleet_analysis::{PartialAggregate, Summary, columns as c};

const ROWS: usize = 1_000_000;
const AUTHORS: u64 = 20_000;
const TAGS: u64 = 500;

/// SplitMix64: a tiny deterministic generator (no extra dependencies).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Skewed towards 0 (a few very active authors / popular tags).
    fn skewed(&mut self, n: u64) -> u64 {
        let a = self.next() % n;
        let b = self.next() % n;
        a * b / n
    }
}

/// The columns `Summary::from_frame` reads, with realistic skew: ~12 %
/// unanswered, ~45 % accepted, 20,000 authors, 1-3 of 500 tags per question.
fn synthetic_frame(rows: usize) -> DataFrame {
    let mut rng = Rng(42);
    let mut answer_count = Vec::with_capacity(rows);
    let mut accepted = Vec::with_capacity(rows);
    let mut author: Vec<Option<String>> = Vec::with_capacity(rows);
    let mut score: Vec<Option<i64>> = Vec::with_capacity(rows);
    let mut tags = ListStringChunkedBuilder::new(c::TAGS.into(), rows, rows * 2);
    for _ in 0..rows {
        let answered = rng.next() % 100 >= 12;
        let n_answers = if answered {
            1 + (rng.next() % 6) as u32
        } else {
            0
        };
        answer_count.push(n_answers);
        accepted.push(answered && rng.next() % 100 < 50);
        if answered {
            author.push(Some(format!("user{}", rng.skewed(AUTHORS))));
            score.push(Some(rng.skewed(2_000) as i64 - 3));
        } else {
            author.push(None);
            score.push(None);
        }
        let n_tags = 1 + rng.next() % 3;
        let row: Vec<String> = (0..n_tags)
            .map(|_| format!("tag{}", rng.skewed(TAGS)))
            .collect();
        tags.append_values_iter(row.iter().map(String::as_str));
    }
    DataFrame::new(vec![
        Column::new(c::ANSWER_COUNT.into(), answer_count),
        Column::new(c::HAS_ACCEPTED_ANSWER.into(), accepted),
        Column::new(c::TOP_ANSWER_AUTHOR.into(), author),
        Column::new(c::TOP_ANSWER_SCORE.into(), score),
        tags.finish().into_column(),
    ])
    .expect("synthetic frame")
}

/// This process's user + system CPU time in seconds (Linux `/proc`, 100 Hz ticks).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Prints the CPU time one aggregation costs: on a shared, busy machine the
/// wall-clock figure criterion reports includes waiting for a core, while an
/// idle machine's wall time is at most this CPU time (polars and the tag
/// count also use the second core).
fn report_cpu_time(frame: &DataFrame) {
    const RUNS: u32 = 20;
    let (Some(before), start) = (process_cpu_seconds(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..RUNS {
        black_box(Summary::from_frame(black_box(frame), 10).expect("aggregate"));
    }
    let wall = start.elapsed().as_secs_f64();
    if let Some(after) = process_cpu_seconds() {
        eprintln!(
            "analysis: Summary::from_frame on {ROWS} rows: {:.1} ms CPU time per run \
             (all threads), {:.1} ms wall per run during this measurement",
            (after - before) * 1000.0 / f64::from(RUNS),
            wall * 1000.0 / f64::from(RUNS),
        );
    }
}

fn aggregate(c: &mut Criterion) {
    let frame = synthetic_frame(ROWS);
    let check = Summary::from_frame(&frame, 10).expect("aggregate");
    assert_eq!(check.questions, ROWS as u64);
    assert_eq!(check.authors_by_votes.len(), 10);

    report_cpu_time(&frame);

    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.bench_function("aggregate_1m_rows_value_counts_groupby_sum_top10", |b| {
        b.iter(|| Summary::from_frame(black_box(&frame), 10).expect("aggregate"))
    });

    // Breakdown: the two polars primitives of the lesson on their own.
    let author = frame
        .column(c::TOP_ANSWER_AUTHOR)
        .expect("author column")
        .as_materialized_series()
        .clone();
    group.bench_function("polars_value_counts_author_1m_rows", |b| {
        b.iter(|| {
            black_box(&author)
                .value_counts(true, true, "count".into(), false)
                .expect("value_counts")
        })
    });
    let pair = frame
        .select([c::TOP_ANSWER_AUTHOR, c::TOP_ANSWER_SCORE])
        .expect("select");
    group.bench_function("polars_group_by_sum_author_1m_rows", |b| {
        b.iter(|| {
            #[allow(deprecated)]
            black_box(&pair)
                .group_by([c::TOP_ANSWER_AUTHOR])
                .and_then(|g| g.select([c::TOP_ANSWER_SCORE]).sum())
                .expect("group_by sum")
        })
    });

    // 1,000 pages of 1,000 rows each: the incremental path's merge cost.
    let partials: Vec<PartialAggregate> = (0..1_000)
        .map(|i| PartialAggregate::from_frame(&frame.slice(i * 1_000, 1_000)).expect("partial"))
        .collect();
    group.bench_function("merge_1000_page_partials_and_summarise", |b| {
        b.iter(|| {
            let mut total = PartialAggregate::default();
            for p in black_box(&partials) {
                total.merge_from(p);
            }
            total.summary(10)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No HTML plots: criterion's plotters backend would need a system font.
    config = Criterion::default().without_plots();
    targets = aggregate
}
criterion_main!(benches);
