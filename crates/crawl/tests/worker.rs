//! The crawl worker: its policy refuses what a job may not ask for (before any request), it
//! keeps a bounded number of runs, and with a shared budget every request takes a slot of it
//! (falling back to a slower local limit when the budget is unreachable). Against a real
//! HTTP server (wiremock on 127.0.0.1).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sofleet_crawl::{
    CrawlConfig, CrawlOutput, CrawlWorker, FALLBACK_SLOWDOWN, MAX_RUNS_KEPT, QuestionTask,
    RobotsTask, SharedBudget, WorkerPolicy,
};
use sofleet_executor::{TaskContext, TaskKey};
use sofleet_records::FailureKind;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers 404 to everything and logs when each request arrived.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Instant>>>);

impl Respond for Arrivals {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(404)
    }
}

async fn server() -> MockServer {
    server_logging(Arrivals::default()).await
}

async fn server_logging(arrivals: Arrivals) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(arrivals)
        .mount(&server)
        .await;
    server
}

fn job(server: &MockServer) -> CrawlConfig {
    CrawlConfig {
        requests_per_second: Some(50.0),
        ..CrawlConfig::for_local_site(&server.uri())
    }
}

fn ctx(worker: CrawlWorker) -> TaskContext {
    TaskContext::new(TaskKey::new("worker-test"), 0, Vec::new())
        .with_resources(worker.into_resources())
}

fn loopback_policy() -> WorkerPolicy {
    WorkerPolicy::new(["127.0.0.1"])
}

/// Runs a question task for `config` on a worker with `policy`; returns its failure row.
async fn refused(server: &MockServer, policy: WorkerPolicy, config: CrawlConfig) -> String {
    let task = QuestionTask {
        config,
        run_id: 1,
        url: format!("{}/questions/1/q", server.uri()),
    };
    let report = task.execute(&ctx(CrawlWorker::new(policy).unwrap())).await;
    let CrawlOutput::Failed(row) = report.output else {
        panic!("the worker ran a job its policy forbids: {report:?}");
    };
    assert_eq!(row.kind, FailureKind::WorkerRefused, "{row:?}");
    assert_eq!(row.attempts, 0);
    row.message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cannot_steer_the_worker() {
    let server = server().await;
    // Another host.
    let message = refused(
        &server,
        WorkerPolicy::new(["stackoverflow.com"]),
        job(&server),
    )
    .await;
    assert!(
        message.contains("only crawls stackoverflow.com") && message.contains("127.0.0.1"),
        "{message}"
    );
    // Skipping robots.txt.
    let skip = CrawlConfig {
        ignore_robots: true,
        ..job(&server)
    };
    let message = refused(&server, loopback_policy(), skip.clone()).await;
    assert!(message.contains("--ignore-robots"), "{message}");
    // A worker started with --ignore-robots lets the job skip it.
    let mut lenient = loopback_policy();
    lenient.ignore_robots = true;
    assert!(lenient.admit(&skip).is_ok());
    // A cache directory anywhere the worker can write.
    let message = refused(
        &server,
        loopback_policy(),
        CrawlConfig {
            cache_dir: Some("/tmp/somewhere".into()),
            ..job(&server)
        },
    )
    .await;
    assert!(
        message.contains("cache directory /tmp/somewhere"),
        "{message}"
    );
    // Redirects to a host the worker does not crawl.
    let message = refused(
        &server,
        loopback_policy(),
        CrawlConfig {
            redirect_hosts: vec!["internal.example".into()],
            ..job(&server)
        },
    )
    .await;
    assert!(message.contains("internal.example"), "{message}");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a refused job made a request"
    );
}

