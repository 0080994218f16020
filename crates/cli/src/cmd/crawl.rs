//! `sofleet crawl`: the lesson's pipeline on the executor, streamed into a dataset on disk that
//! survives being killed (see `sofleet-store`) and resumes where it was.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::anyhow;
use sofleet_crawl::{
    CrawlConfig, CrawlError, CrawlEvent, CrawlPlan, CrawlResume, CrawlSummary, ListingResult,
    StopFlag, crawl_resume,
};
use sofleet_records::{FailureKind, Stage};
use sofleet_store::{Dataset, Finalised, Journal, StoreError};

use crate::args::{BackendChoice, CrawlArgs};
use crate::cmd::summary::{Pace, crawl_json, write_json};
use crate::cmd::{BackendClient, backend_client, millis, runtime, watch_workers, whole_millis};
use crate::dashboard::{CrawlPanels, FleetWorkers, linger_and_stop, start};
use crate::exit::{CmdResult, Failure};
use crate::progress::Progress;
use sofleet_dashboard::{Dashboard, LocalWorker};
use sofleet_redis::{FleetReader, RedisOptions};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The command-line flags a configuration error comes from.
pub(crate) fn flags_of(e: &CrawlError) -> &'static str {
    match e {
        CrawlError::InvalidConfig { field, .. } => match *field {
            "requests_per_second" => "--rate and --max-pause",
            "max_pause_ms" | "captcha_pause_ms" | "retry.max_backoff_ms" => "--max-pause",
            "redirect_hosts" => "--allow-redirect-host",
            _ => "--base-url",
        },
        _ => "--base-url",
    }
}

fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::BadOutput { .. } => Failure::Usage(format!("{e} (--out)")),
        other => Failure::Input(anyhow!(other)),
    }
}

/// Serves the crawl's dashboard: the client's progress and task stream, this process as its
/// worker (local backends) or the fleet's workers (Redis), and the crawl's panels.
async fn crawl_dashboard(
    args: &CrawlArgs,
    client: &sofleet_executor::Client,
    addr: std::net::SocketAddr,
    panels: &Arc<CrawlPanels>,
    local: bool,
) -> Result<sofleet_dashboard::DashboardHandle, Failure> {
    let title = format!("sofleet crawl: {}", args.tags.join(", "));
    let mut dashboard = Dashboard::new(title)
        .monitor(client.monitor())
        .panel_source(panels.clone());
    if local {
        dashboard =
            dashboard.local_worker(LocalWorker::with_concurrency(args.concurrency as usize));
    }
    if let BackendChoice::Redis(url) = &args.backend {
        let reader = FleetReader::connect(url, &RedisOptions::default())
            .await
            .map_err(|e| super::status::failure(e, url))?;
        dashboard = dashboard.worker_source(Arc::new(FleetWorkers::new(reader)));
    }
    start(
        dashboard,
        addr,
        args.dashboard_access.dashboard_token.clone(),
    )
    .await
}

/// What the sink saw, beyond what the crawl's summary counts.
#[derive(Default)]
struct Seen {
    not_fetched_listings: usize,
    not_fetched_questions: usize,
    first_network_failure: Option<String>,
    journal_error: Option<StoreError>,
    /// Tags with at least one listing page read.
    listed_tags: std::collections::HashSet<String>,
    /// Listing pages that answered 404: (URL path and page).
    listing_404s: Vec<(String, u32)>,
}

impl Seen {
    fn listing_failed(&mut self, f: &sofleet_records::FailureRecord) {
        if f.stage == Stage::Listing
            && f.http_status == Some(404)
            && let Ok(url) = url::Url::parse(&f.url)
        {
            let page = url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            self.listing_404s.push((url.path().to_owned(), page));
        }
    }

    /// The tags of `plan` with no listing page read and a listing page answering 404, each
    /// with its first missing page and that page's URL: a misspelt tag (or too few pages).
    fn tags_not_found(&self, plan: &CrawlPlan, config: &CrawlConfig) -> Vec<(String, u32, String)> {
        let Ok(base) = url::Url::parse(&config.base_url) else {
            return Vec::new();
        };
        plan.tags
            .iter()
            .filter(|tag| !self.listed_tags.contains(*tag))
            .filter_map(|tag| {
                let first = plan.listing_url(&base, tag, *plan.pages.start());
                let pages: Vec<u32> = self
                    .listing_404s
                    .iter()
                    .filter(|(path, _)| path == first.path())
                    .map(|(_, page)| *page)
                    .collect();
                let min = *pages.iter().min()?;
                Some((
                    tag.clone(),
                    min,
                    plan.listing_url(&base, tag, min).to_string(),
                ))
            })
            .collect()
    }
}

