//! `sofleet mock-site`: serve the mock Stack Overflow site until Ctrl-C, with every fault
//! the mock library has switchable from the command line, plus the value parsers of those
//! flags (each bounded, each failing with a message that names the bad value).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use sofleet_mock_so::{
    Faults, Latency, MAX_DELAY, MAX_HEADER_TEXT_BYTES, MAX_ROBOTS_TXT_BYTES, MockSite,
    MockSiteConfig, MockSiteError, RateLimit,
};

use crate::args::MockSiteArgs;
use crate::cmd::runtime;
use crate::exit::{CmdResult, Failure};

/// A `--robots-txt` file, read when the arguments are parsed.
#[derive(Debug, Clone)]
pub struct RobotsFile {
    /// The file named.
    pub path: PathBuf,
    /// Its bytes, verbatim.
    pub bytes: Vec<u8>,
}

/// A delay flag (`--latency`, `--slow-body`, `--captcha-cooldown`): a duration of at most
/// 10 minutes.
pub fn parse_delay(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. `100ms` or `2s`"))?;
    if d > MAX_DELAY {
        return Err(format!(
            "`{text}` is longer than the 10 minutes allowed; write e.g. `30s` or `2min`"
        ));
    }
    Ok(d)
}

/// Header text given on the command line (`--retry-after`, `--crawl-delay`): any text up
/// to 8 KiB without control characters (a newline would forge headers or robots.txt lines;
/// use `--robots-txt FILE` for arbitrary bytes).
pub fn parse_header_text(text: &str) -> Result<String, String> {
    if text.len() > MAX_HEADER_TEXT_BYTES {
        return Err(format!(
            "the value is {} bytes long; at most {MAX_HEADER_TEXT_BYTES} are allowed",
            text.len()
        ));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\t') {
        return Err(format!(
            "`{}` contains the control character {c:?}, which header text cannot carry; \
             use --robots-txt FILE for arbitrary bytes",
            text.escape_debug()
        ));
    }
    Ok(text.to_owned())
}

