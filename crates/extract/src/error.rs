//! What went wrong, and what kind of page it was.

use serde::{Deserialize, Serialize};

/// A page that is not content: the site refused or failed to serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// A human-verification (captcha / challenge) page.
    Captcha,
    /// An HTTP 429 "Too Many Requests" rate-limit page.
    TooManyRequests,
    /// A "page not found" (404) page.
    NotFound,
}

impl BlockKind {
    /// Stable snake_case word for logs and records.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Captcha => "captcha",
            BlockKind::TooManyRequests => "too_many_requests",
            BlockKind::NotFound => "not_found",
        }
    }
}

/// Why a document did not yield a record.
///
/// Each variant says what the page was; its message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// A human-verification page (Cloudflare challenge or the site's own
    /// captcha) was served instead of content.
    #[error(
        "the page is a human-verification challenge ({by}){} and has no content: \
         slow down (lower the request rate), wait, and fetch it again later",
        url_path.as_deref().map(|p| format!(" for {p}")).unwrap_or_default()
    )]
    Captcha {
        /// Who served the challenge: `cloudflare-challenge` or
        /// `stackexchange-captcha`.
        by: String,
        /// The path the challenge stands in for, when the page names it.
        url_path: Option<String>,
        /// Host the challenge was served for, when the page names it.
        site_host: Option<String>,
        /// The challenge page's `<title>`.
        page_title: String,
    },
    /// A "Too Many Requests" (HTTP 429) page.
    #[error(
        "the page is a \"Too Many Requests\" (HTTP 429) rate-limit page: \
         back off (honour Retry-After) and fetch it again later"
    )]
    TooManyRequests,
    /// A "page not found" (404) page: the question was deleted or never existed.
    #[error(
        "the page is a \"page not found\" (404) page: the question was deleted or the \
         URL is wrong; do not retry"
    )]
    NotFound,
    /// The document ends before `</body>` / `</html>`: cut off in transfer or
    /// while saving. Its answer list cannot be trusted.
    #[error(
        "the document is truncated ({bytes} bytes, no closing </body> or </html>; it \
         looks like a {looked_like} page): fetch or save it again"
    )]
    Truncated {
        /// Length of the document in bytes.
        bytes: usize,
        /// What the start of the document looked like (`question`,
        /// `listing`, `unknown`).
        looked_like: &'static str,
    },
    /// The document is empty or whitespace only.
    #[error("the document is empty: the fetch returned no body; fetch it again")]
    Empty,
    /// HTML without the markup of any Stack Exchange page kind this crate
    /// knows (question or listing page).
    #[error(
        "not a Stack Exchange question or listing page ({reason}); check that the \
         file is a saved question/listing page"
    )]
    NotAPage {
        /// What was missing.
        reason: String,
    },
    /// A real page, but of another kind than the one asked for (e.g.
    /// `parse_question` on a listing page).
    #[error("expected a {expected} page but this is a {found} page; use parse_page to accept both")]
    WrongKind {
        /// The kind the caller asked for.
        expected: &'static str,
        /// The kind the page is.
        found: &'static str,
    },
}

impl ExtractError {
    /// Stable snake_case word naming the variant (for failure records).
    pub fn kind(&self) -> &'static str {
        match self {
            ExtractError::Captcha { .. } => "captcha",
            ExtractError::TooManyRequests => "too_many_requests",
            ExtractError::NotFound => "not_found",
            ExtractError::Truncated { .. } => "truncated",
            ExtractError::Empty => "empty",
            ExtractError::NotAPage { .. } => "not_a_page",
            ExtractError::WrongKind { .. } => "wrong_kind",
        }
    }

    /// The block kind, for the variants that mean "the site refused".
    pub fn block_kind(&self) -> Option<BlockKind> {
        match self {
            ExtractError::Captcha { .. } => Some(BlockKind::Captcha),
            ExtractError::TooManyRequests => Some(BlockKind::TooManyRequests),
            ExtractError::NotFound => Some(BlockKind::NotFound),
            _ => None,
        }
    }

    /// Whether fetching the same URL again later may succeed (blocks,
    /// truncation and empty bodies are transient; 404 and wrong markup are not).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ExtractError::Captcha { .. }
                | ExtractError::TooManyRequests
                | ExtractError::Truncated { .. }
                | ExtractError::Empty
        )
    }
}
