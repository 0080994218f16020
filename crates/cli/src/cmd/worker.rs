//! `sofleet worker`: runs crawl tasks sent by remote clients through Redis.

use sofleet_crawl::{ListingTask, QuestionTask, set_local_address};
use sofleet_executor::TaskRegistry;
use sofleet_redis::{WorkerOptions, redact_url, run_worker, shutdown_signal};

use crate::args::WorkerArgs;
use crate::cmd::runtime;
use crate::exit::{CmdResult, Failure};

/// The task types a `sofleet worker` can run: the crawl pipeline's.
pub fn registry() -> TaskRegistry {
    let mut registry = TaskRegistry::new();
    registry
        .register::<ListingTask>()
        .register::<QuestionTask>();
    registry
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
        set_local_address(ip).map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let mut opts = WorkerOptions::new(args.redis.clone());
    opts.concurrency = args.concurrency as usize;
    opts.visibility_timeout = args.visibility_timeout;
    if let Some(name) = &args.name {
        opts.consumer_name = Some(name.clone());
    }
    let rt = runtime()?;
    rt.block_on(async {
        let shutdown = shutdown_signal()
            .map_err(|e| Failure::Input(anyhow::anyhow!("cannot listen for signals: {e}")))?;
        eprintln!(
            "worker: serving crawl tasks from {} (concurrency {}{})",
            redact_url(&args.redis),
            args.concurrency,
            args.bind_ip
                .map(|ip| format!(", requests from {ip}"))
                .unwrap_or_default()
        );
        let stats = run_worker(opts, registry(), shutdown)
            .await
            .map_err(|e| Failure::Network(anyhow::anyhow!("{e}")))?;
        eprintln!("worker stopped: {stats:?}");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_the_crawl_tasks() {
        let tasks = registry().tasks();
        assert_eq!(tasks.len(), 2, "{tasks:?}");
    }
}
