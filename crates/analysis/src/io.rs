//! Frames <-> files (Parquet, CSV, JSON Lines), written atomically.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::frame::known_schemas;

/// A file format for frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Apache Parquet (zstd-compressed), the default: typed and compact.
    #[default]
    Parquet,
    /// CSV with a header row. Nulls are empty fields; empty strings are `""`.
    Csv,
    /// JSON Lines: one JSON object per row.
    JsonLines,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Parquet, Format::Csv, Format::JsonLines];

    /// The format a file name's extension names: `.parquet`/`.pq`, `.csv`,
    /// `.jsonl`/`.ndjson`; `None` for anything else.
    ///
    /// ```
    /// use sofleet_analysis::Format;
    /// assert_eq!(Format::from_path("out/q.jsonl".as_ref()), Some(Format::JsonLines));
    /// assert_eq!(Format::from_path("q.txt".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// Like [`from_path`](Self::from_path) but an error naming the file.
    ///
    /// # Errors
    /// [`AnalysisError::UnknownFormat`] for an unknown extension.
    pub fn from_path_or_err(path: &Path) -> Result<Format> {
        Format::from_path(path).ok_or_else(|| AnalysisError::UnknownFormat {
            path: path.to_owned(),
        })
    }

    /// The usual file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }

    /// A short name (`parquet`, `csv`, `jsonl`), accepted by [`FromStr`].
    pub fn as_str(self) -> &'static str {
        self.extension()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Parquet => "Parquet",
            Format::Csv => "CSV",
            Format::JsonLines => "JSON Lines",
        })
    }
}

impl FromStr for Format {
    type Err = AnalysisError;

    fn from_str(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json-lines" | "jsonlines" => Ok(Format::JsonLines),
            _ => Err(AnalysisError::UnknownFormatName { name: s.to_owned() }),
        }
    }
}

/// Writes `df` to `path` in `format`, atomically: the data goes to a
/// temporary file in the same directory, which is synced and then renamed
/// over `path`. Readers never see a half-written file, and on error nothing
/// is left behind. Missing parent directories are created.
///
/// # Errors
/// [`AnalysisError::Io`] for file-system failures, [`AnalysisError::WriteFrame`]
/// if polars cannot encode the frame (e.g. CSV cannot hold nested columns).
pub fn write_frame(df: &mut DataFrame, path: &Path, format: Format) -> Result<()> {
    write_atomically(path, |file| {
        let mut out = BufWriter::new(file);
        let written = match format {
            Format::Parquet => ParquetWriter::new(&mut out).finish(df).map(|_| ()),
            Format::Csv => CsvWriter::new(&mut out).include_header(true).finish(df),
            Format::JsonLines => JsonWriter::new(&mut out)
                .with_json_format(JsonFormat::JsonLines)
                .finish(df),
        };
        written.map_err(|source| AnalysisError::WriteFrame {
            path: path.to_owned(),
            format,
            source,
        })?;
        out.flush().map_err(|e| AnalysisError::io("write", path, e))
    })
}

/// Writes bytes produced by `fill` to `path` atomically (temp file + rename).
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| AnalysisError::io("create directory", &dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".sofleet-").suffix(".tmp");
    // Temporary files are private (0600) by default; the result is an
    // ordinary output file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(&dir)
        .map_err(|e| AnalysisError::io("create a temporary file in", &dir, e))?;
    fill(tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| AnalysisError::io("sync", tmp.path().to_owned(), e))?;
    tmp.persist(path)
        .map_err(|e| AnalysisError::io("rename into place", path, e.error))?;
    Ok(())
}

/// Reads a frame written by [`write_frame`] (or any file of that format).
///
/// Parquet files carry their schema. For CSV and JSON Lines, whose types
/// would otherwise be guessed, a file whose columns are exactly those of a
/// question, failure or tags frame is read with that frame's schema, so every
/// value (ids, empty strings vs nulls, all-null columns) comes back unchanged;
/// other files are read with inferred types. An empty JSON Lines file gives
/// an empty frame without columns.
///
/// # Errors
/// [`AnalysisError::Io`] if the file cannot be opened,
/// [`AnalysisError::ReadFrame`] (naming the file) if it is corrupt or not in
/// `format`.
pub fn read_frame(path: &Path, format: Format) -> Result<DataFrame> {
    let read_err = |source| AnalysisError::ReadFrame {
        path: path.to_owned(),
        format,
        source,
    };
    let open = || File::open(path).map_err(|e| AnalysisError::io("open", path, e));
    match format {
        Format::Parquet => {
            // polars panics on some malformed inputs; turn those into errors.
            let file = open()?;
            guard(path, format, move || ParquetReader::new(file).finish())?.map_err(read_err)
        }
        Format::Csv => {
            let header = first_line(path)?;
            let names = header.as_deref().map(csv_header_names).unwrap_or_default();
            let mut options = CsvReadOptions::default().with_has_header(true);
            if let Some(schema) = schema_for(&names) {
                // In file order: CSV schemas are positional.
                let ordered: Schema = names
                    .iter()
                    .filter_map(|n| {
                        schema
                            .get(n.as_str())
                            .map(|dt| Field::new(n.as_str().into(), dt.clone()))
                    })
                    .collect();
                options = options.with_schema(Some(Arc::new(ordered)));
            }
            let file = open()?;
            guard(path, format, move || {
                options.into_reader_with_file_handle(file).finish()
            })?
            .map_err(read_err)
        }
        Format::JsonLines => {
            let Some(line) = first_line(path)? else {
                return Ok(DataFrame::empty());
            };
            let names: Vec<String> = match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            let schema = schema_for(&names);
            let file = open()?;
            guard(path, format, move || {
                let mut reader = JsonReader::new(file).with_json_format(JsonFormat::JsonLines);
                if let Some(schema) = schema {
                    reader = reader.with_schema(Arc::new(schema));
                }
                reader.finish()
            })?
            .map_err(read_err)
        }
    }
}

/// Runs a polars reader, converting a panic into a [`AnalysisError::ReadFrame`].
fn guard<T>(path: &Path, format: Format, f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the reader panicked".to_owned());
        AnalysisError::ReadFrame {
            path: path.to_owned(),
            format,
            source: PolarsError::ComputeError(format!("malformed file: {what}").into()),
        }
    })
}

/// The first non-empty line of a file, if any.
fn first_line(path: &Path) -> Result<Option<String>> {
    let file = File::open(path).map_err(|e| AnalysisError::io("open", path, e))?;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| AnalysisError::io("read", path, e))?;
        if !line.trim().is_empty() {
            return Ok(Some(line));
        }
    }
    Ok(None)
}

/// Column names of a CSV header line written by polars (quoted only when needed).
fn csv_header_names(line: &str) -> Vec<String> {
    line.trim_end_matches('\r')
        .split(',')
        .map(|n| n.trim_matches('"').to_owned())
        .collect()
}

/// The known schema whose column set equals `names`, if any.
fn schema_for(names: &[String]) -> Option<Schema> {
    known_schemas().into_iter().find(|schema| {
        schema.len() == names.len() && names.iter().all(|n| schema.contains(n.as_str()))
    })
}
