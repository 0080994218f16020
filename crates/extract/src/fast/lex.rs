//! The fast path's lexer: tags, attributes, comments and character
//! references read exactly as html5ever's tokenizer reads them, for the
//! plain forms real pages use. Anything else (a form whose reading depends on
//! the tokenizer's error recovery) is a [`Decline`].

use html5ever::data::NAMED_ENTITIES;
use html5ever::tendril::StrTendril;
use html5ever::{Attribute, LocalName, QualName, ns};

/// Why the fast path left a page to the reference parser.
pub(crate) type Decline = &'static str;

/// HTML whitespace as the tokenizer splits on it (`\r` never reaches it).
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0C')
}

/// A start or end tag.
pub(crate) struct Tag {
    /// Lowercased name.
    pub(crate) name: LocalName,
    pub(crate) self_closing: bool,
    /// Attributes in source order, later duplicates dropped (as the
    /// tokenizer does). Empty for end tags.
    pub(crate) attrs: Vec<Attribute>,
    /// Byte just past the closing `>`.
    pub(crate) next: usize,
}

/// A character allowed in the names the fast path accepts (tag and
/// attribute names of real markup; anything else is declined).
fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')
}

/// Reads a name starting at `at` (already known to start with a name
/// byte), lowercased, and the position after it. Declines when the name
/// runs into a byte the tokenizer would keep in it but the fast path does
/// not accept.
fn read_name(src: &str, at: usize) -> Result<(LocalName, usize), Decline> {
    let b = src.as_bytes();
    let mut end = at;
    while end < b.len() && name_byte(b[end]) {
        end += 1;
    }
    match b.get(end) {
        Some(&c) if is_space(c) || c == b'/' || c == b'>' || c == b'=' => {}
        _ => return Err("unusual tag or attribute name"),
    }
    let raw = &src[at..end];
    let name = if raw.bytes().any(|c| c.is_ascii_uppercase()) {
        LocalName::from(raw.to_ascii_lowercase())
    } else {
        LocalName::from(raw)
    };
    Ok((name, end))
}

fn skip_space(b: &[u8], mut at: usize) -> usize {
    while at < b.len() && is_space(b[at]) {
        at += 1;
    }
    at
}

/// Reads the tag whose `<` is at `lt` (the byte after it is an ASCII letter,
/// or `/` and an ASCII letter).
pub(crate) fn read_tag(source: &Src<'_>, lt: usize) -> Result<Tag, Decline> {
    let src = source.text;
    let b = src.as_bytes();
    let end = b.get(lt + 1) == Some(&b'/');
    let (name, mut at) = read_name(src, lt + 1 + usize::from(end))?;
    if b.get(at) == Some(&b'=') {
        return Err("unusual tag name");
    }
    let mut attrs: Vec<Attribute> = Vec::new();
    loop {
        at = skip_space(b, at);
        match b.get(at) {
            None => return Err("tag runs to the end of the input"),
            Some(b'>') => {
                return Ok(Tag {
                    name,
                    self_closing: false,
                    attrs,
                    next: at + 1,
                });
            }
            Some(b'/') => {
                if b.get(at + 1) == Some(&b'>') && !end {
                    return Ok(Tag {
                        name,
                        self_closing: true,
                        attrs,
                        next: at + 2,
                    });
                }
                return Err("stray / in a tag");
            }
            Some(&c) if name_byte(c) && !end => {}
            Some(_) => return Err("unusual attribute"),
        }
        let (attr_name, after) = read_name(src, at)?;
        at = skip_space(b, after);
        let mut value = StrTendril::new();
        if b.get(at) == Some(&b'=') {
            at = skip_space(b, at + 1);
            match b.get(at) {
                Some(&q @ (b'"' | b'\'')) => {
                    let close = memchr::memchr(q, &b[at + 1..])
                        .map(|i| at + 1 + i)
                        .ok_or("unterminated attribute value")?;
                    value = source.decode(&src[at + 1..close])?;
                    at = close + 1;
                    match b.get(at) {
                        Some(&c) if is_space(c) || c == b'>' || c == b'/' => {}
                        _ => return Err("no space after an attribute value"),
                    }
                }
                Some(&c) if !matches!(c, b'>' | b'<' | b'=' | b'`') => {
                    let mut stop = at;
                    while stop < b.len() && !is_space(b[stop]) && b[stop] != b'>' {
                        if matches!(b[stop], b'"' | b'\'' | b'<' | b'=' | b'`') {
                            return Err("unusual unquoted attribute value");
                        }
                        stop += 1;
                    }
                    value = source.decode(&src[at..stop])?;
                    at = stop;
                }
                _ => return Err("attribute without a value after ="),
            }
        }
        if !attrs.iter().any(|a| a.name.local == attr_name) {
            attrs.push(Attribute {
                name: QualName::new(None, ns!(), attr_name),
                value,
            });
        }
    }
}

