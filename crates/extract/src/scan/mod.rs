//! Cheap byte scans over the raw document, done before (or instead of)
//! building a DOM: page-kind markers, truncation, and cutting the document
//! down to the region the extractor reads.
//!
//! One job per file:
//!
//! - this file: which kind of page the markup announces ([`content_markers`])
//!   and whether it was cut off ([`is_truncated`]);
//! - `find`: the substring and tag searches every scan is built on;
//! - `cut`: the content-region cut ([`cut_to_content`]), which leaves out
//!   noise elements and layout whitespace and copies post bodies verbatim;
//! - `shape`: the linear pre-scan ([`shape()`]) that estimates what the tree
//!   builder will do, measured as a [`Shape`];
//! - `tokens`: tags' attributes and comments, read the way the tokenizer
//!   reads them;
//! - `names`: the element-name tables of the HTML tree builder and how the
//!   pre-scan treats each name;
//! - `stack`: the simulated stack of open elements and list of active
//!   formatting elements.

mod cut;
mod find;
mod names;
mod shape;
mod stack;
mod tokens;

pub(crate) use cut::cut_to_content;
pub(crate) use find::find_from;
pub(crate) use shape::{Shape, shape};

/// Which kind of content the raw markup announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Markers {
    Question,
    Listing,
    None,
}

/// Looks for the markup hooks of a question or listing page. The hooks are
/// attribute values, present in every era, never English words.
pub(crate) fn content_markers(doc: &str) -> Markers {
    let has = |needle: &str| find_from(doc, needle, 0).is_some();
    let question =
        has("id=\"question-header\"") || has("data-questionid=") || has("id=\"question\"");
    if question {
        return Markers::Question;
    }
    if has("question-summary") || has("s-post-summary") {
        return Markers::Listing;
    }
    Markers::None
}

/// The last `n` bytes of `s`, cut at a char boundary.
fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// True when the document ends without its closing `</body>` / `</html>`:
/// it was cut off in transfer or while saving.
pub(crate) fn is_truncated(doc: &str) -> bool {
    let t = tail(doc, 16 * 1024).to_ascii_lowercase();
    !(t.contains("</html") || t.contains("</body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_detected_from_the_tail() {
        assert!(is_truncated("<html><body><div>"));
        assert!(!is_truncated("<html><body></body></html>\n"));
    }
}
