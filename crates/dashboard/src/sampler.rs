//! The sampler: once per update interval it reads the monitor, the worker sources and the
//! panels, and publishes one [`Status`]. Readers (the page, `/api/status`, `/metrics`) only
//! ever see the latest one, so a slow reader holds nothing back and memory stays bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sofleet_executor::Monitor;
use sofleet_executor::monitor::{MonitorSnapshot, TaskProgress, TaskSpan};
use tokio::sync::{Notify, watch};

use crate::Published;
use sofleet_executor::machine::{host_name, resident_memory};

use crate::sources::{LocalWorker, PanelSource, WorkerSource, Workers};
use crate::status::{Progress, Span, Status, TaskStream, WorkerRow};

/// Points of throughput kept (one per second: five minutes).
pub(crate) const THROUGHPUT_POINTS: usize = 300;
/// Ended spans kept for the task stream, at most (the newest; a page cannot draw more).
pub(crate) const STREAM_SPANS: usize = 2000;
/// Running attempts shown, at most.
pub(crate) const RUNNING_SPANS: usize = 500;
/// The time a worker source may take before its update is skipped.
pub(crate) const SOURCE_TIMEOUT: Duration = Duration::from_secs(3);
/// The rates are measured over this much time.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// What the sampler reads.
pub(crate) struct Inputs {
    pub(crate) title: String,
    pub(crate) monitor: Option<Monitor>,
    pub(crate) local: Option<LocalWorker>,
    pub(crate) sources: Vec<Arc<dyn WorkerSource>>,
    pub(crate) panels: Vec<Arc<dyn PanelSource>>,
    pub(crate) interval: Duration,
    pub(crate) window: Duration,
}

/// The sampler's memory between updates.
pub(crate) struct Sampler {
    inputs: Inputs,
    started: Instant,
    seq: u64,
    next_span: u64,
    spans: VecDeque<Span>,
    /// Ended-task counts by name (and `""` for all) at recent instants, for the rates.
    history: VecDeque<(Instant, HashMap<String, u64>)>,
    throughput: VecDeque<[f64; 2]>,
    last_point: Option<(Instant, u64)>,
    host: String,
    /// Each worker source's last answer, shown again while it fails or does not answer.
    last_workers: Vec<Option<Workers>>,
}

impl Sampler {
    pub(crate) fn new(inputs: Inputs) -> Sampler {
        Sampler {
            last_workers: vec![None; inputs.sources.len()],
            inputs,
            started: Instant::now(),
            seq: 0,
            next_span: 0,
            spans: VecDeque::new(),
            history: VecDeque::new(),
            throughput: VecDeque::new(),
            last_point: None,
            host: host_name().unwrap_or_else(|| "localhost".to_string()),
        }
    }

