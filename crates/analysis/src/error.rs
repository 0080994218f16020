//! The crate's error type.

use std::path::PathBuf;

use polars::prelude::PolarsError;

use crate::io::Format;

/// Result alias for this crate.
pub type Result<T, E = AnalysisError> = std::result::Result<T, E>;

/// Everything that can go wrong while building, aggregating, storing or
/// drawing frames. Each variant names the input it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// A polars operation failed on an in-memory frame.
    #[error("polars failed while {context}: {source}")]
    Polars {
        /// What was being done.
        context: String,
        /// The polars error.
        #[source]
        source: PolarsError,
    },
    /// The frame lacks a column the operation needs.
    #[error(
        "the frame has no column `{column}` (needed: {expected}); build it with \
         questions_frame() or read a file written from one"
    )]
    MissingColumn {
        /// The missing column.
        column: String,
        /// The data type that column must have.
        expected: String,
    },
    /// A column has the wrong data type.
    #[error(
        "column `{column}` has type {found}, expected {expected}; build the frame with \
         questions_frame() or read a file written from one"
    )]
    ColumnType {
        /// The column.
        column: String,
        /// Its data type.
        found: String,
        /// The data type it must have.
        expected: String,
    },
    /// A file or directory operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`"create"`, `"read"`, `"rename into place"`…).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a frame to a file failed (nothing was left at the target path).
    #[error("cannot write {} as {format}: {source}", path.display())]
    WriteFrame {
        /// The target file.
        path: PathBuf,
        /// The file format.
        format: Format,
        /// The polars error.
        #[source]
        source: PolarsError,
    },
    /// A file could not be read as a frame: it is missing, corrupt, or not in
    /// the given format.
    #[error(
        "cannot read {} as {format}: {source} (is it a {format} file written by sofleet? \
         re-create it or pass the right format)",
        path.display()
    )]
    ReadFrame {
        /// The file.
        path: PathBuf,
        /// The format it was read as.
        format: Format,
        /// The polars error.
        #[source]
        source: PolarsError,
    },
    /// A cell of a CSV or JSON Lines file with a known schema does not hold
    /// the text that column's type is stored as (a JSON array of strings for
    /// `tags`, ISO 8601 text for timestamps). Boxed to keep the error small.
    #[error(
        "cannot read {} as {}: row {} of column `{}` holds {:?}, which is not {}; fix that \
         cell or re-create the file with sofleet",
        .0.path.display(), .0.format, .0.row, .0.column, .0.value, .0.expected
    )]
    BadValue(Box<BadCell>),
    /// A file name has no extension this crate knows.
    #[error(
        "cannot tell the file format of {} from its extension; use .parquet, .csv or .jsonl",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A format name could not be parsed.
    #[error("unknown file format {name:?}; use parquet, csv or jsonl")]
    UnknownFormatName {
        /// The name given.
        name: String,
    },
    /// Drawing or encoding a chart failed.
    #[error("cannot draw chart {}: {message}", path.display())]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A font file given for the charts cannot be used.
    #[error("cannot use font file {}: {message}", path.display())]
    Font {
        /// The font file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The cell an [`AnalysisError::BadValue`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadCell {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The column.
    pub column: String,
    /// The row (1 = first data row).
    pub row: usize,
    /// The cell's text (cut to 80 characters).
    pub value: String,
    /// What the column needs, e.g. `"a JSON array of strings"`.
    pub expected: &'static str,
}

impl AnalysisError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        AnalysisError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Attaches a description of the operation to polars errors.
pub(crate) trait PolarsContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> PolarsContext<T> for std::result::Result<T, PolarsError> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| AnalysisError::Polars {
            context: context(),
            source,
        })
    }
}
