//! Choosing what a summary covers: leaving community-wiki answers out of the author
//! rankings, and one summary per tag.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::aggregate::Summary;
use crate::error::{PolarsContext, Result};
use crate::frame::{columns as c, tags_dtype, typed_column};

/// The question frame with community-wiki top answers left out of the author rankings: their
/// `top_answer_author` becomes null (the questions, answer counts and scores stay), so
/// "community wiki" is not ranked among the top answerers.
///
/// ```
/// use sofleet_analysis::{Summary, questions_frame, without_community_wiki};
/// let frame = questions_frame(&[])?;
/// let summary = Summary::from_frame(&without_community_wiki(&frame)?, 10)?;
/// assert!(summary.authors_by_count.is_empty());
/// # Ok::<(), sofleet_analysis::AnalysisError>(())
/// ```
///
/// # Errors
/// [`AnalysisError::MissingColumn`](crate::AnalysisError::MissingColumn) /
/// [`ColumnType`](crate::AnalysisError::ColumnType) without the string columns
/// `top_answer_author` and `top_answer_author_kind`.
pub fn without_community_wiki(df: &DataFrame) -> Result<DataFrame> {
    let author = typed_column(df, c::TOP_ANSWER_AUTHOR, &DataType::String)?
        .str()
        .ctx(|| "reading top_answer_author".into())?;
    let kind = typed_column(df, c::TOP_ANSWER_AUTHOR_KIND, &DataType::String)?
        .str()
        .ctx(|| "reading top_answer_author_kind".into())?;
    let masked = StringChunked::from_iter_options(
        c::TOP_ANSWER_AUTHOR.into(),
        author
            .iter()
            .zip(kind.iter())
            .map(|(a, k)| if k == Some("community_wiki") { None } else { a }),
    );
    let mut out = df.clone();
    out.with_column(masked.into_column())
        .ctx(|| "replacing top_answer_author".into())?;
    Ok(out)
}

/// The summary of the questions of one tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagSummary {
    /// The tag.
    pub tag: String,
    /// The lesson's answers for its questions alone.
    pub summary: Summary,
}

/// One [`Summary`] per tag in `tags` (e.g. the first of a summary's
/// [`questions_per_tag`](Summary::questions_per_tag)) over the questions carrying it, each
/// keeping `top_n` authors.
///
/// ```
/// use sofleet_analysis::{Summary, questions_frame, summaries_by_tag};
/// let frame = questions_frame(&[])?;
/// let summary = Summary::from_frame(&frame, 10)?;
/// let tags = summary.questions_per_tag.iter().take(5).map(|t| t.tag.as_str());
/// assert!(summaries_by_tag(&frame, tags, 3)?.is_empty());
/// # Ok::<(), sofleet_analysis::AnalysisError>(())
/// ```
///
/// # Errors
/// As [`Summary::from_frame`], and for a frame without a `tags` list column.
pub fn summaries_by_tag<'t>(
    df: &DataFrame,
    tags: impl IntoIterator<Item = &'t str>,
    top_n: usize,
) -> Result<Vec<TagSummary>> {
    let tags_column = typed_column(df, c::TAGS, &tags_dtype())?
        .list()
        .ctx(|| "reading tags".into())?
        .clone();
    let mut out = Vec::new();
    for tag in tags {
        let mask: BooleanChunked = tags_column
            .amortized_iter()
            .map(|list| {
                Some(list.is_some_and(|l| {
                    l.as_ref()
                        .str()
                        .is_ok_and(|s| s.iter().any(|t| t == Some(tag)))
                }))
            })
            .collect();
        let rows = df
            .filter(&mask)
            .ctx(|| format!("selecting the questions tagged {tag}"))?;
        out.push(TagSummary {
            tag: tag.to_owned(),
            summary: Summary::from_frame(&rows, top_n)?,
        });
    }
    Ok(out)
}
