//! `sofleet mock-site`: serve the mock Stack Overflow site until Ctrl-C.

use std::io::Write;
use std::time::Duration;

use sofleet_mock_so::{Latency, MockSite, MockSiteConfig, RateLimit};

use crate::args::MockSiteArgs;
use crate::cmd::runtime;
use crate::exit::{CmdResult, Failure};

/// Starts the site on 127.0.0.1, prints its URL as the first line of stdout,
/// and serves until interrupted.
pub fn run(args: MockSiteArgs) -> CmdResult {
    let mut config = MockSiteConfig {
        port: Some(args.port),
        ..MockSiteConfig::default()
    };
    if !args.latency.is_zero() {
        config.latency = Latency::Fixed(args.latency);
    }
    if let Some(rate) = args.rate {
        config.rate_limit = Some(RateLimit {
            requests_per_second: rate.per_second().ceil().max(1.0) as u32,
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
    let rt = runtime()?;
    rt.block_on(async {
        let site = MockSite::try_start(config).await.map_err(|e| {
            Failure::Input(anyhow::anyhow!(
                "cannot start the mock site on 127.0.0.1:{}: {e}",
                args.port
            ))
        })?;
        let url = site.base_url();
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "mock Stack Overflow site listening on {url}");
        let _ = writeln!(
            stdout,
            "try: sofleet crawl --base-url {url} --tag {} --pages 1-2 --rate 20/s --out posts.parquet",
            site.config().tags.first().map(String::as_str).unwrap_or("dask")
        );
        let _ = stdout.flush();
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| Failure::Input(anyhow::anyhow!("cannot wait for Ctrl-C: {e}")))?;
        eprintln!("mock site stopped");
        Ok(())
    })
}
