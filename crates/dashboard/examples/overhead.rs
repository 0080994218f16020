//! What a dashboard costs the executor, as fixed work to measure with `perf stat`: 20 rounds
//! of `map` + gather over 100,000 no-op tasks on the tokio or threads backend, plain or with a
//! dashboard attached (default update interval, and a page reading its live stream).
//!
//! ```sh
//! cargo build --release -p sofleet-dashboard --example overhead
//! perf stat -e instructions,task-clock target/release/examples/overhead tokio plain
//! perf stat -e instructions,task-clock target/release/examples/overhead tokio dashboard
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};
use sofleet_executor::{
    Client, Errors, Task, TaskContext, TaskError, ThreadsBackend, TokioBackend, gather,
};

#[derive(Serialize, Deserialize, Clone)]
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

/// Reads the live stream and throws it away, as an open page does.
async fn watch_events(addr: std::net::SocketAddr) {
    let Ok(mut response) = reqwest::get(format!("http://{addr}/api/events")).await else {
        return;
    };
    while let Ok(Some(_)) = response.chunk().await {}
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (backend, mode) = match args.as_slice() {
        [b, m]
            if ["tokio", "threads"].contains(&b.as_str())
                && ["plain", "dashboard"].contains(&m.as_str()) =>
        {
            (b.clone(), m.clone())
        }
        _ => {
            eprintln!("usage: overhead tokio|threads plain|dashboard");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = if backend == "tokio" {
            Client::new(TokioBackend::new())
        } else {
            Client::new(ThreadsBackend::new(2))
        };
        let dashboard = if mode == "dashboard" {
            let handle = sofleet_dashboard::Dashboard::for_client(&client)
                .serve("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            tokio::spawn(watch_events(handle.addr()));
            Some(handle)
        } else {
            None
        };
        let started = Instant::now();
        let rounds = 20;
        for _ in 0..rounds {
            let fs = client.map((0..100_000).map(|i| Noop { i }));
            gather(fs, Errors::Raise).await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{backend} {mode}: {:.0} tasks/s",
            rounds as f64 * 100_000.0 / secs
        );
        if let Some(d) = dashboard {
            let s = d.refresh().await;
            assert_eq!(s.totals.done, rounds * 100_000);
            d.shutdown().await;
        }
    });
}
