//! How fast the mock site generates, renders and serves pages.
//!
//! `cargo xtask bench mock-site --quick`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sofleet_mock_so::{MockSite, MockSiteConfig, SiteContent, Sort};

fn large_config() -> MockSiteConfig {
    MockSiteConfig {
        tags: vec![
            "python".into(),
            "dask".into(),
            "pandas".into(),
            "polars".into(),
        ],
        questions_per_tag: Some(2_500),
        ..MockSiteConfig::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("mock_site");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));

    group.bench_function("generate_10k_questions", |b| {
        b.iter(|| SiteContent::generate(black_box(&large_config())).unwrap())
    });

    let site = SiteContent::generate(&large_config()).unwrap();
    let ids = site.question_ids();
    let page_len = site.render_question_page(ids[1234]).unwrap().len() as u64;
    group.throughput(Throughput::Bytes(page_len));
    group.bench_function("render_question_page", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7) % ids.len();
            site.render_question_page(black_box(ids[i])).unwrap()
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("render_listing_page_50_rows", |b| {
        b.iter(|| {
            site.render_listing_page(Some("dask"), Sort::Votes, black_box(3), 50)
                .unwrap()
        })
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(MockSite::serve(std::sync::Arc::new(site)))
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let urls: Vec<String> = ids
        .iter()
        .step_by(97)
        .map(|&id| format!("{}{}", server.base_url(), server.question_path(id)))
        .collect();
    group.bench_function("http_get_question_page", |b| {
        let mut i = 0;
        b.to_async(&rt).iter(|| {
            i = (i + 1) % urls.len();
            let request = client.get(&urls[i]);
            async move { request.send().await.unwrap().bytes().await.unwrap().len() }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
