//! The submission window: pages queued (questions before listings), submitted while fewer
//! than the window are in flight, tracked until their result comes; and the stop request,
//! which empties it.

use sofleet_executor::{SubmitOptions, Task, TaskFuture};
use sofleet_records::Stage;

use super::run::Run;
use crate::events::CrawlEvent;
use crate::tasks::{CrawlReport, ListingTask, QuestionTask};

/// Where a question link was first seen.
pub(super) struct Origin {
    pub(super) listing_url: String,
    pub(super) tag: Option<String>,
    pub(super) page: Option<u32>,
}

/// A page waiting for a free place in the submission window.
pub(super) enum Queued {
    Listing { url: String, tag: String, page: u32 },
    Question { url: String, origin: Origin },
}

/// A submitted task.
pub(super) struct Pending {
    pub(super) stage: Stage,
    pub(super) url: String,
    pub(super) origin: Option<Origin>,
    pub(super) future: TaskFuture<CrawlReport>,
}

impl<S: FnMut(CrawlEvent)> Run<'_, S> {
    /// Submits queued pages while the window has room: questions first, then listings (a
    /// listing taken from the resume state is read at once, without a task).
    pub(super) fn refill(&mut self) {
        while !self.stopped && self.pending.len() < self.window {
            let Some(next) = self
                .questions_queue
                .pop_front()
                .or_else(|| self.listings_queue.pop_front())
            else {
                return;
            };
            match next {
                Queued::Listing { url, tag, page } => self.submit_listing(url, tag, page),
                Queued::Question { url, origin } => self.submit_question(url, origin),
            }
        }
    }

    /// A listing page: read from the resume state when an earlier run has it, else a task.
    fn submit_listing(&mut self, url: String, tag: String, page: u32) {
        if let Some(listing) = self.resumed_listings.remove(&url) {
            self.listings_resumed += 1;
            self.progress.listings_done += 1;
            self.take_links(&listing);
            return;
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

    /// A question page, as a task with a pure key: a link seen twice is fetched once.
    fn submit_question(&mut self, url: String, origin: Origin) {
        let key = format!(
            "{}-{}-{}",
            <QuestionTask as Task>::NAME,
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

    /// Remembers a submitted task until its result comes.
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
    pub(super) fn stop_now(&mut self) {
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
}
