//! A Redis fleet worker built from your own code (feature `redis`).
//!
//! Every `#[sofleet::task]` in a binary registers itself, so a worker built from the same code
//! as its clients runs all of them with no list to keep:
//!
//! ```no_run
//! // src/bin/worker.rs of your crate, next to the tasks it should run:
//! fn main() {
//!     sofleet::worker::main()
//! }
//! ```
//!
//! ```text
//! $ my-worker --redis redis://10.0.0.5:6379 --concurrency 8
//! worker host-123-ab12: connected to redis://10.0.0.5:6379; runs 4 task types (Ctrl-C to stop)
//! ```
//!
//! Clients reach it with `Client::connect("redis://10.0.0.5:6379")`. A job whose task this
//! worker has in another version fails with a message naming both versions; SIGTERM or Ctrl-C
//! finishes the jobs in flight and leaves the fleet.

// The example is a whole program on purpose: `fn main` is the one line a user writes.
#![allow(clippy::needless_doctest_main)]

use std::ffi::OsString;
use std::time::Duration;

use clap::Parser;
use sofleet_executor::TaskRegistry;
use sofleet_redis::{WorkerOptions, WorkerStats, redact_url, run_worker, shutdown_signal};

/// The most jobs one worker runs at once.
pub const MAX_CONCURRENCY: usize = 4096;

/// The command line of [`main`].
#[derive(Debug, Clone, Parser)]
#[command(
    about = "Runs the sofleet tasks of this program for clients of a Redis fleet",
    long_about = None
)]
pub struct WorkerArgs {
    /// Redis URL, `redis://[:PASSWORD@]HOST[:PORT][/DB]` or `rediss://…`; also read from
    /// SOFLEET_REDIS, or from SOFLEET_BACKEND when that is a Redis URL.
    #[arg(long, env = "SOFLEET_REDIS", hide_env_values = true)]
    pub redis: Option<String>,
    /// Jobs run at the same time.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=MAX_CONCURRENCY as u64))]
    pub concurrency: u64,
    /// This worker's name in the fleet (default: host, process id and a random suffix).
    #[arg(long)]
    pub name: Option<String>,
    /// A job this worker stops confirming for this long (it died) goes to another worker.
    #[arg(long, default_value = "30s", value_parser = humantime_duration)]
    pub visibility_timeout: Duration,
    /// Print the task types this worker runs and exit.
    #[arg(long)]
    pub list_tasks: bool,
}

fn humantime_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}): write e.g. 30s, 2m or 1h"))?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(24 * 3600) {
        return Err(format!("{s} is outside 1s..24h"));
    }
    Ok(d)
}

/// Why a worker stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// No Redis URL was given.
    #[error(
        "no Redis URL: pass --redis redis://HOST:6379, or set SOFLEET_REDIS (or SOFLEET_BACKEND) to one"
    )]
    NoRedis,
    /// Two tasks in this program claim one name and version.
    #[error(transparent)]
    Registry(#[from] sofleet_executor::DuplicateTask),
    /// The program has no task to serve.
    #[error(
        "this program has no #[sofleet::task]: a worker runs the tasks compiled into its binary, \
         so build it from the crate that defines them"
    )]
    NoTasks,
    /// The runtime or the signal handlers could not start.
    #[error("cannot start the worker: {0}")]
    Start(#[source] std::io::Error),
    /// The worker could not reach Redis or failed while serving.
    #[error(transparent)]
    Redis(#[from] sofleet_redis::RedisError),
}

/// Parses the process's arguments, serves until SIGTERM / Ctrl-C, and exits: 0 after a
/// graceful stop, 2 on bad arguments, 1 on any other error (printed, password masked).
pub fn main() {
    let code = match WorkerArgs::try_parse() {
        Ok(args) => match run(args) {
            Ok(stats) => {
                eprintln!("{stats}");
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() { 2 } else { 0 }
        }
    };
    std::process::exit(code)
}

/// [`main`] with the arguments given (the first is the program name).
pub fn run_from<I, T>(args: I) -> Result<WorkerStats, Box<dyn std::error::Error + Send + Sync>>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = WorkerArgs::try_parse_from(args)?;
    Ok(run(args)?)
}

/// Serves every task registered in this binary until SIGTERM or Ctrl-C.
pub fn run(args: WorkerArgs) -> Result<WorkerStats, WorkerError> {
    let registry = TaskRegistry::collected()?;
    let tasks = registry.tasks();
    if args.list_tasks {
        for (name, version) in tasks {
            println!("{name} v{version}");
        }
        return Ok(WorkerStats::default());
    }
    if tasks.is_empty() {
        return Err(WorkerError::NoTasks);
    }
    let url = args
        .redis
        .or_else(backend_env_url)
        .ok_or(WorkerError::NoRedis)?;
    let shown = redact_url(&url);
    let mut opts = WorkerOptions::new(url);
    opts.concurrency = args.concurrency as usize;
    opts.consumer_name = args.name;
    opts.visibility_timeout = args.visibility_timeout;
    let count = tasks.len();
    opts.on_ready = Some(std::sync::Arc::new(move |name: &str| {
        eprintln!(
            "worker {name}: connected to {shown}; runs {count} task type{} (Ctrl-C to stop)",
            if count == 1 { "" } else { "s" }
        );
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(WorkerError::Start)?;
    rt.block_on(async move {
        let shutdown = shutdown_signal().map_err(WorkerError::Start)?;
        Ok(run_worker(opts, registry, shutdown).await?)
    })
}

/// `SOFLEET_BACKEND` when it is a Redis URL.
fn backend_env_url() -> Option<String> {
    std::env::var(sofleet_executor::BACKEND_ENV)
        .ok()
        .filter(|v| v.starts_with("redis://") || v.starts_with("rediss://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded_and_named() {
        assert_eq!(humantime_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(humantime_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(humantime_duration("0s").unwrap_err().contains("outside"));
        assert!(
            humantime_duration("forever")
                .unwrap_err()
                .contains("forever")
        );
    }

    #[test]
    fn a_program_without_tasks_is_told_where_a_worker_gets_them() {
        // This test binary registers no task.
        let args = WorkerArgs::try_parse_from(["w", "--redis", "redis://127.0.0.1:1"]).unwrap();
        let err = run(args).unwrap_err();
        assert!(matches!(err, WorkerError::NoTasks), "{err}");
        assert!(err.to_string().contains("build it from the crate"), "{err}");
    }

    #[test]
    fn concurrency_is_bounded() {
        let err = WorkerArgs::try_parse_from(["w", "--concurrency", "0"]).unwrap_err();
        assert!(err.to_string().contains("--concurrency"), "{err}");
        let err = WorkerArgs::try_parse_from(["w", "--concurrency", "100000"]).unwrap_err();
        assert!(err.to_string().contains("4096"), "{err}");
    }
}
