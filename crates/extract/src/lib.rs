//! Stack Overflow HTML (every markup era) to typed records. No I/O, no async.
//!
//! Give it the text of a saved or fetched page; get back owned records
//! ([`Question`], [`ListingPage`]) or an [`ExtractError`] that says what the
//! page was instead (captcha, 429, 404, truncated, empty, unknown markup).
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
mod error;
mod listing;
mod model;
mod question;
mod scan;

use std::borrow::Cow;

use scraper::Html;
use serde::{Deserialize, Serialize};

pub use block::classify_block;
pub use error::{BlockKind, ExtractError};
pub use model::*;

use scan::Markers;

/// Documents nesting elements deeper than this are refused before parsing
/// (the HTML tree builder's work grows with depth; real pages stay < 100).
pub const MAX_NESTING: usize = 1024;

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

/// Builds the DOM from the content region only (falls back to the whole
/// document when the region markers are not found). Refuses markup nested
/// so deep that building the tree would take quadratic time.
fn build(html: &str, markers: Markers) -> Result<Html, ExtractError> {
    let cut = scan::cut_to_content(html, markers);
    let text = cut.as_deref().unwrap_or(html);
    let depth = scan::max_nesting(text);
    if depth > MAX_NESTING {
        return Err(ExtractError::NotAPage {
            reason: format!(
                "markup nests about {depth} elements deep (limit {MAX_NESTING}; real pages \
                 stay below 100), refused so parsing stays linear"
            ),
        });
    }
    Ok(Html::parse_document(text))
}

/// Parses a question page.
///
/// Errors: [`ExtractError::WrongKind`] for a listing page; the block,
/// truncation and markup errors as for [`parse_page`].
pub fn parse_question(html: &str) -> Result<Question, ExtractError> {
    match parse_page(html)? {
        Page::Question(q) => Ok(q),
        Page::Listing(_) => Err(ExtractError::WrongKind {
            expected: "question",
            found: "listing",
        }),
    }
}

/// Parses a listing page (tagged / newest questions, home page).
pub fn parse_listing(html: &str) -> Result<ListingPage, ExtractError> {
    match parse_page(html)? {
        Page::Listing(l) => Ok(l),
        Page::Question(_) => Err(ExtractError::WrongKind {
            expected: "listing",
            found: "question",
        }),
    }
}

/// Parses a page of either kind, detecting which from its markup.
pub fn parse_page(html: &str) -> Result<Page, ExtractError> {
    let markers = precheck(html)?;
    let dom = build(html, markers)?;
    match markers {
        Markers::Question => match question::extract(&dom) {
            Ok(q) => Ok(Page::Question(q)),
            // Question-like hooks but no question: maybe a listing.
            Err(e) => listing::extract(&dom).map(Page::Listing).map_err(|_| e),
        },
        _ => listing::extract(&dom).map(Page::Listing),
    }
}

/// [`parse_page`] for raw bytes (invalid UTF-8 is replaced, not rejected;
/// saved pages are UTF-8 in every era).
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
