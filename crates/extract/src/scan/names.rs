//! The HTML tree builder's element-name tables, and how the pre-scan
//! treats each name ([`NameInfo`]).

/// Elements that never hold children (no end tag).
const VOID: [&str; 16] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "frame",
];
/// Elements whose end tag is optional: the parser closes them implicitly, so
/// a run of them does not nest.
const OPTIONAL_END: [&str; 19] = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
    "colgroup", "caption", "rb", "rt", "rtc", "rp", "html",
];
/// Elements whose content is raw text (no tags inside). The parser runs
/// with scripting enabled, so `<noscript>` is one of them.
const RAW_TEXT: [&str; 9] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];
/// Formatting elements: the tree builder keeps them in its list of active
/// formatting elements and re-opens them after blocks that closed them.
pub(super) const FORMATTING: [&str; 14] = [
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
/// The tree builder's "special" elements: an end tag of an ordinary
/// element cannot close an element across one of them.
const SPECIAL: [&str; 83] = [
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "bgsound",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dir",
    "div",
    "dl",
    "dt",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "iframe",
    "img",
    "input",
    "isindex",
    "li",
    "link",
    "listing",
    "main",
    "marquee",
    "menu",
    "meta",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "p",
    "param",
    "plaintext",
    "pre",
    "script",
    "section",
    "select",
    "source",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
    "wbr",
    "xmp",
    "search",
];
/// Elements that bound the (default) scope an end tag of a special element
/// looks in: `</div>` cannot close a `<div>` outside the current table.
const SCOPE: [&str; 9] = [
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
];

/// How the pre-scan treats an element name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Void or end-tag-optional: never counted.
    Uncounted,
    /// Raw text: its content is skipped up to its end tag.
    RawText,
    /// `<plaintext>`: the rest of the document is text.
    Plaintext,
    /// Everything else: pushed on the simulated stack.
    Element,
}

/// An interned element name and where it is open in the simulated stack.
#[derive(Debug)]
pub(super) struct NameInfo {
    /// How the pre-scan treats the name.
    pub(super) role: Role,
    /// One of the tree builder's [`SPECIAL`] elements.
    pub(super) special: bool,
    /// Bounds the default scope ([`SCOPE`]).
    pub(super) scope: bool,
    /// Index in [`FORMATTING`].
    pub(super) formatting: Option<usize>,
    /// `<html>` or `<body>`.
    pub(super) root: bool,
    /// `<svg>` or `<math>`.
    pub(super) foreign_root: bool,
    /// Stack positions where an element of this name is open (ascending).
    pub(super) open: Vec<usize>,
}

impl NameInfo {
    pub(super) fn new(name: &[u8]) -> NameInfo {
        let s = std::str::from_utf8(name).unwrap_or("");
        let role = if VOID.contains(&s) || OPTIONAL_END.contains(&s) {
            Role::Uncounted
        } else if RAW_TEXT.contains(&s) {
            Role::RawText
        } else if s == "plaintext" {
            Role::Plaintext
        } else {
            Role::Element
        };
        NameInfo {
            role,
            special: SPECIAL.contains(&s),
            scope: SCOPE.contains(&s),
            formatting: FORMATTING.iter().position(|f| *f == s),
            root: s == "html" || s == "body",
            foreign_root: s == "svg" || s == "math",
            open: Vec::new(),
        }
    }
}
