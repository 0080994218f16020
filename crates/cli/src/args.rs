//! Command-line arguments: clap definitions and the value parsers for page
//! ranges, rates, durations and backends. Parsing fails with a message that
//! names the bad value and shows a good one.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
        Every flag can be set by a variable: SOFLEET_<FLAG> for crawl, titles, report and\n  \
        extract (SOFLEET_RATE=5/s, SOFLEET_BASE_URL=...), SOFLEET_WORKER_<FLAG> for worker\n  \
        (SOFLEET_WORKER_REDIS=redis://...), SOFLEET_MOCK_SITE_<FLAG> for mock-site. A flag on\n  \
        the command line wins. RUST_LOG sets the log filter."
)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
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
        sofleet extract saved/*.html > records.jsonl")]
    Extract(ExtractArgs),
    /// Run crawl tasks for remote clients: one worker of a Redis-connected fleet.
    #[command(after_help = "Examples:\n  \
        sofleet worker --redis redis://127.0.0.1:6379 --concurrency 8\n  \
        sofleet worker --redis rediss://:PASSWORD@redis.example:6380 --bind-ip 10.0.0.7\n\n\
        Clients send work with `sofleet crawl --backend redis://HOST:PORT ...`.")]
    Worker(WorkerArgs),
    /// Serve the mock Stack Overflow site (the one the tests and the demo use).
    #[command(
        name = "mock-site",
        after_help = "Examples:\n  \
        sofleet mock-site --port 8080\n  \
        sofleet mock-site --latency 100ms --rate 5/s"
    )]
    MockSite(MockSiteArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:\n  \
        sofleet completions bash > ~/.local/share/bash-completion/completions/sofleet\n  \
        sofleet completions zsh > ~/.zfunc/_sofleet\n  \
        sofleet completions fish > ~/.config/fish/completions/sofleet.fish\n  \
        sofleet completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
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
    #[arg(long, value_enum, default_value_t = Sort::Votes)]
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
}

/// Arguments of `sofleet extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Saved HTML pages.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
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

/// Listing sort orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sort {
    /// Highest score first.
    Votes,
    /// Newest first.
    Newest,
    /// Most recently active first.
    Active,
    /// Most linked first.
    Frequent,
}

impl Sort {
    /// The value Stack Overflow's `tab=` query parameter takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Votes => "votes",
            Sort::Newest => "newest",
            Sort::Active => "active",
            Sort::Frequent => "frequent",
        }
    }
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

/// Which executor backend runs the tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// The tokio backend (async I/O).
    Tokio,
    /// The OS-thread pool backend.
    Threads,
    /// Remote workers through Redis (`redis://…` or `rediss://…`).
    Redis(String),
}

/// A request rate: `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed…
    pub count: u32,
    /// …per this period.
    pub per: Duration,
}

impl Rate {
    /// The rate in requests per second.
    pub fn per_second(self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }
}

/// `1-10` or `3` → an inclusive range of page numbers (pages start at 1).
pub fn parse_page_range(text: &str) -> Result<RangeInclusive<u32>, String> {
    let hint = "write a page number like `3` or a range like `1-10` (pages start at 1)";
    let parse = |part: &str| {
        part.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{part}` is not a page number; {hint}"))
    };
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let page = parse(text)?;
            (page, page)
        }
    };
    if first == 0 {
        return Err(format!("page 0 does not exist; {hint}"));
    }
    if first > last {
        return Err(format!("`{text}` runs backwards; {hint}"));
    }
    if last - first >= 10_000 {
        return Err(format!(
            "`{text}` is more than 10,000 pages; crawl it in parts"
        ));
    }
    Ok(first..=last)
}

/// `5/s`, `30/min`, `1/h`, `2/500ms` → a [`Rate`], between one request per day and a million
/// per second.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let hint = "write it as COUNT/PERIOD, e.g. `1/s`, `30/min` or `5/2s`";
    let (count, period) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not a rate; {hint}"))?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| format!("`{count}` in `{text}` is not a whole number; {hint}"))?;
    if count == 0 {
        return Err(format!("a rate of 0 would never send a request; {hint}"));
    }
    let period = period.trim();
    let per = match period {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        other => humantime::parse_duration(other)
            .map_err(|_| format!("`{other}` in `{text}` is not a period; {hint}"))?,
    };
    if per.is_zero() {
        return Err(format!("`{text}` has a zero period; {hint}"));
    }
    let rate = Rate { count, per };
    // One request per day at the slowest (a longer wait is also refused by --max-pause), a
    // million per second at the fastest.
    if per / count > Duration::from_secs(24 * 3600) {
        return Err(format!(
            "`{text}` waits more than a day between requests; the slowest rate is 1/24h"
        ));
    }
    if rate.per_second() > 1_000_000.0 {
        return Err(format!(
            "`{text}` is more than 1,000,000 requests per second; the fastest rate is 1000000/s"
        ));
    }
    Ok(rate)
}

/// `100ms`, `1s`, `0ms` → a [`Duration`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. `100ms` or `2s`"))
}

/// `--max-pause`: a duration from one second to one day.
pub fn parse_max_pause(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(24 * 3600) {
        return Err(format!(
            "`{text}` is outside 1s..=24h; write e.g. `5min` or `1h`"
        ));
    }
    Ok(d)
}

/// A request timeout: 1 ms to 1 h.
pub fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(1) || d > Duration::from_secs(3600) {
        return Err(format!("`{text}` is outside 1ms..=1h; write e.g. `30s`"));
    }
    Ok(d)
}

/// A cache lifetime or age: a duration of at most 100 years (`0s` allowed).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d > Duration::from_secs(100 * 365 * 24 * 3600) {
        return Err(format!(
            "`{text}` is longer than 100 years; write e.g. `1h` or `30days`"
        ));
    }
    Ok(d)
}

/// `tokio` or `threads` (case-insensitive).
pub fn parse_backend(text: &str) -> Result<BackendChoice, String> {
    match text.to_ascii_lowercase().as_str() {
        "tokio" => Ok(BackendChoice::Tokio),
        "threads" | "thread" => Ok(BackendChoice::Threads),
        _ if text.starts_with("redis://") || text.starts_with("rediss://") => {
            Ok(BackendChoice::Redis(text.to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not a backend; choose `tokio` (async I/O), `threads` (OS threads) \
             or a Redis URL `redis://HOST:PORT` (remote workers started with `sofleet worker`)"
        )),
    }
}

/// A Stack Overflow tag: lower-case letters, digits and `+ # . -`, at most 35 characters.
pub fn parse_tag(text: &str) -> Result<String, String> {
    let tag = text.trim();
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-');
    if tag.is_empty() || tag.chars().count() > 35 || !tag.chars().all(ok_char) {
        return Err(format!(
            "`{text}` is not a Stack Overflow tag: tags are up to 35 letters, digits and `+ # . -` \
             (e.g. `dask`, `c++`, `python-3.x`)"
        ));
    }
    Ok(tag.to_lowercase())
}

/// 15, 30 or 50.
pub fn parse_pagesize(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ (15 | 30 | 50)) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a page size Stack Overflow offers; use 15, 30 or 50"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ranges() {
        assert_eq!(parse_page_range("1-10").unwrap(), 1..=10);
        assert_eq!(parse_page_range("3").unwrap(), 3..=3);
        assert!(parse_page_range("0-3").unwrap_err().contains("page 0"));
        assert!(parse_page_range("5-2").unwrap_err().contains("backwards"));
        assert!(parse_page_range("a-b").unwrap_err().contains("`a`"));
        assert!(parse_page_range("").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5/s").unwrap().per_second(), 5.0);
        assert_eq!(parse_rate("30/min").unwrap().per_second(), 0.5);
        assert_eq!(parse_rate("1/500ms").unwrap().per_second(), 2.0);
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("fast").unwrap_err().contains("COUNT/PERIOD"));
        assert!(parse_rate("5/fortnight").is_err());
        // Hostile periods are refused with a message, never a panic (they used to crash).
        for (text, needle) in [
            ("1/600y", "more than a day"),
            ("1/100y", "more than a day"),
            ("1/18446744073709551615s", "more than a day"),
            ("1/99999999999999999999999y", "not a period"),
            ("4294967295/1ns", "1,000,000 requests per second"),
        ] {
            let err = parse_rate(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert_eq!(parse_rate("1/24h").unwrap().per_second(), 1.0 / 86_400.0);
        assert!(parse_max_pause("0s").is_err());
        assert!(parse_max_pause("2days").is_err());
        assert_eq!(parse_max_pause("5min").unwrap(), Duration::from_secs(300));
    }

    #[test]
    fn tags_and_backends() {
        assert_eq!(parse_tag("C++").unwrap(), "c++");
        assert_eq!(parse_tag("python-3.x").unwrap(), "python-3.x");
        assert!(parse_tag("two words").is_err());
        assert!(parse_tag("a/b").is_err());
        assert_eq!(parse_backend("Tokio").unwrap(), BackendChoice::Tokio);
        assert!(parse_backend("gpu").unwrap_err().contains("not a backend"));
        assert_eq!(
            parse_backend("redis://127.0.0.1:6379").unwrap(),
            BackendChoice::Redis("redis://127.0.0.1:6379".into())
        );
        assert_eq!(parse_pagesize("50").unwrap(), 50);
        assert!(parse_pagesize("20").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