#[test]
fn the_worker_caps_what_a_job_asks_within_its_limits() {
    let mut policy = WorkerPolicy::new(["example.org:8080"]);
    policy.max_body_bytes = 1000;
    policy.timeout = Duration::from_millis(2000);
    policy.max_requests_per_second = Some(2.0);
    policy.cache_dir = Some("/var/cache/worker".into());
    let asked = CrawlConfig {
        base_url: "http://example.org:8080".into(),
        requests_per_second: None,
        max_body_bytes: 1 << 30,
        timeout: Duration::from_millis(60_000),
        ..CrawlConfig::default()
    };
    let got = policy.admit(&asked).unwrap();
    assert_eq!(got.max_body_bytes, 1000);
    assert_eq!(got.timeout, Duration::from_millis(2000));
    assert_eq!(
        got.requests_per_second,
        Some(2.0),
        "no limit asked: the worker's"
    );
    assert_eq!(got.cache_dir, Some("/var/cache/worker".into()));
    let slower = CrawlConfig {
        requests_per_second: Some(0.5),
        ..asked.clone()
    };
    assert_eq!(
        policy.admit(&slower).unwrap().requests_per_second,
        Some(0.5)
    );
    // `host:port` entries allow that port only.
    let other_port = CrawlConfig {
        base_url: "http://example.org:9090".into(),
        ..asked
    };
    assert!(policy.admit(&other_port).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serving_many_runs_keeps_a_bounded_number() {
    let server = server().await;
    let worker = Arc::new(CrawlWorker::new(loopback_policy()).unwrap());
    let config = job(&server);
    for run_id in 0..(MAX_RUNS_KEPT as u64 * 5) {
        worker.fetcher(&config, run_id).unwrap();
        assert!(worker.runs_kept() <= MAX_RUNS_KEPT);
    }
    assert_eq!(worker.runs_kept(), MAX_RUNS_KEPT);
    worker.release(MAX_RUNS_KEPT as u64 * 5 - 1);
    assert_eq!(worker.runs_kept(), MAX_RUNS_KEPT - 1);
}

/// A budget in memory that logs every reservation and pause, or fails every call.
#[derive(Default)]
struct RecordingBudget {
    unreachable: bool,
    reservations: Mutex<Vec<(String, Duration)>>,
    pauses: Mutex<Vec<(String, Duration)>>,
    raised: Mutex<Vec<(String, Duration)>>,
    next_free_us: AtomicU64,
}

impl SharedBudget for RecordingBudget {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
    ) -> BoxFuture<'a, Result<Duration, String>> {
        Box::pin(async move {
            if self.unreachable {
                return Err("connection refused".to_owned());
            }
            self.reservations
                .lock()
                .unwrap()
                .push((key.to_owned(), interval));
            self.next_free_us
                .fetch_add(interval.as_micros() as u64, Ordering::SeqCst);
            Ok(Duration::ZERO)
        })
    }

    fn raise_interval<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.raised.lock().unwrap().push((key.to_owned(), interval));
            Ok(())
        })
    }

    fn pause<'a>(&'a self, key: &'a str, pause: Duration) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.pauses.lock().unwrap().push((key.to_owned(), pause));
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_takes_a_slot_of_the_shared_budget_keyed_by_host_and_source() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/questions/2/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let budget = Arc::new(RecordingBudget::default());
    let mut policy = loopback_policy();
    policy.local_address = Some("127.0.0.1".parse().unwrap());
    let worker = CrawlWorker::new(policy)
        .unwrap()
        .with_budget(budget.clone());
    let ctx = ctx(worker);
    let config = job(&server);
    let robots = RobotsTask {
        config: config.clone(),
        run_id: 3,
    }
    .execute(&ctx)
    .await;
    assert_eq!(robots.output, CrawlOutput::Robots);
    let limited = QuestionTask {
        config,
        run_id: 3,
        url: format!("{}/questions/2/limited", server.uri()),
    }
    .execute(&ctx)
    .await;
    // 429 then 404: a not-found row, after the site's pause was shared with the fleet.
    let CrawlOutput::Failed(row) = limited.output else {
        panic!("{limited:?}");
    };
    assert_eq!(row.kind, FailureKind::NotFound, "{row:?}");
    let host = server.uri().trim_start_matches("http://").to_owned();
    let key = format!("to={host}|from=127.0.0.1");
    let reservations = budget.reservations.lock().unwrap().clone();
    assert_eq!(
        reservations.len(),
        server.received_requests().await.unwrap().len(),
        "one slot per request"
    );
    assert!(
        reservations
            .iter()
            .all(|(k, i)| *k == key && *i >= Duration::from_millis(20)),
        "{reservations:?}"
    );
    let pauses = budget.pauses.lock().unwrap().clone();
    assert_eq!(pauses, vec![(key, Duration::from_secs(1))]);
    // The report carries the worker's counters for the run.
    assert_eq!(limited.worker.stats.too_many_requests, 1);
    assert_eq!(limited.worker.source, "127.0.0.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_delay_learned_by_one_worker_raises_the_shared_interval() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/robots.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string("User-agent: *\nCrawl-delay: 1\n"))
        .mount(&server)
        .await;
    let budget = Arc::new(RecordingBudget::default());
    let worker = CrawlWorker::new(loopback_policy())
        .unwrap()
        .with_budget(budget.clone());
    let ctx = ctx(worker);
    let robots = RobotsTask {
        config: job(&server),
        run_id: 5,
    }
    .execute(&ctx)
    .await;
    assert_eq!(robots.output, CrawlOutput::Robots);
    // Shared in the background: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while budget.raised.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let raised = budget.raised.lock().unwrap().clone();
    assert_eq!(raised.len(), 1, "{raised:?}");
    // One second plus the jitter margin, never less than the site asked for.
    assert!(
        raised[0].1 >= Duration::from_secs(1) && raised[0].1 <= Duration::from_millis(1_030),
        "{raised:?}"
    );
    // The robots.txt request itself took a slot at the job's rate (50/s).
    let reservations = budget.reservations.lock().unwrap().clone();
    assert_eq!(reservations.len(), 1, "{reservations:?}");
    assert_eq!(reservations[0].0, raised[0].0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_budget_falls_back_to_a_slower_local_limit_never_to_none() {
    let arrivals = Arrivals::default();
    let server = server_logging(arrivals.clone()).await;
    let budget = Arc::new(RecordingBudget {
        unreachable: true,
        ..RecordingBudget::default()
    });
    let worker = CrawlWorker::new(loopback_policy())
        .unwrap()
        .with_budget(budget);
    let ctx = ctx(worker);
    let config = CrawlConfig {
        requests_per_second: Some(40.0),
        ..job(&server)
    };
    for id in 0..4 {
        let report = QuestionTask {
            config: config.clone(),
            run_id: 4,
            url: format!("{}/questions/{id}/q", server.uri()),
        }
        .execute(&ctx)
        .await;
        assert!(
            matches!(report.output, CrawlOutput::Failed(ref r) if r.kind == FailureKind::NotFound)
        );
    }
    // robots.txt + 4 pages, each at least 4 x 25 ms after the previous (the gaps between
    // arrivals at the server).
    let arrivals = arrivals.0.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 5);
    let slow = Duration::from_millis(25) * FALLBACK_SLOWDOWN;
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= slow - Duration::from_millis(5),
            "requests {:?} apart while the budget was unreachable (fallback {slow:?})",
            pair[1] - pair[0]
        );
    }
}
