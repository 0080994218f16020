//! The whole pipeline: listing pages -> question links -> question records, as executor tasks.
//!
//! [`crawl_resume`] keeps at most a bounded window of tasks submitted at once (questions before
//! listings, so the queue of links found but not yet fetched stays short) and forgets every page
//! as soon as it is reported: its memory does not grow with the number of questions crawled.

use std::collections::{HashMap, HashSet, VecDeque};

use futures::StreamExt;
use sofleet_executor::{AsCompleted, Client, ExecError, SubmitOptions, TaskFuture, as_completed};
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord, Stage};
use tokio::time::Instant;
use url::Url;

use crate::config::{CrawlConfig, CrawlPlan};
use crate::error::CrawlError;
use crate::events::{CrawlEvent, CrawlProgress, CrawlSummary, FleetTally, NotFetched, StopFlag};
use crate::tasks::{
    CrawlOutput, CrawlReport, ListingResult, ListingTask, QuestionTask, RobotsTask,
};

/// What earlier runs already did, so that this run does not do it again (resuming a stopped
/// crawl, or adding to an existing dataset).
///
/// ```
/// let mut resume = sofleet_crawl::CrawlResume::default();
/// resume.have_questions.insert(42);
/// assert!(resume.listings.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrawlResume {
    /// Questions the dataset already has: their pages are not fetched (counted as skipped).
    pub have_questions: HashSet<u64>,
    /// Listing pages an unfinished earlier run already read (from
    /// [`CrawlEvent::Listing`]): not fetched again; their links are used as they are.
    pub listings: Vec<ListingResult>,
}

/// Runs the whole crawl on `client`; see [`crawl_resume`].
///
/// # Errors
/// As [`crawl_resume`].
pub async fn crawl(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    crawl_resume(
        client,
        config,
        plan,
        &StopFlag::new(),
        CrawlResume::default(),
        sink,
    )
    .await
}

/// Runs the whole crawl on `client` until done or until `stop` is set; see [`crawl_resume`].
///
/// # Errors
/// As [`crawl_resume`].
pub async fn crawl_until(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    stop: &StopFlag,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    crawl_resume(client, config, plan, stop, CrawlResume::default(), sink).await
}

/// Runs the crawl: robots.txt first (a [`RobotsTask`]), then a listing task for every tag and page of `plan` (except those `resume`
/// already has), and for each question link on the crawled host not seen before (and not in
/// `resume`) a question task. Question records, failure rows, listing pages read and pages left
/// unfetched go to `sink` as they happen; the same question seen on two listings is fetched and
/// emitted once (with the listing where it was first seen).
///
/// When `stop` is set the crawl submits nothing more, cancels what is queued or in flight,
/// keeps every result that still arrives, and reports each page it did not get as
/// [`CrawlEvent::NotFetched`] — never as a failure.
///
/// # Errors
/// [`CrawlError::InvalidConfig`] / [`CrawlError::InvalidPlan`] for bad input and
/// [`CrawlError::Client`] if the HTTP client cannot be built; page failures are rows, not errors.
pub async fn crawl_resume(
    client: &Client,
    config: &CrawlConfig,
    plan: &CrawlPlan,
    stop: &StopFlag,
    resume: CrawlResume,
    sink: impl FnMut(CrawlEvent),
) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let base = config.validate()?;
    plan.validate()?;
    let run_id = fresh_run_id();
    // The cache directory belongs to the worker (its policy), never to a job.
    let job = config.for_job();
    let mut run = Run::new(client, &job, plan, stop, resume, sink, base, run_id);
    run.run().await;
    let (workers, stats) = std::mem::take(&mut run.tally).finish();
    Ok(CrawlSummary {
        stats,
        workers,
        questions: run.questions,
        failures: run.progress.failures,
        listings: run.listings,
        listings_resumed: run.listings_resumed,
        questions_skipped: run.progress.questions_skipped,
        not_fetched: run.not_fetched,
        elapsed: started.elapsed(),
        stopped: run.stopped,
    })
}

pub(crate) fn fresh_run_id() -> u64 {
    rand::random::<u64>()
}

