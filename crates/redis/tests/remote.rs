//! Remote execution through a real redis-server and real worker processes, driven by the
//! executor's `Client` (the client API is unchanged on this backend).

mod common;

use std::time::Duration;

use common::*;
use serde::{Deserialize, Serialize};
use sofleet_executor::backend::{JobOutcome, JobValue};
use sofleet_executor::{
    Backend, Client, Errors, ExecError, SubmitOptions, Task, TaskContext, TaskError, gather,
};
use sofleet_redis::testing::tasks::{Fail, Noop, Panic, Sleep, Square, SumInputs};
use sofleet_redis::{RedisBackend, RedisError, WorkerOptions, run_worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_and_dependencies_run_on_worker_processes() {
    let server = redis();
    let _w1 = WorkerProc::start(&server.url(), "w1", &[]);
    let _w2 = WorkerProc::start(&server.url(), "w2", &[]);
    let backend = backend(&server.url()).await;
    wait_workers(&backend, 2).await;
    let client = Client::new(backend);
    assert_eq!(client.backend_name(), "redis");
    client.ready().await.expect("ready");

    let squares = client.map((0..40).map(|x| Square { x }));
    let values = gather(squares.clone(), Errors::Raise)
        .await
        .expect("squares");
    assert_eq!(values, (0..40).map(|x| x * x).collect::<Vec<i64>>());

    // Futures as arguments: the sum runs on a worker with the squares' outputs as inputs,
    // and a chain of dependents crosses the fleet several times.
    let deps: Vec<_> = squares[1..5].iter().map(|f| f.erase()).collect();
    let sum = client.submit_after(&deps, SumInputs { extra: 100 }, SubmitOptions::new());
    assert_eq!(sum.value().await.unwrap(), 100 + 1 + 4 + 9 + 16);
    let mut last = sum.clone();
    for i in 0..5 {
        last = client.submit_after(
            &[last.erase()],
            SumInputs { extra: i },
            SubmitOptions::new(),
        );
    }
    assert_eq!(last.value().await.unwrap(), 130 + 10);
    client.shutdown().await.expect("shutdown");
}

/// A task type the workers do not know.
#[derive(Serialize, Deserialize)]
struct NotRegistered {
    x: u32,
}

impl Task for NotRegistered {
    type Output = u32;
    const NAME: &'static str = "redis-test-not-registered";
    async fn run(self, _ctx: TaskContext) -> Result<u32, TaskError> {
        Ok(self.x)
    }
}

/// Same name as `Square` on the workers, but a payload `Square` cannot deserialise.
#[derive(Serialize, Deserialize)]
struct WrongSquare {
    x: String,
}

impl Task for WrongSquare {
    type Output = i64;
    const NAME: &'static str = "redis-test-square";
    async fn run(self, _ctx: TaskContext) -> Result<i64, TaskError> {
        Ok(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jobs_fail_alone_and_the_worker_survives() {
    let server = redis();
    let mut worker = WorkerProc::start(&server.url(), "solo", &[]);
    let backend = backend(&server.url()).await;
    wait_workers(&backend, 1).await;
    let client = Client::new(backend);

    let unknown = client
        .submit(NotRegistered { x: 1 })
        .value()
        .await
        .unwrap_err();
    let msg = unknown.to_string();
    assert!(matches!(unknown, ExecError::Backend(_)), "{unknown:?}");
    assert!(
        msg.contains("unknown task type redis-test-not-registered v1"),
        "{msg}"
    );

    let bad = client
        .submit(WrongSquare { x: "seven".into() })
        .value()
        .await
        .unwrap_err();
    let msg = bad.to_string();
    assert!(msg.contains("cannot deserialise payload"), "{msg}");

    let failed = client
        .submit(Fail {
            message: "no such page".into(),
            retryable: false,
        })
        .value()
        .await
        .unwrap_err();
    assert!(
        matches!(&failed, ExecError::Task { message, .. } if message == "no such page"),
        "{failed:?}"
    );

    let panicked = client
        .submit(Panic {
            message: "kaboom".into(),
        })
        .value()
        .await
        .unwrap_err();
    assert!(
        matches!(&panicked, ExecError::Panicked { message, .. } if message.contains("kaboom")),
        "{panicked:?}"
    );

    // Closures cannot cross processes: refused on the client with a clear error.
    let closure = client
        .submit_fn("local-closure", || 5_u32)
        .value()
        .await
        .unwrap_err();
    let msg = closure.to_string();
    assert!(msg.contains("local closure task"), "{msg}");

    // The same worker process is still alive and serving.
    assert_eq!(client.submit(Square { x: 12 }).value().await.unwrap(), 144);
    assert!(!worker.exited(), "the worker crashed on a bad job");
    let stats = worker.terminate();
    assert_eq!(stats.completed, 5, "{stats:?}");
    assert_eq!(stats.failed, 4, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_sharing_redis_and_fleet_get_only_their_own_results() {
    let server = redis();
    let _w1 = WorkerProc::start(&server.url(), "w1", &["--concurrency", "8"]);
    let _w2 = WorkerProc::start(&server.url(), "w2", &["--concurrency", "8"]);
    let a = Client::new(backend(&server.url()).await);
    let b = Client::new(backend(&server.url()).await);
    // Both clients number their jobs from the same start, so leaked replies would be
    // attributed to the wrong futures.
    let fa = a.map((0..60).map(|n| Noop { n }));
    let fb = b.map((0..60).map(|n| Noop { n: 1_000 + n }));
    let (ra, rb) = tokio::join!(gather(fa, Errors::Raise), gather(fb, Errors::Raise));
    assert_eq!(ra.unwrap(), (0..60).collect::<Vec<u64>>());
    assert_eq!(rb.unwrap(), (1_000..1_060).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_workers_come_and_go_with_heartbeats() {
    let server = redis();
    let mut w1 = WorkerProc::start(&server.url(), "alpha", &["--concurrency", "3"]);
    let _w2 = WorkerProc::start(&server.url(), "beta", &[]);
    let backend = backend(&server.url()).await;
    wait_workers(&backend, 2).await;
    let live = backend.live_workers().await.unwrap();
    assert_eq!(
        live.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
        ["alpha", "beta"]
    );
    assert_eq!(live[0].concurrency, 3);
    assert!(
        live[0].tasks.iter().any(|t| t == "redis-test-square v1"),
        "{:?}",
        live[0].tasks
    );
    assert!(live[0].pid > 0 && live[0].heartbeat_ms >= live[0].started_at_ms);

    w1.terminate();
    let live = backend.live_workers().await.unwrap();
    assert_eq!(
        live.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
        ["beta"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_jobs_before_exiting() {
    let server = redis();
    let mut worker = WorkerProc::start(&server.url(), "graceful", &["--concurrency", "4"]);
    let backend = backend(&server.url()).await;
    wait_workers(&backend, 1).await;
    let (seen, sink) = Collector::new();
    backend.attach(sink);
    backend.dispatch(
        (0..4)
            .map(|i| {
                job(
                    i,
                    &Sleep {
                        duration: Duration::from_millis(400),
                        value: i,
                    },
                )
            })
            .collect(),
    );
    seen.wait_started(4).await;
    // The only worker stops while all four jobs run; nobody else could reclaim them within the
    // default 30 s visibility timeout, so their results must come from the stopping worker.
    let stats = worker.terminate();
    assert_eq!(stats.completed, 4, "{stats:?}");
    seen.wait_done(4).await;
    for i in 0..4 {
        assert_eq!(value::<u64>(&seen.outcome(i)), i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limits_fail_the_job_with_a_clear_error() {
    let server = redis();
    // In-process worker with a small limit (the library API the CLI uses).
    let mut wopts = WorkerOptions::new(server.url());
    wopts.max_payload_bytes = 2048;
    let worker = InProcessWorker::start(wopts);

    let mut copts = client_opts();
    copts.max_payload_bytes = 4096;
    let backend = RedisBackend::connect(&server.url(), copts).await.unwrap();
    wait_workers(&backend, 1).await;
    let (seen, sink) = Collector::new();
    backend.attach(sink);
    let big_input = JobValue::Bytes(json(&"x".repeat(3000)).into());
    let huge_input = JobValue::Bytes(json(&"x".repeat(5000)).into());
    backend.dispatch(vec![
        job_with_payload::<SumInputs>(1, json(&SumInputs { extra: 0 }), vec![big_input]),
        job_with_payload::<SumInputs>(2, json(&SumInputs { extra: 0 }), vec![huge_input]),
        job(3, &Square { x: 3 }),
    ]);
    seen.wait_done(3).await;
    let JobOutcome::BackendError(m) = seen.outcome(1) else {
        panic!("{:?}", seen.outcome(1))
    };
    assert!(
        m.contains("WorkerOptions::max_payload_bytes") && m.contains("2048"),
        "{m}"
    );
    let JobOutcome::BackendError(m) = seen.outcome(2) else {
        panic!("{:?}", seen.outcome(2))
    };
    assert!(
        m.contains("RedisOptions::max_payload_bytes") && m.contains("4096"),
        "{m}"
    );
    assert_eq!(value::<i64>(&seen.outcome(3)), 9);

    let stats = worker.stop().await;
    assert_eq!((stats.completed, stats.failed), (2, 1), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_urls_work_and_wrong_passwords_are_clear_errors() {
    let server = sofleet_redis::testing::RedisServer::start_with_password("s3cret").unwrap();
    let _w = WorkerProc::start(&server.url(), "pw", &[]);
    let client = Client::new(backend(&server.url()).await);
    assert_eq!(client.submit(Square { x: 5 }).value().await.unwrap(), 25);

    let wrong = format!("redis://:hunter2@127.0.0.1:{}", server.port());
    let err = RedisBackend::connect(&wrong, client_opts())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RedisError::Connect { .. }), "{msg}");
    assert!(
        msg.contains("password") && !msg.contains("hunter2"),
        "{msg}"
    );
    let err = run_worker(
        WorkerOptions::new(wrong),
        Default::default(),
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RedisError::Connect { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start_is_a_clear_error() {
    let port = sofleet_redis::testing::free_port().unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let mut opts = client_opts();
    opts.connect_timeout = Duration::from_millis(300);
    let err = RedisBackend::connect(&url, opts).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RedisError::Connect { .. }), "{msg}");
    assert!(
        msg.contains(&url) && msg.contains("redis-server is running"),
        "{msg}"
    );

    let mut wopts = WorkerOptions::new(url.clone());
    wopts.connect_timeout = Duration::from_millis(300);
    let err = run_worker(wopts, Default::default(), std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(err, RedisError::Connect { .. }), "{err}");

    // The worker binary reports it and exits non-zero instead of hanging.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sofleet-test-worker"))
        .args(["--redis", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to Redis"));

    let err = RedisBackend::connect("http://localhost", client_opts())
        .await
        .unwrap_err();
    assert!(matches!(err, RedisError::InvalidUrl { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_jobs_are_reported_once_and_not_run() {
    let server = redis();
    let backend = backend(&server.url()).await;
    let (seen, sink) = Collector::new();
    backend.attach(sink);
    // No worker yet: the jobs wait in the stream.
    backend.dispatch((0..3).map(|i| job(i, &Noop { n: i })).collect());
    while backend.in_flight() < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Let the I/O thread send them, then cancel one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    backend.cancel(sofleet_executor::backend::JobId(1));
    assert!(matches!(seen.outcome(1), JobOutcome::Cancelled));
    let _w = WorkerProc::start(&server.url(), "late", &[]);
    seen.wait_done(3).await;
    assert_eq!(value::<u64>(&seen.outcome(0)), 0);
    assert_eq!(value::<u64>(&seen.outcome(2)), 2);
    assert!(matches!(seen.outcome(1), JobOutcome::Cancelled));
    assert!(
        !seen
            .started
            .lock()
            .unwrap()
            .contains(&sofleet_executor::backend::JobId(1))
    );
}
