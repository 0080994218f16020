//! The substring and tag searches the scans are built on (the `memchr`
//! crate's SIMD searches).

/// Finds `needle` in `hay` starting at `from`.
pub(crate) fn find_from(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let rest = hay.get(from..)?;
    memchr::memmem::find(rest.as_bytes(), needle.as_bytes()).map(|i| i + from)
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
    debug_assert!(needle.is_ascii());
    let rest = hay.get(from..)?;
    memchr::memchr(needle as u8, rest.as_bytes()).map(|i| i + from)
}
