//! The whole pipeline end to end: every question of the plan once, on each backend and through
//! serialized tasks; bad input as a clear error; the lesson's first exercise.

use std::collections::BTreeSet;

use sofleet_crawl::{CrawlConfig, CrawlPlan, ListingTask, QuestionTask, RobotsTask, crawl};
use sofleet_executor::{Client, TaskRegistry, ThreadsBackend, TokioBackend};
use sofleet_mock_so::MockSite;
use sofleet_records::{FailureKind, FailureRecord};

use crate::common::{
    TAGS, assert_matches_site, crawl_config, expected_ids, question_requests, run, site_config,
    worker,
};

async fn full_pipeline(client: Client) {
    let site = MockSite::start(site_config()).await;
    let config = crawl_config(&site);
    let plan = CrawlPlan::new(TAGS, "votes", 1..=3);
    let (out, summary) = run(&client, &config, &plan).await;

    assert!(
        out.failures.is_empty(),
        "unexpected failures: {:#?}",
        out.failures
    );
    let expected = expected_ids(&site, &plan);
    let got: BTreeSet<u64> = out.questions.iter().map(|q| q.question.id).collect();
    assert_eq!(
        got.len(),
        out.questions.len(),
        "a question was emitted twice"
    );
    assert_eq!(got, expected.keys().copied().collect::<BTreeSet<_>>());
    let listed: usize = TAGS
        .iter()
        .flat_map(|t| (1..=3).map(move |p| (t, p)))
        .map(|(t, p)| site.expected_listing(t, "votes", p, 15).len())
        .sum();
    assert_eq!(listed, 9 * 15);
    for q in &out.questions {
        assert_matches_site(&site, q);
        let page = q.listing_page.expect("listing page recorded");
        let tag = q.listing_tag.clone().expect("listing tag recorded");
        assert!(
            site.expected_listing(&tag, "votes", page, 15)
                .contains(&q.question.id),
            "question {} credited to a listing that does not show it",
            q.question.id
        );
        assert!(
            q.listing_url
                .as_deref()
                .unwrap()
                .contains(&format!("page={page}"))
        );
    }
    // Each distinct question fetched exactly once, even those on two listings.
    let requests = site.requests().await;
    let per_question = question_requests(&requests);
    assert_eq!(per_question.len(), expected.len());
    assert!(
        per_question.values().all(|&n| n == 1),
        "a question was fetched twice"
    );
    assert_eq!(
        requests.len(),
        1 + 9 + expected.len(),
        "robots + listings + questions"
    );
    assert_eq!(summary.stats.requests as usize, requests.len());
    assert_eq!(summary.stats.status_2xx as usize, requests.len());
    assert_eq!(
        (summary.questions, summary.failures, summary.listings),
        (expected.len(), 0, 9)
    );
    assert!(out.progress_events >= 9 + expected.len());
    let ua = requests[0].user_agent.clone().unwrap_or_default();
    assert!(ua.starts_with("sofleet/"), "user agent {ua:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_pipeline_on_threads_backend() {
    full_pipeline(Client::new(ThreadsBackend::new(4).with_resources(worker()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_pipeline_on_tokio_backend() {
    full_pipeline(Client::new(TokioBackend::new().with_resources(worker()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_survive_serialization() {
    let mut registry = TaskRegistry::new();
    registry
        .register::<RobotsTask>()
        .register::<ListingTask>()
        .register::<QuestionTask>();
    let client = Client::new(ThreadsBackend::serialized(2, registry).with_resources(worker()));
    let site = MockSite::start(site_config()).await;
    let plan = CrawlPlan::new(["dask"], "newest", 2..=2);
    let (out, _) = run(&client, &crawl_config(&site), &plan).await;
    assert!(out.failures.is_empty(), "{:#?}", out.failures);
    let ids: BTreeSet<u64> = out.questions.iter().map(|q| q.question.id).collect();
    assert_eq!(
        ids,
        site.expected_listing("dask", "newest", 2, 15)
            .into_iter()
            .collect()
    );
}

#[tokio::test]
async fn invalid_input_is_a_clear_error() {
    let client = Client::new(ThreadsBackend::new(1).with_resources(worker()));
    let config = CrawlConfig::for_local_site("http://127.0.0.1:9");
    let err = crawl(
        &client,
        &config,
        &CrawlPlan::new(["dask"], "hot", 1..=1),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("sort"), "{err}");
    let err = crawl(
        &client,
        &config,
        &CrawlPlan::new(Vec::<String>::new(), "votes", 1..=1),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("tag"), "{err}");
    let bad = CrawlConfig {
        max_concurrency_per_host: 0,
        ..config
    };
    let err = crawl(
        &client,
        &bad,
        &CrawlPlan::new(["dask"], "votes", 1..=1),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("max_concurrency_per_host"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_titles_serial_and_parallel_agree() {
    let site = MockSite::start(site_config()).await;
    let config = crawl_config(&site);
    let serial = sofleet_crawl::fetch_titles(None, &config, 1..=3)
        .await
        .unwrap();
    let client = Client::new(ThreadsBackend::new(3).with_resources(worker()));
    let parallel = sofleet_crawl::fetch_titles(Some(&client), &config, 1..=3)
        .await
        .unwrap();
    let titles = |pages: &[Result<sofleet_crawl::ListingResult, FailureRecord>]| {
        pages
            .iter()
            .map(|p| p.as_ref().expect("page fetched").titles.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&serial), titles(&parallel));
    for (i, page) in titles(&serial).iter().enumerate() {
        let want: Vec<String> = site
            .content()
            .all_listing_ids("newest", i as u32 + 1, 15)
            .into_iter()
            .map(|id| site.content().expected_entry(id).unwrap().title)
            .collect();
        assert_eq!(page, &want);
        assert_eq!(page.len(), 15);
    }
    // Past the last page: a failure row, not an error or a panic.
    let past = sofleet_crawl::fetch_titles(None, &config, 500..=500)
        .await
        .unwrap();
    let f = past[0].as_ref().unwrap_err();
    assert_eq!((f.kind, f.http_status), (FailureKind::NotFound, Some(404)));
}
