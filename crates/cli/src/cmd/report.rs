//! `sofleet report`: the lesson's answers from a records file.

use std::fmt::Write as _;

use anyhow::Context;
use sofleet_analysis::{
    AnalysisError, ChartOptions, Format, Summary, TagSummary, markdown_report, missing_glyphs_note,
    read_frame, read_metadata, summaries_by_tag, without_community_wiki, write_report_with,
};
use unicode_width::UnicodeWidthStr;

use crate::args::{ReportArgs, ReportFormat, ReportGroup};
use crate::exit::{CmdResult, Failure};

/// Reads the records, aggregates them, prints the answers; optionally writes
/// the charts and `report.md`.
pub fn run(args: ReportArgs) -> CmdResult {
    let format =
        Format::from_path_or_err(&args.input).map_err(|e| Failure::Usage(e.to_string()))?;
    if !args.input.exists() {
        return Err(Failure::Input(anyhow::anyhow!(
            "{} does not exist (write one with `sofleet crawl --out {}`)",
            args.input.display(),
            args.input.display()
        )));
    }
    let frame = read_frame(&args.input, format).map_err(|e| {
        Failure::Input(anyhow::anyhow!(
            "{e} — is {} a records file written by `sofleet crawl`?",
            args.input.display()
        ))
    })?;
    // The crawl's parameters (Parquet footer; none for CSV / JSON Lines) head report.md.
    let metadata = read_metadata(&args.input).map_err(|e| {
        Failure::Input(anyhow::anyhow!(
            "{e} — is {} a records file written by `sofleet crawl`?",
            args.input.display()
        ))
    })?;
    let frame = if args.exclude_community_wiki {
        without_community_wiki(&frame).map_err(|e| not_records(&args, &e))?
    } else {
        frame
    };
    let summary =
        Summary::from_frame(&frame, args.top as usize).map_err(|e| not_records(&args, &e))?;
    let by_tag = match args.by {
        Some(ReportGroup::Tag) => {
            let tags = summary.questions_per_tag.iter().take(args.top as usize);
            summaries_by_tag(&frame, tags.map(|t| t.tag.as_str()), 3)
                .with_context(|| format!("cannot split {} by tag", args.input.display()))?
        }
        None => Vec::new(),
    };

    let mut charts = Vec::new();
    if let Some(dir) = &args.charts {
        let options = ChartOptions {
            fallback_fonts: args.chart_fonts.clone(),
        };
        let files = write_report_with(&summary, dir, &options, &metadata).map_err(|e| match e {
            AnalysisError::Font { .. } => Failure::Input(anyhow::anyhow!(
                "{e} — pass a TrueType or OpenType font file to --chart-font"
            )),
            other => Failure::Input(
                anyhow::Error::new(other)
                    .context(format!("cannot write the report into {}", dir.display())),
            ),
        })?;
        eprintln!("wrote {}", files.report.display());
        for chart in &files.charts {
            eprintln!("wrote {} ({} bars)", chart.path.display(), chart.bars);
        }
        if let Some(note) = missing_glyphs_note(&files.charts) {
            eprintln!(
                "warning: the chart fonts have no glyph for {note}; they show as boxes in \
                 the PNG charts. Add a font that covers them with --chart-font FILE."
            );
        }
        charts = files.charts;
    }

    let text = match args.format {
        ReportFormat::Table => table(&summary) + &tag_sections(&by_tag, false),
        ReportFormat::Md => {
            markdown_report(&summary, &charts, &metadata) + &tag_sections(&by_tag, true)
        }
        ReportFormat::Json if args.by.is_some() => {
            serde_json::to_string_pretty(&serde_json::json!({
                "summary": summary,
                "by_tag": by_tag,
            }))
            .context("cannot encode the summary")?
        }
        ReportFormat::Json => {
            serde_json::to_string_pretty(&summary).context("cannot encode the summary")?
        }
    };
    println!("{text}");
    Ok(())
}

