//! The whole pipeline as executor tasks against the mock site (offline, 127.0.0.1).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use sofleet_crawl::{
    CrawlConfig, CrawlEvent, CrawlPlan, CrawlResume, CrawlSummary, ListingTask, QuestionTask,
    RetryConfig, RobotsTask, StopFlag, crawl, crawl_resume, crawl_until,
};
use sofleet_executor::{Client, TaskRegistry, ThreadsBackend, TokioBackend};
use sofleet_mock_so::{Faults, MockSite, MockSiteConfig, RateLimit};
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord, Stage};

const TAGS: [&str; 3] = ["python", "dask", "pandas"];

fn site_config() -> MockSiteConfig {
    MockSiteConfig {
        pages_per_tag: 4,
        questions_per_tag: Some(60),
        // The tests read the site's request log.
        record_requests: true,
        ..MockSiteConfig::default()
    }
}

/// A crawl worker for the mock sites on 127.0.0.1 (it lets jobs skip robots.txt; no cache).
fn worker() -> sofleet_executor::Resources {
    let mut policy = sofleet_crawl::WorkerPolicy::new(["127.0.0.1"]);
    policy.ignore_robots = true;
    sofleet_crawl::CrawlWorker::new(policy)
        .unwrap()
        .into_resources()
}

fn crawl_config(site: &MockSite) -> CrawlConfig {
    CrawlConfig {
        retry: RetryConfig {
            max_attempts: 4,
            initial_backoff_ms: 10,
            max_backoff_ms: 100,
        },
        ..CrawlConfig::for_local_site(&site.base_url())
    }
}

#[derive(Default)]
struct Collected {
    questions: Vec<CrawledQuestion>,
    failures: Vec<FailureRecord>,
    progress_events: usize,
}

async fn run(client: &Client, config: &CrawlConfig, plan: &CrawlPlan) -> (Collected, CrawlSummary) {
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
fn expected_ids(site: &MockSite, plan: &CrawlPlan) -> BTreeMap<u64, (String, u32)> {
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

fn assert_matches_site(site: &MockSite, got: &CrawledQuestion) {
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

fn question_requests(requests: &[sofleet_mock_so::RecordedRequest]) -> HashMap<u64, usize> {
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
        captcha_pause_ms: 400,
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
