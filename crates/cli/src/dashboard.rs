//! The dashboard as the command line serves it (`sofleet crawl --dashboard`, `sofleet
//! dashboard --redis`): a Redis fleet's workers as a [`WorkerSource`], the crawl's panels
//! (politeness per host and source address, the latest failures), and starting, announcing
//! and keeping up the server.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use sofleet_crawl::{CrawlWorker, HostPoliteness};
use sofleet_dashboard::{
    Dashboard, DashboardError, DashboardHandle, Panel, PanelSource, WorkerRow, WorkerSource,
    Workers,
};
use sofleet_records::FailureRecord;
use sofleet_redis::{FleetReader, FleetStatus};

use crate::exit::Failure;

/// The failures the failures panel lists (the newest).
pub const FAILURES_SHOWN: usize = 20;

/// The longest `--dashboard-linger`.
pub const MAX_LINGER: Duration = Duration::from_secs(3600);

/// A Redis fleet's workers, read from their heartbeats.
pub struct FleetWorkers {
    reader: tokio::sync::Mutex<FleetReader>,
}

impl FleetWorkers {
    /// Reads the fleet through `reader`.
    pub fn new(reader: FleetReader) -> FleetWorkers {
        FleetWorkers {
            reader: tokio::sync::Mutex::new(reader),
        }
    }
}

#[async_trait::async_trait]
impl WorkerSource for FleetWorkers {
    async fn workers(&self) -> Result<Workers, String> {
        let mut reader = self.reader.lock().await;
        // The reader's errors name the URL with its password masked.
        let status = reader.status().await.map_err(|e| e.to_string())?;
        Ok(fleet_rows(&status))
    }
}

/// The dashboard's rows of a fleet's status.
pub fn fleet_rows(status: &FleetStatus) -> Workers {
    let rows = status
        .workers
        .iter()
        .map(|w| {
            let mut row = WorkerRow::new(&w.name, &w.host);
            row.pid = Some(w.pid);
            row.addresses = w.addresses.clone();
            row.concurrency = w.concurrency as u64;
            row.running = w.running as u64;
            row.done = w.completed.saturating_sub(w.failed);
            row.failed = w.failed;
            row.heartbeat_age_s = status.heartbeat_age(w).as_secs_f64();
            row.rss_bytes = w.rss_bytes;
            row
        })
        .collect();
    let mut workers = Workers::rows(rows);
    workers.queued = Some(status.queued);
    workers.pending = Some(status.pending);
    workers
}

/// The crawl's panels: the politeness of each (host, source address) of the local worker, and
/// the newest failure rows.
pub struct CrawlPanels {
    worker: Option<Arc<CrawlWorker>>,
    failures: Mutex<VecDeque<FailureRecord>>,
}

impl CrawlPanels {
    /// Panels of a crawl whose fetchers are in `worker` (none: a fleet's workers fetch).
    pub fn new(worker: Option<Arc<CrawlWorker>>) -> CrawlPanels {
        CrawlPanels {
            worker,
            failures: Mutex::new(VecDeque::with_capacity(FAILURES_SHOWN)),
        }
    }

    /// Notes a failure row (the newest [`FAILURES_SHOWN`] are kept).
    pub fn failed(&self, failure: &FailureRecord) {
        let mut failures = self.failures.lock();
        if failures.len() == FAILURES_SHOWN {
            failures.pop_back();
        }
        failures.push_front(failure.clone());
    }
}

impl PanelSource for CrawlPanels {
    fn panels(&self) -> Vec<Panel> {
        let mut politeness = Panel::new(
            "politeness",
            "Politeness per host and source address",
            [
                "host",
                "source",
                "worker",
                "rate budget",
                "in flight",
                "requests",
                "429s",
                "captchas",
                "cache hits",
                "retries",
                "pause",
            ],
        );
        match &self.worker {
            Some(worker) => {
                politeness.rows = worker.politeness().iter().map(politeness_row).collect();
                politeness.empty = "no request sent yet".to_string();
            }
            None => {
                politeness.empty = "the fleet's workers keep their own politeness (shared \
                                    rate budgets in Redis): see each worker's log"
                    .to_string();
            }
        }
        let mut failures = Panel::new(
            "failures",
            "Latest failures",
            ["url", "stage", "kind", "attempts", "message"],
        );
        failures.empty = "no failure".to_string();
        failures.rows = self
            .failures
            .lock()
            .iter()
            .map(|f| {
                vec![
                    f.url.clone(),
                    f.stage.as_str().to_string(),
                    f.kind.as_str().to_string(),
                    f.attempts.to_string(),
                    shorten(&f.message, 160),
                ]
            })
            .collect();
        vec![politeness, failures]
    }
}

