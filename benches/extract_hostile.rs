//! Criterion benchmark `extract_hostile`: `sofleet_extract::parse_question`
//! on hostile pages, to show that extraction time is linear in page size
//! for any input (issue 15, "The hostile web").
//!
//! Each page is a question page whose body is one worst-case fragment
//! repeated (after an optional one-off prefix) to about 10 KB, 100 KB,
//! 1 MB and 10 MB. Whether the page extracts or is refused
//! (`TooComplex`), time per byte should stay flat across the sizes; before
//! the fix, `<span></x>` took 58.6 s at 1 MB.
//!
//! * `hostile/<fragment>/<size>`: Throughput in bytes (criterion prints
//!   MB/s; ns/byte = 1000 / (MB/s)).
//!
//! Before the measurements the bench prints one line per case with the
//! outcome (`ok` or the error kind) and a single timed run.
//!
//! Run: `cargo bench -p sofleet-benches --features extract --bench extract_hostile`
//! (`-- <filter>` to pick fragments, e.g. `-- 'hostile/span'`).

// criterion_group!/criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A hostile page shape: `prefix` once, then `unit` repeated.
struct Fragment {
    name: &'static str,
    prefix: String,
    unit: String,
}

fn fragments() -> Vec<Fragment> {
    let plain = |name: &'static str, unit: &str| Fragment {
        name,
        prefix: String::new(),
        unit: unit.to_string(),
    };
    // 1,000 distinct formatting elements closed by the </div> around them:
    // the parser keeps them active and re-opens them inside later blocks.
    let active: String = (0..1000).map(|i| format!("<b id={i}>")).collect();
    let many_attrs: String = (0..500).map(|i| format!(" a{i}")).collect();
    vec![
        // The page: stray end tags that close nothing.
        plain("span_stray_end", "<span></x>"),
        plain("unclosed_div", "<div>"),
        plain("unclosed_b", "<b>"),
        plain("span_div_misnested", "<span><div></span>"),
        // Adoption agency: a formatting end tag across a block.
        plain("adoption_b_p", "<b><p></b>"),
        plain("adoption_a_div", "<a><div></a>"),
        plain("misnested_b_i", "<b><i></b></i>x"),
        plain("nobr", "<nobr>x"),
        // Table foster parenting and nested tables.
        plain("table_foster", "<table><div>x"),
        plain("table_text", "<table>x</table>"),
        plain("table_nested", "<table><tr><td>x"),
        plain("option_span", "<option><span>"),
        Fragment {
            name: "reopened_formatting",
            prefix: format!("<div>{active}</div>"),
            unit: "<div>x</div>".to_string(),
        },
        Fragment {
            name: "open_b_list",
            prefix: active.clone(),
            unit: "<b>x</b>".to_string(),
        },
        plain("div_table_misnested", "<div><table></div>"),
        plain("p_button", "<p><button>"),
        plain("comment_bang", "<!-- --!><div>"),
        Fragment {
            name: "active_list_a",
            prefix: format!("<div>{active}</div>"),
            unit: "<a></a>".to_string(),
        },
        plain("entities_text", "x&amp;&lt;"),
        plain(
            "huge_attribute",
            &format!("<p title=\"{}\">", "x".repeat(4000)),
        ),
        plain("many_attributes", &format!("<p{many_attrs}>")),
        plain("html_attrs", "<html a>"),
        plain("foreign_svg", "<svg><p><math><mi>"),
    ]
}

fn question_page(body: &str) -> String {
    format!(
        "<html><head><title>t</title></head><body><div id=\"question-header\"><h1><a href=\"/questions/1/x\">T</a></h1></div>\
         <div id=\"question\" class=\"question\" data-questionid=\"1\" data-score=\"2\"><div class=\"s-prose js-post-body\">{body}</div></div>\
         <div id=\"answers\"></div></body></html>"
    )
}

fn page(f: &Fragment, size: usize) -> String {
    let reps = size.saturating_sub(f.prefix.len()) / f.unit.len();
    question_page(&format!("{}{}", f.prefix, f.unit.repeat(reps.max(1))))
}

const SIZES: [(&str, usize); 4] = [
    ("10KB", 10_000),
    ("100KB", 100_000),
    ("1MB", 1_000_000),
    ("10MB", 10_000_000),
];

fn outcome(html: &str) -> String {
    match sofleet_extract::parse_question(html) {
        Ok(q) => format!("ok ({} chars of body text)", q.body_text.len()),
        Err(e) => format!("{}: {e}", e.kind()),
    }
}

fn bench_hostile(c: &mut Criterion) {
    let fragments = fragments();
    for f in &fragments {
        for (label, size) in SIZES {
            let html = page(f, size);
            let t = Instant::now();
            let what = outcome(&html);
            let elapsed = t.elapsed();
            println!(
                "case {}/{label}: {:?} ({:.1} ns/byte) -> {}",
                f.name,
                elapsed,
                elapsed.as_nanos() as f64 / html.len() as f64,
                what.chars().take(140).collect::<String>()
            );
        }
    }

    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for f in &fragments {
        for (label, size) in SIZES {
            let html = page(f, size);
            group.throughput(Throughput::Bytes(html.len() as u64));
            group.bench_with_input(BenchmarkId::new(f.name, label), &html, |b, html| {
                b.iter(|| sofleet_extract::parse_question(black_box(html)).is_ok())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_hostile);
criterion_main!(benches);
