//! Cheap byte scans over the raw document, done before (or instead of)
//! building a DOM: page-kind markers, truncation, and cutting the document
//! down to the region the extractor reads.

/// Which kind of content the raw markup announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Markers {
    Question,
    Listing,
    None,
}

/// Finds `needle` in `hay` starting at `from`.
pub(crate) fn find_from(hay: &str, needle: &str, from: usize) -> Option<usize> {
    hay.get(from..)?.find(needle).map(|i| i + from)
}

/// Finds the next `<` at or after `from` that starts `prefix` (which begins
/// with `<`; ASCII case-insensitive), hopping from `<` to `<` at memchr
/// speed.
pub(crate) fn find_tag(hay: &str, prefix: &str, mut from: usize) -> Option<usize> {
    let p = prefix.as_bytes();
    loop {
        let i = find_byte(hay, '<', from)?;
        let cand = hay.as_bytes().get(i..i + p.len())?;
        if cand.eq_ignore_ascii_case(p) {
            return Some(i);
        }
        from = i + 1;
    }
}

/// Finds the byte `needle` (ASCII) in `hay` starting at `from` (memchr
/// speed; `str::find(&str)` with a one-byte needle is much slower).
pub(crate) fn find_byte(hay: &str, needle: char, from: usize) -> Option<usize> {
    hay.get(from..)?.find(needle).map(|i| i + from)
}

/// Looks for the markup hooks of a question or listing page. The hooks are
/// attribute values, present in every era, never English words.
pub(crate) fn content_markers(doc: &str) -> Markers {
    let question = doc.contains("id=\"question-header\"")
        || doc.contains("data-questionid=")
        || doc.contains("id=\"question\"");
    if question {
        return Markers::Question;
    }
    if doc.contains("question-summary") || doc.contains("s-post-summary") {
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

/// The start of the tag that contains the attribute occurrence at `at`,
/// provided `at` really lies inside a start tag (no `>` between).
fn tag_start(doc: &str, at: usize) -> Option<usize> {
    let lt = doc[..at].rfind('<')?;
    if doc[lt..at].contains('>') {
        return None;
    }
    Some(lt)
}

/// Finds the start of the first tag carrying `id="<id>"` (either quote
/// style), in one pass over the document.
fn find_id_tag(doc: &str, id: &str, from: usize) -> Option<usize> {
    let b = doc.as_bytes();
    let mut pos = from;
    while let Some(at) = find_from(doc, id, pos) {
        pos = at + id.len();
        let quote = match at.checked_sub(1).map(|q| b[q]) {
            Some(q @ (b'"' | b'\'')) => q,
            _ => continue,
        };
        if at >= 4 && b[at - 4..at - 1].eq_ignore_ascii_case(b"id=") && b.get(pos) == Some(&quote) {
            return tag_start(doc, at - 4);
        }
    }
    None
}

/// Elements whose whole content is never part of a record: scripts,
/// styles, icons, buttons (vote / follow / bookmark controls).
const NOISE: [&str; 4] = ["script", "style", "svg", "button"];

/// Classes of `<div>`s / `<ul>`s / `<form>`s whose whole subtree is never
/// part of a record: post menus, comment threads, ads, the answer form.
const NOISE_CLASSES: [&str; 8] = [
    "js-post-menu",
    "post-menu",
    "comments",
    "comments-list",
    "js-post-comments-component",
    "js-zone-container",
    "everyonelovesstackoverflow",
    "post-form",
];

/// A single left-to-right pass that drops noise elements. Searches that
/// fail (an element never closed) are remembered, so hostile input cannot
/// make the pass quadratic.
struct Stripper<'a> {
    src: &'a str,
    /// No `>` exists at or after this position.
    no_gt_from: usize,
    /// Names whose end tag was searched for and is missing from here on.
    unclosed: Vec<&'static str>,
}

impl<'a> Stripper<'a> {
    fn find_gt(&mut self, from: usize) -> Option<usize> {
        if from >= self.no_gt_from {
            return None;
        }
        let r = find_byte(self.src, '>', from);
        if r.is_none() {
            self.no_gt_from = from;
        }
        r
    }

    /// End (past `>`) of the first `</name` at or after `from`.
    fn end_tag(&mut self, name: &'static str, from: usize) -> Option<usize> {
        if self.unclosed.contains(&name) {
            return None;
        }
        let Some(at) = find_tag(self.src, &format!("</{name}"), from) else {
            self.unclosed.push(name);
            return None;
        };
        self.find_gt(at).map(|g| g + 1)
    }

    /// End of the element `name` whose start tag ends at `gt`, counting
    /// nested elements of the same name. One hop per `<`.
    fn balanced_end(&mut self, name: &'static str, gt: usize) -> Option<usize> {
        if self.unclosed.contains(&name) {
            return None;
        }
        let b = self.src.as_bytes();
        let n = name.as_bytes();
        let mut depth = 1usize;
        let mut pos = gt;
        while let Some(lt) = find_byte(self.src, '<', pos) {
            pos = lt + 1;
            let closing = b.get(lt + 1) == Some(&b'/');
            let start = lt + 1 + usize::from(closing);
            let Some(cand) = b.get(start..start + n.len()) else {
                break;
            };
            let boundary = b.get(start + n.len()).copied();
            if !cand.eq_ignore_ascii_case(n)
                || !matches!(boundary, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/'))
            {
                continue;
            }
            if closing {
                depth -= 1;
                if depth == 0 {
                    return self.find_gt(lt).map(|g| g + 1);
                }
            } else {
                depth += 1;
            }
        }
        self.unclosed.push(name);
        None
    }

    /// If an element to leave out starts at `lt` (a `<`), where it ends.
    fn noise_end(&mut self, lt: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let rest = &b[lt + 1..];
        let name_len = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let after = rest.get(name_len).copied();
        if name_len == 0 || !matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')) {
            return None;
        }
        let name = &rest[..name_len];
        if let Some(n) = NOISE.iter().find(|n| n.as_bytes() == name).copied() {
            return self.end_tag(n, lt + 1 + name_len);
        }
        let container: &'static str = match name {
            b"div" => "div",
            b"ul" => "ul",
            b"form" => "form",
            _ => return None,
        };
        let gt = self.find_gt(lt)?;
        let tag = &self.src[lt..gt];
        let class = tag
            .find("class=\"")
            .map(|i| &tag[i + 7..])
            .and_then(|c| c.split('"').next())
            .unwrap_or("");
        let is_form = container == "form" && tag.contains("id=\"post-form\"");
        if !is_form
            && !class
                .split_ascii_whitespace()
                .any(|c| NOISE_CLASSES.contains(&c))
        {
            return None;
        }
        self.balanced_end(container, gt + 1)
    }
}