/// A comment starting at `lt` (`<!--`): its text and the position past
/// `-->`. Declines on the abrupt and `--!>` forms.
pub(crate) fn read_comment(src: &str, lt: usize) -> Result<(&str, usize), Decline> {
    let start = lt + 4;
    let rest = &src[start..];
    if rest.starts_with('>') || rest.starts_with("->") {
        return Err("abrupt comment");
    }
    let close = rest.find("-->").ok_or("unterminated comment")?;
    let text = &rest[..close];
    if text.contains("--!") {
        return Err("comment with --!");
    }
    Ok((text, start + close + 3))
}

/// The code points of the entity `name` (with or without its `;`). The
/// table also holds every prefix of every name, mapped to `(0, 0)`: those
/// are not entities.
fn named(name: &str) -> Option<(u32, u32)> {
    NAMED_ENTITIES.get(name).copied().filter(|&(a, _)| a != 0)
}

/// A numeric reference value the tokenizer passes through unchanged (no
/// replacement; of the control characters only `\r`, which it keeps as
/// it is).
fn plain_code_point(n: u32) -> Option<char> {
    let c = char::from_u32(n)?;
    let control =
        (n < 0x20 && !matches!(n, 0x09 | 0x0A | 0x0C | 0x0D)) || (0x7F..=0x9F).contains(&n);
    let nonchar = (0xFDD0..=0xFDEF).contains(&n) || (n & 0xFFFE) == 0xFFFE;
    (!control && !nonchar).then_some(c)
}

/// Longer than any entity name (the longest, `CounterClockwiseContourIntegral;`, has 33 bytes).
const LONGEST_NAME: usize = 40;

/// Decodes the character reference at the start of `s` (which starts with
/// `&`): `Some((text, length))`, `None` when the `&` is literal text, a
/// decline when the tokenizer's reading needs its error recovery.
fn char_ref(s: &str, out: &mut String) -> Result<usize, Decline> {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'#') => {
            let hex = matches!(b.get(2), Some(b'x' | b'X'));
            let digits_at = if hex { 3 } else { 2 };
            let mut end = digits_at;
            while end < b.len()
                && (if hex {
                    b[end].is_ascii_hexdigit()
                } else {
                    b[end].is_ascii_digit()
                })
            {
                end += 1;
            }
            if end == digits_at || b.get(end) != Some(&b';') || end - digits_at > 7 {
                return Err("unusual numeric character reference");
            }
            let n = u32::from_str_radix(&s[digits_at..end], if hex { 16 } else { 10 })
                .map_err(|_| "numeric character reference out of range")?;
            let c = plain_code_point(n).ok_or("numeric reference to a special code point")?;
            out.push(c);
            Ok(end + 1)
        }
        Some(c) if c.is_ascii_alphanumeric() => {
            let mut end = 1;
            while end < b.len() && b[end].is_ascii_alphanumeric() {
                end += 1;
            }
            if b.get(end) == Some(&b';')
                && let Some((a, second)) = named(&s[1..=end])
            {
                out.push(char::from_u32(a).ok_or("bad entity")?);
                if second != 0 {
                    out.push(char::from_u32(second).ok_or("bad entity")?);
                }
                return Ok(end + 1);
            }
            // No terminated name: the tokenizer takes the longest legacy name
            // (without `;`) that starts the run, read differently in text and
            // attributes; with none, the `&` is literal text.
            if (1..end.min(LONGEST_NAME)).any(|k| named(&s[1..=k]).is_some()) {
                return Err("legacy character reference without ;");
            }
            out.push('&');
            Ok(1)
        }
        _ => {
            out.push('&');
            Ok(1)
        }
    }
}

