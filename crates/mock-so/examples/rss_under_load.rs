//! Measures the memory of a running `sofleet mock-site` under load: starts the binary with
//! the per-client and per-URL faults switched on, sends it N requests from many clients over
//! many distinct URLs, and prints the child's resident set size (VmRSS, Linux) at start,
//! after 10,000 requests and at the end.
//!
//! ```text
//! cargo build --release -p sofleet-cli
//! cargo run --release -p sofleet-mock-so --example rss_under_load -- target/release/sofleet 100000
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sofleet_mock_so::CLIENT_HEADER;

const CONCURRENCY: u64 = 16;
const CLIENTS: u64 = 1_000;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .unwrap_or_else(|| "target/release/sofleet".into());
    let total: u64 = args
        .next()
        .map_or(100_000, |n| n.parse().expect("a request count"));

    let mut child = Command::new(&bin)
        .args(["mock-site", "--port", "0", "--questions-per-tag", "2500"])
        .args([
            "--tag", "python", "--tag", "dask", "--tag", "pandas", "--tag", "polars",
        ])
        .args([
            "--server-errors",
            "7",
            "--captcha-after",
            "100000",
            "--rate",
            "5000/s",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start sofleet mock-site");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL")
        .to_string();
    let start_rss = rss_kib(pid);
    println!("start: VmRSS {} MiB", start_rss / 1024);

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut report_at = 10_000.min(total);
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, base, sent, bytes) =
            (client.clone(), base.clone(), sent.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = sent.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                // Half question pages (10,000 of them), half listing pages with a query no
                // other request has, from 1,000 clients.
                let url = if i % 2 == 0 {
                    format!("{base}/questions/{}", 67_000_000 + (i / 2) % 10_000)
                } else {
                    format!(
                        "{base}/questions?tab=newest&page={}&pagesize=15&n={i}",
                        1 + i % 50
                    )
                };
                let response = client
                    .get(&url)
                    .header(CLIENT_HEADER, format!("client-{}", (i + worker) % CLIENTS))
                    .send()
                    .await;
                if let Ok(response) = response
                    && let Ok(body) = response.bytes().await
                {
                    bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                }
            }
        }));
    }
    while tasks.iter().any(|t| !t.is_finished()) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let done = sent.load(Ordering::Relaxed).min(total);
        if done >= report_at {
            println!(
                "after ~{report_at} requests: VmRSS {} MiB ({:.0} req/s)",
                rss_kib(pid) / 1024,
                done as f64 / started.elapsed().as_secs_f64()
            );
            report_at = u64::MAX;
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    println!(
        "after {total} requests (all answered): VmRSS {} MiB; {:.0} req/s, {} MiB of pages",
        rss_kib(pid) / 1024,
        total as f64 / started.elapsed().as_secs_f64(),
        bytes.load(Ordering::Relaxed) >> 20
    );
    let _ = child.kill();
    let _ = child.wait();
}
