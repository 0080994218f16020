//! The fast path: builds the same `scraper` tree html5ever builds, for
//! markup whose tree construction needs none of the HTML tree builder's
//! repairs, without running the tree builder.
//!
//! On well-formed markup (every element closed by its own end tag, in
//! order, or left open until `</body>`) the HTML tree builder only appends:
//! each start tag becomes a child of the current element, each end tag pops
//! it. This module reads the content region (the output of
//! `scan::cut_to_content`) with a byte lexer (`lex.rs`) and does exactly
//! that, through scraper's own `TreeSink`, so nodes, attributes and text
//! are stored as the reference parser stores them. Whenever the tree
//! builder would do anything else — implied end tags, misnested or
//! reopened formatting elements, tables (foster parenting), forms, foreign
//! content, raw-text elements, character references read by error recovery,
//! the head and body rules beyond the plain order — the page is declined
//! and the reference path (html5ever) builds the tree instead. The
//! extraction code then runs unchanged on either tree.
//!
//! The differential tests (`tests/fast_path.rs`) and `cargo xtask
//! check-pages` run both paths and require identical records.

mod lex;
mod names;
mod table;

use std::borrow::Cow;

use ego_tree::NodeId;
use html5ever::interface::{ElementFlags, NodeOrText, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::{LocalName, QualName, ns};
use scraper::{Html, HtmlTreeSink};

use crate::driver::{CHUNK, Clock};
use crate::{ExtractError, ExtractLimits};
pub(crate) use lex::Decline;
use lex::{Src, Tag, is_space, read_comment, read_tag};
use names::{CLOSES_P, DECLINED, FORMATTING, HEAD_VOID, HEADING, SPECIAL, TABLE_PART, VOID, class};

/// Where the tree builder is in the document (its insertion modes, reduced
/// to the ones the fast path follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Initial,
    BeforeHtml,
    BeforeHead,
    InHead,
    AfterHead,
    InBody,
    InTable,
    InTableBody,
    InRow,
    InCell,
    InSelect,
    AfterBody,
    AfterAfterBody,
}

struct Builder<'a> {
    src: &'a str,
    source: Src<'a>,
    sink: HtmlTreeSink,
    /// Open elements: node, name and [`class`].
    stack: Vec<(NodeId, LocalName, u16)>,
    /// Open formatting elements.
    formatting: usize,
    /// Open `<p>` elements.
    open_p: usize,
    /// Open `<a>` elements.
    open_a: usize,
    mode: Mode,
    /// Skip one `\n` right after a `<pre>` start tag.
    after_pre: bool,
    max_open: usize,
}