/// Runs the crawl into the dataset at `--out`, then prints the summary.
pub fn run(args: CrawlArgs) -> CmdResult {
    // Everything about the output is checked before the first request.
    let dataset = Dataset::new(&args.out).map_err(|e| match e {
        StoreError::Io { .. } => Failure::Input(anyhow!(
            "{e} (choose an existing, writable folder with --out)"
        )),
        other => store_failure(other),
    })?;
    if matches!(args.backend, BackendChoice::Redis(_)) && args.cache_dir.is_some() {
        return Err(Failure::Usage(
            "--cache-dir belongs to the workers with --backend redis://…: start each worker \
             with `sofleet worker --cache-dir DIR` instead (a job cannot choose where a worker \
             writes)"
                .to_owned(),
        ));
    }
    let refresh = args.refresh_after.map(millis);
    let max_pause = whole_millis(args.max_pause);
    let config = CrawlConfig {
        base_url: args.base_url.trim_end_matches('/').to_owned(),
        requests_per_second: Some(args.rate.per_second()),
        max_concurrency_per_host: args.concurrency,
        ignore_robots: args.ignore_robots,
        cache_dir: args.cache_dir.clone(),
        listing_cache_ttl: whole_millis(args.cache_ttl),
        // A question due for a refresh must not come back from the cache.
        question_cache_ttl: whole_millis(args.question_cache_ttl)
            .min(refresh.map_or(Duration::MAX, Duration::from_millis)),
        // Our own pauses stay within --max-pause too.
        retry: {
            let default = sofleet_crawl::RetryConfig::default();
            sofleet_crawl::RetryConfig {
                max_attempts: args.retries + 1,
                initial_backoff: default.initial_backoff.min(max_pause),
                max_backoff: default.max_backoff.min(max_pause),
            }
        },
        captcha_pause: CrawlConfig::default().captcha_pause.min(max_pause),
        max_pause,
        redirect_hosts: args.redirect_hosts.clone(),
        ..CrawlConfig::default()
    };
    let mut config = config;
    args.http.apply(&mut config);
    super::check_config(&config)?;
    let plan = CrawlPlan {
        tags: args.tags.clone(),
        sort: args.sort.as_str().to_owned(),
        pages: args.pages.clone(),
        pagesize: args.pagesize,
    };
    plan.validate().map_err(|e| Failure::Usage(e.to_string()))?;

    let mut journal = dataset.open_journal(now_ms()).map_err(store_failure)?;
    let resume = resume_state(&dataset, &journal, refresh)?;

    let rt = runtime()?;
    let stop = StopFlag::new();
    let remote = matches!(args.backend, BackendChoice::Redis(_));
    let mut seen = Seen::default();
    // Why the fleet had no live worker, if it had none: sent before the crawl is stopped.
    let (no_workers, mut no_workers_failure) = tokio::sync::oneshot::channel::<Failure>();
    let summary: CrawlSummary = rt.block_on(async {
        let BackendClient {
            client,
            fleet,
            local_worker,
        } = backend_client(&args.backend, args.concurrency as usize, &config).await?;
        let panels = Arc::new(CrawlPanels::new(local_worker.clone()));
        let dashboard = match args.dashboard {
            Some(addr) => {
                Some(crawl_dashboard(&args, &client, addr, &panels, local_worker.is_some()).await?)
            }
            None => None,
        };
        if let (Some(fleet), BackendChoice::Redis(url)) = (fleet, &args.backend) {
            let (url, host, limit, stop) = (
                url.clone(),
                host_of(&config),
                args.worker_timeout,
                stop.clone(),
            );
            tokio::spawn(async move {
                let failure = watch_workers(fleet, &url, &host, limit).await;
                // The failure first, then the stop: the crawl reads it once it has stopped.
                let _ = no_workers.send(failure);
                stop.stop();
            });
        }
        tokio::spawn(stop_on_signals(stop.clone(), dataset.clone()));
        let mut progress = Progress::new(args.no_progress);
        let summary = crawl_resume(&client, &config, &plan, &stop, resume, |event| {
            let written = match event {
                CrawlEvent::Question(q) => journal.append_question(&q),
                CrawlEvent::Failure(f) => {
                    panels.failed(&f);
                    if matches!(f.kind, FailureKind::Connect | FailureKind::Timeout) {
                        seen.first_network_failure.get_or_insert(f.message.clone());
                    }
                    seen.listing_failed(&f);
                    journal.append_failure(&f)
                }
                CrawlEvent::Listing(l) => {
                    if let Some(tag) = &l.tag {
                        seen.listed_tags.insert(tag.clone());
                    }
                    journal.append_listing(&*l)
                }
                CrawlEvent::NotFetched(n) => {
                    match n.stage {
                        Stage::Listing => seen.not_fetched_listings += 1,
                        _ => seen.not_fetched_questions += 1,
                    }
                    Ok(())
                }
                CrawlEvent::Progress(p) => {
                    progress.update(p);
                    Ok(())
                }
                _ => Ok(()),
            };
            if let Err(e) = written {
                // The journal cannot take more (disk full, …): stop rather than lose records.
                if seen.journal_error.is_none() {
                    eprintln!("\nstopping: {e}");
                    seen.journal_error = Some(e);
                    stop.stop();
                }
            }
        })
        .await;
        progress.finish();
        if let Some(handle) = dashboard {
            linger_and_stop(handle, args.dashboard_linger, &stop).await;
        }
        summary.map_err(|e| Failure::Usage(e.to_string()))
    })?;
    journal.sync().map_err(store_failure)?;
    if let Some(e) = seen.journal_error.take() {
        return Err(Failure::Input(anyhow!(
            "{e}; what was journalled before is kept in {}: free some space and run the same \
             command again to resume",
            dataset.journal_dir().display()
        )));
    }

    let complete = !summary.stopped;
    // The site never answered and there was nothing before: write nothing at all.
    let no_workers_failure = no_workers_failure.try_recv().ok();
    if let (true, None, 0, 0, Some(message)) = (
        complete && !journal.resumed() && !dataset.out().exists(),
        &no_workers_failure,
        summary.questions,
        summary.listings + summary.listings_resumed,
        &seen.first_network_failure,
    ) {
        journal.remove().map_err(store_failure)?;
        report_summary(&args, &dataset, &summary, remote)?;
        return Err(Failure::Network(anyhow!(
            "could not reach {}: {message}; nothing was written (check --base-url and your \
             connection)",
            config.base_url
        )));
    }
    let metadata = metadata(&args, &config, &plan, &journal, &summary, complete);
    let written = dataset.finalise(&metadata).map_err(store_failure)?;
    if complete {
        journal.remove().map_err(store_failure)?;
    } else {
        drop(journal);
    }
    report_summary(&args, &dataset, &summary, remote)?;
    print_summary(&dataset, &written);

    if let Some(failure) = no_workers_failure {
        return Err(failure);
    }
    if !complete {
        return Err(Failure::Partial(format!(
            "stopped early: {} questions are in {}, {} listing pages and {} questions were not \
             fetched; to resume, run the same command again ({} remembers what was done)",
            written.questions,
            dataset.out().display(),
            seen.not_fetched_listings,
            seen.not_fetched_questions,
            dataset.journal_dir().display()
        )));
    }
    // Nothing came back and the site never answered: a network failure, not a partial result.
    if let (0, 0, Some(message)) = (
        summary.questions,
        summary.listings + summary.listings_resumed,
        &seen.first_network_failure,
    ) {
        return Err(Failure::Network(anyhow!(
            "could not reach {}: {message} (check --base-url and your connection)",
            config.base_url
        )));
    }
    let missing = seen.tags_not_found(&plan, &config);
    if !missing.is_empty() {
        let named: Vec<String> = missing
            .iter()
            .map(|(tag, page, url)| {
                if *page == 1 {
                    format!(
                        "tag `{tag}` not found (404 at {url}): check its spelling (tags are \
                         lower-case with hyphens, e.g. `python-3.x`)"
                    )
                } else {
                    format!("tag `{tag}` has no page {page} (404 at {url}): ask for fewer --pages")
                }
            })
            .collect();
        let message = named.join("; ");
        // Nothing at all came back: the input was wrong, not the site.
        return Err(if summary.questions == 0 {
            Failure::Input(anyhow!(message))
        } else {
            Failure::Partial(message)
        });
    }
    if written.failures > 0 {
        return Err(Failure::Partial(format!(
            "{} pages failed and were recorded in {}",
            written.failures,
            dataset.failures_path().display()
        )));
    }
    Ok(())
}

