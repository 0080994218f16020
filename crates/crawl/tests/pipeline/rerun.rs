//! Running again: from the cache without a request, stopped part-way (the rest reported as not
//! fetched), and resumed from what an earlier run kept.

use std::collections::BTreeSet;
use std::time::Duration;

use sofleet_crawl::{
    CrawlConfig, CrawlEvent, CrawlPlan, CrawlResume, StopFlag, crawl, crawl_resume, crawl_until,
};
use sofleet_executor::{Client, ThreadsBackend, TokioBackend};
use sofleet_mock_so::{MockSite, MockSiteConfig};
use sofleet_records::Stage;

use crate::common::{Collected, TAGS, crawl_config, expected_ids, run, site_config, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_run_with_cache_makes_no_requests() {
    let site = MockSite::start(site_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = CrawlConfig {
        cache_dir: Some(dir.path().to_owned()),
        ..crawl_config(&site)
    };
    let plan = CrawlPlan::new(["dask", "python"], "votes", 1..=2);
    // The cache is the worker's: a local worker with the config's policy.
    let worker = sofleet_crawl::CrawlWorker::local(&config).unwrap();
    let client = Client::new(ThreadsBackend::new(4).with_resources(worker.into_resources()));
    let (first, _) = run(&client, &config, &plan).await;
    let after_first = site.request_count().await;
    assert!(after_first > 0 && first.failures.is_empty());

    let (second, summary) = run(&client, &config, &plan).await;
    assert_eq!(
        site.request_count().await,
        after_first,
        "the cached re-run made requests"
    );
    assert_eq!(summary.stats.requests, 0);
    assert!(second.failures.is_empty());
    let key = |v: &Collected| {
        let mut qs: Vec<_> = v
            .questions
            .iter()
            .map(|q| (q.question.clone(), q.fetched_at_ms))
            .collect();
        qs.sort_by_key(|(q, _)| q.id);
        qs
    };
    assert_eq!(key(&second), key(&first), "cached records differ");
    assert_eq!(
        summary.stats.cache_hits as usize,
        1 + 4 + second.questions.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_keeps_what_was_fetched_and_reports_the_rest_as_not_fetched() {
    let site = MockSite::start(site_config()).await;
    let config = CrawlConfig {
        max_concurrency_per_host: 1,
        ..crawl_config(&site)
    };
    let plan = CrawlPlan::new(TAGS, "votes", 1..=2);
    let stop = StopFlag::new();
    let mut questions = Vec::new();
    let mut failures = Vec::new();
    let mut not_fetched = Vec::new();
    let summary = crawl_until(
        &Client::new(ThreadsBackend::new(1).with_resources(worker())),
        &config,
        &plan,
        &stop,
        |event| match event {
            CrawlEvent::Question(q) => questions.push(q.question.id),
            CrawlEvent::Failure(f) => failures.push(f),
            CrawlEvent::NotFetched(n) => not_fetched.push(n),
            // Stop as soon as the first listing page is in.
            CrawlEvent::Listing(_) => stop.stop(),
            _ => {}
        },
    )
    .await
    .unwrap();
    assert!(summary.stopped);
    // Pages left unfetched are not failures.
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(!not_fetched.is_empty());
    assert_eq!(summary.not_fetched, not_fetched.len());
    // Every page is either a record or reported as not fetched: nothing silently dropped.
    let skipped_listings: BTreeSet<String> = not_fetched
        .iter()
        .filter(|n| n.stage == Stage::Listing)
        .map(|n| n.url.clone())
        .collect();
    assert_eq!(summary.listings, 6 - skipped_listings.len());
    let skipped_questions: BTreeSet<u64> = not_fetched
        .iter()
        .filter(|n| n.stage == Stage::Question)
        .map(|n| {
            n.url
                .split('/')
                .nth(4)
                .and_then(|s| s.parse().ok())
                .expect("question url")
        })
        .collect();
    let got: BTreeSet<u64> = questions.iter().copied().collect();
    assert!(got.is_disjoint(&skipped_questions));
    let mut completed_listings = 0;
    for tag in TAGS {
        for page in 1..=2 {
            let path = site.listing_path(tag, "votes", page);
            if skipped_listings.iter().any(|u| u.ends_with(&path)) {
                continue;
            }
            completed_listings += 1;
            for id in site.expected_listing(tag, "votes", page, 15) {
                assert!(
                    got.contains(&id) || skipped_questions.contains(&id),
                    "question {id} dropped"
                );
            }
        }
    }
    assert_eq!(completed_listings, summary.listings);
    assert!(
        completed_listings < 6,
        "the stop came too late to test anything"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_does_not_wait_for_a_slow_robots_txt() {
    // Every response (robots.txt first) takes far longer than the request timeout.
    let site = MockSite::start(MockSiteConfig {
        latency: sofleet_mock_so::Latency::Fixed(Duration::from_secs(600)),
        ..site_config()
    })
    .await;
    let config = crawl_config(&site);
    let plan = CrawlPlan::new(TAGS, "votes", 1..=2);
    let stop = StopFlag::new();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.stop();
    });
    let mut failures = Vec::new();
    let mut not_fetched = Vec::new();
    // A guard against a hang, not a speed check: without the fix the crawl waits out the
    // request timeout and its retries, then records robots.txt as a failure.
    let summary = tokio::time::timeout(
        Duration::from_secs(120),
        crawl_until(
            &Client::new(TokioBackend::new().with_resources(worker())),
            &config,
            &plan,
            &stop,
            |event| match event {
                CrawlEvent::Failure(f) => failures.push(f),
                CrawlEvent::NotFetched(n) => not_fetched.push(n),
                _ => {}
            },
        ),
    )
    .await
    .expect("the crawl stops")
    .unwrap();
    assert!(summary.stopped);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(
        not_fetched.len(),
        6,
        "every listing page is reported as not fetched"
    );
    assert!(not_fetched.iter().all(|n| n.stage == Stage::Listing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_crawl_fetches_neither_known_questions_nor_listings_already_read() {
    let site = MockSite::start(site_config()).await;
    let config = crawl_config(&site);
    let plan = CrawlPlan::new(TAGS, "votes", 1..=2);
    let client = Client::new(TokioBackend::new().with_resources(worker()));

    // A first run that keeps what a journal would: listings read and questions received.
    let mut listings = Vec::new();
    let mut first = Vec::new();
    crawl(
        &client,
        &config,
        &CrawlPlan::new(TAGS, "votes", 1..=1),
        |event| match event {
            CrawlEvent::Listing(l) => listings.push(*l),
            CrawlEvent::Question(q) => first.push(q.question.id),
            _ => {}
        },
    )
    .await
    .unwrap();
    // Pretend the run was killed before half of its questions were written.
    first.truncate(first.len() / 2);
    let before = site.request_count().await;

    let resume = CrawlResume {
        have_questions: first.iter().copied().collect(),
        listings: listings.clone(),
    };
    let mut second = Vec::new();
    let summary = crawl_resume(&client, &config, &plan, &StopFlag::new(), resume, |event| {
        if let CrawlEvent::Question(q) = event {
            second.push(q.question.id);
        }
    })
    .await
    .unwrap();
    assert_eq!(summary.listings_resumed, listings.len());
    assert_eq!(summary.questions_skipped, first.len());

    let requests = site.requests().await;
    for r in &requests[before..] {
        for l in &listings {
            assert!(
                !l.url.ends_with(&r.path),
                "listing {} fetched again",
                r.path
            );
        }
        if let Some(id) = r
            .path
            .strip_prefix("/questions/")
            .and_then(|p| p.split('/').next())
            .and_then(|s| s.parse::<u64>().ok())
        {
            assert!(!first.contains(&id), "question {id} fetched again");
        }
    }
    // Together the two runs have every question of the plan exactly once.
    let mut all: Vec<u64> = first.iter().chain(&second).copied().collect();
    all.sort_unstable();
    let want: Vec<u64> = expected_ids(&site, &plan).into_keys().collect();
    assert_eq!(all, want);
}