impl Builder<'_> {
    fn current(&self) -> NodeId {
        self.stack
            .last()
            .map_or_else(|| self.sink.get_document(), |(id, _, _)| *id)
    }

    fn append_text(&self, parent: NodeId, text: StrTendril) {
        self.sink.append(&parent, NodeOrText::AppendText(text));
    }

    /// Creates the element of `tag`, moving its attributes out.
    fn element(&self, tag: &mut Tag) -> NodeId {
        let name = QualName::new(None, ns!(html), tag.name.clone());
        let attrs = std::mem::take(&mut tag.attrs);
        self.sink
            .create_element(name, attrs, ElementFlags::default())
    }

    /// Inserts an element for `tag` at the current node; pushes it unless
    /// it is void.
    fn insert(&mut self, tag: &mut Tag, void: bool) -> Result<NodeId, Decline> {
        let id = self.element(tag);
        self.sink
            .append(&self.current(), NodeOrText::AppendNode(id));
        if !void {
            let class = class(&tag.name);
            self.stack.push((id, tag.name.clone(), class));
            if class & FORMATTING != 0 {
                self.formatting += 1;
            }
            match &*tag.name {
                "p" => self.open_p += 1,
                "a" => self.open_a += 1,
                _ => {}
            }
            if self.stack.len() + self.formatting + 16 > self.max_open {
                return Err("deep nesting (left to the reference parser's limits)");
            }
        }
        Ok(id)
    }

    fn pop(&mut self) {
        if let Some((_, name, class)) = self.stack.pop() {
            if class & FORMATTING != 0 {
                self.formatting -= 1;
            }
            match &*name {
                "p" => self.open_p -= 1,
                "a" => self.open_a -= 1,
                _ => {}
            }
        }
    }

    fn implicit(&mut self, name: &str) -> Result<(), Decline> {
        let mut tag = Tag {
            name: LocalName::from(name),
            self_closing: false,
            attrs: Vec::new(),
            next: 0,
        };
        self.insert(&mut tag, false).map(|_| ())
    }

    /// Moves on to the body when `tag` (a start tag) or text cannot be in
    /// the current mode: the modes before the body, reduced to their plain
    /// transitions.
    fn reach_body(&mut self) -> Result<(), Decline> {
        loop {
            match self.mode {
                Mode::Initial => self.mode = Mode::BeforeHtml,
                Mode::BeforeHtml => {
                    self.implicit("html")?;
                    self.mode = Mode::BeforeHead;
                }
                Mode::BeforeHead => {
                    self.implicit("head")?;
                    self.mode = Mode::InHead;
                }
                Mode::InHead => {
                    self.pop();
                    self.mode = Mode::AfterHead;
                }
                Mode::AfterHead => {
                    self.implicit("body")?;
                    self.mode = Mode::InBody;
                }
                Mode::InBody
                | Mode::InTable
                | Mode::InTableBody
                | Mode::InRow
                | Mode::InCell
                | Mode::InSelect => return Ok(()),
                Mode::AfterBody | Mode::AfterAfterBody => return Err("content after </body>"),
            }
        }
    }

    fn text(&mut self, raw: &str) -> Result<(), Decline> {
        let mut raw = raw;
        if std::mem::take(&mut self.after_pre) {
            if raw.starts_with('&') {
                return Err("a character reference right after <pre>");
            }
            if let Some(rest) = raw.strip_prefix('\n') {
                raw = rest;
            }
        }
        if raw.is_empty() {
            return Ok(());
        }
        let blank = raw.bytes().all(is_space);
        match self.mode {
            Mode::Initial | Mode::BeforeHtml | Mode::BeforeHead if blank => return Ok(()),
            Mode::InHead | Mode::AfterHead if blank => {}
            Mode::InBody | Mode::AfterBody | Mode::AfterAfterBody if blank => {}
            Mode::InTable | Mode::InTableBody | Mode::InRow if blank => {}
            Mode::InBody | Mode::InCell | Mode::InSelect => {}
            _ => return Err("text outside the body"),
        }
        let decoded = self.source.decode(raw)?;
        self.append_text(self.current(), decoded);
        Ok(())
    }

    fn comment(&mut self, text: &str) {
        let parent = match self.mode {
            Mode::Initial | Mode::BeforeHtml | Mode::AfterAfterBody => self.sink.get_document(),
            Mode::AfterBody => self
                .stack
                .first()
                .map_or_else(|| self.sink.get_document(), |e| e.0),
            _ => self.current(),
        };
        let id = self.sink.create_comment(self.source.tendril(text));
        self.sink.append(&parent, NodeOrText::AppendNode(id));
    }

    /// An element whose content is text up to its end tag: `<title>`
    /// (RCDATA: references decoded) or `<noscript>` / `<style>` (RAWTEXT,
    /// with scripting on as scraper parses).
    fn text_element(&mut self, tag: &mut Tag) -> Result<usize, Decline> {
        let id = self.insert(tag, true)?;
        let b = self.src.as_bytes();
        let n = tag.name.len();
        let mut at = tag.next;
        let close = loop {
            let lt = memchr::memchr(b'<', &b[at..]).ok_or("unterminated text element")? + at;
            if b.get(lt + 1) == Some(&b'/')
                && b.get(lt + 2..lt + 2 + n)
                    .is_some_and(|c| c.eq_ignore_ascii_case(tag.name.as_bytes()))
                && b.get(lt + 2 + n)
                    .is_some_and(|c| is_space(*c) || *c == b'>' || *c == b'/')
            {
                break lt;
            }
            at = lt + 1;
        };
        let raw = &self.src[tag.next..close];
        if !raw.is_empty() {
            let text = if &*tag.name == "title" {
                self.source.decode(raw)?
            } else {
                self.source.tendril(raw)
            };
            self.append_text(id, text);
        }
        let end = read_tag(&self.source, close)?;
        if !end.attrs.is_empty() || end.self_closing {
            return Err("unusual end tag of a text element");
        }
        Ok(end.next)
    }

    fn start_tag(&mut self, tag: &mut Tag) -> Result<usize, Decline> {
        let name = tag.name.clone();
        let name = &*name;
        let class = class(name);
        match self.mode {
            Mode::InTable | Mode::InTableBody | Mode::InRow | Mode::InSelect => {
                return self.table_start(tag);
            }
            Mode::InCell => {}
            Mode::Initial | Mode::BeforeHtml if name == "html" => {
                let id = self.element(tag);
                self.sink
                    .append(&self.sink.get_document(), NodeOrText::AppendNode(id));
                self.stack.push((id, tag.name.clone(), class));
                self.mode = Mode::BeforeHead;
                return Ok(tag.next);
            }
            Mode::Initial | Mode::BeforeHtml | Mode::BeforeHead if name == "head" => {
                if self.mode != Mode::BeforeHead {
                    self.reach_html()?;
                }
                self.insert(tag, false)?;
                self.mode = Mode::InHead;
                return Ok(tag.next);
            }
            Mode::Initial | Mode::BeforeHtml | Mode::BeforeHead if class & HEAD_VOID != 0 => {
                self.reach_html()?;
                if self.mode == Mode::BeforeHead {
                    self.implicit("head")?;
                    self.mode = Mode::InHead;
                }
            }
            Mode::InHead if class & HEAD_VOID != 0 => {}
            Mode::AfterHead if class & HEAD_VOID != 0 => {
                return Err("head markup after </head>");
            }
            Mode::InHead if matches!(name, "title" | "noscript" | "style") => {
                return self.text_element(tag);
            }
            Mode::AfterHead | Mode::InHead if name == "body" => {
                if self.mode == Mode::InHead {
                    self.pop();
                }
                self.insert(tag, false)?;
                self.mode = Mode::InBody;
                return Ok(tag.next);
            }
            Mode::InBody => {}
            Mode::AfterBody | Mode::AfterAfterBody => return Err("start tag after </body>"),
            _ if matches!(
                name,
                "html"
                    | "head"
                    | "base"
                    | "basefont"
                    | "bgsound"
                    | "noframes"
                    | "script"
                    | "style"
                    | "template"
                    | "title"
                    | "noscript"
                    | "body"
                    | "frameset"
            ) =>
            {
                return Err("head or body markup out of order");
            }
            _ => self.reach_body()?,
        }
        if !matches!(self.mode, Mode::InBody | Mode::InCell) {
            // A void element of the head.
            self.insert(tag, true)?;
            return Ok(tag.next);
        }
        if class & TABLE_PART != 0 {
            return self.table_start(tag);
        }
        if matches!(name, "noscript" | "style") {
            return self.text_element(tag);
        }
        let nested_a = name == "a" && self.open_a > 0;
        if nested_a || (name != "a" && class & DECLINED != 0) {
            return Err("a start tag the tree builder treats specially");
        }
        if class & CLOSES_P != 0 && self.open_p > 0 {
            return Err("a block start tag inside an open <p>");
        }
        if class & HEADING != 0 && self.stack.last().is_some_and(|e| e.2 & HEADING != 0) {
            return Err("a heading inside a heading");
        }
        if matches!(name, "li" | "dd" | "dt") && self.closes_list_item(name) {
            return Err("an implied list item end");
        }
        let void = class & VOID != 0;
        self.insert(tag, void)?;
        if name == "pre" {
            self.after_pre = true;
        }
        Ok(tag.next)
    }

    fn reach_html(&mut self) -> Result<(), Decline> {
        if matches!(self.mode, Mode::Initial | Mode::BeforeHtml) {
            self.implicit("html")?;
            self.mode = Mode::BeforeHead;
        }
        Ok(())
    }

    /// Whether a `li` (or `dd` / `dt`) start tag would close an open list
    /// item (the tree builder's search, from the current node down to the
    /// first special element other than `address`, `div` and `p`).
    fn closes_list_item(&self, name: &str) -> bool {
        for (_, open, open_class) in self.stack.iter().rev() {
            let open = &**open;
            let item = if name == "li" {
                open == "li"
            } else {
                open == "dd" || open == "dt"
            };
            if item {
                return true;
            }
            if open_class & SPECIAL != 0 && !matches!(open, "address" | "div" | "p") {
                return false;
            }
        }
        false
    }

    fn end_tag(&mut self, tag: &Tag) -> Result<usize, Decline> {
        let name = &*tag.name;
        match (self.mode, name) {
            (Mode::InHead, "head") => {
                self.pop();
                self.mode = Mode::AfterHead;
            }
            (Mode::InBody, "body") => self.mode = Mode::AfterBody,
            (Mode::InBody | Mode::AfterBody, "html") => self.mode = Mode::AfterAfterBody,
            (Mode::InTable | Mode::InTableBody | Mode::InRow | Mode::InSelect, _) => {
                return self.table_end(tag);
            }
            (Mode::InCell, _) if class(name) & TABLE_PART != 0 => return self.table_end(tag),
            (Mode::InBody, _) if class(name) & TABLE_PART != 0 => {
                return Err("a table end tag outside a table");
            }
            (Mode::InBody | Mode::InCell, _) => {
                if matches!(name, "br" | "form" | "template" | "body" | "html") {
                    return Err("a special end tag");
                }
                match self.stack.last() {
                    Some((_, open, _)) if &**open == name && self.stack.len() > 2 => self.pop(),
                    _ => return Err("an end tag that is not the current element's"),
                }
            }
            _ => return Err("an end tag out of place"),
        }
        Ok(tag.next)
    }

    fn doctype(&mut self, lt: usize) -> Result<usize, Decline> {
        if self.mode != Mode::Initial {
            return Err("doctype out of place");
        }
        let gt =
            memchr::memchr(b'>', &self.src.as_bytes()[lt..]).ok_or("unterminated doctype")? + lt;
        let inner = &self.src[lt + 9..gt];
        let mut words = inner.split_ascii_whitespace();
        let name = words.next().ok_or("doctype without a name")?;
        // Quirks mode only matters for tables, which are declined.
        self.sink.append_doctype_to_document(
            StrTendril::from(name.to_ascii_lowercase()),
            StrTendril::new(),
            StrTendril::new(),
        );
        self.mode = Mode::BeforeHtml;
        Ok(gt + 1)
    }

    fn run(&mut self, clock: &Clock) -> Result<Result<(), Decline>, ExtractError> {
        let b = self.src.as_bytes();
        let mut at = 0;
        let mut next_check = CHUNK;
        while at < b.len() {
            if at >= next_check {
                clock.check()?;
                next_check = at + CHUNK;
            }
            let lt = memchr::memchr(b'<', &b[at..]).map_or(b.len(), |i| at + i);
            if lt > at
                && let Err(d) = self.text(&self.src[at..lt])
            {
                return Ok(Err(d));
            }
            if lt == b.len() {
                break;
            }
            let step = match b.get(lt + 1) {
                Some(c) if c.is_ascii_alphabetic() => {
                    read_tag(&self.source, lt).and_then(|mut t| {
                        self.after_pre = false;
                        self.start_tag(&mut t)
                    })
                }
                Some(b'/') if b.get(lt + 2).is_some_and(u8::is_ascii_alphabetic) => {
                    read_tag(&self.source, lt).and_then(|t| {
                        self.after_pre = false;
                        self.end_tag(&t)
                    })
                }
                Some(b'!') if self.src[lt..].starts_with("<!--") => {
                    read_comment(self.src, lt).map(|(text, next)| {
                        self.after_pre = false;
                        self.comment(text);
                        next
                    })
                }
                Some(b'!')
                    if b.get(lt + 2..lt + 9)
                        .is_some_and(|d| d.eq_ignore_ascii_case(b"doctype")) =>
                {
                    self.doctype(lt)
                }
                Some(b'!' | b'?' | b'/') => Err("bogus comment"),
                // A `<` that starts no tag is text.
                _ => self.text("<").map(|()| lt + 1),
            };
            match step {
                Ok(next) => at = next,
                Err(d) => return Ok(Err(d)),
            }
        }
        if self.mode < Mode::InBody {
            return Ok(Err("no body"));
        }
        Ok(Ok(()))
    }
}

/// Builds the document tree of `text` (the content region) as html5ever
/// would, or declines. Checks the time budget every [`CHUNK`] bytes, like
/// the reference driver.
pub(crate) fn parse_document(
    text: &str,
    limits: &ExtractLimits,
    clock: &Clock,
) -> Result<Result<Html, Decline>, ExtractError> {
    if text.starts_with('\u{feff}') || memchr::memchr(0, text.as_bytes()).is_some() {
        return Ok(Err("byte order mark or NUL"));
    }
    let text: Cow<'_, str> = if memchr::memchr(b'\r', text.as_bytes()).is_some() {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    let mut builder = Builder {
        src: &text,
        source: Src::new(&text),
        sink: HtmlTreeSink::new(Html::new_document()),
        stack: Vec::with_capacity(64),
        formatting: 0,
        open_p: 0,
        open_a: 0,
        mode: Mode::Initial,
        after_pre: false,
        max_open: limits.max_open_elements(),
    };
    if let Err(d) = builder.run(clock)? {
        return Ok(Err(d));
    }
    clock.check()?;
    Ok(Ok(builder.sink.finish()))
}
