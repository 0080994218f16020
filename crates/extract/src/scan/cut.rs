//! The content-region cut: the `<head>`, the `<body>` start tag and the
//! main content region, without noise elements (scripts, styles, icons,
//! menus, comments, ads) or layout whitespace, with post bodies verbatim.

use super::Markers;
use super::find::{find_byte, find_from, find_tag};

/// The start of the tag that contains the attribute occurrence at `at`,
/// provided `at` really lies inside a start tag (no `>` between).
fn tag_start(doc: &str, at: usize) -> Option<usize> {
    let lt = memchr::memrchr(b'<', &doc.as_bytes()[..at])?;
    if memchr::memchr(b'>', &doc.as_bytes()[lt..at]).is_some() {
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
        let class = find_from(tag, "class=\"", 0)
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
        let class = find_from(tag, "class=\"", 0)
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
        let lt = memchr::memchr(b'<', &src.as_bytes()[i..]).map_or(src.len(), |o| i + o);
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
    let head_end = find_from(doc, "</head>", 0)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
