//! Failure and recovery with real redis-server and worker processes: SIGKILLed workers,
//! jobs that kill every worker, Redis restarted or gone.

mod common;

use std::time::Duration;

use common::*;
use sofleet_executor::Backend;
use sofleet_executor::backend::{Job, JobOutcome};
use sofleet_redis::RedisBackend;
use sofleet_redis::testing::RedisServer;
use sofleet_redis::testing::tasks::{KillWorker, Sleep, Square};

/// A backend reporting into a [`Collector`], once two workers are live.
async fn collecting_backend(url: &str) -> (RedisBackend, std::sync::Arc<Collector>) {
    let backend = backend(url).await;
    wait_workers(&backend, 2).await;
    let (seen, sink) = Collector::new();
    backend.attach(sink);
    (backend, seen)
}

/// `n` sleep jobs (ids 0..n) of `duration` each, job `i` returning `i * scale`.
fn sleeps(n: u64, duration: Duration, scale: u64) -> Vec<Job> {
    (0..n)
        .map(|i| {
            job(
                i,
                &Sleep {
                    duration,
                    value: i * scale,
                },
            )
        })
        .collect()
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_a_worker_mid_run_loses_nothing() {
    let server = redis();
    let fast = ["--concurrency", "4", "--visibility-ms", "600"];
    let mut victim = WorkerProc::start(&server.url(), "victim", &fast);
    let mut survivor = WorkerProc::start(&server.url(), "survivor", &fast);
    let (backend, seen) = collecting_backend(&server.url()).await;
    let n = 40u64;
    backend.dispatch(sleeps(n, Duration::from_millis(150), 10));
    // Both workers are busy (4 slots each) when the victim dies.
    seen.wait_started(8).await;
    victim.kill();
    seen.wait_done(n as usize).await;
    for i in 0..n {
        // Every job completes, once, with its own value.
        assert_eq!(value::<u64>(&seen.outcome(i)), i * 10);
    }
    assert_eq!(backend.in_flight(), 0);
    let stats = survivor.terminate();
    assert!(
        stats.reclaimed >= 1,
        "the victim's jobs were not reclaimed: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_kills_its_workers_fails_after_max_deliveries() {
    let server = redis();
    let args = [
        "--concurrency",
        "2",
        "--visibility-ms",
        "400",
        "--max-deliveries",
        "2",
    ];
    let mut workers: Vec<_> = (0..3)
        .map(|i| WorkerProc::start(&server.url(), &format!("w{i}"), &args))
        .collect();
    let backend = backend(&server.url()).await;
    wait_workers(&backend, 3).await;
    let (seen, sink) = Collector::new();
    backend.attach(sink);
    backend.dispatch(vec![job(1, &KillWorker { n: 1 })]);
    seen.wait_done(1).await;
    let JobOutcome::BackendError(msg) = seen.outcome(1) else {
        panic!("expected a backend error, got {:?}", seen.outcome(1))
    };
    assert!(msg.contains("worker lost 2 times"), "{msg}");
    assert!(msg.contains("redis-test-kill-worker"), "{msg}");
    let dead = workers
        .iter_mut()
        .map(|w| w.exited())
        .filter(|e| *e)
        .count();
    assert_eq!(dead, 2, "exactly two workers ran the job and died");
    // The fleet that is left still works.
    backend.dispatch(vec![job(2, &Square { x: 4 })]);
    seen.wait_done(2).await;
    assert_eq!(value::<i64>(&seen.outcome(2)), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run_recovers_every_job() {
    let mut server = redis();
    let port = server.port();
    let url = server.url();
    let _w1 = WorkerProc::start(&url, "r1", &["--concurrency", "4"]);
    let _w2 = WorkerProc::start(&url, "r2", &["--concurrency", "4"]);
    let (backend, seen) = collecting_backend(&url).await;
    let n = 40u64;
    backend.dispatch(sleeps(n, Duration::from_millis(100), 1));
    seen.wait_done(4).await;
    // Crash Redis (all data lost: jobs, group, replies), then bring it back on the same port.
    server.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _server2 = RedisServer::start_on(port, None).expect("restart redis");
    seen.wait_done(n as usize).await;
    for i in 0..n {
        assert_eq!(value::<u64>(&seen.outcome(i)), i);
    }
    // Workers and client keep working on the new server.
    backend.dispatch(vec![job(100, &Square { x: 7 })]);
    seen.wait_done(n as usize + 1).await;
    assert_eq!(value::<i64>(&seen.outcome(100)), 49);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_gone_for_good_fails_jobs_with_a_clear_error() {
    let mut server = redis();
    let _w = WorkerProc::start(&server.url(), "g1", &[]);
    let mut opts = client_opts();
    opts.reconnect_timeout = Duration::from_millis(800);
    let backend = RedisBackend::connect(&server.url(), opts).await.unwrap();
    wait_workers(&backend, 1).await;
    let (seen, sink) = Collector::new();
    backend.attach(sink);
    backend.dispatch(
        (0..5)
            .map(|i| {
                job(
                    i,
                    &Sleep {
                        duration: Duration::from_millis(3_000),
                        value: i,
                    },
                )
            })
            .collect(),
    );
    seen.wait_started(5).await;
    server.kill();
    seen.wait_done(5).await;
    for i in 0..5 {
        let JobOutcome::BackendError(msg) = seen.outcome(i) else {
            panic!("expected a backend error, got {:?}", seen.outcome(i))
        };
        assert!(msg.contains("lost the connection to Redis"), "{msg}");
    }
    // New work fails too (after the reconnect timeout), instead of hanging.
    backend.dispatch(vec![job(9, &Square { x: 1 })]);
    seen.wait_done(6).await;
    assert!(matches!(seen.outcome(9), JobOutcome::BackendError(_)));
    assert!(backend.ready().await.is_err());
}