    /// Runs until `stop` fires, publishing a status every interval and whenever `now` is
    /// notified.
    pub(crate) async fn run(
        mut self,
        tx: watch::Sender<Arc<Published>>,
        now: Arc<Notify>,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        let mut tick = tokio::time::interval(self.inputs.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = now.notified() => {}
                _ = &mut stop => break,
            }
            let status = self.update().await;
            tx.send_replace(Arc::new(Published::new(status)));
        }
    }

    /// One update.
    pub(crate) async fn update(&mut self) -> Status {
        self.seq += 1;
        let now = Instant::now();
        let snapshot = self
            .inputs
            .monitor
            .as_ref()
            .map(|m| m.snapshot_recent(self.next_span, STREAM_SPANS));
        let mut errors = Vec::new();
        let mut workers = Vec::new();
        let (mut queued_remote, mut pending_remote) = (None, None);
        if let (Some(local), Some(s)) = (&self.inputs.local, &snapshot) {
            workers.push(self.local_row(local, s));
        }
        for (source, last) in self.inputs.sources.iter().zip(&mut self.last_workers) {
            match tokio::time::timeout(SOURCE_TIMEOUT, source.workers()).await {
                Ok(Ok(answer)) => *last = Some(answer),
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push(format!(
                    "the worker list did not answer within {} s; showing its last answer",
                    SOURCE_TIMEOUT.as_secs()
                )),
            }
            if let Some(answer) = last {
                workers.extend(answer.rows.iter().cloned());
                queued_remote = add_opt(queued_remote, answer.queued);
                pending_remote = add_opt(pending_remote, answer.pending);
            }
        }
        if let Some(s) = &snapshot
            && !s.client_alive
        {
            errors.push("the watched client has ended".to_string());
        }
        let mut tasks: Vec<Progress> = snapshot
            .as_ref()
            .map(|s| s.tasks.iter().map(progress).collect())
            .unwrap_or_default();
        let mut totals = match &snapshot {
            Some(s) => progress(&s.total()),
            None => fleet_totals(&workers),
        };
        totals.name = "all".to_string();
        self.rates(now, &mut tasks, &mut totals);
        let stream = match &snapshot {
            Some(s) => self.stream(s),
            None => TaskStream {
                window_s: self.inputs.window.as_secs_f64(),
                ..TaskStream::default()
            },
        };
        self.point(now, totals.done + totals.failed + totals.cancelled);
        let panels = self.inputs.panels.iter().flat_map(|p| p.panels()).collect();
        Status {
            title: self.inputs.title.clone(),
            backend: self.inputs.backend().to_string(),
            seq: self.seq,
            elapsed_s: now.duration_since(self.started).as_secs_f64(),
            updated_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            totals,
            tasks,
            stream,
            workers,
            queued_remote,
            pending_remote,
            throughput: self.throughput.iter().copied().collect(),
            panels,
            errors,
        }
    }

    fn local_row(&self, local: &LocalWorker, s: &MonitorSnapshot) -> WorkerRow {
        let total = s.total();
        WorkerRow {
            name: local
                .name
                .clone()
                .unwrap_or_else(|| format!("local ({})", self.inputs.backend())),
            host: self.host.clone(),
            pid: Some(std::process::id()),
            addresses: local.addresses.clone(),
            concurrency: local.concurrency.map_or(u64::from(s.lanes), |c| c as u64),
            running: total.running,
            done: total.finished,
            failed: total.failed,
            heartbeat_age_s: 0.0,
            rss_bytes: resident_memory(),
        }
    }

    /// Fills each row's `rate` from the counts of [`RATE_WINDOW`] ago.
    fn rates(&mut self, now: Instant, tasks: &mut [Progress], totals: &mut Progress) {
        let ended = |p: &Progress| p.done + p.failed + p.cancelled;
        let mut counts: HashMap<String, u64> =
            tasks.iter().map(|p| (p.name.clone(), ended(p))).collect();
        counts.insert(String::new(), ended(totals));
        while self
            .history
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
            && self.history.len() > 1
        {
            self.history.pop_front();
        }
        if let Some((then, old)) = self.history.front() {
            let dt = now.duration_since(*then).as_secs_f64();
            if dt > 0.0 {
                let rate = |name: &str, now_count: u64| {
                    let before = old.get(name).copied().unwrap_or(0);
                    now_count.saturating_sub(before) as f64 / dt
                };
                for p in tasks.iter_mut() {
                    p.rate = rate(&p.name, ended(p));
                }
                totals.rate = rate("", ended(totals));
            }
        }
        self.history.push_back((now, counts));
    }

    /// Adds a throughput point when a second has passed since the last one.
    fn point(&mut self, now: Instant, ended: u64) {
        match self.last_point {
            None => self.last_point = Some((now, ended)),
            Some((then, before)) => {
                let dt = now.duration_since(then);
                if dt >= Duration::from_millis(950) {
                    let rate = ended.saturating_sub(before) as f64 / dt.as_secs_f64();
                    if self.throughput.len() == THROUGHPUT_POINTS {
                        self.throughput.pop_front();
                    }
                    let t = now.duration_since(self.started).as_secs_f64();
                    self.throughput.push_back([round3(t), round3(rate)]);
                    self.last_point = Some((now, ended));
                }
            }
        }
    }

    fn stream(&mut self, s: &MonitorSnapshot) -> TaskStream {
        let now_s = s.elapsed.as_secs_f64();
        let window_s = self.inputs.window.as_secs_f64();
        for span in &s.spans {
            if self.spans.len() == STREAM_SPANS {
                self.spans.pop_front();
            }
            self.spans.push_back(span_of(span));
        }
        if s.next_span > 0 {
            self.next_span = s.next_span;
        }
        while self
            .spans
            .front()
            .is_some_and(|x| x.end_s < now_s - window_s)
        {
            self.spans.pop_front();
        }
        let mut spans: Vec<Span> = self.spans.iter().cloned().collect();
        spans.extend(s.running.iter().take(RUNNING_SPANS).map(span_of));
        TaskStream {
            window_s,
            now_s: round3(now_s),
            lanes: s.lanes,
            sampled_one_in: s.sampled_one_in,
            spans,
        }
    }
}

impl Inputs {
    /// The watched client's backend, or `fleet` without a client.
    fn backend(&self) -> &str {
        self.monitor.as_ref().map_or("fleet", |m| m.backend())
    }
}

fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn progress(t: &TaskProgress) -> Progress {
    Progress {
        name: t.name.clone(),
        submitted: t.submitted,
        queued: t.queued(),
        running: t.running,
        done: t.finished,
        failed: t.failed,
        retried: t.retried,
        cancelled: t.cancelled,
        rate: 0.0,
    }
}

/// Totals of a fleet seen from its workers alone.
fn fleet_totals(workers: &[WorkerRow]) -> Progress {
    let mut p = Progress::default();
    for w in workers {
        p.running += w.running;
        p.done += w.done;
        p.failed += w.failed;
    }
    p.submitted = p.running + p.done + p.failed;
    p
}

fn span_of(s: &TaskSpan) -> Span {
    Span {
        name: s.name.to_string(),
        lane: s.lane,
        start_s: round3(s.start.as_secs_f64()),
        end_s: round3(s.end.as_secs_f64()),
        outcome: s.outcome.as_str().to_string(),
    }
}
