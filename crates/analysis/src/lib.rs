//! Polars frames, aggregates, files and charts over crawled Stack Overflow records.
//!
//! This crate never sees HTML: its inputs are the records of `sofleet-records`
//! ([`CrawledQuestion`], [`FailureRecord`]) or files written from them.
//!
//! * [`questions_frame`] / [`failures_frame`] turn records into polars
//!   [`DataFrame`]s with a documented schema (see [`columns`] and
//!   [`question_schema`] / [`failure_schema`]); [`tags_frame`] explodes the
//!   tag lists into one row per (question, tag).
//! * [`Summary::from_frame`] answers the lesson's questions (value counts of
//!   top-answer authors, total top-answer votes per author, the author with
//!   the most votes) plus questions per tag, the answer-score distribution and
//!   the share of unanswered / accepted questions.
//! * [`PartialAggregate`] is the per-page partial result: build one per page
//!   as the page's future completes, [`merge`](PartialAggregate::merge) them in
//!   any order, and the result equals aggregating the concatenated frame.
//! * [`write_frame`] / [`read_frame`] store frames as Parquet (default), CSV
//!   or JSON Lines, atomically (temporary file + rename); [`FrameWriter`]
//!   writes a file batch by batch in bounded memory with key-value metadata
//!   in the Parquet footer ([`read_metadata`]), and [`read_frame_batches`]
//!   streams a Parquet file row group by row group.
//! * [`write_charts`] draws PNG and SVG bar charts with plotters (no display
//!   or system fonts needed: DejaVu Sans and a CJK subset of Noto Sans CJK are
//!   embedded, with per-character fallback so Latin, Greek, Cyrillic, Chinese,
//!   Japanese and Korean names render; [`ChartOptions`] adds fonts for other
//!   scripts) and [`markdown_report`] / [`write_report`] produce a Markdown
//!   report linking them.
//!
//! ```
//! use sofleet_analysis::{PartialAggregate, Summary, questions_frame};
//! use sofleet_records::{Answer, Author, CrawledQuestion, Question};
//!
//! # fn question(id: u64, tags: &[&str], answers: Vec<Answer>) -> CrawledQuestion {
//! #     CrawledQuestion {
//! #         question: Question {
//! #             page_title: String::new(), og_title: None, site_host: None, id,
//! #             title: format!("Question {id}"), title_clean: format!("Question {id}"),
//! #             title_status_suffix: None, score: 1,
//! #             tags: tags.iter().map(|t| t.to_string()).collect(),
//! #             body_text: String::new(), body_text_excluding_notices: String::new(),
//! #             body_html: String::new(), author: Author::CommunityWiki, asked: None,
//! #             answer_count_declared: None, answer_sort: None, answers,
//! #             markup_era: sofleet_records::MarkupEra::E,
//! #         },
//! #         source_url: format!("http://127.0.0.1/questions/{id}"),
//! #         listing_url: None, listing_tag: None, listing_page: None, fetched_at_ms: 0,
//! #     }
//! # }
//! # fn answer(id: u64, score: i64, name: &str) -> Answer {
//! #     Answer { id, score, accepted: false, body_text: String::new(), author_username_attr: None,
//! #              author: Author::User { display_name: name.into(), user_id: None } }
//! # }
//! let page1 = vec![question(1, &["python"], vec![answer(10, 7, "Zoë")])];
//! let page2 = vec![
//!     question(2, &["python", "pandas"], vec![answer(20, 3, "Zoë")]),
//!     question(3, &["rust"], vec![]),
//! ];
//!
//! // Per page, as the futures complete, then merged in any order...
//! let merged = PartialAggregate::from_page(&page2).merge(PartialAggregate::from_page(&page1));
//! // ...equals aggregating the whole frame with polars.
//! let all: Vec<_> = page1.iter().chain(&page2).cloned().collect();
//! let frame = questions_frame(&all)?;
//! assert_eq!(merged, PartialAggregate::from_frame(&frame)?);
//!
//! let summary = Summary::from_frame(&frame, 10)?;
//! let best = summary.most_voted_author.unwrap();
//! assert_eq!((best.author.as_str(), best.votes), ("Zoë", 10));
//! assert_eq!(summary.unanswered, 1);
//! # Ok::<(), sofleet_analysis::AnalysisError>(())
//! ```

mod aggregate;
mod charts;
mod dataset;
mod error;
mod fonts;
mod frame;
mod io;
mod report;
mod select;
mod time;

pub use aggregate::{
    AuthorCount, AuthorVotes, MAX_HISTOGRAM_BINS, NameMap, PartialAggregate, ScoreBin, ScoreStats,
    Summary, TagCount,
};
pub use charts::{
    ChartFile, ChartFormat, ChartKind, ChartOptions, FONT_FAMILY, missing_glyphs_note, write_chart,
    write_chart_with, write_charts, write_charts_with,
};
pub use dataset::{FrameBatches, FrameWriter, read_frame_batches, read_metadata};
pub use error::{AnalysisError, BadCell, Result};
pub use frame::{
    columns, failure_schema, failures_frame, question_schema, questions_frame, tags_frame,
    tags_schema,
};
pub use io::{Format, read_frame, write_frame};
pub use report::{
    REPORT_FILE_NAME, ReportFiles, crawl_parameters, markdown_report, write_report,
    write_report_with,
};
pub use select::{TagSummary, summaries_by_tag, without_community_wiki};
pub use time::parse_timestamp_ms;

/// The polars version this crate is built against, re-exported so callers
/// (the CLI, benchmarks) use the same `DataFrame` type without their own pin.
pub use polars;
pub use polars::prelude::DataFrame;
pub use sofleet_records::{CrawledQuestion, FailureRecord};
