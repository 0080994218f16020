//! How much work one extraction may do: the shape limits that keep parsing
//! linear in the page size, and an optional wall-clock budget.

use std::time::Duration;

/// Documents nesting elements deeper than this are refused before parsing
/// (the HTML tree builder's work grows with depth; real pages stay < 100).
/// The default of [`ExtractLimits::max_nesting`].
pub const MAX_NESTING: usize = 1024;

/// Default of [`ExtractLimits::max_formatting`]: formatting elements
/// (`<a>`, `<b>`, `<i>`, `<font>`, …) left open at once. Real pages stay
/// below 20.
pub const MAX_FORMATTING: usize = 1024;

/// Default of [`ExtractLimits::max_attributes`]: attributes on one tag (and
/// on the `<html>` and `<body>` tags together). Real pages stay below 30.
pub const MAX_ATTRIBUTES: usize = 512;

/// Default of [`ExtractLimits::max_work_per_byte`]. Real pages need fewer
/// than 5 steps per byte.
pub const MAX_WORK_PER_BYTE: u64 = 64;

/// Steps of parser work every page may take whatever its size (a few
/// milliseconds), on top of [`ExtractLimits::max_work_per_byte`] per byte.
pub(crate) const WORK_SLACK: u64 = 4_000_000;

/// Limits for one extraction call ([`parse_page_with`](crate::parse_page_with),
/// [`parse_question_with`](crate::parse_question_with),
/// [`parse_listing_with`](crate::parse_listing_with)).
///
/// The shape limits bound the HTML parser's work per input byte, so that
/// extraction time is linear in the page size for any input; a page over
/// one of them is an [`ExtractError::TooComplex`](crate::ExtractError::TooComplex).
/// The time budget stops an extraction that takes too long anyway (a very
/// large page, a slow machine) with an
/// [`ExtractError::OverBudget`](crate::ExtractError::OverBudget).
///
/// Defaults ([`ExtractLimits::default`]), which [`parse_page`](crate::parse_page),
/// [`parse_question`](crate::parse_question) and
/// [`parse_listing`](crate::parse_listing) use:
///
/// | field            | default                      |
/// |------------------|------------------------------|
/// | `time_budget`    | `None` (no time limit)       |
/// | `max_nesting`    | [`MAX_NESTING`] (1,024)      |
/// | `max_formatting` | [`MAX_FORMATTING`] (1,024)   |
/// | `max_attributes` | [`MAX_ATTRIBUTES`] (512)     |
/// | `max_work_per_byte` | [`MAX_WORK_PER_BYTE`] (64) |
///
/// ```
/// use std::time::Duration;
/// use sofleet_extract::{parse_question_with, ExtractError, ExtractLimits};
///
/// let limits = ExtractLimits {
///     time_budget: Some(Duration::from_secs(2)),
///     ..ExtractLimits::default()
/// };
/// assert_eq!(limits, ExtractLimits::default().with_time_budget(Duration::from_secs(2)));
///
/// let html = r#"<html><head><title>Q</title></head><body>
/// <div id="question-header"><h1><a href="/questions/42/q">Q</a></h1></div>
/// <div id="question" data-questionid="42" data-score="1">
///   <div class="s-prose js-post-body"><p>Why?</p></div></div></body></html>"#;
/// let q = parse_question_with(html, &limits)?;
/// assert_eq!(q.id, 42);
/// # Ok::<(), ExtractError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtractLimits {
    /// Wall-clock time one call may take, from its start. Checked after the
    /// pre-scan and after every chunk (4 KiB) fed to the HTML parser, so an
    /// extraction stops within about one chunk's work of running out.
    /// `None` (the default) means no time limit. A real 300 KB page takes a
    /// few milliseconds in a release build.
    pub time_budget: Option<Duration>,
    /// Deepest element nesting accepted ([`Excess::Nesting`](crate::Excess::Nesting)).
    pub max_nesting: usize,
    /// Most formatting elements left open at once
    /// ([`Excess::Formatting`](crate::Excess::Formatting)).
    pub max_formatting: usize,
    /// Most attributes on one tag, and on the `<html>` and `<body>` tags
    /// together ([`Excess::Attributes`](crate::Excess::Attributes)).
    pub max_attributes: usize,
    /// Most steps the tree builder may spend walking its open elements and
    /// active formatting elements, per byte of markup, as estimated by the
    /// pre-scan (plus a fixed allowance of 4,000,000 steps per page)
    /// ([`Excess::Work`](crate::Excess::Work)).
    pub max_work_per_byte: u64,
}

impl Default for ExtractLimits {
    /// No time budget; [`MAX_NESTING`], [`MAX_FORMATTING`], [`MAX_ATTRIBUTES`],
    /// [`MAX_WORK_PER_BYTE`].
    ///
    /// ```
    /// let l = sofleet_extract::ExtractLimits::default();
    /// assert_eq!((l.time_budget, l.max_nesting), (None, sofleet_extract::MAX_NESTING));
    /// ```
    fn default() -> Self {
        ExtractLimits {
            time_budget: None,
            max_nesting: MAX_NESTING,
            max_formatting: MAX_FORMATTING,
            max_attributes: MAX_ATTRIBUTES,
            max_work_per_byte: MAX_WORK_PER_BYTE,
        }
    }
}

impl ExtractLimits {
    /// These limits with the given time budget.
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = sofleet_extract::ExtractLimits::default().with_time_budget(Duration::from_millis(500));
    /// assert_eq!(l.time_budget, Some(Duration::from_millis(500)));
    /// ```
    #[must_use]
    pub fn with_time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = Some(budget);
        self
    }

    /// Most open plus active formatting elements the tree builder may hold
    /// at once, measured while parsing ([`Excess::OpenElements`](crate::Excess::OpenElements)).
    pub(crate) fn max_work(&self, bytes: usize) -> u64 {
        self.max_work_per_byte
            .saturating_mul(bytes as u64)
            .saturating_add(WORK_SLACK)
    }

    pub(crate) fn max_open_elements(&self) -> usize {
        self.max_nesting
            .saturating_add(self.max_formatting)
            .saturating_add(64)
    }
}