/// Appends `text` to `out` with its character references decoded. Only the
/// forms that read the same in text and in attribute values are decoded
/// (terminated references); the others are declined.
pub(crate) fn decode_into(out: &mut String, text: &str) -> Result<(), Decline> {
    let mut rest = text;
    while let Some(i) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        let used = char_ref(&rest[i..], out)?;
        rest = &rest[i + used..];
    }
    out.push_str(rest);
    Ok(())
}

/// The text the fast path reads, and one tendril holding all of it: text
/// and attribute values without references become views of that buffer
/// (no allocation each), as html5ever's own tokens are.
pub(crate) struct Src<'a> {
    pub(crate) text: &'a str,
    whole: StrTendril,
}

impl<'a> Src<'a> {
    pub(crate) fn new(text: &'a str) -> Src<'a> {
        Src {
            text,
            whole: StrTendril::from_slice(text),
        }
    }

    /// `part` (a slice of [`Src::text`]) as a tendril.
    pub(crate) fn tendril(&self, part: &str) -> StrTendril {
        let (start, end) = (self.text.as_ptr() as usize, part.as_ptr() as usize);
        let inside = end >= start && end - start + part.len() <= self.text.len();
        match (
            u32::try_from(end.wrapping_sub(start)),
            u32::try_from(part.len()),
        ) {
            (Ok(at), Ok(len)) if inside => self.whole.subtendril(at, len),
            _ => StrTendril::from_slice(part),
        }
    }

    /// `part` (a slice of [`Src::text`]) with its character references
    /// decoded (see [`decode_into`]), as a tendril.
    pub(crate) fn decode(&self, part: &str) -> Result<StrTendril, Decline> {
        if memchr::memchr(b'&', part.as_bytes()).is_none() {
            return Ok(self.tendril(part));
        }
        let mut out = String::with_capacity(part.len());
        decode_into(&mut out, part)?;
        Ok(StrTendril::from_slice(&out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_of_the_source() {
        let src = Src::new("<p title=\"a &amp; b\">hello world</p>");
        assert_eq!(&*src.tendril(&src.text[21..32]), "hello world");
        assert_eq!(&*src.tendril("elsewhere"), "elsewhere");
        let tag = read_tag(&src, 0).unwrap();
        assert_eq!(&*tag.attrs[0].value, "a & b");
    }

    fn decode(s: &str) -> Result<String, Decline> {
        let mut out = String::new();
        decode_into(&mut out, s).map(|()| out)
    }

    #[test]
    fn references() {
        assert_eq!(
            decode("a &amp; b&lt;&#39;&#x41;&nbsp;").unwrap(),
            "a & b<'A\u{a0}"
        );
        assert_eq!(decode("x & y &").unwrap(), "x & y &");
        assert!(decode("&amp").is_err());
        assert!(decode("a?b=1&copy=2").is_err());
        assert_eq!(decode("a?x=1&pagesize=15;").unwrap(), "a?x=1&pagesize=15;");
        assert!(decode("&#128;").is_err());
        assert_eq!(decode("&zzz;").unwrap(), "&zzz;");
    }

    #[test]
    fn tags() {
        let src = "<DIV class=\"a b\" id='x' data-n=3 hidden ID=\"y\">";
        let t = read_tag(&Src::new(src), 0).unwrap();
        assert_eq!(&*t.name, "div");
        let attrs: Vec<_> = t
            .attrs
            .iter()
            .map(|a| (&*a.name.local, &*a.value))
            .collect();
        assert_eq!(
            attrs,
            [
                ("class", "a b"),
                ("id", "x"),
                ("data-n", "3"),
                ("hidden", "")
            ]
        );
        assert_eq!(t.next, src.len());
        assert!(read_tag(&Src::new("<br/>"), 0).unwrap().self_closing);
        assert!(read_tag(&Src::new("<a b=\"1\"c>"), 0).is_err());
    }
}