/// `--redirect ID=LOCATION`: a question id and the `Location` its page answers 301 with.
pub fn parse_redirect(text: &str) -> Result<(u64, String), String> {
    let usage = "write ID=LOCATION, e.g. `67000001=/questions/67000002/x` or \
                 `67000001=http://127.0.0.2:8080/questions/67000001/x`";
    let Some((id, location)) = text.split_once('=') else {
        return Err(format!("`{text}` has no `=`; {usage}"));
    };
    let id = id
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{id}` is not a question id; {usage}"))?;
    if location.is_empty() {
        return Err(format!("`{text}` gives no location; {usage}"));
    }
    let location = parse_header_text(location)?;
    Ok((id, location))
}

/// `--robots-txt FILE`: reads the file (at most 16 MiB).
pub fn parse_robots_file(text: &str) -> Result<RobotsFile, String> {
    let path = PathBuf::from(text);
    let len = std::fs::metadata(&path)
        .map_err(|e| format!("cannot read `{text}`: {e}"))?
        .len();
    if len > MAX_ROBOTS_TXT_BYTES as u64 {
        return Err(format!(
            "`{text}` is {len} bytes; a robots.txt of at most {MAX_ROBOTS_TXT_BYTES} bytes \
             (16 MiB) is served"
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read `{text}`: {e}"))?;
    Ok(RobotsFile { path, bytes })
}

/// The flag behind a [`MockSiteConfig`] field, for configuration errors.
fn flag_of(field: &str) -> &'static str {
    match field {
        "tags" => "--tag",
        "questions_per_tag" | "pages_per_tag" => "--questions-per-tag",
        "latency" => "--latency",
        "rate_limit" => "--rate",
        "captcha_after" => "--captcha-after",
        "captcha_cooldown" => "--captcha-cooldown",
        "server_errors" => "--server-errors",
        "truncated" => "--truncated",
        "slow_body" => "--slow-body",
        "not_found" => "--not-found",
        "redirects" => "--redirect",
        "retry_after_header" => "--retry-after",
        "always_429" => "--always-429",
        "robots_txt" | "robots_txt_bytes" => "--robots-txt",
        "crawl_delay" => "--crawl-delay",
        _ => "mock-site",
    }
}

/// The mock site's configuration for these arguments.
fn config(args: &MockSiteArgs) -> MockSiteConfig {
    let mut config = MockSiteConfig {
        port: Some(args.port),
        captcha_after: args.captcha_after,
        server_errors: args.server_errors.map(|every_nth| Faults { every_nth }),
        truncated: args.truncated.clone(),
        slow_body: args.slow_body,
        not_found: args.not_found.clone(),
        redirects: args.redirects.clone(),
        retry_after_header: args.retry_after.clone(),
        always_429: args.always_429.clone(),
        robots_txt_bytes: args.robots_txt.as_ref().map(|file| file.bytes.clone()),
        crawl_delay: args.crawl_delay.clone(),
        ..MockSiteConfig::default()
    };
    if let Some(cooldown) = args.captcha_cooldown {
        config.captcha_cooldown = cooldown;
    }
    if !args.latency.is_zero() {
        config.latency = Latency::Fixed(args.latency);
    }
    if let Some(rate) = args.rate {
        config.rate_limit = Some(RateLimit {
            requests_per_second: rate.per_second().ceil().clamp(1.0, f64::from(u32::MAX)) as u32,
            retry_after: Duration::from_secs(1),
        });
    }
    if !args.tags.is_empty() {
        config.tags = args.tags.clone();
    }
    if let Some(n) = args.questions_per_tag {
        config.questions_per_tag = Some(n);
        config.pages_per_tag = n.div_ceil(15);
    }
    config
}

/// Starts the site on 127.0.0.1, prints its URL as the first line of stdout,
/// and serves until interrupted. The site records no requests, so it serves any
/// amount of traffic in flat memory.
pub fn run(args: MockSiteArgs) -> CmdResult {
    let config = config(&args);
    // Flags that make no sense together are usage errors (exit 2) naming the flag.
    if let Err(MockSiteError::InvalidConfig { field, problem }) = config.validate() {
        let mut problem = problem;
        for other in ["not_found", "truncated", "redirects", "always_429"] {
            problem = problem.replace(&format!("in {other}"), &format!("in {}", flag_of(other)));
        }
        return Err(Failure::Usage(format!("{}: {problem}", flag_of(field))));
    }
    let rt = runtime()?;
    rt.block_on(async {
        let site = MockSite::try_start(config).await.map_err(|e| match e {
            MockSiteError::Bind { port, source } => Failure::Input(anyhow::anyhow!(
                "cannot listen on 127.0.0.1:{port}: {source} (pick another --port, or 0 for \
                 any free one)"
            )),
            other => Failure::Input(anyhow::anyhow!("cannot start the mock site: {other}")),
        })?;
        let url = site.base_url();
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "mock Stack Overflow site listening on {url}");
        let _ = writeln!(
            stdout,
            "try: sofleet crawl --base-url {url} --tag {} --pages 1-2 --rate 20/s --out posts.parquet",
            site.config().tags.first().map(String::as_str).unwrap_or("dask")
        );
        if let Some(file) = &args.robots_txt {
            let _ = writeln!(
                stdout,
                "robots.txt: {} ({} bytes)",
                file.path.display(),
                file.bytes.len()
            );
        }
        let _ = stdout.flush();
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| Failure::Input(anyhow::anyhow!("cannot wait for Ctrl-C: {e}")))?;
        eprintln!("mock site stopped");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsers_bound_and_explain() {
        assert_eq!(parse_delay("10min"), Ok(Duration::from_secs(600)));
        assert!(parse_delay("601s").unwrap_err().contains("10 minutes"));
        assert!(parse_delay("soon").unwrap_err().contains("`soon`"));
        assert_eq!(
            parse_redirect("5=/questions/6/x"),
            Ok((5, "/questions/6/x".into()))
        );
        assert_eq!(
            parse_redirect("5=http://127.0.0.2:1/q?a=b"),
            Ok((5, "http://127.0.0.2:1/q?a=b".into()))
        );
        assert!(parse_redirect("5").unwrap_err().contains("ID=LOCATION"));
        assert!(parse_redirect("x=/a").unwrap_err().contains("`x`"));
        assert!(parse_redirect("5=").is_err());
        assert_eq!(parse_header_text("-5"), Ok("-5".into()));
        assert!(parse_header_text("1\r\nX: y").is_err());
        assert!(parse_robots_file("/nonexistent/robots.txt").is_err());
        assert_eq!(flag_of("redirects"), "--redirect");
    }
}