/// What earlier runs did: the output's questions (except those due for a refresh), the
/// journal's questions and listing pages.
fn resume_state(
    dataset: &Dataset,
    journal: &Journal,
    refresh_ms: Option<u64>,
) -> Result<CrawlResume, Failure> {
    let existing = dataset.existing_questions().map_err(store_failure)?;
    let cutoff =
        refresh_ms.map(|ms| now_ms().saturating_sub(i64::try_from(ms).unwrap_or(i64::MAX)));
    let mut have: HashSet<u64> = existing
        .iter()
        .filter(|(_, fetched)| cutoff.is_none_or(|c| **fetched >= c))
        .map(|(id, _)| *id)
        .collect();
    let due = existing.len() - have.len();
    let journalled = journal.question_ids().map_err(store_failure)?;
    let (listings, bad) = journal.listings::<ListingResult>().map_err(store_failure)?;
    for line in &bad {
        eprintln!(
            "warning: ignoring an unreadable journal line ({line}); that page is fetched again"
        );
    }
    if journal.resumed() {
        eprintln!(
            "resuming the unfinished crawl in {}: {} questions and {} listing pages already done",
            journal.dir().display(),
            journalled.len(),
            listings.len()
        );
    }
    if !existing.is_empty() {
        eprintln!(
            "{} already has {} questions: only new ones are fetched{}",
            dataset.out().display(),
            existing.len(),
            match refresh_ms {
                Some(_) => format!(", plus {due} fetched longer ago than --refresh-after"),
                None => String::new(),
            }
        );
    }
    have.extend(journalled);
    Ok(CrawlResume {
        have_questions: have,
        listings,
    })
}

