//! Small DOM helpers over `scraper`. Every walk here is iterative and linear
//! in the size of the subtree it is given (no recursion, no selector
//! combinators that re-walk ancestors), so no input can make them blow the
//! stack or go quadratic.

use ego_tree::iter::Edge;
use html5ever::ns;
use scraper::node::Element;
use scraper::{ElementRef, Html, Node};

/// Whether `el` carries class `class`.
pub(crate) fn has_class(el: ElementRef<'_>, class: &str) -> bool {
    element_has_class(el.value(), class)
}

/// Whether the element carries class `class`: what `Element::classes`
/// reads (the `class` attribute split on ASCII whitespace), without its
/// cache of interned class names (one global-set insert per class of every
/// element tested, the larger part of extraction time).
pub(crate) fn element_has_class(el: &Element, class: &str) -> bool {
    classes(el).any(|c| c == class)
}

/// The classes of an element, as `Element::classes` splits them (possibly
/// repeated).
pub(crate) fn classes(el: &Element) -> impl Iterator<Item = &str> {
    attr_of(el, "class")
        .unwrap_or_default()
        .split_ascii_whitespace()
}

/// The value of attribute `name` (no namespace), as `Element::attr` finds
/// it, without interning `name` for a binary search (attributes are few).
pub(crate) fn attr_of<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.attrs.iter().find_map(|pair| {
        let (key, value) = (&pair.0, &pair.1);
        (key.prefix.is_none() && key.ns == ns!() && &*key.local == name).then_some(&**value)
    })
}

/// Attribute value, trimmed, if present and non-empty.
pub(crate) fn attr<'a>(el: ElementRef<'a>, name: &str) -> Option<&'a str> {
    attr_of(el.value(), name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// All elements of the subtree rooted at `root` (including `root`), in
/// document order.
pub(crate) fn elements<'a>(root: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> {
    root.descendants().filter_map(ElementRef::wrap)
}

/// First element of the subtree matching `pred` (excluding `root` itself).
pub(crate) fn find<'a>(
    root: ElementRef<'a>,
    pred: impl Fn(ElementRef<'a>) -> bool,
) -> Option<ElementRef<'a>> {
    elements(root).skip(1).find(|e| pred(*e))
}

/// Elements matching `pred` that are not inside another match (outermost
/// matches only), in document order. Linear in the subtree size.
pub(crate) fn outermost<'a>(
    root: ElementRef<'a>,
    pred: impl Fn(ElementRef<'a>) -> bool,
) -> Vec<ElementRef<'a>> {
    let mut found = Vec::new();
    let mut inside: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if inside.is_none()
                    && let Some(el) = ElementRef::wrap(node)
                    && pred(el)
                {
                    inside = Some(node.id());
                    found.push(el);
                }
            }
            Edge::Close(node) => {
                if inside == Some(node.id()) {
                    inside = None;
                }
            }
        }
    }
    found
}

/// The document's `<title>` text, whitespace collapsed.
pub(crate) fn page_title(html: &Html) -> String {
    let root = html.root_element();
    find(root, |e| e.value().name() == "title")
        .map(|t| collapse(&t.text().collect::<String>()))
        .unwrap_or_default()
}

/// `<meta property=NAME content=…>` content (OpenGraph uses `property`).
pub(crate) fn meta_property<'a>(html: &'a Html, property: &str) -> Option<&'a str> {
    elements(html.root_element())
        .filter(|e| e.value().name() == "meta")
        .find(|e| attr_of(e.value(), "property") == Some(property))
        .and_then(|e| attr_of(e.value(), "content"))
}

/// `<link rel=canonical href=…>`.
pub(crate) fn canonical(html: &Html) -> Option<&str> {
    elements(html.root_element())
        .filter(|e| e.value().name() == "link")
        .find(|e| attr_of(e.value(), "rel").is_some_and(|r| r.eq_ignore_ascii_case("canonical")))
        .and_then(|e| attr_of(e.value(), "href"))
}

/// Host of an absolute URL (`https://host/…` or `//host/…`).
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .or_else(|| url.strip_prefix("//"))?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Path (with query) of a URL: absolute URLs lose scheme and host,
/// relative ones are returned as they are.
pub(crate) fn url_path(url: &str) -> String {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .or_else(|| url.strip_prefix("//"));
    match rest {
        Some(r) => match r.find('/') {
            Some(i) => r[i..].to_string(),
            None => "/".to_string(),
        },
        None => url.to_string(),
    }
}

