//! Tags' attributes and comments, read the way the tokenizer reads them.

use super::find::{find_byte, find_from};

/// HTML whitespace between attributes.
pub(super) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Reads a tag's attributes from `i` (just past its name) the way the
/// tokenizer does. Returns the position of the closing `>` (the document
/// length when there is none), the number of attributes, and whether the
/// tag ends in `/>`.
pub(super) fn scan_attributes(doc: &str, mut i: usize) -> (usize, usize, bool) {
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
pub(super) fn comment_end(doc: &str, lt: usize) -> usize {
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
