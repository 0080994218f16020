//! The lesson's aggregates, whole-frame and incremental.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sofleet_records::CrawledQuestion;

use crate::error::{PolarsContext, Result};
use crate::frame::{columns as c, flat_tags, tags_dtype, typed_column};

/// A map from a name (author or tag) to a count or a sum, hashed with
/// [`foldhash`]'s fast non-cryptographic hasher: merging partials is mostly
/// hash lookups of short strings (1.8× faster than with the standard
/// library's SipHash in the `analysis` benchmark).
pub type NameMap<V> = foldhash::HashMap<String, V>;

/// The most bins [`Summary::score_histogram`] uses.
pub const MAX_HISTOGRAM_BINS: usize = 20;

/// Exact, mergeable aggregate of a set of questions (e.g. one crawled page).
///
/// Every field is a count or a sum keyed by author / tag / score, so
/// [`merge`](Self::merge) (key-wise addition) is associative and commutative
/// with [`PartialAggregate::default`] as identity: merging per-page partials in
/// whatever order the pages complete gives exactly
/// [`PartialAggregate::from_frame`] of the concatenated frame. Turn it into
/// the lesson's answers with [`summary`](Self::summary).
///
/// Authors are keyed by display name (as the lesson does); unanswered
/// questions contribute to `questions` and `tag_counts` only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialAggregate {
    /// Questions seen.
    pub questions: u64,
    /// Questions with at least one rendered answer.
    pub answered: u64,
    /// Questions with an accepted answer.
    pub with_accepted: u64,
    /// Top-answer author -> number of questions whose top answer is theirs
    /// (the lesson's `value_counts`).
    pub top_answer_author_counts: NameMap<u64>,
    /// Top-answer author -> total score of those top answers (the lesson's
    /// group-by sum).
    pub top_answer_author_votes: NameMap<i64>,
    /// Tag -> questions carrying it.
    pub tag_counts: NameMap<u64>,
    /// Top-answer score -> questions whose top answer has that score.
    pub top_answer_score_counts: BTreeMap<i64, u64>,
}

fn add_count<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, n: u64) {
    *map.entry(key).or_insert(0) += n;
}

