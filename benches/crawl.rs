//! Criterion benchmark `crawl`: the lesson's run (2 listing pages -> 30 questions of real size)
//! through the whole pipeline (executor tasks, fetch, extract) against the mock site.
//!
//! * `crawl/lesson_100ms_c8`: 100 ms latency per response, no rate limit, 8 requests in flight.
//!   The ideal is one listing round trip plus ceil(30/8) question round trips = 0.5 s.
//! * `crawl/lesson_zero_latency_c8`: no latency; throughput in questions/s end to end.
//!
//! robots.txt is not fetched here (the lesson's code does not fetch it either); everything else
//! (rate limiter bypassed, retries armed, extraction) is the real pipeline. Before the criterion
//! runs, one timed run per scenario (and a serial one) is printed with its ratio to the ideal.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sofleet_crawl::{CrawlConfig, CrawlEvent, CrawlPlan, crawl};
use sofleet_executor::{Client, ThreadsBackend};
use sofleet_mock_so::{Latency, MockSite, MockSiteConfig};

const QUESTIONS: usize = 30;

fn site(rt: &tokio::runtime::Runtime, latency: Latency) -> MockSite {
    rt.block_on(MockSite::start(MockSiteConfig {
        tags: vec!["dask".into()],
        pages_per_tag: 2,
        questions_per_tag: Some(QUESTIONS as u32),
        latency,
        ..MockSiteConfig::default()
    }))
}

fn config(site: &MockSite, concurrency: u32) -> CrawlConfig {
    CrawlConfig {
        max_concurrency_per_host: concurrency,
        ignore_robots: true,
        ..CrawlConfig::for_local_site(&site.base_url())
    }
}

async fn run_once(client: &Client, config: &CrawlConfig, plan: &CrawlPlan) {
    let mut questions = 0;
    let mut failures = 0;
    crawl(client, config, plan, |event| match event {
        CrawlEvent::Question(_) => questions += 1,
        CrawlEvent::Failure(_) => failures += 1,
        _ => {}
    })
    .await
    .expect("crawl runs");
    assert_eq!(
        (questions, failures),
        (QUESTIONS, 0),
        "the crawl lost questions"
    );
}

fn timed(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
) -> Duration {
    let start = Instant::now();
    rt.block_on(run_once(client, config, plan));
    start.elapsed()
}

/// The crawl worker the tasks read: allowed on the mock sites' loopback host.
fn worker() -> sofleet_executor::Resources {
    sofleet_crawl::CrawlWorker::new(sofleet_crawl::WorkerPolicy::new(["127.0.0.1"]))
        .expect("crawl worker")
        .into_resources()
}

fn bench_crawl(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let plan = CrawlPlan::new(["dask"], "votes", 1..=2);
    let client = Client::new(ThreadsBackend::new(8).with_resources(worker()));
    let slow = site(&rt, Latency::Fixed(Duration::from_millis(100)));
    let fast = site(&rt, Latency::None);

    // One reported run of each, with the ideal for the 100 ms case.
    let ideal = Duration::from_millis(100) * (1 + QUESTIONS.div_ceil(8) as u32);
    let serial = timed(
        &rt,
        &Client::new(ThreadsBackend::new(1).with_resources(worker())),
        &config(&slow, 1),
        &plan,
    );
    let c8 = timed(&rt, &client, &config(&slow, 8), &plan);
    let zero = timed(&rt, &client, &config(&fast, 8), &plan);
    eprintln!(
        "crawl report: 100 ms latency: serial {:.2} s, concurrency 8 {:.2} s = {:.2}x the ideal {:.2} s; \
         zero latency: {:.2} s = {:.0} questions/s",
        serial.as_secs_f64(),
        c8.as_secs_f64(),
        c8.as_secs_f64() / ideal.as_secs_f64(),
        ideal.as_secs_f64(),
        zero.as_secs_f64(),
        QUESTIONS as f64 / zero.as_secs_f64()
    );

    let mut group = c.benchmark_group("crawl");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements(QUESTIONS as u64));
    let slow_config = config(&slow, 8);
    group.bench_function("lesson_100ms_c8", |b| {
        b.to_async(&rt)
            .iter(|| run_once(&client, &slow_config, &plan))
    });
    let fast_config = config(&fast, 8);
    group.bench_function("lesson_zero_latency_c8", |b| {
        b.to_async(&rt)
            .iter(|| run_once(&client, &fast_config, &plan))
    });
    group.finish();
}

criterion_group!(benches, bench_crawl);
criterion_main!(benches);