/// The failure row for a task the executor could not run.
pub(crate) fn exec_failure(stage: Stage, url: &str, err: &ExecError) -> FailureRecord {
    FailureRecord {
        url: url.to_owned(),
        stage,
        kind: if err.is_cancelled() {
            FailureKind::Cancelled
        } else {
            FailureKind::Other
        },
        http_status: None,
        attempts: 0,
        message: format!("task failed in the executor: {err}"),
    }
}

/// The resource tag limiting concurrent tasks on one host.
pub fn host_resource(base: &Url) -> String {
    format!(
        "host={}",
        match base.port() {
            Some(port) => format!("{}:{port}", base.host_str().unwrap_or("")),
            None => base.host_str().unwrap_or("").to_owned(),
        }
    )
}

/// Where a question link was first seen.
struct Origin {
    listing_url: String,
    tag: Option<String>,
    page: Option<u32>,
}

/// A page waiting for a free place in the submission window.
enum Queued {
    Listing { url: String, tag: String, page: u32 },
    Question { url: String, origin: Origin },
}

/// A submitted task.
struct Pending {
    stage: Stage,
    url: String,
    origin: Option<Origin>,
    future: TaskFuture<CrawlReport>,
}

/// The state of one crawl run.
struct Run<'a, S> {
    client: &'a Client,
    config: &'a CrawlConfig,
    stop: &'a StopFlag,
    sink: S,
    base: Url,
    run_id: u64,
    tally: FleetTally,
    resource: String,
    /// Most tasks submitted at once.
    window: usize,
    listings_queue: VecDeque<Queued>,
    questions_queue: VecDeque<Queued>,
    resumed_listings: HashMap<String, ListingResult>,
    have_questions: HashSet<u64>,
    pending: HashMap<String, Pending>,
    completed: AsCompleted<CrawlReport>,
    seen_ids: HashSet<u64>,
    progress: CrawlProgress,
    questions: usize,
    listings: usize,
    listings_resumed: usize,
    not_fetched: usize,
    stopped: bool,
}

