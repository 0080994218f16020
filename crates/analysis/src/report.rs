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

/// Renders the summary as Markdown: an overview, tables of the lesson's
/// answers (authors by count and by votes, most-voted author, questions per
/// tag, score statistics and histogram) and links to `charts` (PNG shown
/// inline, SVG linked). Chart links use the charts' file names, so write the
/// report into the charts' directory (see [`write_report`]).
///
/// ```
/// # use sofleet_analysis::{PartialAggregate, markdown_report};
/// let summary = PartialAggregate::default().summary(10);
/// let md = markdown_report(&summary, &[]);
/// assert!(md.contains("| Questions | 0 |"));
/// ```
pub fn markdown_report(summary: &Summary, charts: &[ChartFile]) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_report_text(&mut s, summary, charts);
    s
}

fn write_report_text(s: &mut String, summary: &Summary, charts: &[ChartFile]) -> std::fmt::Result {
    writeln!(s, "# Stack Overflow crawl report\n")?;
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
/// each file atomically, with the default [`ChartOptions`].
///
/// # Errors
/// As [`write_charts`](crate::write_charts), or [`AnalysisError::Io`] writing
/// the report.
pub fn write_report(summary: &Summary, dir: &Path) -> Result<ReportFiles> {
    write_report_with(summary, dir, &ChartOptions::default())
}

/// [`write_report`] with chart options (e.g. fallback fonts).
///
/// # Errors
/// As [`write_charts_with`], or [`AnalysisError::Io`] writing the report.
pub fn write_report_with(
    summary: &Summary,
    dir: &Path,
    options: &ChartOptions,
) -> Result<ReportFiles> {
    let charts = write_charts_with(summary, dir, options)?;
    let text = markdown_report(summary, &charts);
    let report = dir.join(REPORT_FILE_NAME);
    write_atomically(&report, |file| {
        file.write_all(text.as_bytes())
            .map_err(|e| AnalysisError::io("write", &report, e))
    })?;
    Ok(ReportFiles { report, charts })
}
