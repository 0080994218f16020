//! Criterion benchmark `redis`: remote execution through a real `redis-server` (started on a
//! free loopback port) with 2 local workers (`sofleet_redis::run_worker` on their own runtime).
//!
//! * `redis/noop_throughput/N`: N no-op tasks submitted through the executor `Client` and
//!   gathered; criterion reports tasks/s (target >= 10,000/s).
//! * `redis/noop_one_by_one/N`: the same N tasks submitted one `client.submit` at a time (the
//!   way a loop over results submits), beside `map` (issue #19: within 1.5x of it).
//! * `redis/round_trip_latency`: one task submitted and awaited (target <= 1 ms).
//! * `redis_budget/reserve`: one `RateBudget::reserve` round trip (the fleet-wide politeness
//!   budget's overhead per request; target <= 1 ms).
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sofleet_executor::{Client, Errors, TaskRegistry, gather};
use sofleet_redis::testing::RedisServer;
use sofleet_redis::testing::tasks::{self, Noop};
use sofleet_redis::{RateBudget, RedisBackend, RedisOptions, WorkerOptions, run_worker};

const WORKERS: usize = 2;
const BATCH: u64 = 2_000;

fn bench_redis(c: &mut Criterion) {
    let server = RedisServer::start().expect("start redis-server (is it installed?)");
    let url = server.url();

    // Two workers on their own runtime, like two worker processes on this machine.
    let worker_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stop_tx, _) = tokio::sync::watch::channel(false);
    let mut worker_handles = Vec::new();
    for i in 0..WORKERS {
        let mut opts = WorkerOptions::new(url.clone());
        opts.consumer_name = Some(format!("bench-{i}"));
        opts.concurrency = 512;
        opts.batch_size = 512;
        let mut registry = TaskRegistry::new();
        tasks::register_all(&mut registry);
        let mut stop = stop_tx.subscribe();
        worker_handles.push(worker_rt.spawn(run_worker(opts, registry, async move {
            let _ = stop.wait_for(|s| *s).await;
        })));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(async {
        let backend = RedisBackend::connect(&url, RedisOptions::default())
            .await
            .expect("connect");
        while backend.live_workers().await.unwrap().len() < WORKERS {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Client::new(backend)
    });

    let mut group = c.benchmark_group("redis");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function(format!("noop_throughput/{BATCH}"), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let client = &client;
            async move {
                let start = Instant::now();
                for i in 0..iters {
                    let futures = client.map((0..BATCH).map(|n| Noop { n: n + i }));
                    let values = gather(futures, Errors::Raise).await.expect("noop tasks");
                    assert_eq!(values.len() as u64, BATCH);
                }
                start.elapsed()
            }
        })
    });
    group.bench_function(format!("noop_one_by_one/{BATCH}"), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let client = &client;
            async move {
                let start = Instant::now();
                for i in 0..iters {
                    let futures: Vec<_> = (0..BATCH)
                        .map(|n| {
                            client.submit(Noop {
                                n: n + i + 1_000_000,
                            })
                        })
                        .collect();
                    let values = gather(futures, Errors::Raise).await.expect("noop tasks");
                    assert_eq!(values.len() as u64, BATCH);
                }
                start.elapsed()
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("round_trip_latency", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let client = &client;
            async move {
                let start = Instant::now();
                for i in 0..iters {
                    let v = client
                        .submit(Noop { n: i })
                        .value()
                        .await
                        .expect("noop task");
                    assert_eq!(v, i);
                }
                start.elapsed()
            }
        })
    });
    group.finish();

    rt.block_on(async { client.shutdown().await.expect("shutdown") });
    let _ = stop_tx.send(true);
    worker_rt.block_on(async {
        for h in worker_handles {
            let _ = h.await;
        }
    });
    drop(server);
}

fn bench_budget(c: &mut Criterion) {
    let server = RedisServer::start().expect("start redis-server (is it installed?)");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let budget = RateBudget::new(&server.url(), "bench", None).expect("open budget");
    // An interval far below the round trip, so every reservation is "send now".
    let interval = Duration::from_micros(1);
    rt.block_on(budget.reserve("warm-up", interval))
        .expect("reserve");

    let mut group = c.benchmark_group("redis_budget");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    group.bench_function("reserve", |b| {
        b.to_async(&rt).iter(|| async {
            budget
                .reserve("example.org|127.0.0.1", interval)
                .await
                .expect("reserve")
        })
    });
    group.finish();
    drop(budget);
    drop(server);
}

criterion_group!(benches, bench_redis, bench_budget);
criterion_main!(benches);
