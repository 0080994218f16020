//! Politeness under a hostile site: 429 with Retry-After, server errors, captchas, truncated and
//! missing pages, robots.txt rules and Crawl-delay.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use sofleet_crawl::{CrawlConfig, CrawlPlan, RetryConfig};
use sofleet_executor::{Client, ThreadsBackend};
use sofleet_mock_so::{Faults, MockSite, MockSiteConfig, RateLimit};
use sofleet_records::{FailureKind, Stage};

use crate::common::{assert_matches_site, crawl_config, expected_ids, run, site_config, worker};

/// The lesson's run against a 5 requests/s limit (429 + Retry-After), crawled with 4 workers and
/// no client-side rate limit, like the lesson's Dask code: nothing may be lost, and no request
/// may go out during a Retry-After the crawler was told about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_site_loses_nothing_and_obeys_retry_after() {
    let retry_after = Duration::from_secs(1);
    let site = MockSite::start(MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 5,
            retry_after,
        }),
        ..site_config()
    })
    .await;
    let config = CrawlConfig {
        max_concurrency_per_host: 4,
        ..crawl_config(&site)
    };
    let plan = CrawlPlan::new(["dask"], "votes", 1..=2);
    let client = Client::new(ThreadsBackend::new(4).with_resources(worker()));
    let started = Instant::now();
    let (out, summary) = run(&client, &config, &plan).await;
    let elapsed = started.elapsed();

    assert!(out.failures.is_empty(), "lost pages: {:#?}", out.failures);
    assert_eq!(out.questions.len(), 30);
    let expected = expected_ids(&site, &plan);
    assert_eq!(
        out.questions
            .iter()
            .map(|q| q.question.id)
            .collect::<BTreeSet<_>>(),
        expected.keys().copied().collect()
    );
    let requests = site.requests().await;
    let refused: Vec<Instant> = requests
        .iter()
        .filter(|r| r.status == 429)
        .map(|r| r.at)
        .collect();
    assert!(
        !refused.is_empty(),
        "the limit was never hit, so nothing was tested"
    );
    // A request already on the wire when the 429 arrived is allowed (50 ms); anything later must
    // wait out the Retry-After (the mock sends whole seconds, here 1).
    let in_flight = Duration::from_millis(50);
    for &t in &refused {
        for r in &requests {
            assert!(
                !(r.at > t + in_flight && r.at < t + retry_after),
                "{} sent {:?} after a 429 that asked for {retry_after:?}",
                r.path,
                r.at - t
            );
        }
    }
    assert_eq!(summary.stats.too_many_requests as usize, refused.len());
    let accepted = requests
        .iter()
        .filter(|r| r.status != 429 && r.path != "/robots.txt")
        .count();
    // Reported, not asserted (timing): the limit allows 5 requests per second.
    let bound = Duration::from_secs_f64(accepted as f64 / 5.0);
    eprintln!(
        "throttled: {} questions, {} requests ({} refused) in {:.2} s; rate-limit bound {:.2} s ({:+.0}%)",
        out.questions.len(),
        requests.len(),
        refused.len(),
        elapsed.as_secs_f64(),
        bound.as_secs_f64(),
        (elapsed.as_secs_f64() / bound.as_secs_f64() - 1.0) * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_recovered_or_recorded() {
    let base = site_config();
    // Pick the ids to break from what the plan will list.
    let probe = MockSite::start(base.clone()).await;
    let plan = CrawlPlan::new(["python", "dask"], "votes", 1..=2);
    let ids: Vec<u64> = expected_ids(&probe, &plan).into_keys().collect();
    let (truncated, not_found) = (vec![ids[0], ids[5]], vec![ids[3]]);
    let site = MockSite::start(MockSiteConfig {
        server_errors: Some(Faults { every_nth: 3 }),
        truncated: truncated.clone(),
        not_found: not_found.clone(),
        captcha_after: Some(12),
        captcha_cooldown: Duration::from_millis(300),
        ..base
    })
    .await;
    let config = CrawlConfig {
        captcha_pause: Duration::from_millis(400),
        retry: RetryConfig {
            max_attempts: 6,
            ..crawl_config(&site).retry
        },
        ..crawl_config(&site)
    };
    let (out, summary) = run(
        &Client::new(ThreadsBackend::new(4).with_resources(worker())),
        &config,
        &plan,
    )
    .await;

    let requests = site.requests().await;
    assert!(
        requests.iter().any(|r| r.status >= 500),
        "no server error was served"
    );
    assert!(
        requests.iter().any(|r| r.status == 302),
        "no captcha was served"
    );
    assert!(
        summary.stats.captchas > 0 && summary.stats.status_5xx > 0,
        "{}",
        summary.stats
    );

    let got: BTreeSet<u64> = out.questions.iter().map(|q| q.question.id).collect();
    let mut want: BTreeSet<u64> = ids.iter().copied().collect();
    for id in truncated.iter().chain(&not_found) {
        want.remove(id);
    }
    assert_eq!(got, want, "recoverable pages lost");
    for q in &out.questions {
        assert_matches_site(&site, q);
    }
    let kinds: BTreeMap<u64, (FailureKind, Stage)> = out
        .failures
        .iter()
        .map(|f| {
            let id = f
                .url
                .split('/')
                .nth(4)
                .and_then(|s| s.parse().ok())
                .expect("question url");
            (id, (f.kind, f.stage))
        })
        .collect();
    let mut expected = BTreeMap::new();
    for id in &truncated {
        expected.insert(*id, (FailureKind::Truncated, Stage::Question));
    }
    expected.insert(not_found[0], (FailureKind::NotFound, Stage::Question));
    assert_eq!(kinds, expected, "{:#?}", out.failures);
    for f in &out.failures {
        assert!(f.attempts >= 1);
        if f.kind == FailureKind::NotFound {
            assert_eq!(f.http_status, Some(404));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_disallow_and_crawl_delay_are_honoured() {
    let site = MockSite::start(MockSiteConfig {
        robots_txt: Some(
            "User-agent: *\nDisallow: /questions/tagged/pandas\nCrawl-delay: 0.05\n".into(),
        ),
        ..site_config()
    })
    .await;
    let plan = CrawlPlan::new(["dask", "pandas"], "votes", 1..=1);
    let (out, _) = run(
        &Client::new(ThreadsBackend::new(4).with_resources(worker())),
        &crawl_config(&site),
        &plan,
    )
    .await;
    assert_eq!(out.failures.len(), 1, "{:#?}", out.failures);
    let f = &out.failures[0];
    assert_eq!(
        (f.kind, f.stage, f.attempts),
        (FailureKind::DisallowedByRobots, Stage::Listing, 0)
    );
    assert!(f.url.contains("/questions/tagged/pandas"));
    assert_eq!(out.questions.len(), 15);
    let requests = site.requests().await;
    assert!(
        requests.iter().all(|r| !r.path.contains("tagged/pandas")),
        "a disallowed page was fetched"
    );
    assert_eq!(
        requests.iter().filter(|r| r.path == "/robots.txt").count(),
        1
    );
    // Crawl-delay 0.05 s: the crawler sends one request per 50 ms. The mock sees arrival
    // times, which a loaded machine can shift by a scheduling delay, so check the run as a
    // whole (n requests span at least n-1 delays, less one delay of slack) and that no two
    // requests arrived together (without the delay, 4 threads send them within a millisecond).
    let n = requests.len() as u32;
    let span = requests.last().unwrap().at - requests[0].at;
    assert!(
        span >= Duration::from_millis(50) * (n - 2),
        "Crawl-delay broken: {n} requests in {span:?}"
    );
    for pair in requests.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(5),
            "two requests without a Crawl-delay between them: {:?}",
            pair[1].at - pair[0].at
        );
    }
}
