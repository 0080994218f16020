//! Error types of the crawler.

use sofleet_records::{FailureKind, FailureRecord, Stage};

/// Why a crawl could not start or run (page-level failures are [`FailureRecord`] rows instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrawlError {
    /// A [`crate::CrawlConfig`] field is invalid.
    #[error("invalid crawl configuration: {field}: {message}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The [`crate::CrawlPlan`] is invalid.
    #[error("invalid crawl plan: {message}")]
    InvalidPlan {
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The HTTP client could not be built (TLS backend, proxy settings).
    #[error("could not build the HTTP client: {0}")]
    Client(String),
    /// A worker refused a job that asks for more than its [`crate::WorkerPolicy`] allows.
    #[error("worker {worker} refused the job: {rule}")]
    Refused {
        /// The worker's name.
        worker: String,
        /// The worker's rule the job broke, and what the job asked for.
        rule: String,
    },
}

/// Why one fetch failed after every retry: becomes a [`FailureRecord`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} after {attempts} attempt(s): {message}")]
pub struct FetchFailure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// The last HTTP status seen, if any.
    pub http_status: Option<u16>,
    /// Requests made for this URL (cache hits count as zero).
    pub attempts: u32,
    /// What went wrong, for humans.
    pub message: String,
}

impl FetchFailure {
    /// A failure that happened before any request was made.
    pub fn before_request(kind: FailureKind, message: impl Into<String>) -> FetchFailure {
        FetchFailure {
            kind,
            http_status: None,
            attempts: 0,
            message: message.into(),
        }
    }

    /// The failure as a record for `url` at `stage`.
    pub fn into_record(self, url: &str, stage: Stage) -> FailureRecord {
        FailureRecord {
            url: url.to_owned(),
            stage,
            kind: self.kind,
            http_status: self.http_status,
            attempts: self.attempts,
            message: self.message,
        }
    }
}
