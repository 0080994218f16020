//! Each result as it completes: a question record, a listing (whose new on-host links are
//! queued), a failure row, or — once the run is stopping — a page not fetched.

use sofleet_executor::ExecError;
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord, Stage};
use url::Url;

use super::exec_failure;
use super::run::Run;
use super::window::{Origin, Pending, Queued};
use crate::events::{CrawlEvent, NotFetched};
use crate::tasks::{CrawlOutput, CrawlReport, ListingResult, QuestionResult};

impl<S: FnMut(CrawlEvent)> Run<'_, S> {
    /// Handles the result of the task with `key`: a cancelled page of a stopping run is not
    /// fetched (never a failure); anything else counts as done and goes to the sink.
    pub(super) fn complete(&mut self, key: &str, result: Result<CrawlReport, ExecError>) {
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
            Ok(output) => self.output(p, output),
        }
    }

    /// What a finished task produced.
    fn output(&mut self, p: Pending, output: CrawlOutput) {
        match output {
            CrawlOutput::Failed(record) => self.failure(record),
            CrawlOutput::Robots => {}
            CrawlOutput::Listing(listing) => {
                self.listings += 1;
                self.take_links(&listing);
                (self.sink)(CrawlEvent::Listing(Box::new(listing)));
            }
            CrawlOutput::Question(q) => self.question(*q, p.origin),
        }
    }

    /// A question record, credited to the listing where its link was first seen.
    fn question(&mut self, q: QuestionResult, origin: Option<Origin>) {
        self.questions += 1;
        (self.sink)(CrawlEvent::Question(Box::new(CrawledQuestion {
            question: q.question,
            source_url: q.url,
            listing_url: origin.as_ref().map(|o| o.listing_url.clone()),
            listing_tag: origin.as_ref().and_then(|o| o.tag.clone()),
            listing_page: origin.as_ref().and_then(|o| o.page),
            fetched_at_ms: q.fetched_at_ms,
        })));
    }

    /// Queues the question links of a listing that are on the host and new to this run.
    pub(super) fn take_links(&mut self, listing: &ListingResult) {
        for link in &listing.links {
            if !self.on_host(&link.url) {
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

    /// Whether `url` is on the crawled host (same scheme, host and port).
    fn on_host(&self, url: &str) -> bool {
        Url::parse(url)
            .map(|u| {
                u.scheme() == self.base.scheme()
                    && u.host_str() == self.base.host_str()
                    && u.port_or_known_default() == self.base.port_or_known_default()
            })
            .unwrap_or(false)
    }

    /// A failure row to the sink.
    pub(super) fn failure(&mut self, record: FailureRecord) {
        self.progress.failures += 1;
        (self.sink)(CrawlEvent::Failure(record));
    }

    /// A page this run did not fetch (it was stopped) to the sink: not a failure.
    pub(super) fn not_fetched(&mut self, stage: Stage, url: String) {
        self.not_fetched += 1;
        (self.sink)(CrawlEvent::NotFetched(NotFetched { url, stage }));
    }
}
