//! Stack Overflow HTML (every markup era) to typed records. No I/O, no async.
//!
//! Give it the text of a saved or fetched page; get back owned records
//! ([`Question`], [`ListingPage`]) or an [`ExtractError`] that says what the
//! page was instead (captcha, 429, 404, truncated, empty, unknown markup, a
//! listing without one readable row).
//!
//! Each call parses and extracts inside one synchronous call, so the
//! non-`Send` DOM never escapes; the records are `Send + Sync` and can be
//! produced inside tokio tasks (or `spawn_blocking`) freely.
//!
//! ```
//! use sofleet_extract::{parse_page, Page, ExtractError};
//!
//! let html = r#"<html><head><title>Q - Stack Overflow</title></head><body>
//! <div id="question-header"><h1><a href="/questions/42/q" class="question-hyperlink">Q</a></h1></div>
//! <div id="question" class="question" data-questionid="42" data-score="3">
//!   <div class="s-prose js-post-body"><p>Why <code>x</code>?</p></div>
//!   <a class="post-tag" href="/questions/tagged/rust">rust</a>
//! </div>
//! <div id="answers"><div id="answer-7" class="answer accepted-answer" data-answerid="7" data-score="5">
//!   <div class="s-prose js-post-body"><p>Because.</p></div>
//!   <div class="post-signature"><div class="user-details"><a href="/users/9/ann">Ann</a></div></div>
//! </div></div></body></html>"#;
//!
//! let Page::Question(q) = parse_page(html)? else { unreachable!() };
//! assert_eq!((q.id, q.score, q.tags.as_slice()), (42, 3, &["rust".to_string()][..]));
//! assert_eq!(q.body_text, "Why x?");
//! let top = q.top_answer().unwrap();
//! assert_eq!((top.id, top.accepted, top.author.display_name()), (7, true, "Ann"));
//! # Ok::<(), ExtractError>(())
//! ```

mod block;
mod dom;
mod driver;
mod error;
mod fast;
mod limits;
mod listing;
mod question;
mod scan;

use std::borrow::Cow;

use scraper::Html;
use serde::{Deserialize, Serialize};

pub use block::classify_block;
pub use error::{BlockKind, Excess, ExtractError};
pub use limits::{ExtractLimits, MAX_ATTRIBUTES, MAX_FORMATTING, MAX_NESTING, MAX_WORK_PER_BYTE};
/// The page model lives in the leaf data crate, `sofleet-records` (so readers of records
/// do not compile an HTML parser); re-exported here so extraction reads as one API.
pub use sofleet_records::model::{self, *};

use driver::Clock;
use scan::Markers;

/// A page of either kind, as detected from its markup.
// One value per parse call: boxing the larger variant would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "page", rename_all = "snake_case")]
pub enum Page {
    /// A question page.
    Question(Question),
    /// A listing page.
    Listing(ListingPage),
}

impl Page {
    /// `"question"` or `"listing"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Page::Question(_) => "question",
            Page::Listing(_) => "listing",
        }
    }
}

/// Checks what the raw document is before any DOM is built: empty, a block
/// page, truncated, or content with the given markers.
fn precheck(html: &str) -> Result<Markers, ExtractError> {
    if html.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    let markers = scan::content_markers(html);
    if markers == Markers::None
        && let Some(block) = block::classify_details(html)
    {
        return Err(block);
    }
    if scan::is_truncated(html) {
        return Err(ExtractError::Truncated {
            bytes: html.len(),
            looked_like: match markers {
                Markers::Question => "question",
                Markers::Listing => "listing",
                Markers::None => "unknown",
            },
        });
    }
    if markers == Markers::None {
        return Err(ExtractError::NotAPage {
            reason: "no question (#question-header, div#question) or listing \
                     (.question-summary, .s-post-summary) markup"
                .to_string(),
        });
    }
    Ok(markers)
}