/// A file that is not a crawl's records, said in CLI terms: which file, what it lacks, and
/// the commands that make a records file.
fn not_records(args: &ReportArgs, e: &AnalysisError) -> Failure {
    let file = args.input.display();
    let what = match e {
        AnalysisError::MissingColumn { column, .. } => format!("it has no column `{column}`"),
        AnalysisError::ColumnType {
            column,
            found,
            expected,
            ..
        } => format!("its column `{column}` holds {found}, not {expected}"),
        other => other.to_string(),
    };
    Failure::Input(anyhow::anyhow!(
        "{file} is not a file of question records ({what}): `sofleet report` reads what \
         `sofleet crawl --out {file}` writes; from saved pages, make one with `sofleet extract \
         PAGES --records > {file}` (plain `sofleet extract` writes one object per page, which \
         report cannot read)"
    ))
}

/// `--by tag`: for each tag, its questions and top answerers (Markdown or text).
fn tag_sections(by_tag: &[TagSummary], markdown: bool) -> String {
    let mut out = String::new();
    if by_tag.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        if markdown {
            "\n## By tag\n"
        } else {
            "\nby tag"
        }
    );
    for t in by_tag {
        let s = &t.summary;
        let top: Vec<String> = s
            .authors_by_votes
            .iter()
            .map(|a| format!("{} ({} votes)", a.author, a.votes))
            .collect();
        let line = format!(
            "{}: {} questions, {} answered, {} with an accepted answer; top answerers: {}",
            t.tag,
            s.questions,
            s.answered,
            s.with_accepted,
            if top.is_empty() {
                "none".to_owned()
            } else {
                top.join(", ")
            }
        );
        let _ = writeln!(out, "{}{line}", if markdown { "- " } else { "  " });
    }
    out
}

/// The lesson's answers as aligned text tables.
pub fn table(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} questions: {} answered, {} unanswered ({:.1} %), {} with an accepted answer ({:.1} %)",
        s.questions,
        s.answered,
        s.unanswered,
        s.share_unanswered * 100.0,
        s.with_accepted,
        s.share_accepted * 100.0
    );
    if let Some(best) = &s.most_voted_author {
        let _ = writeln!(
            out,
            "most votes on top answers: {} ({} votes)",
            best.author, best.votes
        );
    }
    let width = s
        .authors_by_votes
        .iter()
        .map(|a| a.author.width())
        .chain(s.authors_by_count.iter().map(|a| a.author.width()))
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(out, "\ntop answerers by total top-answer votes");
    for (rank, a) in s.authors_by_votes.iter().enumerate() {
        let pad = pad(&a.author, width);
        let _ = writeln!(out, "{:>3}. {}{pad}  {:>7}", rank + 1, a.author, a.votes);
    }
    let _ = writeln!(out, "\ntop answerers by number of top answers");
    for (rank, a) in s.authors_by_count.iter().enumerate() {
        let pad = pad(&a.author, width);
        let _ = writeln!(out, "{:>3}. {}{pad}  {:>7}", rank + 1, a.author, a.count);
    }
    let _ = writeln!(out, "\nquestions per tag");
    for t in s.questions_per_tag.iter().take(s.top_n) {
        let pad = pad(&t.tag, width);
        let _ = writeln!(out, "     {}{pad}  {:>7}", t.tag, t.questions);
    }
    out
}

/// Spaces that pad `text` to `width` terminal columns (CJK characters take two).
fn pad(text: &str, width: usize) -> String {
    " ".repeat(width.saturating_sub(text.width()))
}

#[cfg(test)]
mod tests {
    use super::pad;

    #[test]
    fn padding_counts_terminal_columns() {
        assert_eq!(pad("abc", 6).len(), 3);
        assert_eq!(pad("李雷", 6).len(), 2);
        assert_eq!(pad("Zoë", 6).len(), 3);
    }
}
