//! Criterion benchmark `executor`: the futures API of `sofleet-executor` beside the raw
//! primitive each backend wraps.
//!
//! * `submit_gather_100k`: submit 100,000 no-op tasks and gather them — tokio backend vs a raw
//!   tokio `JoinSet`, threads backend vs a plain channel-fed thread pool; `executor_macro/*` is
//!   the same no-op made by `#[sofleet::task]` (its argument an `Input<u64>`) beside the
//!   hand-written `impl Task`.
//! * `submit_one_by_one_100k`: the same 100,000 no-ops, submitted one `submit` call at a time
//!   (compare with `submit_gather_100k`, which uses `map`).
//! * `submit_lone`: the latency of one submit awaited before the next.
//! * `dependency_chain_1000`: a chain of 1,000 tasks, each taking the previous output — vs a
//!   chain of awaited `tokio::spawn`s; `executor_macro/*` passes the previous future as the
//!   argument of a `#[sofleet::task]` (`client.submit(inc(&previous))`) instead of
//!   `submit_after` + `ctx.input(0)`.
//! * `as_completed_100k`: consume 100,000 futures in completion order — vs `JoinSet::join_next`.
//! * `map_bounded_100k`: the backpressured map with 256 in flight.
//!
//! Run: `cargo bench -p sofleet-benches --features executor --bench executor`.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use sofleet_executor::serde::{Deserialize, Serialize};
use sofleet_executor::{
    Client, Errors, SubmitOptions, Task, TaskContext, TaskError, ThreadsBackend, TokioBackend,
    as_completed, gather,
};

const N: u64 = 100_000;
const CHAIN: u64 = 1_000;
const THREADS: usize = 2;

/// A no-op task (impure: no hashing, like a plain spawn).
#[derive(Serialize, Deserialize)]
#[serde(crate = "sofleet_executor::serde")]
struct Noop {
    i: u64,
}

impl Task for Noop {
    type Output = u64;
    const NAME: &'static str = "noop";
    const PURE: bool = false;
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(self.i)
    }
}

/// The same no-op, pure (content key hashed at submit).
#[derive(Serialize, Deserialize)]
#[serde(crate = "sofleet_executor::serde")]
struct PureNoop {
    i: u64,
}

impl Task for PureNoop {
    type Output = u64;
    const NAME: &'static str = "pure-noop";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(self.i)
    }
}

/// Adds one to its dependency's output.
#[derive(Serialize, Deserialize)]
#[serde(crate = "sofleet_executor::serde")]
struct Inc {}

impl Task for Inc {
    type Output = u64;
    const NAME: &'static str = "inc";
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(ctx.input::<u64>(0)? + 1)
    }
}

/// The no-op made from a function (impure, like [`Noop`]).
#[sofleet::task(pure = false)]
async fn noop(i: u64) -> Result<u64, TaskError> {
    Ok(i)
}

