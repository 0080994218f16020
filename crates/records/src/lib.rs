//! The data model of sofleet, at the bottom of the crate graph: the page model
//! (`Question`, `Answer`, `Author`, `ListingPage`, `MarkupEra`, …) that
//! `sofleet-extract` fills from HTML, and the records a crawl emits, shared by
//! `sofleet-crawl` (which produces them), `sofleet-analysis` (which turns them
//! into frames) and the CLI (which writes them). Plain serde data: no HTTP, no
//! HTML parser, no polars — a program that only reads records compiles none of them.
//!
//! ```
//! use sofleet_records::{FailureKind, FailureRecord, Stage};
//! let failure = FailureRecord {
//!     url: "http://127.0.0.1:8080/questions/1/x".into(),
//!     stage: Stage::Question,
//!     kind: FailureKind::NotFound,
//!     http_status: Some(404),
//!     attempts: 1,
//!     message: "HTTP 404 Not Found".into(),
//! };
//! assert_eq!(failure.kind.as_str(), "not_found");
//! ```

use serde::{Deserialize, Serialize};

pub mod model;
pub use model::{
    Answer, Author, ListingEntry, ListingPage, ListingType, MarkupEra, Pagination, Question,
    RowProblem, Sort,
};

/// A question page that was fetched and extracted, with where and when it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawledQuestion {
    /// The extracted question and its answers.
    pub question: Question,
    /// The URL the page was fetched from.
    pub source_url: String,
    /// The listing page URL on which the question link was first seen, if any.
    pub listing_url: Option<String>,
    /// The tag of that listing, if it was a tag listing.
    pub listing_tag: Option<String>,
    /// The page number of that listing, if any.
    pub listing_page: Option<u32>,
    /// When the response was fetched (or first fetched, for cached pages), Unix milliseconds.
    pub fetched_at_ms: i64,
}

/// Which step of the pipeline a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Fetching `robots.txt`.
    Robots,
    /// Fetching or extracting a listing page.
    Listing,
    /// Fetching or extracting a question page.
    Question,
}

impl Stage {
    /// The stage as a stable lower-case word (used in files and reports).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Robots => "robots",
            Stage::Listing => "listing",
            Stage::Question => "question",
        }
    }
}

/// Why a page could not be turned into a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// HTTP 404 / 410, or a "page not found" page.
    NotFound,
    /// Still rate limited (HTTP 429 / "Too Many Requests") after every retry.
    RateLimited,
    /// A human-verification (captcha) page after every retry.
    Captcha,
    /// Server errors (5xx) after every retry.
    ServerError,
    /// Another HTTP status that is not retried (e.g. 403).
    HttpStatus,
    /// Could not connect.
    Connect,
    /// The request or the body timed out.
    Timeout,
    /// The body was cut short or empty.
    Truncated,
    /// The body exceeded the maximum size.
    TooLarge,
    /// The page was not one the extractor understands.
    Parse,
    /// robots.txt disallows the URL.
    DisallowedByRobots,
    /// The link points to another host than the one crawled.
    OffHost,
    /// The server redirected to a host the crawl may not fetch from (the message names the
    /// target).
    OffSiteRedirect,
    /// The site asked for a pause (`Retry-After`, robots.txt `Crawl-delay`) longer than the
    /// crawl's `max_pause`: the host's remaining pages are not fetched in this run.
    PauseTooLong,
    /// The worker that took the page refused what the job asked for (another host, skipping
    /// robots.txt, a cache directory): its policy is stricter than the job.
    WorkerRefused,
    /// The run was stopped before the page was fetched.
    Cancelled,
    /// Anything else (the message says what).
    Other,
}

impl FailureKind {
    /// The kind as a stable snake_case word (same as its serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NotFound => "not_found",
            FailureKind::RateLimited => "rate_limited",
            FailureKind::Captcha => "captcha",
            FailureKind::ServerError => "server_error",
            FailureKind::HttpStatus => "http_status",
            FailureKind::Connect => "connect",
            FailureKind::Timeout => "timeout",
            FailureKind::Truncated => "truncated",
            FailureKind::TooLarge => "too_large",
            FailureKind::Parse => "parse",
            FailureKind::DisallowedByRobots => "disallowed_by_robots",
            FailureKind::OffHost => "off_host",
            FailureKind::OffSiteRedirect => "off_site_redirect",
            FailureKind::PauseTooLong => "pause_too_long",
            FailureKind::WorkerRefused => "worker_refused",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Other => "other",
        }
    }
}

/// A page that failed: recorded as a row, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The URL that failed.
    pub url: String,
    /// The pipeline stage.
    pub stage: Stage,
    /// The kind of failure.
    pub kind: FailureKind,
    /// The last HTTP status seen, if any.
    pub http_status: Option<u16>,
    /// How many attempts were made.
    pub attempts: u32,
    /// A human-readable description of the last error.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_kind_words_match_serde() {
        for kind in [
            FailureKind::NotFound,
            FailureKind::RateLimited,
            FailureKind::Captcha,
            FailureKind::DisallowedByRobots,
            FailureKind::Other,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            serde_json::to_string(&Stage::Listing).unwrap(),
            "\"listing\""
        );
    }

    /// A listing written before answer hits and row problems existed still reads, and a
    /// page without either writes the same JSON as before.
    #[test]
    fn old_listing_records_still_read() {
        let old = r#"{"page_title":"T","site_host":null,"listing_type":"tagged",
            "row_markup":"question-summary","pagination":null,"questions":[{"id":7,
            "title":"Q","link":"/questions/7/q","score":1,"answer_count":2,"view_count":3,
            "tags":["rust"],"has_accepted_answer":true}]}"#;
        let page: ListingPage = serde_json::from_str(old).unwrap();
        assert!(page.row_problems.is_empty());
        assert_eq!(page.questions[0].answer_id, None);
        assert!(!page.questions[0].is_answer_hit());
        let written = serde_json::to_string(&page).unwrap();
        assert!(!written.contains("row_problems") && !written.contains("answer_id"));

        let mut page = page;
        page.questions[0].answer_id = Some(9);
        page.row_problems.push(RowProblem {
            position: 2,
            row_id: Some("question-summary-8".into()),
            missing: "a title link".into(),
        });
        let back: ListingPage =
            serde_json::from_str(&serde_json::to_string(&page).unwrap()).unwrap();
        assert_eq!(back, page);
    }
}