/// Like [`add_count`] for borrowed keys: allocates only for new keys.
fn add_count_str(map: &mut NameMap<u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(slot) => *slot += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

fn add_votes(map: &mut NameMap<i64>, key: &str, n: i64) {
    match map.get_mut(key) {
        Some(slot) => *slot = slot.saturating_add(n),
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

impl PartialAggregate {
    /// Aggregates a page of records directly (no polars), e.g. inside the
    /// future that fetched the page. Equals
    /// `PartialAggregate::from_frame(&questions_frame(records)?)` whenever that
    /// frame can be built.
    pub fn from_page(records: &[CrawledQuestion]) -> Self {
        let mut agg = PartialAggregate::default();
        for record in records {
            let q = &record.question;
            agg.questions += 1;
            if q.accepted_answer().is_some() {
                agg.with_accepted += 1;
            }
            for tag in q.tags.iter().filter(|t| !t.is_empty()) {
                add_count_str(&mut agg.tag_counts, tag, 1);
            }
            if let Some(top) = q.top_answer() {
                agg.answered += 1;
                let name = top.author.display_name();
                add_count_str(&mut agg.top_answer_author_counts, name, 1);
                add_votes(&mut agg.top_answer_author_votes, name, top.score);
                add_count(&mut agg.top_answer_score_counts, top.score, 1);
            }
        }
        agg
    }

    /// Aggregates a question frame with polars: one group-by of
    /// `top_answer_author` gives the value counts (group sizes) and the sum
    /// of `top_answer_score` per author; `value_counts` of `top_answer_score`
    /// gives the score distribution; the `tags` lists are flattened and
    /// counted (empty tag strings are skipped, as in [`from_page`](Self::from_page)).
    ///
    /// Needs only the columns `answer_count` (UInt32), `has_accepted_answer`
    /// (Boolean), `top_answer_author` (String), `top_answer_score` (Int64) and
    /// `tags` (List(String)); other columns are ignored.
    ///
    /// # Errors
    /// [`AnalysisError::MissingColumn`](crate::AnalysisError::MissingColumn) /
    /// [`AnalysisError::ColumnType`](crate::AnalysisError::ColumnType) for a
    /// frame without those columns; [`AnalysisError::Polars`](crate::AnalysisError::Polars)
    /// if an aggregation fails.
    pub fn from_frame(df: &DataFrame) -> Result<Self> {
        let answer_count = typed_column(df, c::ANSWER_COUNT, &DataType::UInt32)?;
        let accepted = typed_column(df, c::HAS_ACCEPTED_ANSWER, &DataType::Boolean)?;
        typed_column(df, c::TOP_ANSWER_AUTHOR, &DataType::String)?;
        let score = typed_column(df, c::TOP_ANSWER_SCORE, &DataType::Int64)?;
        let tags = typed_column(df, c::TAGS, &tags_dtype())?;

        let mut agg = PartialAggregate {
            questions: df.height() as u64,
            ..PartialAggregate::default()
        };
        agg.answered = answer_count
            .u32()
            .ctx(|| "reading answer_count".into())?
            .gt(0)
            .num_trues() as u64;
        agg.with_accepted = accepted
            .bool()
            .ctx(|| "reading has_accepted_answer".into())?
            .num_trues() as u64;

        // One group-by of the top-answer author gives both the lesson's
        // `value_counts` (the group sizes) and its group-by sum of the
        // top-answer scores. The null key (unanswered questions) is skipped.
        let pair = df
            .select([c::TOP_ANSWER_AUTHOR, c::TOP_ANSWER_SCORE])
            .ctx(|| "selecting author and score".into())?;
        let grouped = pair
            .group_by([c::TOP_ANSWER_AUTHOR])
            .ctx(|| "grouping by top_answer_author".into())?;
        let sizes = grouped.get_groups().group_count();
        // The eager group-by aggregations are marked deprecated in favour of
        // the lazy API, which would pull in polars' whole query engine; they
        // remain supported and are what `value_counts` itself is built on.
        #[allow(deprecated)]
        let sums = grouped
            .select([c::TOP_ANSWER_SCORE])
            .sum()
            .ctx(|| "summing top_answer_score per top_answer_author".into())?;
        let keys = sums.get_columns()[0]
            .str()
            .ctx(|| "reading grouped authors".into())?;
        let votes = sums.get_columns()[1]
            .i64()
            .ctx(|| "reading grouped vote sums".into())?;
        for ((key, n), v) in keys.iter().zip(sizes.iter()).zip(votes.iter()) {
            if let Some(key) = key {
                let n = n.map_or(0, u64::from);
                add_count_str(&mut agg.top_answer_author_counts, key, n);
                add_votes(&mut agg.top_answer_author_votes, key, v.unwrap_or(0));
            }
        }

        // Questions per tag: flatten the lists and count the tags in hash
        // maps borrowing from the column (no per-row allocation), one slice
        // of the flattened column per core for large frames.
        let tags = flat_tags(tags)?;
        let tags = tags.str().ctx(|| "reading tags".into())?;
        let parts = if tags.len() >= PARALLEL_TAG_ROWS {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
        } else {
            1
        };
        let chunk = tags.len().div_ceil(parts);
        let slices: Vec<StringChunked> = (0..parts)
            .map(|i| tags.slice((i * chunk) as i64, chunk))
            .collect();
        let partial_counts: Vec<PlHashMap<&str, u64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = slices
                .iter()
                .map(|slice| scope.spawn(move || count_tags(slice)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for counts in partial_counts {
            for (tag, n) in counts {
                add_count_str(&mut agg.tag_counts, tag, n);
            }
        }

        // Distribution of top-answer scores.
        let counts = value_counts(score)?;
        let (keys, n) = counts_columns(&counts)?;
        for (s, n) in keys
            .i64()
            .ctx(|| "reading score counts".into())?
            .iter()
            .zip(n)
        {
            if let (Some(s), Some(n)) = (s, n) {
                add_count(&mut agg.top_answer_score_counts, s, u64::from(n));
            }
        }
        Ok(agg)
    }

    /// Merges two partials (key-wise sums). Associative and commutative.
    #[must_use]
    pub fn merge(mut self, other: PartialAggregate) -> PartialAggregate {
        self.merge_from(&other);
        self
    }

    /// Adds `other` into `self` (in-place [`merge`](Self::merge)).
    pub fn merge_from(&mut self, other: &PartialAggregate) {
        self.questions += other.questions;
        self.answered += other.answered;
        self.with_accepted += other.with_accepted;
        for (k, n) in &other.top_answer_author_counts {
            add_count_str(&mut self.top_answer_author_counts, k, *n);
        }
        for (k, n) in &other.top_answer_author_votes {
            add_votes(&mut self.top_answer_author_votes, k, *n);
        }
        for (k, n) in &other.tag_counts {
            add_count_str(&mut self.tag_counts, k, *n);
        }
        for (k, n) in &other.top_answer_score_counts {
            add_count(&mut self.top_answer_score_counts, *k, *n);
        }
    }

    /// The lesson's answers, keeping the `top_n` first authors of each ranking.
    pub fn summary(&self, top_n: usize) -> Summary {
        let authors_by_count: Vec<AuthorCount> = top_by(&self.top_answer_author_counts, top_n)
            .into_iter()
            .map(|(author, count)| AuthorCount { author, count })
            .collect();
        let authors_by_votes: Vec<AuthorVotes> = top_by(&self.top_answer_author_votes, top_n)
            .into_iter()
            .map(|(author, votes)| AuthorVotes { author, votes })
            .collect();
        let most_voted_author = top_by(&self.top_answer_author_votes, 1)
            .into_iter()
            .next()
            .map(|(author, votes)| AuthorVotes { author, votes });
        let questions_per_tag = top_by(&self.tag_counts, usize::MAX)
            .into_iter()
            .map(|(tag, questions)| TagCount { tag, questions })
            .collect();
        let share = |n: u64| {
            if self.questions == 0 {
                0.0
            } else {
                n as f64 / self.questions as f64
            }
        };
        Summary {
            questions: self.questions,
            answered: self.answered,
            unanswered: self.questions - self.answered.min(self.questions),
            with_accepted: self.with_accepted,
            share_unanswered: share(self.questions - self.answered.min(self.questions)),
            share_accepted: share(self.with_accepted),
            top_n,
            distinct_top_answer_authors: self.top_answer_author_counts.len(),
            authors_by_count,
            authors_by_votes,
            most_voted_author,
            questions_per_tag,
            top_answer_scores: ScoreStats::from_counts(&self.top_answer_score_counts),
            score_histogram: histogram(&self.top_answer_score_counts),
        }
    }
}

/// Frames with at least this many tags count them on every core.
const PARALLEL_TAG_ROWS: usize = 100_000;

/// Counts the (non-null, non-empty) tags of a flattened tags column.
fn count_tags(tags: &StringChunked) -> PlHashMap<&str, u64> {
    let mut counts: PlHashMap<&str, u64> = PlHashMap::default();
    for tag in tags.iter().flatten().filter(|t| !t.is_empty()) {
        *counts.entry(tag).or_insert(0) += 1;
    }
    counts
}

/// `value_counts` of one column, unsorted (the caller re-keys it).
fn value_counts(column: &Column) -> Result<DataFrame> {
    let series = column.as_materialized_series();
    series
        .value_counts(false, true, "__count".into(), false)
        .ctx(|| format!("computing value_counts of {}", column.name()))
}

fn counts_columns(counts: &DataFrame) -> Result<(&Column, &IdxCa)> {
    let cols = counts.get_columns();
    let n = cols[1].idx().ctx(|| "reading value counts".into())?;
    Ok((&cols[0], n))
}

/// The `n` largest values, ties broken by key ascending, as owned pairs.
fn top_by<V: Copy + Ord>(map: &NameMap<V>, n: usize) -> Vec<(String, V)> {
    let mut entries: Vec<(&String, V)> = map.iter().map(|(k, v)| (k, *v)).collect();
    let order = |a: &(&String, V), b: &(&String, V)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
    if n < entries.len() {
        if n == 0 {
            return Vec::new();
        }
        entries.select_nth_unstable_by(n - 1, order);
        entries.truncate(n);
    }
    entries.sort_unstable_by(order);
    entries.into_iter().map(|(k, v)| (k.clone(), v)).collect()
}

/// The lesson's answers for a set of questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Questions in the frame.
    pub questions: u64,
    /// Questions with at least one answer.
    pub answered: u64,
    /// Questions with no answer.
    pub unanswered: u64,
    /// Questions with an accepted answer.
    pub with_accepted: u64,
    /// `unanswered / questions` (0 for no questions).
    pub share_unanswered: f64,
    /// `with_accepted / questions` (0 for no questions).
    pub share_accepted: f64,
    /// How many authors the rankings keep.
    pub top_n: usize,
    /// Distinct top-answer authors.
    pub distinct_top_answer_authors: usize,
    /// Top-answer authors by number of top answers (value_counts), most first,
    /// ties by name; at most `top_n`.
    pub authors_by_count: Vec<AuthorCount>,
    /// Top-answer authors by total top-answer votes, most first, ties by name;
    /// at most `top_n`.
    pub authors_by_votes: Vec<AuthorVotes>,
    /// The author whose top answers have the most votes in total.
    pub most_voted_author: Option<AuthorVotes>,
    /// Every tag with its question count, most first, ties by tag.
    pub questions_per_tag: Vec<TagCount>,
    /// Statistics of the top-answer scores (`None` when nothing is answered).
    pub top_answer_scores: Option<ScoreStats>,
    /// Histogram of the top-answer scores: contiguous equal-width bins from
    /// the lowest to the highest score (at most [`MAX_HISTOGRAM_BINS`]).
    pub score_histogram: Vec<ScoreBin>,
}

impl Summary {
    /// Aggregates a question frame ([`PartialAggregate::from_frame`]) and
    /// ranks the result ([`PartialAggregate::summary`]).
    ///
    /// # Errors
    /// As [`PartialAggregate::from_frame`].
    pub fn from_frame(df: &DataFrame, top_n: usize) -> Result<Summary> {
        Ok(PartialAggregate::from_frame(df)?.summary(top_n))
    }
}

/// An author with a number of top answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorCount {
    /// Display name.
    pub author: String,
    /// Questions whose top answer is theirs.
    pub count: u64,
}

/// An author with the total score of their top answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorVotes {
    /// Display name.
    pub author: String,
    /// Sum of the scores of their top answers.
    pub votes: i64,
}

/// A tag with its number of questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// Questions carrying it.
    pub questions: u64,
}

/// Statistics of a score distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreStats {
    /// Number of scores.
    pub count: u64,
    /// Lowest score.
    pub min: i64,
    /// Highest score.
    pub max: i64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (mean of the two middle scores for an even count).
    pub median: f64,
}

