//! A crawl's dataset on disk, built to survive being killed at any moment.
//!
//! A crawl writes into `posts.parquet` (or `.csv`, `.jsonl`). While it runs, every record,
//! failure row and listing page goes straight into a **journal**, the directory
//! `posts.parquet.journal/` beside the output: append-only JSON Lines files, one line per record,
//! written the moment the record arrives ([`Journal`]). When the crawl ends — finished, or stopped
//! by Ctrl-C / SIGTERM / SIGHUP — [`Dataset::finalise`] merges the existing output (if any) with
//! the journal into a new file that atomically replaces the output, in batches, so memory stays
//! bounded however large the dataset. A finished crawl then deletes its journal; a stopped one
//! keeps it, so the next run knows which listing pages it already read.
//!
//! Guarantees:
//! - **SIGKILL / OOM**: every record handed to the journal is on disk (the kernel has it); the
//!   journal is synced at most a second apart, so a power cut loses at most the last second. A
//!   line cut short by the kill is cut off when the journal is opened again.
//! - **Exact resume**: re-running the same command reads the output's and the journal's question
//!   ids and the journal's listing pages, and fetches only what is missing; finalisation keeps
//!   each question id once (the newest record wins).
//! - **Readable at all times**: the output is only ever replaced whole (temporary file + rename);
//!   the journal is plain JSON Lines.
//!
//! ```
//! # fn main() -> Result<(), sofleet_store::StoreError> {
//! use sofleet_store::Dataset;
//! let dir = tempfile::tempdir().unwrap();
//! let dataset = Dataset::new(&dir.path().join("posts.parquet"))?;
//! assert!(dataset.journal_dir().ends_with("posts.parquet.journal"));
//! assert!(dataset.failures_path().ends_with("posts.failures.parquet"));
//! let journal = dataset.open_journal(0)?;
//! let done = dataset.finalise(&[("sofleet.tags".into(), "[\"dask\"]".into())])?;
//! assert_eq!(done.questions, 0);
//! journal.remove()?;
//! assert!(dataset.out().is_file());
//! # Ok(()) }
//! ```

mod error;
mod finalise;
mod journal;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sofleet_analysis::{Format, read_frame_batches};

pub use error::{Result, StoreError};
pub use finalise::Finalised;
pub use journal::{BadLine, Journal};

/// The files of one dataset: the output, its failures file and its journal directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    out: PathBuf,
    format: Format,
    failures_out: PathBuf,
    journal_dir: PathBuf,
}

impl Dataset {
    /// The dataset written to `out`, whose extension names the format (`.parquet`, `.csv`,
    /// `.jsonl`). Checks, before any work is done, that `out` is not a directory and that its
    /// folder exists and is writable (a typo in `--out` must not create a directory tree).
    ///
    /// # Errors
    /// [`StoreError::BadOutput`] saying what is wrong with `out` and what to do;
    /// [`StoreError::Io`] if its folder is missing or not writable.
    pub fn new(out: &Path) -> Result<Dataset> {
        let bad = |reason: String| StoreError::BadOutput {
            path: out.to_owned(),
            reason,
        };
        if out.is_dir() {
            return Err(bad(
                "it is a directory; name a file in it, e.g. posts.parquet".into(),
            ));
        }
        let format = Format::from_path(out).ok_or_else(|| {
            bad(
                "its extension is not .parquet, .csv or .jsonl; the extension picks the format"
                    .into(),
            )
        })?;
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dir.exists() && !dir.is_dir() {
            return Err(bad(format!("{} is not a directory", dir.display())));
        }
        // The folder must exist: a typo in --out should not silently create a directory tree.
        tempfile::Builder::new()
            .prefix(".sofleet-")
            .tempfile_in(&dir)
            .map_err(|e| StoreError::io("write the output", out, e))?;
        let name = out
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "posts".into());
        let stem = out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "posts".into());
        Ok(Dataset {
            out: out.to_owned(),
            format,
            failures_out: dir.join(format!("{stem}.failures.{}", format.extension())),
            journal_dir: dir.join(format!("{name}.journal")),
        })
    }

    /// The output file.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// The output's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The failures file beside the output (`posts.parquet` → `posts.failures.parquet`).
    pub fn failures_path(&self) -> &Path {
        &self.failures_out
    }

    /// The journal directory (`posts.parquet` → `posts.parquet.journal`).
    pub fn journal_dir(&self) -> &Path {
        &self.journal_dir
    }

    /// Whether an unfinished run left its journal.
    pub fn has_journal(&self) -> bool {
        self.journal_dir.is_dir()
    }

    /// Opens (or takes up) the journal; see [`Journal::open`].
    ///
    /// # Errors
    /// As [`Journal::open`].
    pub fn open_journal(&self, now_ms: i64) -> Result<Journal> {
        Journal::open(&self.journal_dir, now_ms)
    }

    /// The question ids in the existing output with their fetch times (Unix ms), read in
    /// batches; empty when there is no output yet.
    ///
    /// # Errors
    /// [`StoreError::ReadExisting`] if the output exists but cannot be read.
    pub fn existing_questions(&self) -> Result<HashMap<u64, i64>> {
        let mut ids = HashMap::new();
        if !self.out.is_file() {
            return Ok(ids);
        }
        let read_err = |source| StoreError::ReadExisting {
            path: self.out.clone(),
            source,
        };
        let polars_err = |e: PolarsError| StoreError::NotADataset {
            path: self.out.clone(),
            source: e,
        };
        for batch in read_frame_batches(&self.out, self.format).map_err(read_err)? {
            let batch = batch.map_err(read_err)?;
            let id = batch
                .column(sofleet_analysis::columns::QUESTION_ID)
                .map_err(polars_err)?
                .u64()
                .map_err(polars_err)?
                .clone();
            let fetched = batch
                .column(sofleet_analysis::columns::FETCHED_AT)
                .map_err(polars_err)?
                .cast(&DataType::Int64)
                .map_err(polars_err)?;
            let fetched = fetched.i64().map_err(polars_err)?;
            for (id, at) in id.into_iter().zip(fetched) {
                if let Some(id) = id {
                    ids.insert(id, at.unwrap_or(0));
                }
            }
        }
        Ok(ids)
    }

    /// Writes the output (existing rows the journal does not replace, then the journal's
    /// records, each question id once) and the failures file (the journal's failure rows for
    /// pages that never succeeded), each atomically, with `metadata` in the Parquet footer.
    /// The journal is left in place: remove it with [`Journal::remove`] once the run is
    /// complete.
    ///
    /// # Errors
    /// [`StoreError::ReadExisting`] if the existing output cannot be read (it is left as it
    /// is), [`StoreError::Write`] / [`StoreError::Io`] if the new files cannot be written.
    pub fn finalise(&self, metadata: &[(String, String)]) -> Result<Finalised> {
        finalise::finalise(
            &self.out,
            &self.failures_out,
            self.format,
            &self.journal_dir,
            metadata,
        )
    }
}
