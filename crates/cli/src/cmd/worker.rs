//! `sofleet worker`: runs crawl tasks sent by remote clients through Redis, under its own
//! policy (hosts, robots.txt, cache, limits, source address), with a rate budget shared by
//! every worker sending from the same address to the same host.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sofleet_crawl::{CrawlWorker, SharedBudget, WorkerPolicy};
use sofleet_executor::TaskRegistry;
use sofleet_redis::{
    DEFAULT_NAMESPACE, RateBudget, WorkerOptions, redact_url, run_worker, shutdown_signal,
};

use crate::args::WorkerArgs;
use crate::cmd::runtime;
use crate::exit::{CmdResult, Failure};

/// The task types a `sofleet worker` can run: every task registered in this binary, which
/// are the crawl pipeline's (the crawl crate registers them).
pub fn registry() -> Result<TaskRegistry, Failure> {
    TaskRegistry::collected().map_err(|e| Failure::Input(anyhow::anyhow!("{e}")))
}

/// The fleet's rate budget, kept in the Redis the fleet already uses.
struct RedisBudget(RateBudget);

impl SharedBudget for RedisBudget {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
    ) -> BoxFuture<'a, Result<Duration, String>> {
        Box::pin(async move {
            self.0
                .reserve(key, interval)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn raise_interval<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0
                .raise_interval(key, interval)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn pause<'a>(&'a self, key: &'a str, pause: Duration) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.0.pause(key, pause).await.map_err(|e| e.to_string()) })
    }
}

/// The worker's policy from its flags.
fn policy(args: &WorkerArgs, name: &str) -> WorkerPolicy {
    let mut policy = WorkerPolicy::new(args.allow_hosts.iter().cloned());
    policy.name = name.to_owned();
    policy.ignore_robots = args.ignore_robots;
    policy.cache_dir = args.cache_dir.clone();
    policy.max_body_bytes = args.max_body_mib.saturating_mul(1 << 20);
    policy.timeout = super::whole_millis(args.timeout);
    policy.connect_timeout = policy.connect_timeout.min(policy.timeout);
    policy.max_requests_per_second = Some(args.max_rate.per_second());
    policy.local_address = args.bind_ip;
    policy
}

/// The consumer name: `--name`, or the worker library's default (host, process id and a
/// random suffix).
fn worker_name(args: &WorkerArgs) -> String {
    args.name
        .clone()
        .unwrap_or_else(sofleet_redis::default_consumer_name)
}

/// Runs until SIGTERM / Ctrl-C, then finishes the jobs in flight and exits.
pub fn run(args: WorkerArgs) -> CmdResult {
    if let Some(ip) = args.bind_ip {
        // Fail now, clearly, rather than on every request.
        std::net::TcpListener::bind((ip, 0)).map_err(|e| {
            Failure::Usage(format!(
                "--bind-ip {ip} is not an address of this machine ({e}); \
                 list them with `ip addr`"
            ))
        })?;
    }
    let name = worker_name(&args);
    let policy = policy(&args, &name);
    let mut crawl_worker =
        CrawlWorker::new(policy).map_err(|e| Failure::Input(anyhow::anyhow!("{e}")))?;
    if !args.local_budget {
        let budget = RateBudget::new(&args.redis, DEFAULT_NAMESPACE, None)
            .map_err(|e| Failure::Usage(format!("{e} (--redis)")))?;
        crawl_worker = crawl_worker.with_budget(Arc::new(RedisBudget(budget)));
    }
    let mut opts = WorkerOptions::new(args.redis.clone());
    opts.concurrency = args.concurrency as usize;
    opts.visibility_timeout = args.visibility_timeout;
    opts.consumer_name = Some(name);
    // Published in the heartbeat for `sofleet status` and the dashboard.
    opts.addresses = args.bind_ip.iter().map(ToString::to_string).collect();
    opts.resources = crawl_worker.into_resources();
    let url = redact_url(&args.redis);
    opts.on_ready = Some(std::sync::Arc::new(move |name: &str| {
        eprintln!("worker {name}: connected to {url}; serving crawl tasks (Ctrl-C to stop)");
    }));
    let rt = runtime()?;
    rt.block_on(async {
        let shutdown = shutdown_signal()
            .map_err(|e| Failure::Input(anyhow::anyhow!("cannot listen for signals: {e}")))?;
        eprintln!(
            "worker: connecting to {} (concurrency {}, crawls {}{}{}, {} rate budget)",
            redact_url(&args.redis),
            args.concurrency,
            args.allow_hosts.join(", "),
            args.bind_ip
                .map(|ip| format!(", requests from {ip}"))
                .unwrap_or_default(),
            if args.ignore_robots {
                ", may skip robots.txt"
            } else {
                ""
            },
            if args.local_budget {
                "its own"
            } else {
                "the fleet's shared"
            }
        );
        let stats = run_worker(opts, registry()?, shutdown)
            .await
            .map_err(|e| Failure::Network(anyhow::anyhow!("{e}")))?;
        eprintln!("{stats}");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_the_crawl_tasks() {
        use sofleet_crawl::{ListingTask, QuestionTask, RobotsTask};
        use sofleet_executor::Task;
        let tasks = registry().unwrap().tasks();
        let expected: Vec<(String, u32)> = [
            (ListingTask::NAME, ListingTask::VERSION),
            (QuestionTask::NAME, QuestionTask::VERSION),
            (RobotsTask::NAME, RobotsTask::VERSION),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        assert_eq!(tasks, expected);
    }
}
