//! Finalisation: the existing output (minus rows the journal replaces) plus the journal's
//! records, written to a new file that atomically replaces the output, in bounded memory.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use polars::prelude::*;
use sofleet_analysis::{
    Format, FrameWriter, failure_schema, failures_frame, question_schema, questions_frame,
    read_frame_batches,
};
use sofleet_records::{CrawledQuestion, FailureKind, FailureRecord, Stage};

use crate::error::{Result, StoreError};
use crate::journal::{FAILURES, IdOnly, QUESTIONS, for_each_line};

/// Records per frame batch written (bounds memory while finalising).
const BATCH: usize = 1_000;

/// What a finalisation wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finalised {
    /// Question rows in the output file.
    pub questions: usize,
    /// Of those, rows kept from the existing output.
    pub kept: usize,
    /// Of those, rows from this run's journal (new or replacing an older row).
    pub from_journal: usize,
    /// Failure rows in the failures file.
    pub failures: usize,
    /// Records that could not be written (each also a failure row).
    pub unwritable: usize,
}

/// A 64-bit digest of a URL (sets of URLs in bounded memory).
fn url_digest(url: &str) -> u64 {
    let hash = blake3::hash(url.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The failure row for a record the output cannot take.
fn unwritable(url: String, message: String) -> FailureRecord {
    FailureRecord {
        url,
        stage: Stage::Question,
        kind: FailureKind::Other,
        http_status: None,
        attempts: 0,
        message,
    }
}

/// Writes `out` (and `failures_out`) from the existing `out` and the journal in `journal_dir`.
pub(crate) fn finalise(
    out: &Path,
    failures_out: &Path,
    format: Format,
    journal_dir: &Path,
    metadata: &[(String, String)],
) -> Result<Finalised> {
    let questions_path = journal_dir.join(QUESTIONS);
    // Pass 1: the last journal line of every question id wins.
    let mut last_line: HashMap<u64, u64> = HashMap::new();
    for_each_line(&questions_path, |n, line| {
        if let Ok(id) = serde_json::from_slice::<IdOnly>(line) {
            last_line.insert(id.question.id, n);
        }
    })?;

    let write_err = |source| StoreError::Write {
        path: out.to_owned(),
        source,
    };
    let mut writer =
        FrameWriter::create(out, format, &question_schema(), metadata).map_err(write_err)?;
    let mut report = Finalised::default();
    let mut extra_failures: Vec<FailureRecord> = Vec::new();

    // The existing output, minus the rows the journal replaces.
    if out.is_file() {
        let read_err = |source| StoreError::ReadExisting {
            path: out.to_owned(),
            source,
        };
        for batch in read_frame_batches(out, format).map_err(read_err)? {
            let mut batch = batch.map_err(read_err)?;
            let keep = keep_mask(&batch, &last_line).map_err(|e| StoreError::NotADataset {
                path: out.to_owned(),
                source: e,
            })?;
            let mut kept = batch.filter(&keep).map_err(|e| StoreError::NotADataset {
                path: out.to_owned(),
                source: e,
            })?;
            batch = DataFrame::empty();
            drop(batch);
            report.kept += kept.height();
            writer.write(&mut kept).map_err(write_err)?;
        }
    }

    // Pass 2: the journal's records, each id once (its last line), in batches.
    let mut succeeded: HashSet<u64> = HashSet::new();
    let mut batch: Vec<CrawledQuestion> = Vec::with_capacity(BATCH);
    let mut io_error = None;
    for_each_line(&questions_path, |n, line| {
        if io_error.is_some() {
            return;
        }
        match serde_json::from_slice::<CrawledQuestion>(line) {
            Ok(record) => {
                if last_line.get(&record.question.id) != Some(&n) {
                    return;
                }
                succeeded.insert(url_digest(&record.source_url));
                batch.push(record);
                if batch.len() >= BATCH
                    && let Err(e) =
                        write_batch(&mut writer, &mut batch, &mut report, &mut extra_failures)
                {
                    io_error = Some(e);
                }
            }
            Err(e) => extra_failures.push(unwritable(
                format!("{}#line-{n}", questions_path.display()),
                format!("journal line {n} is not a question record ({e}); it was left out"),
            )),
        }
    })?;
    if let Some(e) = io_error {
        return Err(write_err(e));
    }
    write_batch(&mut writer, &mut batch, &mut report, &mut extra_failures).map_err(write_err)?;
    writer.finish().map_err(write_err)?;
    report.questions = report.kept + report.from_journal;

    report.failures = write_failures(
        failures_out,
        format,
        &journal_dir.join(FAILURES),
        &succeeded,
        extra_failures,
    )?;
    Ok(report)
}

/// Rows of `batch` whose question id the journal does not replace.
fn keep_mask(batch: &DataFrame, replaced: &HashMap<u64, u64>) -> PolarsResult<BooleanChunked> {
    let ids = batch
        .column(sofleet_analysis::columns::QUESTION_ID)?
        .u64()?
        .clone();
    Ok(ids
        .into_iter()
        .map(|id| id.is_none_or(|id| !replaced.contains_key(&id)))
        .collect())
}

/// Writes a batch of records; if the frame cannot be built, record by record, turning the ones
/// the writer still refuses into failure rows.
fn write_batch(
    writer: &mut FrameWriter,
    batch: &mut Vec<CrawledQuestion>,
    report: &mut Finalised,
    failures: &mut Vec<FailureRecord>,
) -> std::result::Result<(), sofleet_analysis::AnalysisError> {
    if batch.is_empty() {
        return Ok(());
    }
    match questions_frame(batch) {
        Ok(mut frame) => {
            writer.write(&mut frame)?;
            report.from_journal += batch.len();
        }
        Err(_) => {
            for record in batch.iter() {
                match questions_frame(std::slice::from_ref(record)) {
                    Ok(mut frame) => {
                        writer.write(&mut frame)?;
                        report.from_journal += 1;
                    }
                    Err(e) => {
                        report.unwritable += 1;
                        failures.push(unwritable(
                            record.source_url.clone(),
                            format!(
                                "question {} could not be written to the output: {e}",
                                record.question.id
                            ),
                        ));
                    }
                }
            }
        }
    }
    batch.clear();
    Ok(())
}

/// Writes the failures file: the journal's failure rows for pages that never succeeded (the
/// last row per URL), then `extra` rows.
fn write_failures(
    path: &Path,
    format: Format,
    journal_failures: &Path,
    succeeded: &HashSet<u64>,
    extra: Vec<FailureRecord>,
) -> Result<usize> {
    let mut last_line: HashMap<u64, u64> = HashMap::new();
    for_each_line(journal_failures, |n, line| {
        if let Ok(record) = serde_json::from_slice::<FailureRecord>(line) {
            last_line.insert(url_digest(&record.url), n);
        }
    })?;
    let mut rows: Vec<FailureRecord> = Vec::new();
    for_each_line(journal_failures, |n, line| {
        match serde_json::from_slice::<FailureRecord>(line) {
            Ok(record) => {
                let digest = url_digest(&record.url);
                if last_line.get(&digest) == Some(&n) && !succeeded.contains(&digest) {
                    rows.push(record);
                }
            }
            Err(e) => rows.push(unwritable(
                format!("{}#line-{n}", journal_failures.display()),
                format!("journal line {n} is not a failure row ({e})"),
            )),
        }
    })?;
    rows.extend(extra);
    let write_err = |source| StoreError::Write {
        path: path.to_owned(),
        source,
    };
    let mut writer =
        FrameWriter::create(path, format, &failure_schema(), &[]).map_err(write_err)?;
    for chunk in rows.chunks(BATCH) {
        let mut frame = failures_frame(chunk).map_err(write_err)?;
        writer.write(&mut frame).map_err(write_err)?;
    }
    writer.finish().map_err(write_err)?;
    Ok(rows.len())
}
