//! `sofleet crawl`: the lesson's pipeline on the executor, written to files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sofleet_analysis::{Format, failures_frame, questions_frame, write_frame};
use sofleet_crawl::{CrawlConfig, CrawlEvent, CrawlPlan, StopFlag, crawl_until};
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord};

use crate::args::{BackendChoice, CrawlArgs};
use crate::cmd::{backend_client, runtime};
use crate::exit::{CmdResult, Failure};
use crate::progress::Progress;

/// Runs the crawl, writes records and failures, prints the stats summary.
pub fn run(args: CrawlArgs) -> CmdResult {
    let format = Format::from_path_or_err(&args.out).map_err(|e| Failure::Usage(e.to_string()))?;
    let failures_out = failures_path(&args.out, format);
    check_writable(&args.out)?;

    let config = CrawlConfig {
        base_url: args.base_url.trim_end_matches('/').to_owned(),
        requests_per_second: Some(args.rate.per_second()),
        max_concurrency_per_host: args.concurrency,
        ignore_robots: args.ignore_robots,
        cache_dir: args.cache_dir.clone(),
        retry: sofleet_crawl::RetryConfig {
            max_attempts: args.retries + 1,
            ..sofleet_crawl::RetryConfig::default()
        },
        ..CrawlConfig::default()
    };
    config
        .validate()
        .map_err(|e| Failure::Usage(format!("{e} (from --base-url `{}`)", args.base_url)))?;
    let plan = CrawlPlan {
        tags: args.tags.clone(),
        sort: args.sort.as_str().to_owned(),
        pages: args.pages.clone(),
        pagesize: args.pagesize,
    };
    plan.validate().map_err(|e| Failure::Usage(e.to_string()))?;

    let rt = runtime()?;
    let stop = StopFlag::new();
    let remote = matches!(args.backend, BackendChoice::Redis(_));
    let (questions, failures, summary) = rt.block_on(async {
        let client = backend_client(&args.backend, args.concurrency as usize).await?;
        let on_ctrl_c = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nstopping: finishing requests in flight, keeping what was fetched…");
                on_ctrl_c.stop();
            }
        });
        let mut progress = Progress::new(args.no_progress);
        let mut questions: Vec<CrawledQuestion> = Vec::new();
        let mut failures: Vec<FailureRecord> = Vec::new();
        let summary = crawl_until(&client, &config, &plan, &stop, |event| match event {
            CrawlEvent::Question(q) => questions.push(*q),
            CrawlEvent::Failure(f) => failures.push(f),
            CrawlEvent::Progress(p) => progress.update(p),
        })
        .await;
        progress.finish();
        summary
            .map(|s| (questions, failures, s))
            .map_err(|e| Failure::Usage(e.to_string()))
    })?;

    let mut frame = questions_frame(&questions).context("cannot build the questions frame")?;
    write_frame(&mut frame, &args.out, format)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let mut failure_frame = failures_frame(&failures).context("cannot build the failures frame")?;
    write_frame(&mut failure_frame, &failures_out, format)
        .with_context(|| format!("cannot write {}", failures_out.display()))?;

    if remote {
        // The fetchers live in the workers: their counters are not this process's.
        eprintln!(
            "{} questions, {} failures, {} listing pages in {:.1} s on remote workers \
             (request statistics are kept by each worker)",
            summary.questions,
            summary.failures,
            summary.listings,
            summary.elapsed.as_secs_f64()
        );
    } else {
        eprintln!("{summary}");
    }
    let serial = summary.stats.request_time();
    if !remote {
        eprintln!(
            "wall time {:.2} s; the same {} requests one after another: {:.2} s",
            summary.elapsed.as_secs_f64(),
            summary.stats.requests,
            serial.as_secs_f64()
        );
    }
    println!(
        "wrote {} questions to {} and {} failure rows to {}",
        questions.len(),
        args.out.display(),
        failures.len(),
        failures_out.display()
    );

    if summary.stopped {
        let resume = match &args.cache_dir {
            Some(dir) => format!(
                "run the same command again: pages cached in {} are not fetched again",
                dir.display()
            ),
            None => "run it again with --cache-dir DIR to keep fetched pages across runs".into(),
        };
        return Err(Failure::Partial(format!(
            "stopped early with {} questions; to resume, {resume}",
            questions.len()
        )));
    }
    // Nothing came back and the site never answered: a network failure, not a partial result.
    // (An unreachable robots.txt also makes every page count as disallowed.)
    let network_failure = failures.iter().find(|f| is_network_failure(f));
    if let (true, 0, Some(failure)) = (questions.is_empty(), summary.listings, network_failure) {
        return Err(Failure::Network(anyhow::anyhow!(
            "could not reach {}: {} (check --base-url and your connection)",
            config.base_url,
            failure.message
        )));
    }
    if !failures.is_empty() {
        return Err(Failure::Partial(format!(
            "{} pages failed and were recorded in {}",
            failures.len(),
            failures_out.display()
        )));
    }
    Ok(())
}

fn is_network_failure(f: &FailureRecord) -> bool {
    matches!(f.kind, FailureKind::Connect | FailureKind::Timeout)
}

/// `posts.parquet` → `posts.failures.parquet`.
fn failures_path(out: &Path, format: Format) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "posts".into());
    out.with_file_name(format!("{stem}.failures.{}", format.extension()))
}

/// Fails before any request if the output file cannot be created.
fn check_writable(out: &Path) -> CmdResult {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tempfile::NamedTempFile::new_in(&dir).map_err(|e| {
        Failure::Input(anyhow::anyhow!(
            "cannot write the output {}: {e} (choose a writable folder with --out)",
            out.display()
        ))
    })?;
    Ok(())
}
