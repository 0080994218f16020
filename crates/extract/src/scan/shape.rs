//! The linear pre-scan: an estimate of the tree builder's nesting,
//! active formatting elements, attribute counts and walking work
//! ([`Shape`]), measured before any DOM is built.

use super::find::{find_byte, find_tag};
use super::names::Role;
use super::stack::Sim;
use super::tokens::{comment_end, is_space, scan_attributes};

/// What the pre-scan of a document measured ([`shape`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Estimated deepest nesting of the tree builder's open elements.
    pub nesting: usize,
    /// Estimated most formatting elements open (active) at once.
    pub formatting: usize,
    /// Most attributes on one tag (start or end tag).
    pub attributes: usize,
    /// Attributes on all `<html>` and `<body>` start tags together (the
    /// parser merges later ones into the first, comparing with each).
    pub root_attributes: usize,
    /// Estimated steps the tree builder spends walking its stack of open
    /// elements and its list of active formatting elements (scope checks,
    /// end tags looking for their element, re-opening checks, the
    /// "Noah's Ark" comparison of formatting elements of the same name).
    pub work: u64,
}

/// Measures the document's shape in one linear pass, before any DOM is
/// built: an estimate of how deep the tree builder will nest elements and
/// how many formatting elements it will keep active, and the attribute
/// counts the tokenizer will meet.
///
/// The tree builder does work proportional to the depth of its open element
/// stack (and its list of active formatting elements) for many tokens, and
/// the tokenizer compares each attribute with the earlier ones of its tag,
/// so a document nested thousands of levels deep or with thousands of
/// attributes on a tag (never a real page: Stack Overflow pages stay below
/// ~60 levels) would take quadratic time. Callers refuse such input before
/// building a DOM.
///
/// The nesting estimate simulates the stack: start tags of elements that
/// must be closed explicitly push; an end tag pops only when an element of
/// its name is open and the parser could reach it (not across a special
/// element such as `<div>` for an ordinary name like `</span>`, not outside
/// a table for a special name), so stray end tags (`<span></x>`) lower
/// nothing. Void, end-tag-optional and raw-text elements are not counted.
///
/// The scan stops early once the work estimate passes `max_work` (the
/// caller refuses the document then).
pub(crate) fn shape(doc: &str, max_work: u64) -> Shape {
    let b = doc.as_bytes();
    let mut sim = Sim::default();
    let mut lower: Vec<u8> = Vec::new();
    let mut i = 0;
    while let Some(lt) = find_byte(doc, '<', i) {
        if sim.shape.work > max_work {
            break;
        }
        if lt > i {
            // Text: the parser checks whether to re-open formatting elements.
            sim.reopen_check();
        }
        i = lt + 1;
        if b[i..].starts_with(b"!--") {
            i = comment_end(doc, lt);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let name_start = i + usize::from(closing);
        if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // Text, or a bogus comment / doctype read as text: its content
            // may look like tags, which can only raise the estimates.
            continue;
        }
        let mut name_end = name_start;
        while name_end < b.len() && !is_space(b[name_end]) && !matches!(b[name_end], b'/' | b'>') {
            name_end += 1;
        }
        let (gt, attributes, self_closing) = scan_attributes(doc, name_end);
        i = (gt + 1).min(b.len());
        sim.shape.attributes = sim.shape.attributes.max(attributes);

        lower.clear();
        lower.extend(b[name_start..name_end].iter().map(u8::to_ascii_lowercase));
        let id = sim.intern(&lower);
        let info = &sim.names[id];
        let (role, formatting) = (info.role, info.formatting);
        if !closing && info.root {
            sim.shape.root_attributes += attributes;
        }
        if closing {
            if let Some(f) = formatting {
                sim.end_formatting(f);
            }
            if role == Role::Uncounted {
                sim.scope_walk();
            } else {
                sim.close(id);
            }
            continue;
        }
        if sim.names[id].special {
            // Most special start tags first check a scope (`<p>` in button
            // scope, `<li>` in list item scope, …).
            sim.scope_walk();
        } else {
            // Ordinary start tags re-open formatting elements, like text.
            sim.reopen_check();
        }
        match role {
            Role::Uncounted => continue,
            Role::Plaintext => break,
            Role::RawText => {
                // Raw text ends at the first matching end tag (any case).
                let mut k = i;
                i = b.len();
                while let Some(e) = find_tag(doc, "</", k) {
                    let candidate = &b[e + 2..(e + 2 + lower.len()).min(b.len())];
                    if candidate.eq_ignore_ascii_case(&lower) {
                        i = e;
                        break;
                    }
                    k = e + 2;
                }
                continue;
            }
            Role::Element => {}
        }
        let foreign_root = sim.names[id].foreign_root;
        if self_closing && (foreign_root || sim.foreign_floor.is_some()) {
            continue;
        }
        if let Some(f) = formatting {
            if f == 0 && sim.formatting[0] == 0 {
                // `<a>` looks for an active `<a>` through the whole list.
                sim.shape.work += sim.formatting_total as u64;
            }
            if f == 0 && !sim.names[id].open.is_empty() {
                // `<a>` inside an open `<a>` closes the outer one first.
                for _ in 0..sim.formatting[0] {
                    sim.end_formatting(0);
                }
                sim.close(id);
            }
            sim.start_formatting(f);
        }
        sim.push(id);
    }
    sim.shape
}