impl Stripper<'_> {
    /// If a post body (`div.js-post-body` / `div.post-text`) starts at `lt`,
    /// where it ends: bodies are copied verbatim.
    fn body_end(&mut self, lt: usize) -> Option<usize> {
        if !self.src[lt..].starts_with("<div") {
            return None;
        }
        let gt = self.find_gt(lt)?;
        let tag = &self.src[lt..gt];
        let class = tag
            .find("class=\"")
            .map(|i| &tag[i + 7..])
            .and_then(|c| c.split('"').next())?;
        if !class
            .split_ascii_whitespace()
            .any(|c| c == "js-post-body" || c == "post-text")
        {
            return None;
        }
        self.balanced_end("div", gt + 1)
    }
}

/// Appends `src` to `out`, leaving out the elements listed in [`NOISE`] and
/// [`NOISE_CLASSES`] (an element without an end tag is kept as it is) and
/// whitespace-only text between tags outside post bodies (layout
/// indentation: a third of a page's nodes). Post bodies are copied
/// verbatim, so their text and HTML are exactly the page's.
fn push_without_noise(out: &mut String, src: &str) {
    let mut st = Stripper {
        src,
        no_gt_from: usize::MAX,
        unclosed: Vec::new(),
    };
    let mut i = 0;
    while i < src.len() {
        let lt = src[i..].find('<').map_or(src.len(), |o| i + o);
        let text = &src[i..lt];
        if !text.trim_ascii().is_empty() {
            out.push_str(text);
        }
        if lt == src.len() {
            break;
        }
        if let Some(end) = st.noise_end(lt) {
            i = end;
            continue;
        }
        if let Some(end) = st.body_end(lt) {
            out.push_str(&src[lt..end]);
            i = end;
            continue;
        }
        match st.find_gt(lt) {
            Some(gt) => {
                out.push_str(&src[lt..=gt]);
                i = gt + 1;
            }
            None => {
                out.push_str(&src[lt..]);
                break;
            }
        }
    }
}

