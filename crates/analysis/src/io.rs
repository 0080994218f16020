//! Frames <-> files (Parquet, CSV, JSON Lines), written atomically.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, BadCell, PolarsContext, Result};
use crate::frame::known_schemas;
use crate::time::{format_datetime, parse_datetime_in};

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
/// is left behind. Missing parent directories are created. A thin wrapper
/// over [`FrameWriter`](crate::FrameWriter) (one batch, no metadata).
///
/// CSV and JSON Lines store timestamps as ISO 8601 text and CSV stores a
/// list of strings (the `tags` column) as JSON array text; [`read_frame`]
/// turns them back into typed columns for the frames this crate builds.
///
/// ```
/// use sofleet_analysis::{Format, questions_frame, read_frame, write_frame};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("questions.csv");
/// let mut frame = questions_frame(&[])?;
/// write_frame(&mut frame, &path, Format::Csv)?;
/// assert_eq!(read_frame(&path, Format::Csv)?.schema(), frame.schema());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`AnalysisError::Io`] for file-system failures, [`AnalysisError::WriteFrame`]
/// if polars cannot encode the frame (e.g. CSV cannot hold other nested
/// columns, and text formats cannot hold timestamps outside the years
/// 0000–9999).
pub fn write_frame(df: &mut DataFrame, path: &Path, format: Format) -> Result<()> {
    let schema = df.schema().clone();
    let mut writer = crate::FrameWriter::create(path, format, &schema, &[])?;
    writer.write(df)?;
    writer.finish()
}

/// Writes bytes produced by `fill` to `path` atomically (temp file + rename).
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<()>,
) -> Result<()> {
    let mut tmp = temp_file_for(path)?;
    fill(tmp.as_file_mut())?;
    persist(tmp, path)
}

/// A new temporary file in the directory of `path` (created if missing).
pub(crate) fn temp_file_for(path: &Path) -> Result<tempfile::NamedTempFile> {
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
    builder
        .tempfile_in(&dir)
        .map_err(|e| AnalysisError::io("create a temporary file in", &dir, e))
}

/// Syncs a complete temporary file and renames it over `path`.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
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
/// value (ids, empty strings vs nulls, all-null columns, tag lists,
/// timestamps) comes back unchanged; other files are read with inferred
/// types (timestamps and, in CSV, lists of strings then stay text). An empty JSON Lines file gives an
/// empty frame without columns. The whole file is read into memory; see
/// [`read_frame_batches`](crate::read_frame_batches) to stream a large
/// Parquet file.
///
/// # Errors
/// [`AnalysisError::Io`] if the file cannot be opened,
/// [`AnalysisError::ReadFrame`] (naming the file) if it is corrupt or not in
/// `format`, [`AnalysisError::BadValue`] if a `tags` or timestamp cell of a
/// known frame holds text that is not a JSON array of strings / a timestamp.
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
            let known = schema_for(&names);
            if let Some(schema) = &known {
                // In file order: CSV schemas are positional.
                let text = text_schema(schema, format);
                let ordered: Schema = names
                    .iter()
                    .filter_map(|n| {
                        text.get(n.as_str())
                            .map(|dt| Field::new(n.as_str().into(), dt.clone()))
                    })
                    .collect();
                options = options.with_schema(Some(Arc::new(ordered)));
            }
            let file = open()?;
            let df = guard(path, format, move || {
                options.into_reader_with_file_handle(file).finish()
            })?
            .map_err(read_err)?;
            match known {
                Some(schema) => decode_text(df, &schema, path, format),
                None => Ok(df),
            }
        }
        Format::JsonLines => {
            let Some(line) = first_line(path)? else {
                return Ok(DataFrame::empty());
            };
            let names: Vec<String> = match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            let known = schema_for(&names);
            let text = known.as_ref().map(|s| text_schema(s, format));
            let file = open()?;
            let df = guard(path, format, move || {
                let mut reader = JsonReader::new(file).with_json_format(JsonFormat::JsonLines);
                if let Some(text) = text {
                    reader = reader.with_schema(Arc::new(text));
                }
                reader.finish()
            })?
            .map_err(read_err)?;
            match known {
                Some(schema) => decode_text(df, &schema, path, format),
                None => Ok(df),
            }
        }
    }
}

/// The schema a frame of `schema` has in a text format: timestamps become
/// ISO 8601 text and, in CSV, lists of strings become JSON array text.
/// Parquet keeps every type.
pub(crate) fn text_schema(schema: &Schema, format: Format) -> Schema {
    schema
        .iter()
        .map(|(name, dtype)| Field::new(name.clone(), text_dtype(dtype, format)))
        .collect()
}

fn text_dtype(dtype: &DataType, format: Format) -> DataType {
    match dtype {
        DataType::Datetime(..) if format != Format::Parquet => DataType::String,
        DataType::List(inner) if format == Format::Csv && **inner == DataType::String => {
            DataType::String
        }
        other => other.clone(),
    }
}

