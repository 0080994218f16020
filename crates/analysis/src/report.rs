//! The Markdown report.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aggregate::Summary;
use crate::charts::{
    ChartFile, ChartFormat, ChartKind, ChartOptions, missing_glyphs_note, write_charts_with,
};
use crate::error::{AnalysisError, Result};
use crate::io::write_atomically;

/// File name [`write_report`] gives the report.
pub const REPORT_FILE_NAME: &str = "report.md";

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFiles {
    /// The Markdown report.
    pub report: PathBuf,
    /// The charts it links to.
    pub charts: Vec<ChartFile>,
}

/// Escapes text for a Markdown table cell or paragraph.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// The link target of a chart: its file name (the report is meant to sit in
/// the charts' directory, as [`write_report`] arranges), percent-encoding
/// spaces and parentheses.
fn link(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned());
    name.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

/// The crawl parameters' metadata keys in the order the report shows them,
/// with their labels.
const CRAWL_KEYS: &[(&str, &str)] = &[
    ("sofleet.version", "Version"),
    ("sofleet.base_url", "Base URL"),
    ("sofleet.tags", "Tags"),
    ("sofleet.sort", "Sort"),
    ("sofleet.pages", "Pages"),
    ("sofleet.pagesize", "Page size"),
    ("sofleet.started", "Started"),
    ("sofleet.finished", "Finished"),
    ("sofleet.questions", "Questions"),
    ("sofleet.failures", "Failures"),
    ("sofleet.not_fetched", "Not fetched"),
];

/// Prefix of the crawl's metadata keys.
const CRAWL_PREFIX: &str = "sofleet.";

/// The crawl's parameters among a file's key-value metadata (as
/// [`read_metadata`](crate::read_metadata) returns it), as `(label, value)`
/// pairs in the report's stable order: the known `sofleet.*` keys
/// (`version`, `base_url`, `tags`, `sort`, `pages`, `pagesize`, `started`,
/// `finished`, `questions`, `failures`, `not_fetched`) with readable labels,
/// then other `sofleet.*` keys by name, labelled with the part after
/// `sofleet.`. Other keys are ignored; of a repeated key the first counts.
///
/// ```
/// use sofleet_analysis::crawl_parameters;
/// let metadata = [
///     ("sofleet.zeta", "1"), ("other", "x"), ("sofleet.tags", "python,dask"),
///     ("sofleet.base_url", "https://stackoverflow.com"),
/// ].map(|(k, v)| (k.to_owned(), v.to_owned()));
/// let labels: Vec<_> = crawl_parameters(&metadata).into_iter().map(|(label, _)| label).collect();
/// assert_eq!(labels, ["Base URL", "Tags", "zeta"]);
/// ```
pub fn crawl_parameters(metadata: &[(String, String)]) -> Vec<(String, String)> {
    let first = |key: &str| metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let mut out: Vec<(String, String)> = CRAWL_KEYS
        .iter()
        .filter_map(|(key, label)| first(key).map(|v| ((*label).to_owned(), v.clone())))
        .collect();
    let mut others: Vec<&str> = metadata
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| k.starts_with(CRAWL_PREFIX) && !CRAWL_KEYS.iter().any(|(known, _)| known == k))
        .collect();
    others.sort_unstable();
    others.dedup();
    for key in others {
        if let Some(value) = first(key) {
            out.push((key[CRAWL_PREFIX.len()..].to_owned(), value.clone()));
        }
    }
    out
}

/// Renders the summary as Markdown: the crawl's parameters when `metadata`
/// holds `sofleet.*` keys (see [`crawl_parameters`]; pass `&[]` for none),
/// an overview, tables of the lesson's answers (authors by count and by
/// votes, most-voted author, questions per tag, score statistics and
/// histogram) and links to `charts` (PNG shown inline, SVG linked). Chart
/// links use the charts' file names, so write the report into the charts'
/// directory (see [`write_report`]).
///
/// ```
/// # use sofleet_analysis::{PartialAggregate, markdown_report};
/// let summary = PartialAggregate::default().summary(10);
/// let md = markdown_report(&summary, &[], &[("sofleet.sort".into(), "votes".into())]);
/// assert!(md.contains("| Sort | votes |"));
/// assert!(md.contains("| Questions | 0 |"));
/// ```
pub fn markdown_report(
    summary: &Summary,
    charts: &[ChartFile],
    metadata: &[(String, String)],
) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_report_text(&mut s, summary, charts, metadata);
    s
}

