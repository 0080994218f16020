//! The `sofleet` command line: crawl Stack Overflow politely and in parallel,
//! report on what was crawled, extract saved pages, serve the mock site.
//!
//! Every flag can also be set by an environment variable (`SOFLEET_RATE`,
//! `SOFLEET_WORKER_REDIS`, …; see `command.rs`); a flag given on the command
//! line wins. Exit codes: 0 success; 1 an error in the input or the environment (bad
//! file, unwritable output); 2 usage error (bad arguments); 3 network failure
//! (site unreachable); 4 partial result (the run finished but some pages
//! failed and were recorded as failure rows, or some files could not be read).

mod args;
mod cmd;
mod command;
mod dashboard;
mod exit;
mod http_args;
mod progress;
mod values;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::args::{Cli, Command, LogFormat};

/// jemalloc rather than the system allocator: with glibc's per-thread arenas, finalising a
/// 100,000-question crawl on polars' thread pool fragmented the heap (peak RSS 1.49× the
/// 1,000-question run's); with jemalloc it is 1.31×, and the crawl is faster.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose, cli.log_format);
    let result = match cli.command {
        Command::Crawl(args) => cmd::crawl::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Titles(args) => cmd::titles::run(args),
        Command::Extract(args) => cmd::extract::run(args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Status(args) => cmd::status::run(args),
        Command::Dashboard(args) => cmd::dashboard::run(args),
        Command::MockSite(args) => cmd::mock_site::run(args),
        Command::Fetch(args) => cmd::fetch::run(args),
        Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut command::command(),
                "sofleet",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// `-v` → one line per request and the crawl's debug lines, `-vv` → scheduling events too
/// (trace); dependencies stay at `warn` unless `RUST_LOG` asks for them (it overrides all of
/// this). Colours only on a terminal, and never with `NO_COLOR` set.
fn init_logging(verbose: u8, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "warn,sofleet=debug,sofleet_crawl=debug,sofleet_executor=info,sofleet_redis=info",
        _ => "warn,sofleet=trace,sofleet_crawl=trace,sofleet_executor=trace,sofleet_redis=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(colour).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}
