//! Criterion benchmark `robots`: a hostile robots.txt read the way the fetcher reads it
//! (`sofleet_crawl::limit_robots`, then `texting_robots`), at the 500 KiB the crawler reads at
//! most, for three shapes of rule: plain prefixes, `*` wildcards and `$`-anchored wildcards
//! (the expensive kind: each compiles a regular expression).
//!
//! Before criterion runs, each shape is parsed once and the growth of the peak RSS it caused
//! (Linux `VmHWM`, reset through /proc/self/clear_refs) is printed, at 50 KiB and 500 KiB, with the time of one parse and of one
//! `allowed` check, so memory and time per byte can be compared across sizes.
#![allow(missing_docs)]

use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sofleet_crawl::{ROBOTS_MAX_BYTES, limit_robots};
use texting_robots::Robot;

/// A `VmRSS` / `VmHWM` line of /proc/self/status, in KiB (0 where /proc is missing).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS (Linux >= 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

type Shape = (&'static str, fn(usize) -> String);

/// A robots.txt of about `bytes` bytes made of `rule(i)` lines.
fn robots(bytes: usize, rule: impl Fn(usize) -> String) -> Vec<u8> {
    let mut txt = String::from("User-agent: *\n");
    let mut i = 0;
    while txt.len() < bytes {
        txt.push_str(&rule(i));
        i += 1;
    }
    txt.into_bytes()
}

fn shapes() -> Vec<Shape> {
    vec![
        ("prefix", |i| format!("Disallow: /questions/{i}/\n")),
        ("wildcard", |i| format!("Disallow: /*a{i}*b*c*d\n")),
        ("anchored", |i| {
            format!("Disallow: /*a{i}*b*c*$\nAllow: /*x{i}$\n")
        }),
    ]
}

fn parse(body: &[u8]) -> Robot {
    let (kept, _) = limit_robots(body);
    Robot::new("sofleet", &kept).expect("the bench's robots.txt parses")
}

fn report() {
    println!("robots.txt parse: peak RSS growth, time per parse, time per allowed()");
    for (name, rule) in shapes() {
        for size in [50 * 1024, ROBOTS_MAX_BYTES, 5 * ROBOTS_MAX_BYTES] {
            let body = robots(size, rule);
            reset_peak();
            let before = status_kib("VmRSS:");
            let start = Instant::now();
            let robot = parse(&body);
            let took = start.elapsed();
            let peak = status_kib("VmHWM:").saturating_sub(before) * 1024;
            let start = Instant::now();
            let allowed = robot.allowed("/questions/123456/how-do-i-x?tab=votes");
            let check = start.elapsed();
            println!(
                "  {name:>8} {:>5} KiB: peak {:>7.1} MiB, parse {:>8.2?} ({:.0} ns/byte), allowed() {check:.2?} -> {allowed}",
                body.len() / 1024,
                peak as f64 / (1024.0 * 1024.0),
                took,
                took.as_nanos() as f64 / body.len() as f64,
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    report();
    let mut group = c.benchmark_group("robots");
    group.sample_size(10);
    for (name, rule) in shapes() {
        let body = robots(ROBOTS_MAX_BYTES, rule);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("parse_500KiB_{name}"), |b| b.iter(|| parse(&body)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