fn politeness_row(p: &HostPoliteness) -> Vec<String> {
    let rate = match p.requests_per_second() {
        Some(r) if r >= 1.0 => format!("{r:.1}/s"),
        Some(r) => format!("1 per {:.1} s", 1.0 / r),
        None => "unlimited".to_string(),
    };
    let pause = match (&p.stopped, p.paused_for) {
        (Some(why), _) => format!("stopped: {}", shorten(why, 80)),
        (None, Some(left)) => format!("{:.0} s left", left.as_secs_f64().ceil()),
        (None, None) => "-".to_string(),
    };
    vec![
        p.host.clone(),
        p.source.clone(),
        p.worker.clone(),
        if p.shared_budget {
            format!("{rate} (fleet)")
        } else {
            rate
        },
        format!("{}/{}", p.in_flight, p.max_in_flight),
        p.requests.to_string(),
        p.too_many_requests.to_string(),
        p.captchas.to_string(),
        p.cache_hits.to_string(),
        p.retries.to_string(),
        pause,
    ]
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// Serves `dashboard` on `addr` and says where, the way Dask's client does.
///
/// # Errors
/// A usage failure naming the flag when the address or token is refused.
pub async fn start(
    dashboard: Dashboard,
    addr: SocketAddr,
    token: Option<String>,
) -> Result<DashboardHandle, Failure> {
    let handle = dashboard
        .token(token)
        .serve(addr)
        .await
        .map_err(|e| match e {
            DashboardError::Bind { .. } => Failure::Usage(format!("{e} (--dashboard)")),
            other => Failure::Usage(other.to_string()),
        })?;
    if handle.needs_token() {
        eprintln!(
            "Dashboard: {} (add ?token=… with the dashboard token to open it)",
            handle.url()
        );
    } else {
        eprintln!("Dashboard: {}", handle.url());
    }
    Ok(handle)
}

/// Keeps a finished run's dashboard up for `linger` (or until a stop signal), showing its
/// final figures, then stops it.
pub async fn linger_and_stop(
    handle: DashboardHandle,
    linger: Duration,
    stop: &sofleet_crawl::StopFlag,
) {
    handle.refresh().await;
    if !linger.is_zero() && !stop.is_stopped() {
        eprintln!(
            "The dashboard shows the final figures at {} for {} (Ctrl-C to end now).",
            handle.url(),
            humantime::format_duration(linger)
        );
        tokio::select! {
            _ = tokio::time::sleep(linger) => {}
            _ = stop.stopped() => {}
        }
    }
    handle.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(source: &str) -> HostPoliteness {
        let mut p = HostPoliteness::default();
        p.host = "stackoverflow.com".into();
        p.source = source.into();
        p.worker = "w1".into();
        p.interval = Some(Duration::from_millis(500));
        p.in_flight = 2;
        p.max_in_flight = 4;
        p.requests = 120;
        p.too_many_requests = 3;
        p.cache_hits = 7;
        p
    }

    #[test]
    fn politeness_rows_read_as_a_table() {
        let mut paused = host("10.0.0.7");
        paused.shared_budget = true;
        paused.paused_for = Some(Duration::from_millis(11_200));
        let mut slow = host("10.0.0.8");
        slow.interval = Some(Duration::from_secs(10));
        slow.stopped = Some("robots.txt asks for `Crawl-delay: 3600` (3600 s), longer than --max-pause (300 s): stackoverflow.com's pages are not fetched in this run".into());
        let mut free = host("default");
        free.interval = None;
        let text: Vec<String> = [host("default"), paused, slow, free]
            .iter()
            .map(|p| politeness_row(p).join(" | "))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }

    #[test]
    fn the_failures_panel_keeps_the_newest_twenty() {
        let panels = CrawlPanels::new(None);
        for i in 0..25 {
            panels.failed(&FailureRecord {
                url: format!("https://stackoverflow.com/questions/{i}"),
                stage: sofleet_records::Stage::Question,
                kind: sofleet_records::FailureKind::NotFound,
                http_status: Some(404),
                attempts: 1,
                message: "x".repeat(300),
            });
        }
        let all = panels.panels();
        assert_eq!(all[0].rows.len(), 0);
        assert!(all[0].empty.contains("each worker"), "{}", all[0].empty);
        let failures = &all[1];
        assert_eq!(failures.rows.len(), FAILURES_SHOWN);
        assert!(
            failures.rows[0][0].ends_with("/24"),
            "newest first: {:?}",
            failures.rows[0]
        );
        assert_eq!(failures.rows[0][1..4], ["question", "not_found", "1"]);
        assert_eq!(failures.rows[0][4].chars().count(), 160);
    }
}