impl<'a, S: FnMut(CrawlEvent)> Run<'a, S> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        client: &'a Client,
        config: &'a CrawlConfig,
        plan: &CrawlPlan,
        stop: &'a StopFlag,
        resume: CrawlResume,
        sink: S,
        base: Url,
        run_id: u64,
    ) -> Self {
        let mut listings_queue = VecDeque::new();
        for tag in &plan.tags {
            for page in plan.pages.clone() {
                listings_queue.push_back(Queued::Listing {
                    url: plan.listing_url(&base, tag, page).to_string(),
                    tag: tag.clone(),
                    page,
                });
            }
        }
        let progress = CrawlProgress {
            listings_total: listings_queue.len(),
            ..CrawlProgress::default()
        };
        let concurrency = config.max_concurrency_per_host as usize;
        Run {
            client,
            config,
            stop,
            sink,
            resource: host_resource(&base),
            base,
            run_id,
            tally: FleetTally::default(),
            window: (concurrency * 4).max(32),
            listings_queue,
            questions_queue: VecDeque::new(),
            resumed_listings: resume
                .listings
                .into_iter()
                .map(|l| (l.url.clone(), l))
                .collect(),
            have_questions: resume.have_questions,
            pending: HashMap::new(),
            completed: as_completed(Vec::new()),
            seen_ids: HashSet::new(),
            progress,
            questions: 0,
            listings: 0,
            listings_resumed: 0,
            not_fetched: 0,
            stopped: stop.is_stopped(),
        }
    }

    async fn run(&mut self) {
        // robots.txt first, so an unreachable one is recorded once as a robots failure. A stop
        // request does not wait for a slow robots.txt.
        let robots_task = self.client.submit(RobotsTask {
            config: self.config.clone(),
            run_id: self.run_id,
        });
        let robots = tokio::select! {
            biased;
            _ = self.stop.stopped() => None,
            result = robots_task.clone() => Some(result),
        };
        let mut robots_url = self.base.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        match robots {
            None => {
                robots_task.cancel();
                self.stop_now()
            }
            Some(Ok(report)) => {
                self.tally.record(report.worker);
                if let CrawlOutput::Failed(record) = report.output {
                    self.failure(record);
                }
            }
            Some(Err(e)) => {
                let record = exec_failure(Stage::Robots, robots_url.as_str(), &e);
                self.failure(record);
            }
        }
        self.client.set_resource_limit(
            &self.resource,
            self.config.max_concurrency_per_host as usize,
        );
        self.refill();
        (self.sink)(CrawlEvent::Progress(self.progress));

        while !self.pending.is_empty() {
            let next = tokio::select! {
                biased;
                _ = self.stop.stopped(), if !self.stopped => Next::Stop,
                item = self.completed.next() => match item {
                    Some((done, result)) => Next::Done(done.key().to_string(), Box::new(result)),
                    None => Next::Exhausted,
                },
            };
            match next {
                Next::Stop => self.stop_now(),
                Next::Done(key, result) => self.complete(&key, *result),
                Next::Exhausted => break,
            }
            self.refill();
            (self.sink)(CrawlEvent::Progress(self.progress));
        }

        // Defensive: a task the executor never reported is still a row, not a silent gap.
        for (_, p) in std::mem::take(&mut self.pending) {
            self.failure(FailureRecord {
                url: p.url,
                stage: p.stage,
                kind: FailureKind::Other,
                http_status: None,
                attempts: 0,
                message: "the executor never reported this task's result".to_owned(),
            });
        }
    }

    /// Submits queued pages while the window has room: questions first, then listings (a
    /// listing taken from the resume state is read at once, without a task).
    fn refill(&mut self) {
        while !self.stopped && self.pending.len() < self.window {
            let Some(next) = self
                .questions_queue
                .pop_front()
                .or_else(|| self.listings_queue.pop_front())
            else {
                return;
            };
            match next {
                Queued::Listing { url, tag, page } => {
                    if let Some(listing) = self.resumed_listings.remove(&url) {
                        self.listings_resumed += 1;
                        self.progress.listings_done += 1;
                        self.take_links(&listing);
                        continue;
                    }
                    let task = ListingTask {
                        config: self.config.clone(),
                        run_id: self.run_id,
                        url: url.clone(),
                        tag: Some(tag),
                        page: Some(page),
                    };
                    let future = self
                        .client
                        .submit_with(task, SubmitOptions::new().resource(self.resource.clone()));
                    self.track(Stage::Listing, url, None, future);
                }
                Queued::Question { url, origin } => {
                    let key = format!(
                        "{}-{}-{}",
                        <QuestionTask as sofleet_executor::Task>::NAME,
                        self.config.digest(),
                        blake3::hash(url.as_bytes()).to_hex()
                    );
                    let task = QuestionTask {
                        config: self.config.clone(),
                        run_id: self.run_id,
                        url: url.clone(),
                    };
                    let future = self.client.submit_with(
                        task,
                        SubmitOptions::new()
                            .resource(self.resource.clone())
                            .key(key),
                    );
                    self.track(Stage::Question, url, Some(origin), future);
                }
            }
        }
    }

    fn track(
        &mut self,
        stage: Stage,
        url: String,
        origin: Option<Origin>,
        future: TaskFuture<CrawlReport>,
    ) {
        tracing::trace!(
            "scheduled {} task {url} ({} in flight, {} listings and {} questions queued)",
            stage.as_str(),
            self.pending.len() + 1,
            self.listings_queue.len(),
            self.questions_queue.len()
        );
        self.completed.add(future.clone());
        self.pending.insert(
            future.key().to_string(),
            Pending {
                stage,
                url,
                origin,
                future,
            },
        );
    }

    /// The stop request: cancel what is in flight, report everything queued as not fetched.
    fn stop_now(&mut self) {
        self.stopped = true;
        for p in self.pending.values() {
            p.future.cancel();
        }
        let queued: Vec<Queued> = self
            .questions_queue
            .drain(..)
            .chain(self.listings_queue.drain(..))
            .collect();
        for q in queued {
            match q {
                Queued::Listing { url, .. } => self.not_fetched(Stage::Listing, url),
                Queued::Question { url, .. } => self.not_fetched(Stage::Question, url),
            }
        }
    }

    fn complete(&mut self, key: &str, result: Result<CrawlReport, ExecError>) {
        let Some(p) = self.pending.remove(key) else {
            return;
        };
        let result = result.map(|report| {
            tracing::trace!(
                "{} task {} done on worker {} ({} still in flight)",
                p.stage.as_str(),
                p.url,
                report.worker.name,
                self.pending.len()
            );
            self.tally.record(report.worker);
            report.output
        });
        if let Err(e) = &result {
            tracing::trace!("{} task {} failed: {e}", p.stage.as_str(), p.url);
        }
        let cancelled = match &result {
            Err(e) => e.is_cancelled(),
            Ok(CrawlOutput::Failed(r)) => r.kind == FailureKind::Cancelled,
            Ok(_) => false,
        };
        if self.stopped && cancelled {
            self.not_fetched(p.stage, p.url);
            return;
        }
        match p.stage {
            Stage::Listing => self.progress.listings_done += 1,
            _ => self.progress.questions_done += 1,
        }
        match result {
            Err(e) => self.failure(exec_failure(p.stage, &p.url, &e)),
            Ok(CrawlOutput::Failed(record)) => self.failure(record),
            Ok(CrawlOutput::Robots) => {}
            Ok(CrawlOutput::Listing(listing)) => {
                self.listings += 1;
                self.take_links(&listing);
                (self.sink)(CrawlEvent::Listing(Box::new(listing)));
            }
            Ok(CrawlOutput::Question(q)) => {
                self.questions += 1;
                let origin = p.origin;
                (self.sink)(CrawlEvent::Question(Box::new(CrawledQuestion {
                    question: q.question,
                    source_url: q.url,
                    listing_url: origin.as_ref().map(|o| o.listing_url.clone()),
                    listing_tag: origin.as_ref().and_then(|o| o.tag.clone()),
                    listing_page: origin.as_ref().and_then(|o| o.page),
                    fetched_at_ms: q.fetched_at_ms,
                })));
            }
        }
    }

    /// Queues the question links of a listing that are on the host and new to this run.
    fn take_links(&mut self, listing: &ListingResult) {
        for link in &listing.links {
            let on_host = Url::parse(&link.url)
                .map(|u| {
                    u.scheme() == self.base.scheme()
                        && u.host_str() == self.base.host_str()
                        && u.port_or_known_default() == self.base.port_or_known_default()
                })
                .unwrap_or(false);
            if !on_host {
                self.failure(FailureRecord {
                    url: link.url.clone(),
                    stage: Stage::Question,
                    kind: FailureKind::OffHost,
                    http_status: None,
                    attempts: 0,
                    message: format!(
                        "link on {} leaves the crawled host {}",
                        listing.url, self.base
                    ),
                });
                continue;
            }
            if !self.seen_ids.insert(link.id) {
                continue;
            }
            self.progress.questions_total += 1;
            if self.have_questions.contains(&link.id) {
                self.progress.questions_skipped += 1;
                self.progress.questions_done += 1;
                continue;
            }
            if self.stopped {
                self.not_fetched(Stage::Question, link.url.clone());
                continue;
            }
            self.questions_queue.push_back(Queued::Question {
                url: link.url.clone(),
                origin: Origin {
                    listing_url: listing.url.clone(),
                    tag: listing.tag.clone(),
                    page: listing.page,
                },
            });
        }
    }

    fn failure(&mut self, record: FailureRecord) {
        self.progress.failures += 1;
        (self.sink)(CrawlEvent::Failure(record));
    }

    fn not_fetched(&mut self, stage: Stage, url: String) {
        self.not_fetched += 1;
        (self.sink)(CrawlEvent::NotFetched(NotFetched { url, stage }));
    }
}

/// What the main loop woke up for.
enum Next {
    Stop,
    Done(String, Box<Result<CrawlReport, ExecError>>),
    Exhausted,
}