/// `<meta name=NAME content=…>` content.
pub(crate) fn meta_name<'a>(html: &'a Html, name: &str) -> Option<&'a str> {
    elements(html.root_element())
        .filter(|e| e.value().name() == "meta")
        .find(|e| attr_of(e.value(), "name") == Some(name))
        .and_then(|e| attr_of(e.value(), "content"))
}

/// The host the page says it belongs to: canonical link, else `og:url`
/// (some eras wrote it as `<meta name="og:url">`).
pub(crate) fn site_host(html: &Html) -> Option<String> {
    canonical(html)
        .and_then(url_host)
        .or_else(|| meta_property(html, "og:url").and_then(url_host))
        .or_else(|| meta_name(html, "og:url").and_then(url_host))
}

/// Collapses whitespace runs to one space and trims.
pub(crate) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Visible text of an element: all text nodes joined, `<script>`,
/// `<style>`, `<template>` and comments skipped, whitespace collapsed.
/// With `skip_notices`, `aside.js-post-notice` subtrees are left out too.
pub(crate) fn visible_text(root: ElementRef<'_>, skip_notices: bool) -> String {
    let mut raw = String::new();
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => raw.push_str(t),
                    Node::Element(e) => {
                        let skip = matches!(e.name(), "script" | "style" | "template" | "noscript")
                            || (skip_notices
                                && e.name() == "aside"
                                && element_has_class(e, "js-post-notice"));
                        if skip {
                            skipping = Some(node.id());
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    collapse(&raw)
}

/// Text of an element with whitespace collapsed (no skipping).
pub(crate) fn text(el: ElementRef<'_>) -> String {
    visible_text(el, false)
}

/// Parses a signed integer out of text such as ` -12 `, `1,234` or `1.234`
/// (thousands separators of any locale). `None` when there are no digits.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits_part) = match s.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut value: i64 = 0;
    let mut any = false;
    for c in digits_part.chars() {
        if let Some(d) = c.to_digit(10) {
            value = value.checked_mul(10)?.checked_add(i64::from(d))?;
            any = true;
        } else if matches!(c, ',' | '.' | ' ' | '\u{a0}' | '\u{202f}' | '\'') {
            continue;
        } else {
            break;
        }
    }
    any.then_some(if neg { -value } else { value })
}

/// The first run of ASCII digits anywhere in `s`.
pub(crate) fn first_number(s: &str) -> Option<u64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: String = s[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// All digits of `s` joined (for counts printed with separators:
/// `23,076 views`, `1.234 visualizações`).
pub(crate) fn all_digits(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    digits.parse().ok()
}

/// The numeric id following `/<segment>/` in a path (`/users/123/x` → 123).
pub(crate) fn id_after(href: &str, segment: &str) -> Option<u64> {
    let pat = format!("/{segment}/");
    let i = href.find(&pat)? + pat.len();
    let digits: String = href[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Value of query parameter `key` in `href`.
pub(crate) fn query_param<'a>(href: &'a str, key: &str) -> Option<&'a str> {
    let query = href.split_once('?')?.1;
    let query = query.split('#').next()?;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_int(" -12 "), Some(-12));
        assert_eq!(parse_int("1,234"), Some(1234));
        assert_eq!(parse_int("x"), None);
        assert_eq!(all_digits("23,076 views"), Some(23076));
        assert_eq!(first_number("Viewed 13 Answers"), Some(13));
        assert_eq!(id_after("/users/123/x", "users"), Some(123));
        assert_eq!(
            query_param("/q/1/x?answertab=votes#tab-top", "answertab"),
            Some("votes")
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            url_host("https://pt.stackoverflow.com/questions/1"),
            Some("pt.stackoverflow.com".into())
        );
        assert_eq!(
            url_path("http://stackoverflow.com/questions/1/a"),
            "/questions/1/a"
        );
        assert_eq!(url_path("/questions/1/a"), "/questions/1/a");
    }

    #[test]
    fn text_skips_scripts_and_notices() {
        let html = Html::parse_fragment(
            "<div><aside class=\"js-post-notice\">n</aside><p>a  <b>b</b></p><script>x</script>\n c</div>",
        );
        let div = find(html.root_element(), |e| e.value().name() == "div").unwrap();
        assert_eq!(visible_text(div, false), "na b c");
        assert_eq!(visible_text(div, true), "a b c");
    }
}
