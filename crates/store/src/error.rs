//! The store's error type.

use std::path::PathBuf;

/// What can go wrong with a dataset on disk. Every variant names the file and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The output path is unusable (a directory, no known extension, …).
    #[error("cannot use {} as the output: {reason}", path.display())]
    BadOutput {
        /// The path given.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
    /// Another process holds the journal.
    #[error(
        "another sofleet crawl is writing {} (its journal {} is locked); wait for it to finish or stop it first",
        out.display(),
        journal.display()
    )]
    Busy {
        /// The output file.
        out: PathBuf,
        /// The journal directory.
        journal: PathBuf,
    },
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("create", "append to", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The existing output could not be read (so it cannot be merged with new records).
    #[error(
        "cannot read the existing output {}: {source} (move it away to start a new dataset there)",
        path.display()
    )]
    ReadExisting {
        /// The existing output file.
        path: PathBuf,
        /// What the reader said.
        #[source]
        source: sofleet_analysis::AnalysisError,
    },
    /// The existing output lacks a column a dataset has, or has it with another type.
    #[error(
        "the existing output {} is not a sofleet dataset: {source} (move it away to start a new dataset there)",
        path.display()
    )]
    NotADataset {
        /// The existing output file.
        path: PathBuf,
        /// What polars said.
        #[source]
        source: polars::prelude::PolarsError,
    },
    /// Writing the output failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the writer said.
        #[source]
        source: sofleet_analysis::AnalysisError,
    },
}

impl StoreError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;