/// Refuses a document whose pre-scanned shape is over a limit.
fn check_shape(
    shape: scan::Shape,
    bytes: usize,
    limits: &ExtractLimits,
) -> Result<(), ExtractError> {
    let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let checks = [
        (Excess::Nesting, shape.nesting, limits.max_nesting),
        (Excess::Formatting, shape.formatting, limits.max_formatting),
        (Excess::Attributes, shape.attributes, limits.max_attributes),
        (
            Excess::Attributes,
            shape.root_attributes,
            limits.max_attributes,
        ),
        (
            Excess::Work,
            to_usize(shape.work),
            to_usize(limits.max_work(bytes)),
        ),
    ];
    match checks.into_iter().find(|(_, found, limit)| found > limit) {
        Some((excess, found, limit)) => Err(ExtractError::TooComplex {
            excess,
            found,
            limit,
        }),
        None => Ok(()),
    }
}

/// Whether the public API takes the fast path (falling back to html5ever
/// when it declines). `false`: html5ever only, as before the fast path
/// (the differential tests, check-pages and the bench run both paths either
/// way).
const FAST_PATH_WIRED: bool = true;

/// Which tree builder [`build`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The fast path, and the reference parser when it declines (the public API).
    Auto,
    /// html5ever only.
    Reference,
    /// The fast path only: a decline is returned as such.
    FastOnly,
}

/// Builds the DOM from the content region only (falls back to the whole
/// document when the region markers are not found). Refuses markup shaped
/// so that building the tree would take more than linear time, and stops
/// when the time budget runs out. The tree is built by the fast path
/// (`fast/`) when it accepts the region, else by html5ever; `Ok(Err(_))`
/// only with [`Route::FastOnly`], when the fast path declined.
fn build(
    html: &str,
    markers: Markers,
    limits: &ExtractLimits,
    clock: &Clock,
    route: Route,
) -> Result<Result<Html, fast::Decline>, ExtractError> {
    let cut = scan::cut_to_content(html, markers);
    let text = cut.as_deref().unwrap_or(html);
    clock.check()?;
    let shape = scan::shape(text, limits.max_work(text.len()));
    check_shape(shape, text.len(), limits)?;
    clock.check()?;
    if route != Route::Reference {
        let fast = match cut {
            Some(_) => fast::parse_document(text, limits, clock)?,
            None => Err("no content region"),
        };
        match fast {
            Ok(dom) => return Ok(Ok(dom)),
            Err(decline) if route == Route::FastOnly => return Ok(Err(decline)),
            Err(_) => {}
        }
    }
    driver::parse_document(text, limits, clock).map(Ok)
}

/// Parses a question page, with the default [`ExtractLimits`] (no time
/// budget).
///
/// Errors: [`ExtractError::WrongKind`] for a listing page; the block,
/// truncation and markup errors as for [`parse_page`].
///
/// ```
/// let html = r#"<html><head><title>Q</title></head><body>
/// <div id="question-header"><h1><a href="/questions/42/q">Q</a></h1></div>
/// <div id="question" data-questionid="42" data-score="1">
///   <div class="s-prose js-post-body"><p>Why?</p></div></div></body></html>"#;
/// let q = sofleet_extract::parse_question(html)?;
/// assert_eq!((q.id, q.body_text.as_str()), (42, "Why?"));
/// # Ok::<(), sofleet_extract::ExtractError>(())
/// ```
pub fn parse_question(html: &str) -> Result<Question, ExtractError> {
    parse_question_with(html, &ExtractLimits::default())
}

/// [`parse_question`] under the given limits: a page shaped to make the
/// parser slow is an [`ExtractError::TooComplex`], and one that takes
/// longer than `limits.time_budget` an [`ExtractError::OverBudget`]
/// (neither is retryable). Synchronous and CPU-bound: run it on a blocking
/// thread (`tokio::task::spawn_blocking`) from async code.
///
/// ```
/// use std::time::Duration;
/// use sofleet_extract::{parse_question_with, ExtractError, ExtractLimits};
///
/// let limits = ExtractLimits::default().with_time_budget(Duration::from_secs(5));
/// let html = r#"<html><head><title>Q</title></head><body>
/// <div id="question-header"><h1><a href="/questions/42/q">Q</a></h1></div>
/// <div id="question" data-questionid="42" data-score="1">
///   <div class="s-prose js-post-body"><p>Why?</p></div></div></body></html>"#;
/// assert_eq!(parse_question_with(html, &limits)?.id, 42);
///
/// // A page of stray end tags: refused, not a long stall.
/// let hostile = html.replace("Why?", &"<span></x>".repeat(50_000));
/// let err = parse_question_with(&hostile, &limits).unwrap_err();
/// assert_eq!(err.kind(), "too_complex");
/// assert!(!err.is_retryable());
/// # Ok::<(), ExtractError>(())
/// ```
pub fn parse_question_with(html: &str, limits: &ExtractLimits) -> Result<Question, ExtractError> {
    match parse_page_with(html, limits)? {
        Page::Question(q) => Ok(q),
        Page::Listing(_) => Err(ExtractError::WrongKind {
            expected: "question",
            found: "listing",
        }),
    }
}