/// `df` with its columns converted as [`text_schema`] says (borrowed when
/// nothing needs converting).
///
/// # Errors
/// A polars error naming the column for a timestamp outside the years
/// 0000–9999.
pub(crate) fn encode_text(df: &DataFrame, format: Format) -> PolarsResult<Cow<'_, DataFrame>> {
    let converts = |c: &Column| text_dtype(c.dtype(), format) != *c.dtype();
    if format == Format::Parquet || !df.get_columns().iter().any(converts) {
        return Ok(Cow::Borrowed(df));
    }
    let mut columns = Vec::with_capacity(df.width());
    for column in df.get_columns() {
        if !converts(column) {
            columns.push(column.clone());
            continue;
        }
        let name = column.name().clone();
        let text: StringChunked = match column.dtype() {
            DataType::Datetime(unit, tz) => {
                let (unit, utc) = (*unit, tz.is_some());
                let values = column.datetime()?.physical();
                let mut out = Vec::with_capacity(values.len());
                for value in values {
                    out.push(match value {
                        Some(v) => Some(format_datetime(v, unit, utc).ok_or_else(|| {
                            PolarsError::ComputeError(
                                format!(
                                    "column `{name}` holds a timestamp ({v} {unit}) outside the \
                                     years 0000-9999, which {format} text cannot hold; write \
                                     Parquet instead"
                                )
                                .into(),
                            )
                        })?),
                        None => None,
                    });
                }
                StringChunked::from_iter_options(name, out.into_iter())
            }
            _ => {
                let lists = column.list()?;
                let mut out: Vec<Option<String>> = Vec::with_capacity(lists.len());
                for list in lists.amortized_iter() {
                    out.push(match list {
                        Some(list) => {
                            let items: Vec<Option<&str>> = list.as_ref().str()?.iter().collect();
                            Some(serde_json::to_string(&items).map_err(|e| {
                                PolarsError::ComputeError(
                                    format!("cannot encode column `{name}` as JSON: {e}").into(),
                                )
                            })?)
                        }
                        None => None,
                    });
                }
                StringChunked::from_iter_options(name, out.into_iter())
            }
        };
        columns.push(text.into_column());
    }
    DataFrame::new(columns).map(Cow::Owned)
}

/// Turns the text columns of a frame read from CSV / JSON Lines back into
/// the types of `schema` (see [`text_schema`]).
fn decode_text(
    mut df: DataFrame,
    schema: &Schema,
    path: &Path,
    format: Format,
) -> Result<DataFrame> {
    for (name, dtype) in schema.iter() {
        let Ok(column) = df.column(name) else {
            continue;
        };
        if column.dtype() == dtype || column.dtype() != &DataType::String {
            continue;
        }
        let cells = column.str().map_err(|source| AnalysisError::ReadFrame {
            path: path.to_owned(),
            format,
            source,
        })?;
        let bad = |row: usize, value: &str, expected| {
            AnalysisError::BadValue(Box::new(BadCell {
                path: path.to_owned(),
                format,
                column: name.to_string(),
                row: row + 1,
                value: value.chars().take(80).collect(),
                expected,
            }))
        };
        let decoded = match dtype {
            DataType::Datetime(unit, tz) => {
                let mut values = Vec::with_capacity(cells.len());
                for (row, cell) in cells.iter().enumerate() {
                    values.push(match cell {
                        Some(text) => Some(
                            parse_datetime_in(text, *unit)
                                .ok_or_else(|| bad(row, text, "an ISO 8601 timestamp"))?,
                        ),
                        None => None,
                    });
                }
                Int64Chunked::from_iter_options(name.clone(), values.into_iter())
                    .into_datetime(*unit, tz.clone())
                    .into_column()
            }
            DataType::List(_) => {
                let mut lists =
                    ListStringChunkedBuilder::new(name.clone(), cells.len(), cells.len() * 2);
                for (row, cell) in cells.iter().enumerate() {
                    match cell {
                        Some(text) => {
                            let items: Vec<Option<String>> = serde_json::from_str(text)
                                .map_err(|_| bad(row, text, "a JSON array of strings"))?;
                            lists.append_trusted_len_iter(items.iter().map(|i| i.as_deref()));
                        }
                        None => lists.append_null(),
                    }
                }
                lists.finish().into_column()
            }
            _ => continue,
        };
        df.with_column(decoded)
            .ctx(|| format!("replacing column {name}"))?;
    }
    Ok(df)
}

/// Runs a polars reader, converting a panic into a [`AnalysisError::ReadFrame`].
pub(crate) fn guard<T>(path: &Path, format: Format, f: impl FnOnce() -> T) -> Result<T> {
    catch_panic(f).map_err(|what| AnalysisError::ReadFrame {
        path: path.to_owned(),
        format,
        source: PolarsError::ComputeError(format!("malformed file: {what}").into()),
    })
}

/// Runs `f`, turning a panic into its message.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "polars panicked".to_owned())
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
