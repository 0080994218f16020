//! `sofleet extract FILE...`: saved pages → JSON Lines on stdout, either one object per file
//! or (`--records`) the crawl's records, which `sofleet report` reads.

use std::io::Write;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde_json::json;
use sofleet_analysis::polars::prelude::{JsonFormat, JsonWriter, SerWriter};
use sofleet_analysis::questions_frame;
use sofleet_extract::{Page, parse_page_bytes};
use sofleet_records::CrawledQuestion;

use crate::args::ExtractArgs;
use crate::exit::{CmdResult, Failure};

/// Records written to stdout at once with `--records` (memory stays flat however many files).
const RECORDS_PER_BATCH: usize = 256;

/// One JSON object per file: `{"file", "kind", "record"}` for a question or
/// listing page, `{"file", "kind": "blocked", "blocked_by"}` for a captcha,
/// 429 or 404 page, `{"file", "kind": "error", "error_kind", "error"}` for
/// anything else (unreadable, empty, truncated, not a Stack Overflow page). A file that
/// fails does not stop the others; the exit code says some failed: 1 when a file could not
/// be read at all (a wrong path), 4 when a page could not be extracted.
pub fn run(args: ExtractArgs) -> CmdResult {
    if args.records {
        return run_records(&args);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut tally = Tally::default();
    for file in &args.files {
        let line = match extract_file(file) {
            Ok(line) => line,
            Err(Unextracted::Unreadable(line, reason)) => {
                tally.unreadable.get_or_insert(reason);
                tally.unreadable_count += 1;
                line
            }
            Err(Unextracted::Failed(line)) => {
                tally.failed += 1;
                line
            }
        };
        writeln!(out, "{line}").map_err(|e| Failure::Input(e.into()))?;
    }
    out.flush().map_err(|e| Failure::Input(e.into()))?;
    tally.result(args.files.len(), "see the error lines")
}

/// What went wrong with the files.
#[derive(Default)]
struct Tally {
    /// The first file that could not be read (`FILE (reason)`), and how many could not.
    unreadable: Option<String>,
    unreadable_count: usize,
    /// Files read but not extracted (or, with `--records`, not question pages).
    failed: usize,
}

impl Tally {
    fn result(&self, files: usize, hint: &str) -> CmdResult {
        if let Some(first) = &self.unreadable {
            return Err(Failure::Input(anyhow::anyhow!(
                "cannot read {first}{}: check the path (a shell pattern that matches nothing \
                 is passed as it is){}",
                match self.unreadable_count {
                    1 => String::new(),
                    n => format!(" and {} other files", n - 1),
                },
                match self.failed {
                    0 => String::new(),
                    n => format!("; {n} of the other files could not be extracted ({hint})"),
                }
            )));
        }
        if self.failed > 0 {
            return Err(Failure::Partial(format!(
                "{} of {files} files could not be extracted ({hint})",
                self.failed
            )));
        }
        Ok(())
    }
}

enum Unextracted {
    /// The file could not be read: its line, and `FILE (reason)`.
    Unreadable(serde_json::Value, String),
    /// The file was read but is not a page the extractor can read.
    Failed(serde_json::Value),
}

fn extract_file(file: &Path) -> Result<serde_json::Value, Unextracted> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| {
        Unextracted::Unreadable(
            json!({"file": name, "kind": "error", "error_kind": "io",
                   "error": format!("cannot read {name}: {e}")}),
            format!("{name} ({e})"),
        )
    })?;
    match parse_page_bytes(&bytes) {
        Ok(page) => Ok(json!({"file": name, "kind": page.kind(), "record": page})),
        // A captcha, 429 or 404 page is a page we know: report it as blocked.
        Err(e) => match e.block_kind() {
            Some(block) => Ok(json!({"file": name, "kind": "blocked",
                                     "blocked_by": block.as_str(), "message": e.to_string()})),
            None => Err(Unextracted::Failed(
                json!({"file": name, "kind": "error", "error_kind": e.kind(),
                               "error": format!("{name}: {e}")}),
            )),
        },
    }
}

/// `--records`: question pages as the crawl's records, in batches; every other file is named
/// on stderr.
fn run_records(args: &ExtractArgs) -> CmdResult {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut tally = Tally::default();
    let mut batch: Vec<CrawledQuestion> = Vec::with_capacity(RECORDS_PER_BATCH);
    for file in &args.files {
        let name = file.display();
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{name}: cannot read it: {e}");
                tally
                    .unreadable
                    .get_or_insert_with(|| format!("{name} ({e})"));
                tally.unreadable_count += 1;
                continue;
            }
        };
        match parse_page_bytes(&bytes) {
            Ok(Page::Question(question)) => {
                batch.push(record(file, question));
                if batch.len() == RECORDS_PER_BATCH {
                    write_records(&mut out, &batch)?;
                    batch.clear();
                }
            }
            Ok(Page::Listing(_)) => {
                eprintln!("{name}: a listing page, not a question page: skipped");
                tally.failed += 1;
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                tally.failed += 1;
            }
        }
    }
    write_records(&mut out, &batch)?;
    out.flush().map_err(|e| Failure::Input(e.into()))?;
    tally.result(
        args.files.len(),
        "named above; only question pages become records",
    )
}

/// The record of a saved question page: its canonical URL when the page names its host, and
/// the file's modification time as the fetch time.
fn record(file: &Path, question: sofleet_extract::Question) -> CrawledQuestion {
    let host = question
        .site_host
        .clone()
        .unwrap_or_else(|| "stackoverflow.com".to_owned());
    let fetched_at_ms = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    CrawledQuestion {
        source_url: format!("https://{host}/questions/{}", question.id),
        question,
        listing_url: None,
        listing_tag: None,
        listing_page: None,
        fetched_at_ms,
    }
}

fn write_records(out: &mut impl Write, records: &[CrawledQuestion]) -> CmdResult {
    if records.is_empty() {
        return Ok(());
    }
    let mut frame = questions_frame(records).map_err(|e| Failure::Input(e.into()))?;
    JsonWriter::new(out)
        .with_json_format(JsonFormat::JsonLines)
        .finish(&mut frame)
        .map_err(|e| Failure::Input(anyhow::anyhow!("cannot write the records: {e}")))
}