/// The first SIGINT/SIGTERM/SIGHUP stops the crawl gracefully (requests in flight are
/// cancelled, what was fetched is written); a second one exits at once — the journal already
/// holds every record, so the state stays resumable.
async fn stop_on_signals(stop: StopFlag, dataset: Dataset) {
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("warning: cannot listen for signals ({e}); Ctrl-C stops without writing");
            return;
        }
    };
    let first = signals.next().await;
    eprintln!(
        "\nstopping ({first}): cancelling requests in flight, writing what was fetched… \
         (again to stop at once)"
    );
    stop.stop();
    let second = signals.next().await;
    eprintln!(
        "\nstopped at once ({second}); {} keeps every record received: run the same command \
         again to resume",
        dataset.journal_dir().display()
    );
    std::process::exit(4);
}

/// The stop signals a crawl obeys.
pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The name of the next signal received.
    pub(crate) async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
                _ = self.hup.recv() => "SIGHUP",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// The run's parameters, stored in the Parquet footer (`sofleet.*` keys).
fn metadata(
    args: &CrawlArgs,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    journal: &Journal,
    summary: &CrawlSummary,
    complete: bool,
) -> Vec<(String, String)> {
    let time = |ms: i64| {
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        humantime::format_rfc3339_millis(at).to_string()
    };
    let entries = [
        ("version", env!("CARGO_PKG_VERSION").to_owned()),
        ("base_url", config.base_url.clone()),
        (
            "tags",
            serde_json::to_string(&plan.tags).unwrap_or_default(),
        ),
        ("sort", plan.sort.clone()),
        (
            "pages",
            format!("{}-{}", plan.pages.start(), plan.pages.end()),
        ),
        ("pagesize", plan.pagesize.to_string()),
        ("started", time(journal.started_at_ms())),
        ("finished", time(now_ms())),
        ("questions_fetched", summary.questions.to_string()),
        ("failures", summary.failures.to_string()),
        ("not_fetched", summary.not_fetched.to_string()),
        (
            "status",
            if complete { "complete" } else { "stopped" }.to_owned(),
        ),
        (
            "refresh_after",
            args.refresh_after
                .map(|d| humantime::format_duration(d).to_string())
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    entries
        .into_iter()
        .map(|(k, v)| (format!("sofleet.{k}"), v))
        .collect()
}

/// The crawled host as `--allow-host` takes it.
pub(crate) fn host_of(config: &CrawlConfig) -> String {
    url::Url::parse(&config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| config.base_url.clone())
}

/// The summary lines (the same for a local run and a fleet: the counters come from the
/// workers' reports either way), the pace compared with one request after another, a line
/// per remote worker; and the same as JSON with `--stats-json`.
fn report_summary(
    args: &CrawlArgs,
    dataset: &Dataset,
    summary: &CrawlSummary,
    remote: bool,
) -> Result<(), Failure> {
    let pace = Pace {
        rate: Some(args.rate.per_second()),
        requests: summary.stats.requests,
        wall: summary.elapsed,
        request_time: summary.stats.request_time(),
    };
    eprintln!("{summary}");
    for line in pace.lines() {
        eprintln!("{line}");
    }
    if remote {
        for worker in &summary.workers {
            eprintln!("  worker {worker}");
        }
    }
    if let Some(path) = &args.stats_json {
        let value = crawl_json(summary, &pace, dataset.out(), dataset.failures_path());
        write_json(path, &value)?;
    }
    Ok(())
}

fn print_summary(dataset: &Dataset, written: &Finalised) {
    if written.unwritable > 0 {
        eprintln!(
            "warning: {} records could not be written; each is a failure row",
            written.unwritable
        );
    }
    println!(
        "wrote {} questions to {} ({} new or refreshed this run, {} kept) and {} failure rows to {}",
        written.questions,
        dataset.out().display(),
        written.from_journal,
        written.kept,
        written.failures,
        dataset.failures_path().display()
    );
}
