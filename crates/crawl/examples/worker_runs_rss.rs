//! One crawl worker serving thousands of crawl runs (each its own run id, as separate
//! clients' crawls are, each reading robots.txt): its resident memory stays flat because a
//! worker keeps at most `MAX_RUNS_KEPT` runs' state. Prints RSS as the runs go by (the figure
//! in the README's "Scaling out").
//!
//! `cargo run -p sofleet-crawl --example worker_runs_rss -- 6000`

use sofleet_crawl::{CrawlConfig, CrawlOutput, CrawlWorker, RobotsTask, WorkerPolicy};
use sofleet_executor::{TaskContext, TaskKey};
use sofleet_mock_so::{MockSite, MockSiteConfig};

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(6000);
    // The mock site keeps no request log unless asked: its memory is flat too.
    let site = MockSite::start(MockSiteConfig::default()).await;
    let worker = CrawlWorker::new(WorkerPolicy::new(["127.0.0.1"])).expect("worker");
    let resources = worker.into_resources();
    let config = CrawlConfig {
        requests_per_second: None,
        ..CrawlConfig::for_local_site(&site.base_url())
    };
    for run_id in 1..=runs {
        let ctx =
            TaskContext::new(TaskKey::new("rss"), 0, Vec::new()).with_resources(resources.clone());
        let report = RobotsTask {
            config: config.clone(),
            run_id,
        }
        .execute(&ctx)
        .await;
        assert_eq!(report.output, CrawlOutput::Robots);
        if [100, 1000, 2000, 4000, 6000].contains(&run_id) || run_id == runs {
            let kept = resources.get::<CrawlWorker>().map_or(0, |w| w.runs_kept());
            println!(
                "after {run_id:>5} runs: RSS {:.1} MiB, runs kept {kept}",
                rss_mib()
            );
        }
    }
}
