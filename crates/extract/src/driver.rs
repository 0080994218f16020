//! Builds the DOM by feeding html5ever in chunks, watching what the parser
//! really does between chunks: the time spent, how many elements its tree
//! builder holds open, and how many nodes it has created. Whatever the
//! pre-scan's estimate missed, the parser's work per chunk stays bounded.

use std::cell::Cell;
use std::time::{Duration, Instant};

use ego_tree::NodeId;
use html5ever::driver::{self, ParseOpts};
use html5ever::interface::Tracer;
use html5ever::tendril::{StrTendril, TendrilSink};
use scraper::{Html, HtmlTreeSink};

use crate::{Excess, ExtractError, ExtractLimits};

/// Bytes fed to the parser between two checks.
pub(crate) const CHUNK: usize = 4096;

/// Nodes the tree may hold beyond one per two input bytes (the most
/// markup can make without misnesting: `<a>x` is two nodes in four bytes).
const NODE_SLACK: usize = 4096;

/// The time budget of one extraction call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
    budget: Option<Duration>,
}

impl Clock {
    /// Starts the clock now.
    pub(crate) fn start(budget: Option<Duration>) -> Clock {
        Clock {
            start: Instant::now(),
            budget,
        }
    }

    /// `OverBudget` once the time since [`Clock::start`] exceeds the budget.
    pub(crate) fn check(&self) -> Result<(), ExtractError> {
        let Some(budget) = self.budget else {
            return Ok(());
        };
        let elapsed = self.start.elapsed();
        if elapsed > budget {
            return Err(ExtractError::OverBudget { elapsed, budget });
        }
        Ok(())
    }
}

/// Counts the handles the tree builder holds: the document, its open
/// elements, its active formatting elements and a few element pointers.
struct Count(Cell<usize>);

impl Tracer for Count {
    type Handle = NodeId;

    fn trace_handle(&self, _: &NodeId) {
        self.0.set(self.0.get() + 1);
    }
}

/// End of the chunk starting at `from`: about [`CHUNK`] bytes on, at a char
/// boundary.
fn chunk_end(text: &str, from: usize) -> usize {
    let mut end = from.saturating_add(CHUNK).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

/// Parses `text` as a document, exactly as `Html::parse_document` does, but
/// in chunks of [`CHUNK`] bytes, checking after each one the time budget,
/// the tree builder's open and active formatting elements
/// ([`Excess::OpenElements`]) and the nodes created so far
/// ([`Excess::Nodes`]).
pub(crate) fn parse_document(
    text: &str,
    limits: &ExtractLimits,
    clock: &Clock,
) -> Result<Html, ExtractError> {
    let mut parser = driver::parse_document(
        HtmlTreeSink::new(Html::new_document()),
        ParseOpts::default(),
    );
    let max_open = limits.max_open_elements();
    let mut fed = 0;
    while fed < text.len() {
        let end = chunk_end(text, fed);
        parser.process(StrTendril::from_slice(&text[fed..end]));
        fed = end;
        clock.check()?;
        let builder = &parser.tokenizer.sink;
        let count = Count(Cell::new(0));
        builder.trace_handles(&count);
        let open = count.0.get();
        if open > max_open {
            return Err(ExtractError::TooComplex {
                excess: Excess::OpenElements,
                found: open,
                limit: max_open,
            });
        }
        let nodes = builder.sink.0.borrow().tree.values().len();
        let max_nodes = fed / 2 + NODE_SLACK;
        if nodes > max_nodes {
            return Err(ExtractError::TooComplex {
                excess: Excess::Nodes,
                found: nodes,
                limit: max_nodes,
            });
        }
    }
    let html = parser.finish();
    clock.check()?;
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(text: &str) -> Html {
        parse_document(text, &ExtractLimits::default(), &Clock::start(None)).unwrap()
    }

    #[test]
    fn chunked_parse_builds_the_same_tree() {
        // Chunk boundaries inside tags, attributes, comments, entities,
        // CRLF pairs, scripts and multi-byte characters.
        let unit = "<div class=\"a b\" data-x='1'>é&amp;x<!-- c -->\r\n<script>if (a<b) {}</script>\
                    <table><td>ü<b>𝄞</b></table><p>t&#x41;&notin</p></div>\r";
        for pad in [0, 1, 2, 3, 7] {
            let doc = format!("{}{}", "x".repeat(pad), unit.repeat(200));
            assert!(doc.len() > 3 * CHUNK);
            assert_eq!(
                chunked(&doc).html(),
                Html::parse_document(&doc).html(),
                "pad {pad}"
            );
        }
    }

    #[test]
    fn chunk_ends_are_char_boundaries() {
        let s = "é".repeat(CHUNK);
        let mut at = 0;
        while at < s.len() {
            let end = chunk_end(&s, at);
            assert!(end > at && s.is_char_boundary(end));
            at = end;
        }
    }

    #[test]
    fn misnested_formatting_that_multiplies_nodes_is_stopped() {
        // 200 distinct <b>s closed by the </div> around them stay active
        // and are re-opened inside every later <div>: 200 new elements per
        // 12 input bytes.
        let open: String = (0..200).map(|i| format!("<b id={i}>")).collect();
        let doc = format!("<div>{open}</div>{}", "<div>x</div>".repeat(5_000));
        let limits = ExtractLimits::default();
        match parse_document(&doc, &limits, &Clock::start(None)) {
            Err(ExtractError::TooComplex {
                excess: Excess::Nodes,
                found,
                limit,
            }) => assert!(found > limit),
            other => panic!(
                "expected Nodes, got {:?}",
                other.map(|h| h.tree.values().len())
            ),
        }
    }

    #[test]
    fn a_deep_stack_the_prescan_missed_is_stopped() {
        let doc = "<table><td>".repeat(2_000);
        match parse_document(&doc, &ExtractLimits::default(), &Clock::start(None)) {
            Err(ExtractError::TooComplex {
                excess: Excess::OpenElements,
                ..
            }) => {}
            other => panic!("expected OpenElements, got {:?}", other.map(|_| ())),
        }
    }
}
