//! Recognising pages that are not content (captcha, 429, 404) with a cheap
//! byte scan: no DOM is built.

use crate::error::{BlockKind, ExtractError};
use crate::scan::{self, Markers, find_from};

/// The `<title>` text found by a byte scan (entities not decoded beyond the
/// common ones), whitespace collapsed.
pub(crate) fn raw_title(doc: &str) -> Option<String> {
    let lower_limit = doc.len().min(64 * 1024);
    let head = &doc[..floor_boundary(doc, lower_limit)];
    let open = head.find("<title").or_else(|| head.find("<TITLE"))?;
    let gt = find_from(head, ">", open)? + 1;
    let close = find_from(head, "</", gt)?;
    let t = head[gt..close]
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"");
    Some(crate::dom::collapse(&t))
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A JS string value following `key` (`key: "…"` / `key:"…"`), with `\/`
/// unescaped.
fn js_string_after(doc: &str, key: &str) -> Option<String> {
    let k = doc.find(key)? + key.len();
    let rest = &doc[k..];
    let rest = rest.trim_start_matches([' ', ':', '=']);
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    Some(body[..end].replace("\\/", "/"))
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_query(path: &str) -> String {
    path.split(['?', '#']).next().unwrap_or(path).to_string()
}

/// Classifies a document that has no question or listing markup as a block
/// page, with details. `None` when it is not one.
pub(crate) fn classify_details(doc: &str) -> Option<ExtractError> {
    let lower_title = raw_title(doc).unwrap_or_default();
    let title_lc = lower_title.to_lowercase();

    // Cloudflare managed challenge / turnstile: its options object and
    // challenge form are markup hooks that do not depend on the language.
    if doc.contains("_cf_chl_opt")
        || doc.contains("id=\"challenge-form\"")
        || doc.contains("cf-turnstile")
    {
        let url_path = js_string_after(doc, "cUPMDTk:")
            .or_else(|| js_string_after(doc, ",fa:"))
            .map(|p| strip_query(&p))
            .filter(|p| p.starts_with('/'));
        let site_host = js_string_after(doc, "cZone:").filter(|h| !h.is_empty());
        return Some(ExtractError::Captcha {
            by: "cloudflare-challenge".to_string(),
            url_path,
            site_host,
            page_title: lower_title,
        });
    }
    // The site's own human-verification page: a form posting to /nocaptcha
    // or a reCAPTCHA / hCaptcha widget.
    let lc = doc.to_ascii_lowercase();
    if lc.contains("action=\"/nocaptcha")
        || lc.contains("class=\"g-recaptcha")
        || lc.contains("class=\"h-captcha")
        || lc.contains("/captcha")
    {
        let url_path = find_from(&lc, "name=\"s\"", 0)
            .and_then(|i| find_from(&lc, "value=\"", i))
            .and_then(|v| {
                let start = v + 7;
                let end = find_from(doc, "\"", start)?;
                let decoded = percent_decode(&doc[start..end]);
                Some(strip_query(&crate::dom::url_path(&decoded)))
            });
        return Some(ExtractError::Captcha {
            by: "stackexchange-captcha".to_string(),
            url_path,
            site_host: None,
            page_title: lower_title,
        });
    }
    // HTTP status pages: the status code / reason phrase is protocol text,
    // not a translated UI string.
    if title_lc.contains("too many requests") || title_lc.starts_with("429") {
        return Some(ExtractError::TooManyRequests);
    }
    if lc.contains("class=\"page-not-found")
        || lc.contains(" page-not-found")
        || title_lc.contains("404")
        || title_lc.contains("page not found")
    {
        return Some(ExtractError::NotFound);
    }
    None
}

/// Recognises a block page (captcha, 429, 404) by a cheap byte scan.
///
/// Returns `None` for pages that carry question or listing markup (a real
/// question titled "HTTP 429 Too Many Requests" is content, not a block)
/// and for anything else it does not recognise.
///
/// ```
/// use sofleet_extract::{classify_block, BlockKind};
/// let page = "<html><head><title>Too Many Requests - Stack Exchange</title></head>\
///             <body><p>rate limited</p></body></html>";
/// assert_eq!(classify_block(page), Some(BlockKind::TooManyRequests));
/// ```
pub fn classify_block(html: &str) -> Option<BlockKind> {
    if scan::content_markers(html) != Markers::None {
        return None;
    }
    classify_details(html).and_then(|e| e.block_kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflare_details() {
        let doc = "<html><head><title>Wait</title></head><body><script>window._cf_chl_opt={cZone: \"example.org\",cUPMDTk: \"\\/questions\\/1\\/x?__cf_chl_tk=abc\"};</script></body></html>";
        match classify_details(doc) {
            Some(ExtractError::Captcha {
                by,
                url_path,
                site_host,
                page_title,
            }) => {
                assert_eq!(by, "cloudflare-challenge");
                assert_eq!(url_path.as_deref(), Some("/questions/1/x"));
                assert_eq!(site_host.as_deref(), Some("example.org"));
                assert_eq!(page_title, "Wait");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn question_about_429_is_not_a_block() {
        let doc = "<html><head><title>Handling 429 Too Many Requests</title></head><body>\
                   <div id=\"question-header\"></div></body></html>";
        assert_eq!(classify_block(doc), None);
    }
}