/// Parses a listing page (tagged / newest questions, home page, search
/// results), with the default [`ExtractLimits`] (no time budget).
///
/// Each row is read on its own, whatever the markup of the rows around it: a
/// row that cannot be read is listed in [`ListingPage::row_problems`], and a
/// page with rows of which none can be read is an
/// [`ExtractError::UnreadableListing`]. Search hits on answers are marked
/// with [`ListingEntry::answer_id`].
///
/// ```
/// let html = r#"<html><head><title>Newest</title></head><body><div id="mainbar">
/// <div class="question-summary" id="question-summary-7">
///   <h3><a class="question-hyperlink" href="/questions/7/why">Why?</a></h3></div>
/// </div></body></html>"#;
/// let listing = sofleet_extract::parse_listing(html)?;
/// assert_eq!(listing.questions[0].id, 7);
/// # Ok::<(), sofleet_extract::ExtractError>(())
/// ```
pub fn parse_listing(html: &str) -> Result<ListingPage, ExtractError> {
    parse_listing_with(html, &ExtractLimits::default())
}

/// [`parse_listing`] under the given limits (see [`parse_question_with`]).
///
/// ```
/// use std::time::Duration;
/// use sofleet_extract::{parse_listing_with, ExtractLimits};
///
/// let html = r#"<html><head><title>Newest</title></head><body><div id="mainbar">
/// <div class="question-summary" id="question-summary-7">
///   <h3><a class="question-hyperlink" href="/questions/7/why">Why?</a></h3></div>
/// </div></body></html>"#;
/// let limits = ExtractLimits::default().with_time_budget(Duration::from_secs(5));
/// assert_eq!(parse_listing_with(html, &limits)?.questions.len(), 1);
/// # Ok::<(), sofleet_extract::ExtractError>(())
/// ```
pub fn parse_listing_with(html: &str, limits: &ExtractLimits) -> Result<ListingPage, ExtractError> {
    match parse_page_with(html, limits)? {
        Page::Listing(l) => Ok(l),
        Page::Question(_) => Err(ExtractError::WrongKind {
            expected: "listing",
            found: "question",
        }),
    }
}

/// Parses a page of either kind, detecting which from its markup, with the
/// default [`ExtractLimits`] (no time budget).
///
/// ```
/// use sofleet_extract::{parse_page, ExtractError, Page};
///
/// let html = r#"<html><head><title>Newest</title></head><body><div id="mainbar">
/// <div class="question-summary" id="question-summary-7">
///   <h3><a class="question-hyperlink" href="/questions/7/why">Why?</a></h3></div>
/// </div></body></html>"#;
/// assert_eq!(parse_page(html)?.kind(), "listing");
/// assert_eq!(parse_page(" "), Err(ExtractError::Empty));
/// # Ok::<(), ExtractError>(())
/// ```
pub fn parse_page(html: &str) -> Result<Page, ExtractError> {
    parse_page_with(html, &ExtractLimits::default())
}

/// [`parse_page`] under the given limits (see [`parse_question_with`]).
///
/// ```
/// use std::time::Duration;
/// use sofleet_extract::{parse_page_with, ExtractError, ExtractLimits};
///
/// // A budget too small for any real work: the parse is stopped.
/// let limits = ExtractLimits::default().with_time_budget(Duration::from_nanos(1));
/// let html = format!(
///     "<html><head></head><body><div id=\"question\">{}</div></body></html>",
///     "<p>text</p>".repeat(10_000)
/// );
/// match parse_page_with(&html, &limits) {
///     Err(ExtractError::OverBudget { elapsed, budget, .. }) => assert!(elapsed > budget),
///     other => panic!("expected OverBudget, got {other:?}"),
/// }
/// ```
pub fn parse_page_with(html: &str, limits: &ExtractLimits) -> Result<Page, ExtractError> {
    let route = if FAST_PATH_WIRED {
        Route::Auto
    } else {
        Route::Reference
    };
    match parse_routed(html, limits, route) {
        Ok(Ok(page)) => Ok(page),
        Ok(Err(decline)) => unreachable!("the public route never returns a decline ({decline})"),
        Err(e) => Err(e),
    }
}