/// Cuts a page down to what the extractor reads: the `<head>` (without
/// scripts and styles), the `<body>` start tag and the main content region
/// (from the question header or main bar up to the sidebar), again without
/// scripts, styles and icons. Returns `None` when the markers are not found
/// in the expected order; the caller then parses the full document.
pub(crate) fn cut_to_content(doc: &str, markers: Markers) -> Option<String> {
    let head_end = doc.find("</head>")?;
    let body_start = find_from(doc, "<body", head_end)?;
    let body_tag_end = find_byte(doc, '>', body_start)? + 1;
    let start = match markers {
        Markers::Question => find_id_tag(doc, "question-header", body_tag_end)
            .or_else(|| find_id_tag(doc, "mainbar", body_tag_end))?,
        Markers::Listing => find_id_tag(doc, "mainbar", body_tag_end)?,
        Markers::None => return None,
    };
    let end = find_id_tag(doc, "sidebar", start).unwrap_or(doc.len());
    let mut out = String::with_capacity((head_end + end - start) / 2 + 64);
    push_without_noise(&mut out, &doc[..head_end]);
    out.push_str("</head>");
    out.push_str(&doc[body_start..body_tag_end]);
    push_without_noise(&mut out, &doc[start..end]);
    out.push_str("</body></html>");
    Some(out)
}

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
const FORMATTING: [&str; 14] = [
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

/// Weight of one "Noah's Ark" comparison (the tree builder clones and sorts
/// both elements' attributes) against one step of a stack walk.
const NOAH_WEIGHT: u64 = 16;
/// Weight of re-opening one formatting element (a new element with cloned
/// attributes, inserted into the tree) against one step of a stack walk.
const REOPEN_WEIGHT: u64 = 64;

/// How the pre-scan treats an element name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
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
struct NameInfo {
    role: Role,
    special: bool,
    scope: bool,
    /// Index in [`FORMATTING`].
    formatting: Option<usize>,
    /// `<html>` or `<body>`.
    root: bool,
    /// `<svg>` or `<math>`.
    foreign_root: bool,
    /// Stack positions where an element of this name is open (ascending).
    open: Vec<usize>,
}

impl NameInfo {
    fn new(name: &[u8]) -> NameInfo {
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

/// A simulation of the tree builder's stack of open elements, cheap enough
/// to be linear: every push and pop is O(1), and an end tag pops only when
/// the parser would really close an element with it.
#[derive(Default)]
struct Sim {
    ids: std::collections::HashMap<Vec<u8>, usize>,
    names: Vec<NameInfo>,
    /// Name ids of the open elements, outermost first.
    stack: Vec<usize>,
    /// Positions of open special elements (ascending).
    specials: Vec<usize>,
    /// Positions of open scope-bounding elements (ascending).
    scopes: Vec<usize>,
    /// Positions of open formatting elements (ascending).
    formatting_open: Vec<usize>,
    /// Active formatting elements per [`FORMATTING`] name.
    formatting: [usize; FORMATTING.len()],
    formatting_total: usize,
    /// Interned ids of the [`FORMATTING`] names seen so far.
    formatting_ids: [Option<usize>; FORMATTING.len()],
    /// Stack length at which foreign content (`<svg>`, `<math>`) started.
    foreign_floor: Option<usize>,
    shape: Shape,
}

impl Sim {
    fn intern(&mut self, lower: &[u8]) -> usize {
        if let Some(&id) = self.ids.get(lower) {
            return id;
        }
        let id = self.names.len();
        let info = NameInfo::new(lower);
        if let Some(f) = info.formatting {
            self.formatting_ids[f] = Some(id);
        }
        self.names.push(info);
        self.ids.insert(lower.to_vec(), id);
        id
    }

    fn push(&mut self, id: usize) {
        let pos = self.stack.len();
        self.stack.push(id);
        let info = &mut self.names[id];
        info.open.push(pos);
        if info.special {
            self.specials.push(pos);
        }
        if info.scope {
            self.scopes.push(pos);
        }
        if info.formatting.is_some() {
            self.formatting_open.push(pos);
        }
        if info.foreign_root && self.foreign_floor.is_none() {
            self.foreign_floor = Some(pos);
        }
        self.shape.nesting = self.shape.nesting.max(self.stack.len());
    }

    /// Pops elements until the stack has `len` entries.
    fn pop_to(&mut self, len: usize) {
        while self.stack.len() > len {
            let Some(id) = self.stack.pop() else { break };
            let info = &mut self.names[id];
            info.open.pop();
            if info.special {
                self.specials.pop();
            }
            if info.scope {
                self.scopes.pop();
            }
            if info.formatting.is_some() {
                self.formatting_open.pop();
            }
        }
        if self.foreign_floor.is_some_and(|f| self.stack.len() <= f) {
            self.foreign_floor = None;
        }
    }

    /// Closes the innermost open element named `id`, with what it encloses,
    /// when the parser would: not across a special element for ordinary
    /// names, not outside the current scope (table, object, …) for special
    /// ones. In foreign content any open element of the name is closed.
    fn close(&mut self, id: usize) {
        let top = self.names[id].open.last().copied();
        let foreign = self
            .foreign_floor
            .is_some_and(|f| top.is_some_and(|t| t >= f));
        let barrier = if foreign {
            None
        } else if self.names[id].special {
            self.scopes.last().copied()
        } else {
            self.specials.last().copied()
        };
        match top {
            Some(top) if barrier.is_none_or(|b| b <= top) => {
                self.walk_to(Some(top));
                self.pop_to(top);
            }
            // The parser walks down to the barrier and gives up.
            _ => self.walk_to(barrier),
        }
    }

    /// Counts a walk from the top of the stack down to position `to`
    /// (exclusive; `None`: the whole stack).
    fn walk_to(&mut self, to: Option<usize>) {
        let from = to.map_or(0, |t| t + 1);
        self.shape.work += self.stack.len().saturating_sub(from) as u64;
    }

    /// Counts a scope check: a walk down to the innermost scope boundary.
    fn scope_walk(&mut self) {
        self.walk_to(self.scopes.last().copied());
    }

    /// Before most tokens the parser re-opens the active formatting
    /// elements that an enclosing element's end tag closed (`<div><b></div>x`
    /// re-opens the `<b>`), after a walk down to the innermost open one.
    fn reopen_check(&mut self) {
        if self.formatting_total == 0 {
            return;
        }
        if self.formatting_open.len() < self.formatting_total {
            for f in 0..FORMATTING.len() {
                let Some(id) = self.formatting_ids[f] else {
                    continue;
                };
                let missing = self.formatting[f].saturating_sub(self.names[id].open.len());
                for _ in 0..missing {
                    self.push(id);
                }
                self.shape.work += REOPEN_WEIGHT * missing as u64;
            }
        }
        if let Some(&f) = self.formatting_open.last() {
            self.shape.work += (self.stack.len() - f) as u64;
        }
    }

    fn start_formatting(&mut self, f: usize) {
        // Compared with every active element of the same name.
        self.shape.work += NOAH_WEIGHT * self.formatting[f] as u64;
        self.formatting[f] += 1;
        self.formatting_total += 1;
        self.shape.formatting = self.shape.formatting.max(self.formatting_total);
    }

    fn end_formatting(&mut self, f: usize) {
        if self.formatting[f] > 0 {
            self.formatting[f] -= 1;
            self.formatting_total -= 1;
        }
    }
}

/// HTML whitespace between attributes.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Reads a tag's attributes from `i` (just past its name) the way the
/// tokenizer does. Returns the position of the closing `>` (the document
/// length when there is none), the number of attributes, and whether the
/// tag ends in `/>`.
fn scan_attributes(doc: &str, mut i: usize) -> (usize, usize, bool) {
    let b = doc.as_bytes();
    let mut count = 0;
    loop {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let Some(&c) = b.get(i) else {
            return (b.len(), count, false);
        };
        match c {
            b'>' => return (i, count, false),
            b'/' => {
                if b.get(i + 1) == Some(&b'>') {
                    return (i + 1, count, true);
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        // An attribute name (its first character may be `=`).
        i += 1;
        while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        count += 1;
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                i = find_byte(doc, q as char, i + 1).map_or(b.len(), |e| e + 1);
            }
            _ => {
                while i < b.len() && !is_space(b[i]) && b[i] != b'>' {
                    i += 1;
                }
            }
        }
    }
}

/// End of the comment whose `<!--` starts at `lt`: past `-->` or `--!>`
/// (or the `>` of `<!-->` / `<!--->`), else the document's end.
fn comment_end(doc: &str, lt: usize) -> usize {
    let b = doc.as_bytes();
    let body = lt + 4;
    match (b.get(body), b.get(body + 1)) {
        (Some(b'>'), _) => return body + 1,
        (Some(b'-'), Some(b'>')) => return body + 2,
        _ => {}
    }
    let mut k = body;
    while let Some(d) = find_from(doc, "--", k) {
        match (b.get(d + 2), b.get(d + 3)) {
            (Some(b'>'), _) => return d + 3,
            (Some(b'!'), Some(b'>')) => return d + 4,
            _ => k = d + 1,
        }
    }
    b.len()
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
        // The issue's page: `</x>` closes nothing, so every `<span>` stays open.
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

    #[test]
    fn noise_is_removed_but_text_kept() {
        let mut out = String::new();
        push_without_noise(
            &mut out,
            "a<script>x</script>b<style type=\"t\">y</style>c<svg><path/></svg>d<scripted>e\
             <button class=\"v\"><svg></svg></button>f<ul class=\"comments-list\"><li>c</li></ul>g<ul><li>h</li></ul>\
             <div class=\"x js-post-menu\"><div>m</div><div><div>n</div></div></div>i<div class=\"post-text\">j</div>",
        );
        assert_eq!(
            out,
            "abcd<scripted>efg<ul><li>h</li></ul>i<div class=\"post-text\">j</div>"
        );
    }

    #[test]
    fn layout_whitespace_goes_but_bodies_stay_verbatim() {
        let mut out = String::new();
        push_without_noise(
            &mut out,
            "<div>\n  <a>x</a>\n  <div class=\"s-prose js-post-body\">\n<p>a</p>\n<pre>  b\n</pre>\n</div>\n</div> t ",
        );
        assert_eq!(
            out,
            "<div><a>x</a><div class=\"s-prose js-post-body\">\n<p>a</p>\n<pre>  b\n</pre>\n</div></div> t "
        );
    }

    #[test]
    fn unclosed_noise_is_kept_and_scanned_once() {
        let mut out = String::new();
        let doc = "<div class=\"comments\"><div>".repeat(2000);
        push_without_noise(&mut out, &doc);
        assert_eq!(out, doc);
    }

    #[test]
    fn unterminated_script_keeps_the_rest() {
        let mut out = String::new();
        push_without_noise(&mut out, "a<script>never closed");
        assert_eq!(out, "a<script>never closed");
    }

    #[test]
    fn cut_keeps_head_and_content_region() {
        let doc = "<html><head><title>T</title><script>s</script></head><body class=\"k\">\
                   <div id=\"top\">nav</div><div id=\"question-header\">Q</div><div>body</div>\
                   <div id=\"sidebar\">side</div></body></html>";
        let cut = cut_to_content(doc, Markers::Question).unwrap();
        assert_eq!(
            cut,
            "<html><head><title>T</title></head><body class=\"k\"><div id=\"question-header\">Q</div><div>body</div></body></html>"
        );
    }

    #[test]
    fn id_inside_text_is_not_a_tag() {
        let doc = "<html><head></head><body><p>id=\"mainbar\" > </p></body></html>";
        assert_eq!(cut_to_content(doc, Markers::Listing), None);
    }

    #[test]
    fn truncation_is_detected_from_the_tail() {
        assert!(is_truncated("<html><body><div>"));
        assert!(!is_truncated("<html><body></body></html>\n"));
    }
}
