//! `sofleet fetch URL`: one page through the polite fetcher, printed as the extractor reads
//! it (Scrapy's `fetch` / `shell`, for checking a page before a crawl).

use std::io::Write;
use std::sync::Arc;

use anyhow::anyhow;
use serde_json::json;
use sofleet_crawl::{CrawlConfig, Fetcher, RetryConfig};
use sofleet_extract::parse_page;
use sofleet_records::FailureKind;

use crate::args::FetchArgs;
use crate::cmd::runtime;
use crate::exit::{CmdResult, Failure};

/// Fetches the page (obeying robots.txt, the rate limit, the cache and the retry policy) and
/// prints the extracted record as JSON (or the HTML with `--html`), with one line on stderr
/// saying how it was fetched. Exit codes as for `crawl`: 3 when the site cannot be reached,
/// 4 when the page was fetched but failed (404, robots.txt, not a Stack Overflow page).
pub fn run(args: FetchArgs) -> CmdResult {
    let base = url::Url::parse(args.base_url.trim_end_matches('/'))
        .map_err(|e| Failure::Usage(format!("--base-url {:?} is not a URL: {e}", args.base_url)))?;
    let url = base.join(&args.url).map_err(|e| {
        Failure::Usage(format!(
            "{:?} is not a URL or a path (e.g. /questions/11227809): {e}",
            args.url
        ))
    })?;
    let mut config = CrawlConfig {
        base_url: args.base_url.trim_end_matches('/').to_owned(),
        requests_per_second: Some(args.rate.per_second()),
        ignore_robots: args.ignore_robots,
        cache_dir: args.cache_dir.clone(),
        listing_cache_ttl: super::whole_millis(args.cache_ttl),
        question_cache_ttl: super::whole_millis(args.cache_ttl),
        retry: RetryConfig {
            max_attempts: args.retries + 1,
            ..RetryConfig::default()
        },
        ..CrawlConfig::default()
    };
    args.http.apply(&mut config);
    super::check_config(&config)?;
    let rt = runtime()?;
    let fetched = rt.block_on(async {
        let fetcher = Arc::new(Fetcher::new(&config).map_err(|e| Failure::Usage(e.to_string()))?);
        // robots.txt first, so an unreachable site is a network failure (exit 3), not a
        // page robots.txt "disallows".
        if !args.ignore_robots
            && let Err(f) = fetcher.ensure_robots().await
            && matches!(f.kind, FailureKind::Connect | FailureKind::Timeout)
        {
            return Ok((Err(f), fetcher.stats()));
        }
        let page = fetcher.fetch(url.as_str(), Some(args.cache_ttl)).await;
        if let Ok(page) = &page {
            fetcher.store(page).await;
        }
        Ok::<_, Failure>((page, fetcher.stats()))
    })?;
    let (page, stats) = fetched;
    let page = match page {
        Ok(page) => page,
        Err(f) => {
            let attempts = match f.attempts {
                0 => "no request made".to_owned(),
                1 => "1 attempt".to_owned(),
                n => format!("{n} attempts"),
            };
            return Err(match f.kind {
                FailureKind::Connect | FailureKind::Timeout => Failure::Network(anyhow!(
                    "{} ({attempts}; check --base-url and your connection)",
                    f.message
                )),
                kind => Failure::Partial(format!("{}: {} ({attempts})", kind.as_str(), f.message)),
            });
        }
    };
    eprintln!(
        "{} {url} ({}, {} bytes{})",
        page.status,
        if page.from_cache {
            "cache hit".to_owned()
        } else {
            format!(
                "{} request{}",
                stats.requests,
                if stats.requests == 1 { "" } else { "s" }
            )
        },
        page.body.len(),
        page.redirected_to
            .as_deref()
            .map(|to| format!(", redirected to {to}"))
            .unwrap_or_default()
    );
    let mut stdout = std::io::stdout().lock();
    if args.html {
        let _ = stdout.write_all(page.body.as_bytes());
        return Ok(());
    }
    match parse_page(&page.body) {
        Ok(record) => {
            let value = json!({"url": url.as_str(), "kind": record.kind(), "record": record});
            let text =
                serde_json::to_string_pretty(&value).map_err(|e| Failure::Input(e.into()))?;
            let _ = writeln!(stdout, "{text}");
            Ok(())
        }
        Err(e) => Err(Failure::Partial(format!(
            "{url} was fetched but is not a page the extractor reads: {e} (see it with --html)"
        ))),
    }
}
