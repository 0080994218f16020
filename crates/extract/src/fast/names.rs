//! The element-name tables of the fast path's tree construction: which
//! start tags the in-body rules only insert, which they decline, and the
//! categories the HTML tree builder's rules name. One `match` per tag
//! classifies its name.

/// Start tags whose in-body rules do more than insert an element: declined
/// (`a` only when another `a` is open).
pub(super) const DECLINED: u16 = 1;
/// Elements of tables and selects, handled by the table modes (`table.rs`).
pub(super) const TABLE_PART: u16 = 1 << 1;
/// Elements inserted and popped at once.
pub(super) const VOID: u16 = 1 << 2;
/// Start tags that close an open `<p>` first.
pub(super) const CLOSES_P: u16 = 1 << 3;
/// The tree builder's "special" elements (those that stop the `li` / `dd`
/// search for an element to close), as far as the fast path lets them in.
pub(super) const SPECIAL: u16 = 1 << 4;
/// Void elements allowed in the head.
pub(super) const HEAD_VOID: u16 = 1 << 5;
/// Formatting elements (kept in the tree builder's list of active
/// formatting elements; counted against the open-elements limit).
pub(super) const FORMATTING: u16 = 1 << 6;
/// `h1`–`h6`.
pub(super) const HEADING: u16 = 1 << 7;

/// The categories of an element name (lowercase).
pub(super) fn class(name: &str) -> u16 {
    match name {
        "a" | "nobr" => DECLINED | FORMATTING,
        "address" | "article" | "aside" | "blockquote" | "center" | "dd" | "details" | "dir"
        | "div" | "dl" | "dt" | "fieldset" | "figcaption" | "figure" | "footer" | "header"
        | "hgroup" | "li" | "main" | "menu" | "nav" | "ol" | "p" | "pre" | "section"
        | "summary" | "ul" => CLOSES_P | SPECIAL,
        "applet" | "base" | "basefont" | "bgsound" | "button" | "form" | "frame" | "frameset"
        | "iframe" | "image" | "isindex" | "keygen" | "listing" | "marquee" | "math"
        | "menuitem" | "noembed" | "noframes" | "noscript" | "object" | "plaintext" | "rb"
        | "rp" | "rt" | "rtc" | "script" | "search" | "style" | "svg" | "template" | "textarea"
        | "title" | "xmp" => DECLINED,
        "area" | "br" | "embed" | "img" | "input" | "param" | "source" | "track" | "wbr" => {
            VOID | SPECIAL
        }
        "b" | "big" | "code" | "em" | "font" | "i" | "s" | "small" | "strike" | "strong" | "tt"
        | "u" => FORMATTING,
        "body" | "head" | "html" => DECLINED | SPECIAL,
        "caption" | "col" | "colgroup" | "select" | "table" | "tbody" | "td" | "tfoot" | "th"
        | "thead" | "tr" => DECLINED | TABLE_PART | SPECIAL,
        "dialog" => CLOSES_P,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => CLOSES_P | SPECIAL | HEADING,
        "hr" => VOID | CLOSES_P | SPECIAL,
        "link" | "meta" => VOID | SPECIAL | HEAD_VOID,
        "optgroup" | "option" => DECLINED | TABLE_PART,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class("p"), CLOSES_P | SPECIAL);
        assert_eq!(class("a"), DECLINED | FORMATTING);
        assert_eq!(class("span"), 0);
        assert_ne!(class("h3") & HEADING, 0);
    }
}