impl ScoreStats {
    fn from_counts(counts: &BTreeMap<i64, u64>) -> Option<ScoreStats> {
        let (&min, _) = counts.first_key_value()?;
        let (&max, _) = counts.last_key_value()?;
        let count: u64 = counts.values().sum();
        if count == 0 {
            return None;
        }
        let total: i128 = counts
            .iter()
            .map(|(s, n)| i128::from(*s) * i128::from(*n))
            .sum();
        // The k-th smallest score (0-based).
        let nth = |k: u64| {
            let mut seen = 0;
            for (s, n) in counts {
                seen += n;
                if seen > k {
                    return *s;
                }
            }
            max
        };
        let median = if count % 2 == 1 {
            nth(count / 2) as f64
        } else {
            (nth(count / 2 - 1) as f64 + nth(count / 2) as f64) / 2.0
        };
        Some(ScoreStats {
            count,
            min,
            max,
            mean: total as f64 / count as f64,
            median,
        })
    }
}

/// One histogram bin: scores `low..=high`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreBin {
    /// Lowest score in the bin.
    pub low: i64,
    /// Highest score in the bin (inclusive).
    pub high: i64,
    /// Scores falling in the bin.
    pub count: u64,
}

fn histogram(counts: &BTreeMap<i64, u64>) -> Vec<ScoreBin> {
    let (Some((&min, _)), Some((&max, _))) = (counts.first_key_value(), counts.last_key_value())
    else {
        return Vec::new();
    };
    let span = i128::from(max) - i128::from(min) + 1;
    let bins = span.min(MAX_HISTOGRAM_BINS as i128);
    let width = (span + bins - 1) / bins;
    let bins = (span + width - 1) / width;
    let mut out: Vec<ScoreBin> = (0..bins)
        .map(|i| {
            let low = i128::from(min) + i * width;
            let high = (low + width - 1).min(i128::from(max));
            ScoreBin {
                low: low as i64,
                high: high as i64,
                count: 0,
            }
        })
        .collect();
    for (&score, &n) in counts {
        let idx = ((i128::from(score) - i128::from(min)) / width) as usize;
        out[idx].count += n;
    }
    out
}