fn write_report_text(
    s: &mut String,
    summary: &Summary,
    charts: &[ChartFile],
    metadata: &[(String, String)],
) -> std::fmt::Result {
    writeln!(s, "# Stack Overflow crawl report\n")?;
    let crawl = crawl_parameters(metadata);
    if !crawl.is_empty() {
        writeln!(s, "## Crawl\n")?;
        writeln!(s, "| Parameter | Value |")?;
        writeln!(s, "|---|---|")?;
        for (label, value) in &crawl {
            writeln!(s, "| {} | {} |", md(label), md(value))?;
        }
        writeln!(s)?;
    }
    writeln!(s, "## Overview\n")?;
    writeln!(s, "| Measure | Value |")?;
    writeln!(s, "|---|---:|")?;
    writeln!(s, "| Questions | {} |", summary.questions)?;
    writeln!(s, "| Answered | {} |", summary.answered)?;
    writeln!(
        s,
        "| Unanswered | {} ({}) |",
        summary.unanswered,
        percent(summary.share_unanswered)
    )?;
    writeln!(
        s,
        "| With an accepted answer | {} ({}) |",
        summary.with_accepted,
        percent(summary.share_accepted)
    )?;
    writeln!(
        s,
        "| Distinct top-answer authors | {} |",
        summary.distinct_top_answer_authors
    )?;
    writeln!(s)?;

    writeln!(s, "## Top-answer authors\n")?;
    match &summary.most_voted_author {
        Some(best) => writeln!(
            s,
            "Author with the most votes on their top answers: **{}** ({} votes).\n",
            md(&best.author),
            best.votes
        )?,
        None => writeln!(s, "No question has an answer yet.\n")?,
    }
    writeln!(s, "### By number of top answers (top {})\n", summary.top_n)?;
    writeln!(s, "| # | Author | Top answers |")?;
    writeln!(s, "|---:|---|---:|")?;
    for (i, a) in summary.authors_by_count.iter().enumerate() {
        writeln!(s, "| {} | {} | {} |", i + 1, md(&a.author), a.count)?;
    }
    writeln!(s)?;
    writeln!(
        s,
        "### By total votes of top answers (top {})\n",
        summary.top_n
    )?;
    writeln!(s, "| # | Author | Votes |")?;
    writeln!(s, "|---:|---|---:|")?;
    for (i, a) in summary.authors_by_votes.iter().enumerate() {
        writeln!(s, "| {} | {} | {} |", i + 1, md(&a.author), a.votes)?;
    }
    writeln!(s)?;

    writeln!(s, "## Questions per tag\n")?;
    let shown = summary
        .questions_per_tag
        .len()
        .min(summary.top_n.max(1) * 2);
    writeln!(s, "| Tag | Questions |")?;
    writeln!(s, "|---|---:|")?;
    for t in &summary.questions_per_tag[..shown] {
        writeln!(s, "| {} | {} |", md(&t.tag), t.questions)?;
    }
    if shown < summary.questions_per_tag.len() {
        writeln!(
            s,
            "\n…and {} more tags.",
            summary.questions_per_tag.len() - shown
        )?;
    }
    writeln!(s)?;

    writeln!(s, "## Top-answer score distribution\n")?;
    match &summary.top_answer_scores {
        Some(st) => {
            writeln!(s, "| Count | Min | Median | Mean | Max |")?;
            writeln!(s, "|---:|---:|---:|---:|---:|")?;
            writeln!(
                s,
                "| {} | {} | {} | {:.2} | {} |\n",
                st.count, st.min, st.median, st.mean, st.max
            )?;
            writeln!(s, "| Scores | Questions |")?;
            writeln!(s, "|---|---:|")?;
            for b in &summary.score_histogram {
                if b.low == b.high {
                    writeln!(s, "| {} | {} |", b.low, b.count)?;
                } else {
                    writeln!(s, "| {} to {} | {} |", b.low, b.high, b.count)?;
                }
            }
        }
        None => writeln!(s, "No answered questions.")?,
    }
    writeln!(s)?;

    if !charts.is_empty() {
        writeln!(s, "## Charts\n")?;
        if let Some(note) = missing_glyphs_note(charts) {
            writeln!(
                s,
                "Some names use characters the chart fonts have no glyph for; the PNG \
                 charts show them as empty boxes: {}. Draw the charts with a font that \
                 covers them to fix this.\n",
                md(&note),
            )?;
        }
        for kind in ChartKind::ALL {
            let of_kind: Vec<&ChartFile> = charts.iter().filter(|c| c.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            writeln!(s, "### {}\n", kind.title())?;
            for chart in &of_kind {
                match chart.format {
                    ChartFormat::Png => {
                        writeln!(s, "![{}]({})\n", kind.title(), link(&chart.path))?
                    }
                    ChartFormat::Svg => writeln!(s, "[SVG version]({})\n", link(&chart.path))?,
                }
            }
        }
    }
    Ok(())
}

/// Writes every chart and the Markdown report (`report.md`) into `dir`,
/// each file atomically, with the default [`ChartOptions`] and no crawl
/// parameters.
///
/// # Errors
/// As [`write_charts`](crate::write_charts), or [`AnalysisError::Io`] writing
/// the report.
pub fn write_report(summary: &Summary, dir: &Path) -> Result<ReportFiles> {
    write_report_with(summary, dir, &ChartOptions::default(), &[])
}

/// [`write_report`] with chart options (e.g. fallback fonts) and the
/// records file's key-value metadata, whose `sofleet.*` keys head the
/// report (see [`markdown_report`]).
///
/// # Errors
/// As [`write_charts_with`], or [`AnalysisError::Io`] writing the report.
pub fn write_report_with(
    summary: &Summary,
    dir: &Path,
    options: &ChartOptions,
    metadata: &[(String, String)],
) -> Result<ReportFiles> {
    let charts = write_charts_with(summary, dir, options)?;
    let text = markdown_report(summary, &charts, metadata);
    let report = dir.join(REPORT_FILE_NAME);
    write_atomically(&report, |file| {
        file.write_all(text.as_bytes())
            .map_err(|e| AnalysisError::io("write", &report, e))
    })?;
    Ok(ReportFiles { report, charts })
}
