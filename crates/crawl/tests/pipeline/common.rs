//! What every pipeline test shares: the mock site, the crawl worker and configuration, a run
//! that collects the sink's events, and what the site should have served.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use sofleet_crawl::{CrawlConfig, CrawlEvent, CrawlPlan, CrawlSummary, RetryConfig, crawl};
use sofleet_executor::Client;
use sofleet_mock_so::{MockSite, MockSiteConfig};
use sofleet_records::{CrawledQuestion, FailureRecord};

pub(crate) const TAGS: [&str; 3] = ["python", "dask", "pandas"];

pub(crate) fn site_config() -> MockSiteConfig {
    MockSiteConfig {
        pages_per_tag: 4,
        questions_per_tag: Some(60),
        // The tests read the site's request log.
        record_requests: true,
        ..MockSiteConfig::default()
    }
}

/// A crawl worker for the mock sites on 127.0.0.1 (it lets jobs skip robots.txt; no cache).
pub(crate) fn worker() -> sofleet_executor::Resources {
    let mut policy = sofleet_crawl::WorkerPolicy::new(["127.0.0.1"]);
    policy.ignore_robots = true;
    sofleet_crawl::CrawlWorker::new(policy)
        .unwrap()
        .into_resources()
}

pub(crate) fn crawl_config(site: &MockSite) -> CrawlConfig {
    CrawlConfig {
        retry: RetryConfig {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
        },
        ..CrawlConfig::for_local_site(&site.base_url())
    }
}

#[derive(Default)]
pub(crate) struct Collected {
    pub(crate) questions: Vec<CrawledQuestion>,
    pub(crate) failures: Vec<FailureRecord>,
    pub(crate) progress_events: usize,
}

pub(crate) async fn run(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
) -> (Collected, CrawlSummary) {
    let mut out = Collected::default();
    let summary = crawl(client, config, plan, |event| match event {
        CrawlEvent::Question(q) => out.questions.push(*q),
        CrawlEvent::Failure(f) => out.failures.push(f),
        CrawlEvent::Progress(_) => out.progress_events += 1,
        _ => {}
    })
    .await
    .expect("crawl runs");
    (out, summary)
}

/// Every distinct id on the planned listing pages, with the first listing that shows it.
pub(crate) fn expected_ids(site: &MockSite, plan: &CrawlPlan) -> BTreeMap<u64, (String, u32)> {
    let mut ids = BTreeMap::new();
    for tag in &plan.tags {
        for page in plan.pages.clone() {
            for id in site.expected_listing(tag, &plan.sort, page, plan.pagesize) {
                ids.entry(id).or_insert((tag.clone(), page));
            }
        }
    }
    ids
}

pub(crate) fn assert_matches_site(site: &MockSite, got: &CrawledQuestion) {
    let want = site
        .expected_question(got.question.id)
        .expect("the site has this question");
    let q = &got.question;
    assert_eq!(
        (q.id, &q.title, q.score, &q.tags),
        (want.id, &want.title, want.score, &want.tags)
    );
    let answers = |q: &sofleet_extract::Question| {
        q.answers
            .iter()
            .map(|a| {
                (
                    a.id,
                    a.score,
                    a.accepted,
                    a.author.display_name().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(answers(q), answers(&want), "answers of question {}", q.id);
    assert_eq!(q, &want, "question {} differs from the generated one", q.id);
    assert!(got.source_url.starts_with(&site.base_url()));
    assert!(got.source_url.contains(&format!("/questions/{}/", q.id)));
    assert!(got.fetched_at_ms > 0);
}

pub(crate) fn question_requests(
    requests: &[sofleet_mock_so::RecordedRequest],
) -> HashMap<u64, usize> {
    let mut counts = HashMap::new();
    for r in requests {
        let mut parts = r.path.trim_start_matches('/').split('/');
        if parts.next() == Some("questions")
            && let Some(Ok(id)) = parts.next().map(str::parse::<u64>)
        {
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}
