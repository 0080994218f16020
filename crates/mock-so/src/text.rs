//! Escaping, slugs, URL encoding and time formatting.

use std::fmt::Write as _;

/// Escapes text content the way an HTML serializer does (`&`, `<`, `>`), so
/// re-serializing the parsed page gives back exactly the same markup.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_esc(&mut out, s);
    out
}

pub(crate) fn push_esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
}

/// Escapes an attribute value (double-quoted): `&`, `"`, `<`, `>`.
pub(crate) fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value inside a post body: only `&` and `"`, which is
/// what an HTML serializer writes back.
pub(crate) fn body_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;")
}

/// The URL slug Stack Overflow derives from a title: lowercase ASCII words
/// joined by `-`, at most 80 characters.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in title.chars() {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'å' | 'Å' | 'Ä' | 'Á' => 'a',
            'é' | 'è' | 'ë' | 'ê' | 'ễ' => 'e',
            'ï' | 'í' => 'i',
            'ö' | 'ó' | 'ô' | 'Ö' => 'o',
            'ü' | 'ú' | 'Ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        };
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
        if slug.len() >= 80 {
            break;
        }
    }
    slug.truncate(80);
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("question");
    }
    slug
}

/// Percent-encodes a tag for a URL path segment the way Stack Overflow does
/// (`c++` -> `c%2b%2b`, `c#` -> `c%23`).
pub fn encode_tag(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    for b in tag.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

/// Decodes `%XX` escapes (and leaves everything else alone). Invalid escapes
/// are kept literally; invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Collapses whitespace runs to one space and trims.
pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parts(ts: i64) -> (i64, u32, u32, i64, i64, i64) {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, secs / 3600, (secs % 3600) / 60, secs % 60)
}

/// `2021-05-01T12:34:56Z`
pub(crate) fn iso(ts: i64) -> String {
    let (y, m, d, h, mi, s) = parts(ts);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2021-05-01 12:34:56Z` (the form in `title` attributes).
pub(crate) fn title_time(ts: i64) -> String {
    let (y, m, d, h, mi, s) = parts(ts);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

/// `May 1, 2021 at 12:34`
pub(crate) fn human_time(ts: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, h, mi, _) = parts(ts);
    format!("{} {d}, {y} at {h}:{mi:02}", MONTHS[(m - 1) as usize])
}

/// `3 years, 2 months ago` style text relative to `now`.
pub(crate) fn relative(ts: i64, now: i64) -> String {
    let secs = (now - ts).max(0);
    let days = secs / 86_400;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if days >= 365 {
        let years = days / 365;
        let months = (days % 365) / 30;
        if months > 0 {
            format!("{}, {} ago", plural(years, "year"), plural(months, "month"))
        } else {
            format!("{} ago", plural(years, "year"))
        }
    } else if days >= 30 {
        format!("{} ago", plural(days / 30, "month"))
    } else if days >= 1 {
        format!("{} ago", plural(days, "day"))
    } else if secs >= 3600 {
        format!("{} ago", plural(secs / 3600, "hour"))
    } else {
        format!("{} ago", plural((secs / 60).max(1), "min"))
    }
}

/// `1,234,567`
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12.3k` style short number as shown in stats.
pub(crate) fn short_number(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else if n < 100_000 {
        let tenths = (n + 50) / 100;
        if tenths.is_multiple_of(10) {
            format!("{}k", tenths / 10)
        } else {
            format!("{}.{}k", tenths / 10, tenths % 10)
        }
    } else {
        format!("{}k", (n + 500) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_tags() {
        assert_eq!(
            slugify("How do I merge a dataframe in C#?"),
            "how-do-i-merge-a-dataframe-in-c"
        );
        assert_eq!(
            slugify("Zoë's naïve <Parquet> & co"),
            "zoe-s-naive-parquet-co"
        );
        assert_eq!(slugify("李雷"), "question");
        assert_eq!(encode_tag("c++"), "c%2b%2b");
        assert_eq!(encode_tag("c#"), "c%23");
        assert_eq!(encode_tag("node.js"), "node.js");
        assert_eq!(percent_decode("c%2b%2b"), "c++");
        assert_eq!(percent_decode("c%2B%2B"), "c++");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("a%zzb"), "a%zzb");
    }

    #[test]
    fn times_and_numbers() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_619_870_400), "2021-05-01T12:00:00Z");
        assert_eq!(title_time(1_619_870_400), "2021-05-01 12:00:00Z");
        assert_eq!(human_time(1_619_870_400), "May 1, 2021 at 12:00");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(short_number(81_142), "81.1k");
        assert_eq!(short_number(2_000), "2k");
        assert_eq!(collapse_ws("  a \n\n b\tc "), "a b c");
        assert_eq!(relative(0, 86_400 * 400), "1 year, 1 month ago");
    }
}
