//! One crawl run: its state and the order of its stages (robots.txt, the submission window
//! until nothing is in flight, the rows of tasks never reported, the summary).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use sofleet_executor::{AsCompleted, Client, ExecError, as_completed};
use sofleet_records::{FailureKind, FailureRecord};
use url::Url;

use super::CrawlResume;
use super::host_resource;
use super::window::{Pending, Queued};
use crate::config::{CrawlConfig, CrawlPlan};
use crate::events::{CrawlEvent, CrawlProgress, CrawlSummary, FleetTally, StopFlag};
use crate::tasks::{CrawlReport, ListingResult};

/// The state of one crawl run.
pub(super) struct Run<'a, S> {
    pub(super) client: &'a Client,
    pub(super) config: &'a CrawlConfig,
    pub(super) stop: &'a StopFlag,
    pub(super) sink: S,
    pub(super) base: Url,
    pub(super) run_id: u64,
    pub(super) tally: FleetTally,
    /// The executor resource limiting tasks in flight on the crawled host.
    pub(super) resource: String,
    /// Most tasks submitted at once.
    pub(super) window: usize,
    pub(super) listings_queue: VecDeque<Queued>,
    pub(super) questions_queue: VecDeque<Queued>,
    pub(super) resumed_listings: HashMap<String, ListingResult>,
    pub(super) have_questions: HashSet<u64>,
    /// Submitted tasks by key.
    pub(super) pending: HashMap<String, Pending>,
    pub(super) completed: AsCompleted<CrawlReport>,
    pub(super) seen_ids: HashSet<u64>,
    pub(super) progress: CrawlProgress,
    pub(super) questions: usize,
    pub(super) listings: usize,
    pub(super) listings_resumed: usize,
    pub(super) not_fetched: usize,
    pub(super) stopped: bool,
}

/// What the main loop woke up for.
enum Next {
    Stop,
    Done(String, Box<Result<CrawlReport, ExecError>>),
    Exhausted,
}

impl<'a, S: FnMut(CrawlEvent)> Run<'a, S> {
    /// A run of `plan` with every listing page queued (resumed ones are read when their turn
    /// comes, without a task).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
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

    /// The stages in order: robots.txt, the window opened on the host's pages, every result
    /// until nothing is in flight, then a row for any task the executor never reported.
    pub(super) async fn run(&mut self) {
        self.robots_first().await;
        self.open_window();
        self.drain().await;
        self.unreported();
    }

    /// Limits the host's tasks in flight and submits the first window of pages.
    fn open_window(&mut self) {
        self.client.set_resource_limit(
            &self.resource,
            self.config.max_concurrency_per_host as usize,
        );
        self.refill();
        (self.sink)(CrawlEvent::Progress(self.progress));
    }

    /// Handles each result (or the stop request) as it comes, refilling the window after each,
    /// until nothing is in flight.
    async fn drain(&mut self) {
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
    }

    /// Defensive: a task the executor never reported is still a row, not a silent gap.
    fn unreported(&mut self) {
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

    /// What the run did, with the workers' statistics, after `elapsed`.
    pub(super) fn summary(&mut self, elapsed: Duration) -> CrawlSummary {
        let (workers, stats) = std::mem::take(&mut self.tally).finish();
        CrawlSummary {
            stats,
            workers,
            questions: self.questions,
            failures: self.progress.failures,
            listings: self.listings,
            listings_resumed: self.listings_resumed,
            questions_skipped: self.progress.questions_skipped,
            not_fetched: self.not_fetched,
            elapsed,
            stopped: self.stopped,
        }
    }
}