/// [`parse_page_with`] along the given route.
fn parse_routed(
    html: &str,
    limits: &ExtractLimits,
    route: Route,
) -> Result<Result<Page, fast::Decline>, ExtractError> {
    let clock = Clock::start(limits.time_budget);
    let markers = precheck(html)?;
    let mut dom = match build(html, markers, limits, &clock, route)? {
        Ok(dom) => dom,
        Err(decline) => return Ok(Err(decline)),
    };
    let page = match markers {
        Markers::Question => match question::extract(&dom) {
            Ok(q) => Ok(Page::Question(q)),
            // Question-like hooks but no question: maybe a listing. Its rows, when it
            // has some, say more than the missing question does.
            Err(e) => listing::extract(&mut dom)
                .map(Page::Listing)
                .map_err(|le| match le {
                    ExtractError::UnreadableListing { .. } => le,
                    _ => e,
                }),
        },
        _ => listing::extract(&mut dom).map(Page::Listing),
    };
    page.map(Ok)
}

/// The two tree builders behind the public API, one at a time, for the
/// differential tests, `cargo xtask check-pages` and the benchmarks. Not part
/// of the stable API.
#[doc(hidden)]
pub mod paths {
    use super::{ExtractError, ExtractLimits, Page, Route, parse_routed};

    /// What the fast path alone made of a page.
    // One value per call, like `Page`: boxing would only add an allocation.
    #[allow(clippy::large_enum_variant)]
    #[derive(Debug, Clone, PartialEq)]
    pub enum FastOutcome {
        /// The fast path built the tree (or the page was refused before any
        /// tree was built, as on the reference path): the result.
        Done(Result<Page, ExtractError>),
        /// The fast path declined the page, for this reason; the public API
        /// then uses the reference parser.
        Declined(&'static str),
    }

    /// [`parse_page_with`](crate::parse_page_with) with the reference tree
    /// builder (html5ever) only.
    pub fn reference(html: &str, limits: &ExtractLimits) -> Result<Page, ExtractError> {
        parse_routed(html, limits, Route::Reference)
            .map(|r| r.expect("the reference route never declines"))
    }

    /// [`parse_page_with`](crate::parse_page_with) with the fast tree
    /// builder only.
    pub fn fast(html: &str, limits: &ExtractLimits) -> FastOutcome {
        match parse_routed(html, limits, Route::FastOnly) {
            Ok(Ok(page)) => FastOutcome::Done(Ok(page)),
            Ok(Err(decline)) => FastOutcome::Declined(decline),
            Err(e) => FastOutcome::Done(Err(e)),
        }
    }

    /// Builds the `scraper` DOM of the whole document alone (no pre-scan, no
    /// cut, no extraction): the benchmarks' baseline.
    pub fn dom_only(html: &str) -> usize {
        scraper::Html::parse_document(html).tree.values().len()
    }
}

/// [`parse_page`] for raw bytes (invalid UTF-8 is replaced, not rejected;
/// saved pages are UTF-8 in every era).
///
/// ```
/// let err = sofleet_extract::parse_page_bytes(b"<html><body>\xff</body></html>").unwrap_err();
/// assert_eq!(err.kind(), "not_a_page");
/// ```
pub fn parse_page_bytes(bytes: &[u8]) -> Result<Page, ExtractError> {
    let text: Cow<'_, str> = String::from_utf8_lossy(bytes);
    parse_page(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn records_and_errors_are_send() {
        assert_send_sync::<Question>();
        assert_send_sync::<ListingPage>();
        assert_send_sync::<Page>();
        assert_send_sync::<ExtractError>();
    }

    #[test]
    fn empty_and_unknown() {
        assert_eq!(parse_page("  \n"), Err(ExtractError::Empty));
        assert_eq!(
            parse_page("<html><body><p>hi</p></body></html>")
                .unwrap_err()
                .kind(),
            "not_a_page"
        );
    }
}