/// [`Inc`] made from a function: the previous output arrives as the argument.
#[sofleet::task]
async fn inc(x: u64) -> Result<u64, TaskError> {
    Ok(x + 1)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The raw thread-pool baseline: `THREADS` threads fed jobs by a channel, results back by a
/// channel.
struct PlainPool {
    tx: Option<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl PlainPool {
    fn new(n: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let rx = Arc::new(Mutex::new(rx));
        let workers = (0..n)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    loop {
                        let job = rx.lock().unwrap().recv();
                        match job {
                            Ok(f) => f(),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        PlainPool {
            tx: Some(tx),
            workers,
        }
    }

    fn run_all(&self, n: u64) -> u64 {
        let (rtx, rrx) = mpsc::channel::<u64>();
        let tx = self.tx.as_ref().unwrap();
        for i in 0..n {
            let rtx = rtx.clone();
            tx.send(Box::new(move || {
                let _ = rtx.send(i);
            }))
            .unwrap();
        }
        drop(rtx);
        rrx.iter().sum()
    }
}

impl Drop for PlainPool {
    fn drop(&mut self) {
        self.tx.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// The raw primitive: `N` no-op tokio tasks in a `JoinSet`, each output handed to `seen` as it
/// completes.
async fn joinset_noops(mut seen: impl FnMut(u64)) {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..N {
        set.spawn(async move { i });
    }
    while let Some(r) = set.join_next().await {
        seen(r.unwrap());
    }
}

fn submit_gather(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("submit_gather_100k");
    g.throughput(Throughput::Elements(N));

    g.bench_function(BenchmarkId::new("baseline", "tokio_joinset"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut sum = 0;
                joinset_noops(|v| sum += v).await;
                sum
            })
        })
    });

    let tokio_client = rt.block_on(async { Client::new(TokioBackend::new()) });
    g.bench_function(BenchmarkId::new("executor", "tokio"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let fs = tokio_client.map((0..N).map(|i| Noop { i }));
                gather(fs, Errors::Raise).await.unwrap().len()
            })
        })
    });
    g.bench_function(BenchmarkId::new("executor_macro", "tokio"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let fs = tokio_client.map((0..N).map(noop));
                gather(fs, Errors::Raise).await.unwrap().len()
            })
        })
    });
    g.bench_function(BenchmarkId::new("executor", "tokio_pure_keys"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let fs = tokio_client.map((0..N).map(|i| PureNoop { i }));
                gather(fs, Errors::Raise).await.unwrap().len()
            })
        })
    });

    let pool = PlainPool::new(THREADS);
    g.bench_function(BenchmarkId::new("baseline", "channel_thread_pool"), |b| {
        b.iter(|| pool.run_all(N))
    });
    drop(pool);

    let threads_client = Client::new(ThreadsBackend::new(THREADS));
    g.bench_function(BenchmarkId::new("executor", "threads"), |b| {
        b.iter(|| {
            let fs = threads_client.map((0..N).map(|i| Noop { i }));
            futures::executor::block_on(gather(fs, Errors::Raise))
                .unwrap()
                .len()
        })
    });
    g.bench_function(BenchmarkId::new("executor_macro", "threads"), |b| {
        b.iter(|| {
            let fs = threads_client.map((0..N).map(noop));
            futures::executor::block_on(gather(fs, Errors::Raise))
                .unwrap()
                .len()
        })
    });
    g.finish();
}

fn submit_one_by_one(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("submit_one_by_one_100k");
    g.throughput(Throughput::Elements(N));

    let tokio_client = rt.block_on(async { Client::new(TokioBackend::new()) });
    g.bench_function(BenchmarkId::new("executor", "tokio"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let fs: Vec<_> = (0..N).map(|i| tokio_client.submit(Noop { i })).collect();
                gather(fs, Errors::Raise).await.unwrap().len()
            })
        })
    });

    let threads_client = Client::new(ThreadsBackend::new(THREADS));
    g.bench_function(BenchmarkId::new("executor", "threads"), |b| {
        b.iter(|| {
            let fs: Vec<_> = (0..N).map(|i| threads_client.submit(Noop { i })).collect();
            futures::executor::block_on(gather(fs, Errors::Raise))
                .unwrap()
                .len()
        })
    });
    g.finish();

    // One submit awaited before the next: what a lone task pays.
    let mut g = c.benchmark_group("submit_lone");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("executor", "tokio"), |b| {
        b.iter(|| rt.block_on(async { tokio_client.submit(Noop { i: 1 }).await.unwrap() }))
    });
    g.bench_function(BenchmarkId::new("executor", "threads"), |b| {
        b.iter(|| futures::executor::block_on(threads_client.submit(Noop { i: 1 })).unwrap())
    });
    g.finish();
}

