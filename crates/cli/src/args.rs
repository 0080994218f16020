//! Command-line arguments: the clap definitions of every command. The values flags take
//! and their parsers are in `values.rs`; what derive cannot say (environment variables,
//! exit codes in `--help`) is added in `command.rs`.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::http_args::HttpArgs;
pub use crate::values::{
    BackendChoice, Rate, parse_backend, parse_duration, parse_max_pause, parse_page_range,
    parse_pagesize, parse_rate, parse_request_timeout, parse_tag, parse_ttl,
};
pub use sofleet_records::Sort;

/// Crawl Stack Overflow politely and in parallel, and answer questions about it.
#[derive(Debug, Parser)]
#[command(
    name = "sofleet",
    version,
    about,
    after_help = "Examples:\n  \
        sofleet crawl --tag dask --sort votes --pages 1-10 --out posts.parquet\n  \
        sofleet report posts.parquet --top 10 --charts charts/\n  \
        sofleet extract saved/*.html > records.jsonl\n  \
        sofleet mock-site --port 8080 --latency 100ms\n\n\
        Environment:\n  \
        Every flag can be set by a variable: SOFLEET_<FLAG> for crawl, titles, report,\n  \
        extract, status and dashboard (SOFLEET_RATE=5/s, SOFLEET_REDIS=...),\n  \
        SOFLEET_WORKER_<FLAG> for worker (SOFLEET_WORKER_REDIS=redis://...),\n  \
        SOFLEET_MOCK_SITE_<FLAG> for mock-site. A flag on the command line wins. RUST_LOG sets\n  \
        the log filter."
)]
pub struct Cli {
    /// More log output: -v one line per request, -vv scheduling events too. RUST_LOG
    /// overrides it (e.g. RUST_LOG=reqwest=debug for a dependency's lines).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines as text, or as JSON objects (one per line) for log shippers.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = LogFormat::Text,
        env = "SOFLEET_LOG_FORMAT",
        hide_env_values = true
    )]
    pub log_format: LogFormat,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per event.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl listing pages and every question on them; write records and failures.
    #[command(after_help = "Examples:\n  \
        sofleet crawl --tag dask --sort votes --pages 1-10 --out posts.parquet\n  \
        sofleet crawl --tag rust --pages 1-2 --base-url http://127.0.0.1:8080 --rate 20/s --concurrency 8\n  \
        sofleet crawl --tag dask --pages 1-50 --out dask.parquet   # stopped? run it again to resume\n  \
        sofleet crawl --tag dask --pages 1-5 --out dask.parquet --refresh-after 7days   # update")]
    Crawl(CrawlArgs),
    /// Answer the lesson's questions about a crawl: top answerers, votes, charts.
    #[command(after_help = "Examples:\n  \
        sofleet report posts.parquet\n  \
        sofleet report posts.parquet --top 5 --format md --charts charts/\n  \
        sofleet report posts.parquet --charts charts/ --chart-font NotoSansDevanagari-Regular.ttf\n  \
        sofleet report posts.parquet --format json")]
    Report(ReportArgs),
    /// The lesson's first exercise: titles of the newest-questions pages, serial vs parallel.
    #[command(after_help = "Examples:\n  \
        sofleet titles --pages 1-8 --base-url http://127.0.0.1:8080\n  \
        sofleet titles --pages 1-8 --serial")]
    Titles(TitlesArgs),
    /// Saved pages to JSON Lines: one object per file (file, kind, record or error).
    #[command(after_help = "Examples:\n  \
        sofleet extract page.html\n  \
        sofleet extract saved/*.html > pages.jsonl\n  \
        sofleet extract saved/*.html --records > records.jsonl && sofleet report records.jsonl")]
    Extract(ExtractArgs),
    /// Run crawl tasks for remote clients: one worker of a Redis-connected fleet.
    #[command(after_help = "Examples:\n  \
        sofleet worker --redis redis://127.0.0.1:6379 --concurrency 8\n  \
        sofleet worker --redis rediss://:PASSWORD@redis.example:6380 --bind-ip 10.0.0.7\n\n\
        Clients send work with `sofleet crawl --backend redis://HOST:PORT ...`.")]
    Worker(WorkerArgs),
    /// Show a Redis fleet: its workers (concurrency, jobs, memory, addresses) and queued jobs.
    #[command(after_help = "Examples:\n  \
        sofleet status --redis redis://127.0.0.1:6379\n  \
        SOFLEET_REDIS=rediss://:PASSWORD@redis.example:6380 sofleet status\n  \
        sofleet status --redis redis://127.0.0.1:6379 --json | jq .total_concurrency")]
    Status(StatusArgs),
    /// Serve a live dashboard of a Redis fleet (workers, throughput, queue), from Redis alone.
    #[command(after_help = "Examples:\n  \
        sofleet dashboard --redis redis://127.0.0.1:6379\n  \
        sofleet dashboard --redis redis://127.0.0.1:6379 --addr 0.0.0.0:8787 --dashboard-token \"$TOKEN\"\n\n\
        Open the printed URL; /api/status serves the same data as JSON, /metrics as Prometheus \
        text.")]
    Dashboard(FleetDashboardArgs),
    /// Serve the mock Stack Overflow site (the one the tests and the demo use).
    #[command(
        name = "mock-site",
        after_help = "Examples:\n  \
        sofleet mock-site --port 8080\n  \
        sofleet mock-site --latency 100ms --rate 5/s"
    )]
    MockSite(MockSiteArgs),
    /// Fetch one page through the polite fetcher (robots.txt, rate limit, cache, retries) and
    /// print what the extractor reads in it.
    #[command(after_help = "Examples:\n  \
        sofleet fetch https://stackoverflow.com/questions/11227809\n  \
        sofleet fetch /questions/tagged/dask --base-url http://127.0.0.1:8080\n  \
        sofleet fetch /questions/11227809 --html --cache-dir cache/")]
    Fetch(FetchArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:\n  \
        sofleet completions bash > ~/.local/share/bash-completion/completions/sofleet\n  \
        sofleet completions zsh > ~/.zfunc/_sofleet\n  \
        sofleet completions fish > ~/.config/fish/completions/sofleet.fish\n  \
        sofleet completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
}

/// Arguments of `sofleet fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The page: a full URL on --base-url's host, or a path such as `/questions/11227809`.
    pub url: String,
    /// The site (scheme + host [+ port]); a full URL must be on its host.
    #[arg(long, default_value = "https://stackoverflow.com")]
    pub base_url: String,
    /// Print the page's HTML instead of the extracted record.
    #[arg(long)]
    pub html: bool,
    /// Request rate limit per host: `1/s`, `30/min`.
    #[arg(long, default_value = "1/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// Keep the response on disk here; a second fetch within --cache-ttl is a cache hit.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// How long a cached page stays fresh: `1h`, `30days`, `0s` (always refetch).
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub cache_ttl: Duration,
    /// Retries after the first attempt (exponential back-off; Retry-After obeyed).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// Do not fetch or obey robots.txt (be sure you are allowed to).
    #[arg(long)]
    pub ignore_robots: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// Arguments of `sofleet completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `sofleet crawl`.
#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Tag to crawl (repeat for several tags), e.g. `dask`, `c++`, `python-3.x`.
    #[arg(short = 't', long = "tag", required = true, value_parser = parse_tag)]
    pub tags: Vec<String>,
    /// Listing sort order.
    #[arg(long, default_value = "votes", value_parser = sort_parser())]
    pub sort: Sort,
    /// Listing pages to crawl: `3`, `1-10`.
    #[arg(short, long, default_value = "1", value_parser = parse_page_range)]
    pub pages: RangeInclusive<u32>,
    /// Questions per listing page (Stack Overflow offers 15, 30 and 50).
    #[arg(long, default_value_t = 15, value_parser = parse_pagesize)]
    pub pagesize: u32,
    /// Where to run tasks: `tokio`, `threads`, or `redis://HOST:PORT` (remote workers).
    #[arg(long, default_value = "tokio", value_parser = parse_backend)]
    pub backend: BackendChoice,
    /// At most this many requests in flight to the host.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Request rate limit per host: `1/s`, `30/min`, `5/s`.
    #[arg(long, default_value = "1/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// Site to crawl (scheme + host [+ port]).
    #[arg(long, default_value = "https://stackoverflow.com")]
    pub base_url: String,
    /// Keep responses on disk here (zstd-compressed); a re-run does not refetch them while
    /// they are fresh (see --cache-ttl). A stopped run resumes without it too: its journal
    /// remembers what was done.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// How long a cached listing page stays fresh (listings change as questions come in):
    /// `1h`, `10min`, `0s` (always refetch). robots.txt is refetched after 24 h whatever this says.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub cache_ttl: Duration,
    /// How long a cached question page stays fresh.
    #[arg(long, default_value = "30days", value_parser = parse_ttl)]
    pub question_cache_ttl: Duration,
    /// Crawling into an existing output: also fetch again the questions it fetched longer ago
    /// than this (`7days`, `12h`), replacing their rows. Without it only new questions are added.
    #[arg(long, value_parser = parse_ttl)]
    pub refresh_after: Option<Duration>,
    /// Do not fetch or obey robots.txt (be sure you are allowed to).
    #[arg(long)]
    pub ignore_robots: bool,
    /// The longest pause the site may ask for (`Retry-After`, robots.txt `Crawl-delay`):
    /// a longer one stops the host's pages in this run with `pause_too_long` failure rows
    /// (run again later to resume). Between 1s and 24h.
    #[arg(long, default_value = "5min", value_parser = parse_max_pause)]
    pub max_pause: Duration,
    /// Another host a redirect may lead to (repeatable), e.g. `stackoverflow.blog`; its
    /// robots.txt is obeyed too. A redirect to any other host is a failure row
    /// (`off_site_redirect`).
    #[arg(long = "allow-redirect-host", value_name = "HOST")]
    pub redirect_hosts: Vec<String>,
    /// Retries per page after the first attempt (exponential back-off with jitter;
    /// Retry-After is obeyed).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// With `--backend redis://…`: give up (exit 3) after this long without a live worker
    /// (`2min`, 1s to 24h). Without it the crawl waits for workers, with a note every 30 s.
    #[arg(long, value_parser = parse_max_pause)]
    pub worker_timeout: Option<Duration>,
    /// Records file; the format follows the extension (.parquet, .csv, .jsonl).
    /// Failures go beside it as `<name>.failures.<ext>`, and while the crawl runs every record
    /// goes at once into the journal `<name>.journal/` beside it: a killed or stopped crawl
    /// resumes where it was by running the same command again. An existing file is added to.
    #[arg(short, long, default_value = "posts.parquet")]
    pub out: PathBuf,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Also write the summary as JSON to this file (the same fields for a local run and a
    /// fleet).
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
    #[command(flatten)]
    pub http: HttpArgs,
    /// Serve a live dashboard of the crawl (progress, task stream, workers, politeness,
    /// failures) at this address, `127.0.0.1:8787` when given without one (the next free
    /// port if busy). The URL is printed at the start.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = DASHBOARD_ADDR)]
    pub dashboard: Option<SocketAddr>,
    #[command(flatten)]
    pub dashboard_access: DashboardAccess,
    /// After the crawl, keep the dashboard up this long with the final figures (`30s`, at
    /// most 1h; Ctrl-C ends it sooner).
    #[arg(long, default_value = "0s", value_parser = parse_linger, requires = "dashboard")]
    pub dashboard_linger: Duration,
}

/// The default dashboard address (Dask's port, on loopback).
pub const DASHBOARD_ADDR: &str = sofleet_dashboard::DEFAULT_ADDR;

/// Who may open a dashboard.
#[derive(Debug, Args)]
pub struct DashboardAccess {
    /// A token every request to the dashboard must carry (`?token=…` or `Authorization:
    /// Bearer …`); required to bind an address other than loopback. 8 to 256 characters from
    /// A-Z a-z 0-9 - _ . (Prefer the environment variable: a command line can be seen by
    /// other users.)
    #[arg(long, env = "SOFLEET_DASHBOARD_TOKEN", hide_env_values = true)]
    pub dashboard_token: Option<String>,
}

/// `--dashboard-linger`: a duration up to an hour.
fn parse_linger(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > crate::dashboard::MAX_LINGER {
        return Err(format!("{s} is longer than 1h"));
    }
    Ok(d)
}

/// Arguments of `sofleet dashboard`.
#[derive(Debug, Args)]
pub struct FleetDashboardArgs {
    /// The fleet's Redis server: `redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for
    /// TLS (the URL its workers were started with).
    #[arg(long)]
    pub redis: String,
    /// Where to serve the dashboard (the next free port if busy).
    #[arg(long, default_value = DASHBOARD_ADDR)]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub access: DashboardAccess,
    /// Give up reaching Redis at the start after this long (1ms to 1h).
    #[arg(long, default_value = "5s", value_parser = parse_request_timeout)]
    pub connect_timeout: Duration,
}

/// Arguments of `sofleet report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A records file written by `sofleet crawl` (.parquet, .csv or .jsonl).
    pub input: PathBuf,
    /// How many authors to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: u32,
    /// Write the charts (PNG and SVG) and `report.md` linking them into this folder.
    #[arg(long)]
    pub charts: Option<PathBuf>,
    /// A font file (.ttf, .otf, .ttc) for names in scripts the embedded chart
    /// fonts lack (they cover Latin, Greek, Cyrillic, Chinese, Japanese and
    /// Korean). Repeat for several; tried in order.
    #[arg(long = "chart-font", value_name = "FILE", requires = "charts")]
    pub chart_fonts: Vec<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Leave community-wiki answers out of the author rankings (they have no single author).
    #[arg(long)]
    pub exclude_community_wiki: bool,
    /// Also answer the questions per tag (the tags with the most questions, up to --top).
    #[arg(long, value_enum, value_name = "GROUP")]
    pub by: Option<ReportGroup>,
}

/// How `sofleet report --by` splits the questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportGroup {
    /// One section per tag.
    Tag,
}

/// Arguments of `sofleet titles`.
#[derive(Debug, Args)]
pub struct TitlesArgs {
    /// Newest-questions pages to fetch: `1-8`.
    #[arg(short, long, default_value = "1-8", value_parser = parse_page_range)]
    pub pages: RangeInclusive<u32>,
    /// Only fetch one page after another (the lesson's serial baseline).
    #[arg(long)]
    pub serial: bool,
    /// Site to fetch from.
    #[arg(long, default_value = "https://stackoverflow.com")]
    pub base_url: String,
    /// Request rate limit per host: `1/s`, `30/min`.
    #[arg(long, default_value = "1/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// At most this many requests in flight.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Do not fetch or obey robots.txt.
    #[arg(long)]
    pub ignore_robots: bool,
    /// Also write the timings as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// Arguments of `sofleet extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Saved HTML pages.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write question pages as the crawl's records (the columns of `sofleet crawl --out
    /// x.jsonl`), so the output feeds `sofleet report`; other pages are named on stderr.
    #[arg(long)]
    pub records: bool,
}

/// Arguments of `sofleet worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The Redis server: `redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for TLS.
    #[arg(long)]
    pub redis: String,
    /// Tasks this worker runs at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Send this worker's HTTP requests from this local address (one worker per address
    /// spreads requests over addresses, like a cluster of machines).
    #[arg(long)]
    pub bind_ip: Option<IpAddr>,
    /// A job not acknowledged for this long (its worker died) is run by another worker.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub visibility_timeout: Duration,
    /// Consumer name in the group (default: host and process id).
    #[arg(long)]
    pub name: Option<String>,
    /// A host this worker crawls (repeatable): `host` (any port) or `host:port`. A job for
    /// any other host is refused with a failure row naming this rule.
    #[arg(
        long = "allow-host",
        value_name = "HOST",
        default_value = "stackoverflow.com"
    )]
    pub allow_hosts: Vec<String>,
    /// Let jobs skip robots.txt when they ask (be sure you are allowed to). Without it this
    /// worker always obeys robots.txt, whatever a job asks.
    #[arg(long)]
    pub ignore_robots: bool,
    /// This worker's response cache (jobs cannot choose where a worker writes).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Largest response body this worker reads, MiB (a job's larger limit is lowered to it).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_body_mib: u64,
    /// Request timeout of this worker, body included (1ms to 1h; a job's longer one is lowered
    /// to it).
    #[arg(long, default_value = "30s", value_parser = parse_request_timeout)]
    pub timeout: Duration,
    /// The fastest this worker sends to one host, whatever a job asks: `5/s`, `30/min`.
    #[arg(long, default_value = "10/s", value_parser = parse_rate)]
    pub max_rate: Rate,
    /// Keep the rate budget in this worker alone instead of sharing it, through Redis, with
    /// every worker that sends from the same address to the same host.
    #[arg(long)]
    pub local_budget: bool,
}

/// Arguments of `sofleet status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The fleet's Redis server: `redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for
    /// TLS (the URL its workers were started with).
    #[arg(long)]
    pub redis: String,
    /// Print the status as one JSON object (for scripts) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Give up reaching Redis after this long (1ms to 1h).
    #[arg(long, default_value = "5s", value_parser = parse_request_timeout)]
    pub connect_timeout: Duration,
}

/// Arguments of `sofleet mock-site`: every fault of the mock site has a flag, so a crawler's
/// trouble can be reproduced with `sofleet mock-site` alone. Durations are at most 10 minutes.
#[derive(Debug, Args)]
pub struct MockSiteArgs {
    /// Port on 127.0.0.1 (0 picks a free one; the URL is printed first).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Delay before each response: `0ms`, `100ms`, `1s` (at most 10 minutes).
    #[arg(long, default_value = "0ms", value_parser = crate::cmd::mock_site::parse_delay)]
    pub latency: Duration,
    /// Answer 429 + Retry-After past this rate per client: `5/s`.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Tags the site has (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Questions per tag (the site holds at most 200,000 in all), for crawls of any size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub questions_per_tag: Option<u32>,
    /// Captcha bursts: past N requests within one second from one client, redirect its
    /// requests (302) to the /nocaptcha human-verification page for --captcha-cooldown.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub captcha_after: Option<u32>,
    /// How long a captcha burst lasts (default 2s; at most 10 minutes).
    #[arg(long, value_name = "DUR", requires = "captcha_after",
          value_parser = crate::cmd::mock_site::parse_delay)]
    pub captcha_cooldown: Option<Duration>,
    /// Intermittent 5xx: about one URL in EVERY_NTH answers 500 or 503 to its first
    /// request and 200 to the retry (1: every URL).
    #[arg(long, value_name = "EVERY_NTH", value_parser = clap::value_parser!(u32).range(1..))]
    pub server_errors: Option<u32>,
    /// Question ID whose page is always cut in half (repeatable).
    #[arg(long = "truncated", value_name = "ID")]
    pub truncated: Vec<u64>,
    /// Delay successful question pages by this long on top of --latency (at most 10 minutes).
    #[arg(long, value_name = "DUR", value_parser = crate::cmd::mock_site::parse_delay)]
    pub slow_body: Option<Duration>,
    /// Question ID that answers 404 (repeatable).
    #[arg(long = "not-found", value_name = "ID")]
    pub not_found: Vec<u64>,
    /// Question ID's page answers 301 with this Location, verbatim: absolute (off-site, e.g.
    /// `http://127.0.0.2:8080/questions/ID/x`) or an on-site path (repeatable).
    #[arg(long = "redirect", value_name = "ID=LOCATION",
          value_parser = crate::cmd::mock_site::parse_redirect)]
    pub redirects: Vec<(u64, String)>,
    /// Raw Retry-After header text sent with every 429 (the --rate limiter's and
    /// --always-429's) instead of whole seconds: `1e30`, `-5`, `soon`, an HTTP date.
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true,
          value_parser = crate::cmd::mock_site::parse_header_text)]
    pub retry_after: Option<String>,
    /// Question ID whose page always answers 429 with --retry-after (default `1`), no
    /// rate limit needed (repeatable).
    #[arg(long = "always-429", value_name = "ID")]
    pub always_429: Vec<u64>,
    /// Serve this file's bytes as /robots.txt, verbatim (at most 16 MiB; need not be UTF-8).
    #[arg(long, value_name = "FILE", conflicts_with = "crawl_delay",
          value_parser = crate::cmd::mock_site::parse_robots_file)]
    pub robots_txt: Option<crate::cmd::mock_site::RobotsFile>,
    /// Serve a robots.txt with `Crawl-delay: VALUE` (verbatim: `2.5`, `-5`, `1e30`, `soon`)
    /// plus the default rules.
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true,
          value_parser = crate::cmd::mock_site::parse_header_text)]
    pub crawl_delay: Option<String>,
}

/// Output format of `sofleet report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned text tables.
    Table,
    /// The Markdown report.
    Md,
    /// One JSON object.
    Json,
}

/// `--sort`: one of [`Sort`]'s values, listed in `--help`.
fn sort_parser() -> impl clap::builder::TypedValueParser<Value = Sort> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(
        Sort::ALL.map(|s| clap::builder::PossibleValue::new(s.as_str()).help(s.description())),
    )
    .map(|value| Sort::parse(&value).unwrap_or(Sort::Votes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
