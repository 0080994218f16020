//! What went wrong, and what kind of page it was.

use std::time::Duration;

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

/// What a refused page had too much of (see [`ExtractError::TooComplex`]).
///
/// Each limit bounds the work the HTML parser does per byte, so that every
/// page is parsed in time linear in its size; real pages stay far below all
/// of them. The limits are set by [`ExtractLimits`](crate::ExtractLimits).
///
/// ```
/// use sofleet_extract::{parse_page, Excess, ExtractError};
///
/// let html = format!(
///     "<html><head></head><body><div id=\"question\">{}</div></body></html>",
///     "<span>".repeat(5_000)
/// );
/// match parse_page(&html) {
///     Err(ExtractError::TooComplex { excess, found, limit, .. }) => {
///         assert_eq!(excess, Excess::Nesting);
///         assert_eq!(excess.as_str(), "nesting");
///         assert!(found > limit);
///     }
///     other => panic!("expected a refusal, got {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Excess {
    /// Elements nested too deep, as estimated by a linear pre-scan of the
    /// markup (an end tag only closes an element it can really close).
    /// Limit: [`ExtractLimits::max_nesting`](crate::ExtractLimits::max_nesting).
    Nesting,
    /// Too many formatting elements (`<a>`, `<b>`, `<i>`, `<font>`, …) left
    /// open at once, as estimated by the pre-scan: the parser re-opens every
    /// one of them after each block, so they multiply the tree.
    /// Limit: [`ExtractLimits::max_formatting`](crate::ExtractLimits::max_formatting).
    Formatting,
    /// One tag carries too many attributes (the tokenizer compares each new
    /// attribute with all earlier ones of its tag), or the `<html>` and
    /// `<body>` tags together do (they are merged into one element each).
    /// Limit: [`ExtractLimits::max_attributes`](crate::ExtractLimits::max_attributes).
    Attributes,
    /// The markup would make the tree builder walk its stack of open
    /// elements (or its list of active formatting elements) too often for
    /// the page's size: stray end tags or block tags under hundreds of
    /// open elements, formatting elements compared with hundreds of
    /// others. `found` is the pre-scan's estimate of the steps. Limit:
    /// [`ExtractLimits::max_work_per_byte`](crate::ExtractLimits::max_work_per_byte)
    /// times the size, plus 4,000,000.
    Work,
    /// While parsing, the tree builder held too many open and active
    /// formatting elements at once (measured on the parser itself, after
    /// each chunk of input). Limit: `max_nesting + max_formatting + 64`.
    OpenElements,
    /// While parsing, the tree builder created far more nodes than the
    /// input's size explains (more than one per two bytes, plus 4,096):
    /// misnested formatting elements being re-opened over and over.
    Nodes,
}

impl Excess {
    /// Stable snake_case word for logs and records.
    ///
    /// ```
    /// assert_eq!(sofleet_extract::Excess::Attributes.as_str(), "attributes");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Excess::Nesting => "nesting",
            Excess::Formatting => "formatting",
            Excess::Attributes => "attributes",
            Excess::Work => "work",
            Excess::OpenElements => "open_elements",
            Excess::Nodes => "nodes",
        }
    }

    /// What was too much, in words, for [`ExtractError`]'s message.
    fn describe(self, found: usize, limit: usize) -> String {
        match self {
            Excess::Nesting => format!(
                "markup nests about {found} elements deep (limit {limit}; real pages stay below 100)"
            ),
            Excess::Formatting => format!(
                "markup leaves about {found} formatting elements (<a>, <b>, <i>, <font>, ...) open \
                 at once (limit {limit}; real pages stay below 20)"
            ),
            Excess::Attributes => format!(
                "a tag (or the <html>/<body> tags together) carries {found} attributes \
                 (limit {limit}; real pages stay below 30)"
            ),
            Excess::Work => format!(
                "markup would make the parser walk its open elements about {found} steps \
                 (limit {limit} for a page this size; real pages need a few per byte)"
            ),
            Excess::OpenElements => format!(
                "the parser held {found} open or active formatting elements at once (limit {limit})"
            ),
            Excess::Nodes => format!(
                "the parser created {found} nodes, far more than the page's size explains \
                 (limit {limit} at that point)"
            ),
        }
    }
}

/// Why a document did not yield a record.
///
/// Each variant says what the page was; its message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// A listing page (its rows are there) from which not one row could be read: the row
    /// markup changed or the page is broken. Never an empty listing.
    ///
    /// ```
    /// let html = r#"<html><head><title>Newest</title></head><body><div id="mainbar">
    /// <div class="question-summary" id="question-summary-7"><p>no link</p></div>
    /// </div></body></html>"#;
    /// let err = sofleet_extract::parse_listing(html).unwrap_err();
    /// assert_eq!(err.kind(), "unreadable_listing");
    /// assert!(err.to_string().contains("title link"));
    /// ```
    #[error(
        "a listing page whose {rows} `{row_markup}` row(s) could not be read, not one: \
         the first has no {missing}; the row markup changed or the page is broken: do \
         not retry"
    )]
    #[non_exhaustive]
    UnreadableListing {
        /// The row markup found (`question-summary` or `s-post-summary`).
        row_markup: &'static str,
        /// How many rows were found.
        rows: usize,
        /// What the first row was missing (the markup that was looked for).
        missing: String,
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
    /// The markup is shaped so that parsing it would take far more than
    /// linear time or memory (thousands of nested or misnested elements,
    /// thousands of attributes on a tag): hostile or broken, never a real
    /// page. Refused before (or while) parsing instead of stalling.
    #[error(
        "{}, refused so parsing stays linear in the page size; the page is hostile or \
         broken: do not retry",
        excess.describe(*found, *limit)
    )]
    #[non_exhaustive]
    TooComplex {
        /// What there was too much of.
        excess: Excess,
        /// How much the page has (the pre-scan's estimate for
        /// [`Excess::Nesting`], [`Excess::Formatting`] and [`Excess::Work`];
        /// measured on the parser for [`Excess::OpenElements`] and
        /// [`Excess::Nodes`]). The pre-scan stops once its work estimate is
        /// over the limit, so its figures are then lower bounds.
        found: usize,
        /// The limit it went over.
        limit: usize,
    },
    /// Extraction ran out of its time budget
    /// ([`ExtractLimits::time_budget`](crate::ExtractLimits::time_budget))
    /// and was stopped.
    #[error(
        "extraction stopped after {elapsed:?}, over its time budget of {budget:?}: the \
         page is too large or too costly to parse; do not retry (the same page would \
         take as long again)"
    )]
    #[non_exhaustive]
    OverBudget {
        /// Time spent when the budget was found exhausted.
        elapsed: Duration,
        /// The budget.
        budget: Duration,
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
            ExtractError::UnreadableListing { .. } => "unreadable_listing",
            ExtractError::WrongKind { .. } => "wrong_kind",
            ExtractError::TooComplex { .. } => "too_complex",
            ExtractError::OverBudget { .. } => "over_budget",
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
    /// truncation and empty bodies are transient; 404, wrong markup, hostile
    /// markup and an exhausted time budget are not).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sofleet_extract::{parse_page_with, ExtractError, ExtractLimits};
    ///
    /// assert!(ExtractError::Empty.is_retryable());
    /// let limits = ExtractLimits::default().with_time_budget(Duration::ZERO);
    /// let html = "<html><body><div id=\"question\"></div></body></html>";
    /// let err = parse_page_with(html, &limits).unwrap_err();
    /// assert_eq!(err.kind(), "over_budget");
    /// assert!(!err.is_retryable());
    /// ```
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