#[cfg(test)]
mod tests {
    use super::super::stack::{NOAH_WEIGHT, REOPEN_WEIGHT};
    use super::*;

    fn shape_of(doc: &str) -> Shape {
        shape(doc, u64::MAX)
    }

    fn max_nesting(doc: &str) -> usize {
        shape_of(doc).nesting
    }

    #[test]
    fn nesting_estimate() {
        assert_eq!(max_nesting("<div><p>a<p>b<span>c</span></div>"), 2);
        assert_eq!(
            max_nesting("<div><br><img src=x><svg><path/></svg></div>"),
            2
        );
        assert_eq!(
            max_nesting("<script>if (a <div> b) {}</script><div></div>"),
            1
        );
        assert_eq!(max_nesting(&"<b>".repeat(5000)), 5000);
        // `/>` does not close HTML elements, only foreign ones.
        assert_eq!(max_nesting(&"<div/>".repeat(300)), 300);
        assert_eq!(max_nesting(&"<svg><path/></svg><path/>".repeat(300)), 300);
        assert_eq!(max_nesting("<!-- <div><div> --><a title=\"x>y\">z</a>"), 1);
        assert_eq!(max_nesting("<a title=\"<div>\">z</a>"), 1);
        assert_eq!(max_nesting("<!-- a --!><div><!--><div><!---><div>"), 3);
    }

    #[test]
    fn stray_end_tags_lower_nothing() {
        // The page: `</x>` closes nothing, so every `<span>` stays open.
        assert_eq!(max_nesting(&"<span></x>".repeat(3000)), 3000);
        assert_eq!(max_nesting(&"<span></span>".repeat(3000)), 1);
        assert_eq!(max_nesting(&"<div></DIV >".repeat(3000)), 1);
        // `</span>` cannot close a span across a div; `</div>` cannot close
        // a div outside a table.
        assert_eq!(max_nesting(&"<span><div></span>".repeat(500)), 1000);
        assert_eq!(max_nesting(&"<div><table></div>".repeat(500)), 1000);
        // `</b>` across a block is the adoption agency: the depth stays.
        assert_eq!(max_nesting("<div><b><div></b></div></div>"), 3);
        // Closing an outer element closes what it encloses.
        assert_eq!(max_nesting("<div><span><span></div><div></div>"), 3);
    }

    #[test]
    fn work_estimate_grows_with_walks() {
        let cheap = shape_of(&"<div><span>x</span></div>".repeat(1000)).work;
        assert!(cheap < 10_000, "{cheap}");
        // 1,000 open spans: every stray end tag walks them all.
        let doc = format!("{}{}", "<span>".repeat(1000), "</x>".repeat(1000));
        assert!(shape_of(&doc).work >= 1_000_000);
        // So does every block start tag's scope check.
        let doc = format!("{}{}", "<span>".repeat(1000), "<div></div>".repeat(1000));
        assert!(shape_of(&doc).work >= 1_000_000);
        // 1,000 active <b>s: every new <b> is compared with all of them.
        let open: String = (0..1000).map(|i| format!("<b id={i}>")).collect();
        let doc = format!("{open}{}", "<b>x</b>".repeat(1000));
        assert!(shape_of(&doc).work >= NOAH_WEIGHT * 1_000_000);
        // 1,000 <b>s closed by the </div> around them are re-opened by
        // every later text.
        let doc = format!("<div>{open}</div>{}", "<div>x</div>".repeat(1000));
        let s = shape_of(&doc);
        assert!(s.work >= REOPEN_WEIGHT * 1_000_000, "{s:?}");
        assert_eq!(s.nesting, 1001);
        // The scan stops once over the limit.
        assert!(shape(&doc, 1000).work < 1_000_000);
    }

    #[test]
    fn formatting_and_attribute_counts() {
        let s = shape_of(&"<b><i>x</i>".repeat(100));
        assert_eq!((s.formatting, s.nesting), (101, 101));
        // Each `<a>` closes the one before it.
        assert_eq!(shape_of(&"<a href=x>y".repeat(100)).formatting, 1);
        assert_eq!(shape_of("<b>x</b><b>y</b>").formatting, 1);
        let s = shape_of("<p a b=1 c='>' d=\"x y\" e = f/><p x>");
        assert_eq!((s.attributes, s.root_attributes), (5, 0));
        let s = shape_of("<html lang=en><body class=a id=b><body x>");
        assert_eq!((s.attributes, s.root_attributes), (2, 4));
    }
}
