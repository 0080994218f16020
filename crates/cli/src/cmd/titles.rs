//! `sofleet titles`: the lesson's first exercise — the question titles of the
//! newest-questions pages, fetched one after another and then in parallel.

use std::time::{Duration, Instant};

use sofleet_crawl::{CrawlConfig, ListingResult, fetch_titles};
use sofleet_records::FailureRecord;

use crate::args::{BackendChoice, TitlesArgs};
use crate::cmd::summary::{Pace, describe_rate, write_json};
use crate::cmd::{backend_client, runtime};
use crate::exit::{CmdResult, Failure};
use serde_json::json;

type PageResults = Vec<Result<ListingResult, FailureRecord>>;

/// Fetches the pages serially (and, unless `--serial`, in parallel too),
/// prints each page's titles and the wall times side by side.
pub fn run(args: TitlesArgs) -> CmdResult {
    let mut config = CrawlConfig {
        base_url: args.base_url.trim_end_matches('/').to_owned(),
        requests_per_second: Some(args.rate.per_second()),
        max_concurrency_per_host: args.concurrency,
        ignore_robots: args.ignore_robots,
        ..CrawlConfig::default()
    };
    args.http.apply(&mut config);
    super::check_config(&config)?;
    let rt = runtime()?;
    let (serial, serial_time) = rt
        .block_on(timed(fetch_titles(None, &config, args.pages.clone())))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    print_pages(&serial);
    println!(
        "serial: {} pages in {:.2} s",
        serial.len(),
        serial_time.as_secs_f64()
    );
    let mut failed = count_failed(&serial);
    let mut parallel_figures: Option<serde_json::Value> = None;
    if !args.serial {
        let (parallel, parallel_time) = rt.block_on(async {
            let client = backend_client(&BackendChoice::Tokio, 1, &config)
                .await?
                .client;
            timed(fetch_titles(Some(&client), &config, args.pages.clone()))
                .await
                .map_err(|e| Failure::Usage(e.to_string()))
        })?;
        println!(
            "parallel: {} pages in {:.2} s ({:.1}x faster than serial)",
            parallel.len(),
            parallel_time.as_secs_f64(),
            serial_time.as_secs_f64() / parallel_time.as_secs_f64().max(1e-9)
        );
        let pace = Pace {
            rate: Some(args.rate.per_second()),
            // robots.txt first, unless ignored.
            requests: parallel.len() as u64 + u64::from(!args.ignore_robots),
            wall: parallel_time,
            request_time: Duration::ZERO,
        };
        if pace.rate_bound() {
            println!(
                "note: both runs are held to {} ({} requests need at least {:.1} s either \
                 way): the parallel speed-up shows with a faster --rate, if the site allows it",
                describe_rate(args.rate.per_second()),
                pace.requests,
                pace.rate_floor().as_secs_f64()
            );
        }
        failed += count_failed(&parallel);
        parallel_figures = Some(json!({
            "pages": parallel.len(),
            "failed": count_failed(&parallel),
            "seconds": parallel_time.as_secs_f64(),
            "speedup": serial_time.as_secs_f64() / parallel_time.as_secs_f64().max(1e-9),
            "rate_bound": pace.rate_bound(),
        }));
    }
    if let Some(path) = &args.stats_json {
        let value = json!({
            "command": "titles",
            "rate_per_second": args.rate.per_second(),
            "serial": {
                "pages": serial.len(),
                "failed": count_failed(&serial),
                "seconds": serial_time.as_secs_f64(),
            },
            "parallel": parallel_figures,
        });
        write_json(path, &value)?;
    }
    if failed == serial.len() * if args.serial { 1 } else { 2 } && failed > 0 {
        let message = serial
            .iter()
            .find_map(|r| r.as_ref().err())
            .map(|f| f.message.clone())
            .unwrap_or_default();
        return Err(Failure::Network(anyhow::anyhow!(
            "no page could be fetched from {}: {message}",
            config.base_url
        )));
    }
    if failed > 0 {
        return Err(Failure::Partial(format!("{failed} page fetches failed")));
    }
    Ok(())
}

async fn timed<T, E>(f: impl Future<Output = Result<T, E>>) -> Result<(T, Duration), E> {
    let started = Instant::now();
    let value = f.await?;
    Ok((value, started.elapsed()))
}

fn count_failed(results: &PageResults) -> usize {
    results.iter().filter(|r| r.is_err()).count()
}

fn print_pages(results: &PageResults) {
    for result in results {
        match result {
            Ok(listing) => {
                println!(
                    "page {}: {} titles",
                    listing.page.unwrap_or_default(),
                    listing.titles.len()
                );
                for title in &listing.titles {
                    println!("    {title}");
                }
            }
            Err(failure) => println!("page failed: {} ({})", failure.url, failure.message),
        }
    }
}