fn dependency_chain(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("dependency_chain_1000");
    g.throughput(Throughput::Elements(CHAIN));

    g.bench_function(BenchmarkId::new("baseline", "awaited_tokio_spawns"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut v = 0u64;
                for _ in 0..CHAIN {
                    v = tokio::spawn(async move { v + 1 }).await.unwrap();
                }
                v
            })
        })
    });

    let tokio_client = rt.block_on(async { Client::new(TokioBackend::new()) });
    let threads_client = Client::new(ThreadsBackend::new(THREADS));
    for (name, client) in [("tokio", &tokio_client), ("threads", &threads_client)] {
        g.bench_function(BenchmarkId::new("executor", name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut prev = client.submit_with(Noop { i: 0 }, SubmitOptions::new());
                    for _ in 1..CHAIN {
                        prev = client.submit_after(&[prev.erase()], Inc {}, SubmitOptions::new());
                    }
                    prev.await.unwrap()
                })
            })
        });
        g.bench_function(BenchmarkId::new("executor_macro", name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut prev = client.submit(noop(0));
                    for _ in 1..CHAIN {
                        prev = client.submit(inc(&prev));
                    }
                    prev.await.unwrap()
                })
            })
        });
    }
    g.finish();
}

fn as_completed_bench(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("as_completed_100k");
    g.throughput(Throughput::Elements(N));

    g.bench_function(BenchmarkId::new("baseline", "joinset_join_next"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut n = 0;
                joinset_noops(|_| n += 1).await;
                n
            })
        })
    });

    let tokio_client = rt.block_on(async { Client::new(TokioBackend::new()) });
    let threads_client = Client::new(ThreadsBackend::new(THREADS));
    for (name, client) in [("tokio", &tokio_client), ("threads", &threads_client)] {
        g.bench_function(BenchmarkId::new("executor", name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut ac = as_completed(client.map((0..N).map(|i| Noop { i })));
                    let mut n = 0;
                    while let Some((_f, r)) = ac.next().await {
                        r.unwrap();
                        n += 1;
                    }
                    n
                })
            })
        });
    }
    g.bench_function(BenchmarkId::new("executor_map_bounded_256", "tokio"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut s =
                    tokio_client.map_bounded((0..N).map(|i| Noop { i }), 256, SubmitOptions::new());
                let mut n = 0;
                while let Some(r) = s.next().await {
                    r.unwrap();
                    n += 1;
                }
                n
            })
        })
    });
    g.finish();
}

/// Reads a dashboard's live stream (`/api/events`) and throws it away, as an open page does.
async fn watch_events(addr: std::net::SocketAddr) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let request = format!("GET /api/events HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

/// The no-op `map` with and without a dashboard attached (its monitor recording every task,
/// its default two updates a second, and a page reading the live stream). Each watched
/// client gets its dashboard when its benchmark starts and loses it when it ends, so a plain
/// run never shares the machine with a dashboard.
fn with_dashboard(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("dashboard_100k");
    g.throughput(Throughput::Elements(N));
    let clients = [
        (
            "tokio",
            rt.block_on(async { Client::new(TokioBackend::new()) }),
        ),
        (
            "tokio_dashboard",
            rt.block_on(async { Client::new(TokioBackend::new()) }),
        ),
        ("threads", Client::new(ThreadsBackend::new(THREADS))),
        (
            "threads_dashboard",
            Client::new(ThreadsBackend::new(THREADS)),
        ),
    ];
    for (name, client) in &clients {
        let mut dashboard = None;
        g.bench_function(BenchmarkId::new("executor", name), |b| {
            if name.ends_with("_dashboard") && dashboard.is_none() {
                dashboard = Some(rt.block_on(async {
                    let handle = sofleet_dashboard::Dashboard::for_client(client)
                        .serve("127.0.0.1:0".parse().unwrap())
                        .await
                        .unwrap();
                    tokio::spawn(watch_events(handle.addr()));
                    handle
                }));
            }
            b.iter(|| {
                rt.block_on(async {
                    let fs = client.map((0..N).map(|i| Noop { i }));
                    gather(fs, Errors::Raise).await.unwrap().len()
                })
            })
        });
        if let Some(handle) = dashboard {
            rt.block_on(handle.shutdown());
        }
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = submit_gather, submit_one_by_one, dependency_chain, as_completed_bench, with_dashboard
}
criterion_main!(benches);
