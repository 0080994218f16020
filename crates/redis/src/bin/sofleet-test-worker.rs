//! A Redis worker process for tests and benchmarks: runs the task types of
//! `sofleet_redis::testing::tasks` (and, with the `conformance` feature, the executor's shared
//! conformance tasks) until SIGTERM/SIGINT.
//!
//! ```text
//! sofleet-test-worker --redis URL [--concurrency N] [--namespace NS] [--group G] [--name NAME]
//!                     [--visibility-ms MS] [--max-deliveries N] [--tls-ca PEM]
//! ```
//! Prints one JSON line with its `WorkerStats` on a graceful exit; exits by itself if its
//! parent process dies.

use std::time::Duration;

use sofleet_executor::TaskRegistry;
use sofleet_redis::{WorkerOptions, run_worker, shutdown_signal};

fn usage(msg: &str) -> ! {
    eprintln!(
        "sofleet-test-worker: {msg}\nusage: sofleet-test-worker --redis URL [--concurrency N] \
         [--namespace NS] [--group G] [--name NAME] [--visibility-ms MS] [--max-deliveries N] [--tls-ca PEM]"
    );
    std::process::exit(2)
}

fn parse<T: std::str::FromStr>(flag: &str, v: Option<String>) -> T {
    v.and_then(|v| v.parse().ok())
        .unwrap_or_else(|| usage(&format!("{flag} needs a number")))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut opts = WorkerOptions::new(String::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--redis" => {
                opts.redis_url = args.next().unwrap_or_else(|| usage("--redis needs a URL"))
            }
            "--concurrency" => opts.concurrency = parse(&a, args.next()),
            "--namespace" => {
                opts.namespace = args
                    .next()
                    .unwrap_or_else(|| usage("--namespace needs a value"))
            }
            "--group" => {
                opts.group = args
                    .next()
                    .unwrap_or_else(|| usage("--group needs a value"))
            }
            "--name" => opts.consumer_name = args.next(),
            "--visibility-ms" => {
                opts.visibility_timeout = Duration::from_millis(parse(&a, args.next()))
            }
            "--max-deliveries" => opts.max_deliveries = parse(&a, args.next()),
            "--tls-ca" => opts.tls_ca_file = args.next().map(Into::into),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if opts.redis_url.is_empty() {
        usage("--redis URL is required");
    }
    let mut registry = TaskRegistry::new();
    sofleet_redis::testing::tasks::register_all(&mut registry);
    #[cfg(feature = "conformance")]
    {
        sofleet_executor::conformance::register_tasks(&mut registry);
        sofleet_executor::conformance::quiet_panics();
    }

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sofleet-test-worker: cannot start tokio: {e}");
            std::process::exit(1)
        }
    };
    // A test worker never outlives the test that started it: if the parent process dies
    // (e.g. a test binary killed mid-run), exit at once.
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            if std::os::unix::process::parent_id() != parent {
                eprintln!("sofleet-test-worker: parent process {parent} is gone; exiting");
                std::process::exit(3);
            }
        }
    });
    let result = rt.block_on(async {
        let signal = shutdown_signal().map_err(|e| e.to_string())?;
        run_worker(opts, registry, signal)
            .await
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(stats) => println!("{}", serde_json::to_string(&stats).unwrap_or_default()),
        Err(e) => {
            eprintln!("sofleet-test-worker: {e}");
            std::process::exit(1)
        }
    }
}
