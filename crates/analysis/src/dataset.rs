//! Streaming frame files: [`FrameWriter`] (batch by batch, atomic, with
//! Parquet key-value metadata), [`read_frame_batches`] and [`read_metadata`].

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::frame::chunk_df_for_writing;
use polars::io::parquet::write::BatchedWriter as ParquetBatchedWriter;
use polars::prelude::*;
use tempfile::NamedTempFile;

use crate::error::{AnalysisError, Result};
use crate::io::{
    Format, catch_panic, encode_text, guard, persist, read_frame, temp_file_for, text_schema,
};

/// The key under which polars stores the Arrow schema in a Parquet footer;
/// not user metadata, so [`read_metadata`] leaves it out and
/// [`FrameWriter::create`] refuses it.
const ARROW_SCHEMA_KEY: &str = "ARROW:schema";

/// Most rows per Parquet row group (polars' default); a batch larger than
/// this becomes several row groups.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// Writes a frame file batch by batch, atomically, in bounded memory.
///
/// [`create`](Self::create) opens a temporary file next to the target;
/// each [`write`](Self::write) encodes one batch and hands it to the file
/// (Parquet: one or more row groups through polars' batched writer; CSV: the
/// rows, after the header written at creation; JSON Lines: the rows), so
/// earlier batches are not kept in memory; [`finish`](Self::finish) writes
/// the Parquet footer, flushes, syncs and renames the file into place.
/// Until then readers of the target path see the old file (or none);
/// dropping the writer without `finish` — or after a failed `write` —
/// removes the temporary file and leaves the target untouched.
///
/// Key-value metadata (e.g. the crawl's parameters) is stored in the
/// Parquet footer, readable with [`read_metadata`] or any Parquet tool. CSV
/// and JSON Lines files carry no metadata: it is ignored for them.
///
/// ```
/// use sofleet_analysis::{FrameWriter, Format, question_schema, questions_frame, read_metadata};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("questions.parquet");
/// let metadata = vec![("sofleet.tags".to_owned(), "python,dask".to_owned())];
/// let mut writer = FrameWriter::create(&path, Format::Parquet, &question_schema(), &metadata)?;
/// for _page in 0..3 {
///     writer.write(&mut questions_frame(&[])?)?; // one page of records at a time
/// }
/// writer.finish()?;
/// assert_eq!(read_metadata(&path)?, metadata);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FrameWriter {
    path: PathBuf,
    format: Format,
    schema: Schema,
    // Declared before `tmp` so the clone of its handle closes first.
    sink: Sink,
    tmp: NamedTempFile,
    rows: u64,
}

enum Sink {
    Parquet(Box<ParquetBatchedWriter<BufWriter<File>>>),
    Text(BufWriter<File>),
    /// A write failed: the file is incomplete and must not be persisted.
    Failed,
}

impl fmt::Debug for FrameWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameWriter")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("rows", &self.rows)
            .field("failed", &matches!(self.sink, Sink::Failed))
            .finish_non_exhaustive()
    }
}

impl FrameWriter {
    /// Starts writing frames of `schema` to `path` in `format`, with the
    /// Parquet key-value `metadata` (ignored for CSV and JSON Lines). The
    /// data goes to a temporary file in `path`'s directory (created if
    /// missing) until [`finish`](Self::finish). A CSV file gets its header
    /// now, so a file finished without batches still names its columns.
    ///
    /// # Errors
    /// [`AnalysisError::Io`] if the directory or temporary file cannot be
    /// created, [`AnalysisError::WriteFrame`] if polars cannot encode
    /// `schema` in `format` or a metadata key is `ARROW:schema` (reserved by
    /// polars for the Arrow schema).
    pub fn create(
        path: &Path,
        format: Format,
        schema: &Schema,
        metadata: &[(String, String)],
    ) -> Result<FrameWriter> {
        let write_err = |source| AnalysisError::WriteFrame {
            path: path.to_owned(),
            format,
            source,
        };
        if metadata.iter().any(|(key, _)| key == ARROW_SCHEMA_KEY) {
            return Err(write_err(PolarsError::ComputeError(
                format!("the metadata key {ARROW_SCHEMA_KEY} is reserved; use another key").into(),
            )));
        }
        let tmp = temp_file_for(path)?;
        let handle = tmp
            .as_file()
            .try_clone()
            .map_err(|e| AnalysisError::io("open", tmp.path().to_owned(), e))?;
        let mut out = BufWriter::new(handle);
        let sink = match format {
            Format::Parquet => {
                let kv = (!metadata.is_empty())
                    .then(|| KeyValueMetadata::from_static(metadata.to_vec()));
                let writer = ParquetWriter::new(out).with_key_value_metadata(kv);
                let batched = catch_panic(|| writer.batched(schema))
                    .map_err(panicked)
                    .and_then(|r| r)
                    .map_err(write_err)?;
                Sink::Parquet(Box::new(batched))
            }
            Format::Csv => {
                let mut header = DataFrame::empty_with_schema(&text_schema(schema, format));
                CsvWriter::new(&mut out)
                    .include_header(true)
                    .finish(&mut header)
                    .map_err(write_err)?;
                Sink::Text(out)
            }
            Format::JsonLines => Sink::Text(out),
        };
        Ok(FrameWriter {
            path: path.to_owned(),
            format,
            schema: schema.clone(),
            sink,
            tmp,
            rows: 0,
        })
    }

    /// Appends the rows of `df`, which must have exactly the writer's schema
    /// (names, order and types). Each non-empty call to a Parquet writer
    /// makes at least one row group, so write batches of hundreds or
    /// thousands of rows (e.g. one listing page), not single rows. `df` may
    /// be rechunked in place.
    ///
    /// # Errors
    /// [`AnalysisError::WriteFrame`] if the schema differs (nothing is
    /// written) or polars cannot encode the batch, [`AnalysisError::Io`] if
    /// the file cannot be written. After an encoding or I/O error the file
    /// is incomplete: further calls and [`finish`](Self::finish) fail, and
    /// dropping the writer removes the temporary file.
    pub fn write(&mut self, df: &mut DataFrame) -> Result<()> {
        if let Some(problem) = schema_difference(&self.schema, df.schema()) {
            return Err(self.error(PolarsError::SchemaMismatch(
                format!("the batch does not match the file's schema: {problem}").into(),
            )));
        }
        if matches!(self.sink, Sink::Failed) {
            return Err(self.failed());
        }
        if df.height() == 0 {
            return Ok(());
        }
        let format = self.format;
        let written = match &mut self.sink {
            Sink::Parquet(batched) => catch_panic(|| {
                let chunked = chunk_df_for_writing(df, ROW_GROUP_ROWS)?;
                batched.write_batch(&chunked)
            })
            .map_err(panicked)
            .and_then(|r| r),
            Sink::Text(out) => catch_panic(|| {
                let mut text = encode_text(df, format)?.into_owned();
                match format {
                    Format::Csv => CsvWriter::new(&mut *out)
                        .include_header(false)
                        .finish(&mut text),
                    _ => JsonWriter::new(&mut *out)
                        .with_json_format(JsonFormat::JsonLines)
                        .finish(&mut text),
                }
            })
            .map_err(panicked)
            .and_then(|r| r),
            Sink::Failed => unreachable!("checked above"),
        };
        match written {
            Ok(()) => {
                self.rows += df.height() as u64;
                Ok(())
            }
            Err(source) => {
                self.sink = Sink::Failed;
                Err(self.error(source))
            }
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the Parquet footer (with the metadata), flushes, syncs and
    /// renames the file into place, replacing any file at the path.
    ///
    /// # Errors
    /// [`AnalysisError::WriteFrame`] if the footer cannot be encoded or an
    /// earlier [`write`](Self::write) failed, [`AnalysisError::Io`] if the
    /// file cannot be written, synced or renamed. Nothing is left at the
    /// target path or in its directory on error.
    pub fn finish(self) -> Result<()> {
        let FrameWriter {
            path,
            format,
            sink,
            tmp,
            ..
        } = self;
        let write_err = |source| AnalysisError::WriteFrame {
            path: path.clone(),
            format,
            source,
        };
        match sink {
            Sink::Parquet(batched) => {
                // Writes the footer and flushes the buffer (polars' `end_file`).
                catch_panic(|| batched.finish())
                    .map_err(panicked)
                    .and_then(|r| r)
                    .map_err(write_err)?;
            }
            Sink::Text(mut out) => out
                .flush()
                .map_err(|e| AnalysisError::io("write", &path, e))?,
            Sink::Failed => return Err(write_err(failed_error())),
        }
        persist(tmp, &path)
    }

    fn error(&self, source: PolarsError) -> AnalysisError {
        AnalysisError::WriteFrame {
            path: self.path.clone(),
            format: self.format,
            source,
        }
    }

    fn failed(&self) -> AnalysisError {
        self.error(failed_error())
    }
}

fn failed_error() -> PolarsError {
    PolarsError::ComputeError(
        "an earlier batch failed to write, so the file is incomplete; start a new writer".into(),
    )
}

fn panicked(what: String) -> PolarsError {
    PolarsError::ComputeError(format!("polars panicked: {what}").into())
}

/// How `found` differs from `expected`, if it does.
fn schema_difference(expected: &Schema, found: &Schema) -> Option<String> {
    if expected == found {
        return None;
    }
    for (i, (name, dtype)) in expected.iter().enumerate() {
        match found.get_at_index(i) {
            None => return Some(format!("column `{name}` ({dtype}) is missing")),
            Some((other, _)) if other != name => {
                return Some(format!("column {i} is `{other}`, expected `{name}`"));
            }
            Some((_, other)) if other != dtype => {
                return Some(format!(
                    "column `{name}` has type {other}, expected {dtype}"
                ));
            }
            Some(_) => {}
        }
    }
    let extra: Vec<&str> = found
        .iter_names()
        .skip(expected.len())
        .map(|n| n.as_str())
        .collect();
    Some(format!("extra columns {extra:?}"))
}

/// The key-value metadata in the footer of a Parquet file, in file order
/// (without polars' internal `ARROW:schema` entry; a key without a value
/// gives an empty string). Files of other formats carry none: an empty
/// `Vec`. The format is told by the extension, as [`Format::from_path`] does.
///
/// ```
/// use sofleet_analysis::{Format, read_metadata, write_frame, questions_frame};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("q.parquet");
/// write_frame(&mut questions_frame(&[])?, &path, Format::Parquet)?;
/// assert!(read_metadata(&path)?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`AnalysisError::UnknownFormat`] for an unknown extension,
/// [`AnalysisError::Io`] if the file cannot be opened,
/// [`AnalysisError::ReadFrame`] (naming the file) if it is not Parquet.
pub fn read_metadata(path: &Path) -> Result<Vec<(String, String)>> {
    if Format::from_path_or_err(path)? != Format::Parquet {
        return Ok(Vec::new());
    }
    let file = File::open(path).map_err(|e| AnalysisError::io("open", path, e))?;
    let metadata = parquet_metadata(path, file)?;
    Ok(metadata
        .key_value_metadata
        .iter()
        .flatten()
        .filter(|kv| kv.key != ARROW_SCHEMA_KEY)
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect())
}

fn parquet_metadata(path: &Path, file: File) -> Result<FileMetadataRef> {
    guard(path, Format::Parquet, move || {
        ParquetReader::new(file).get_metadata().cloned()
    })?
    .map_err(|source| AnalysisError::ReadFrame {
        path: path.to_owned(),
        format: Format::Parquet,
        source,
    })
}

/// Reads a frame file batch by batch, so a caller can stream a large file in
/// bounded memory: a Parquet file yields one frame per non-empty row group
/// (as [`FrameWriter`] wrote them, one or more per batch), read on demand. A
/// CSV or JSON Lines file is read whole, as [`read_frame`] does, and yields
/// exactly one frame. A Parquet file without rows yields nothing.
///
/// ```
/// use sofleet_analysis::{FrameWriter, Format, question_schema, questions_frame, read_frame_batches};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("q.parquet");
/// let mut writer = FrameWriter::create(&path, Format::Parquet, &question_schema(), &[])?;
/// writer.finish()?;
/// let mut rows = 0;
/// for batch in read_frame_batches(&path, Format::Parquet)? {
///     rows += batch?.height();
/// }
/// assert_eq!(rows, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`read_frame`] (a Parquet file's footer is read now, its row groups by
/// the iterator, whose items carry the same errors; a malformed row group is
/// an error item, never a panic, and ends the iteration).
pub fn read_frame_batches(path: &Path, format: Format) -> Result<FrameBatches> {
    let state = match format {
        Format::Parquet => {
            let file = File::open(path).map_err(|e| AnalysisError::io("open", path, e))?;
            let handle = file
                .try_clone()
                .map_err(|e| AnalysisError::io("open", path, e))?;
            let metadata = parquet_metadata(path, handle)?;
            Batches::Parquet {
                file,
                metadata,
                next_group: 0,
                next_row: 0,
            }
        }
        Format::Csv | Format::JsonLines => Batches::Whole(Some(read_frame(path, format)?)),
    };
    Ok(FrameBatches {
        path: path.to_owned(),
        format,
        state,
    })
}

/// The iterator of [`read_frame_batches`]: `Result<DataFrame>` items.
pub struct FrameBatches {
    path: PathBuf,
    format: Format,
    state: Batches,
}

enum Batches {
    Parquet {
        file: File,
        metadata: FileMetadataRef,
        next_group: usize,
        next_row: usize,
    },
    Whole(Option<DataFrame>),
}

impl fmt::Debug for FrameBatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameBatches")
            .field("path", &self.path)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Iterator for FrameBatches {
    type Item = Result<DataFrame>;

    fn next(&mut self) -> Option<Result<DataFrame>> {
        let (file, metadata, next_group, next_row) = match &mut self.state {
            Batches::Whole(frame) => return frame.take().map(Ok),
            Batches::Parquet {
                file,
                metadata,
                next_group,
                next_row,
            } => (file, metadata, next_group, next_row),
        };
        while let Some(group) = metadata.row_groups.get(*next_group) {
            let start = *next_row;
            let rows = group.num_rows();
            *next_group += 1;
            *next_row += rows;
            if rows == 0 {
                continue;
            }
            let read = file
                .try_clone()
                .map_err(|e| AnalysisError::io("read", &self.path, e))
                .and_then(|handle| {
                    let metadata = metadata.clone();
                    guard(&self.path, self.format, move || {
                        let mut reader = ParquetReader::new(handle)
                            .with_slice(Some((start, rows)))
                            // Skips the other row groups without decoding them.
                            .read_parallel(ParallelStrategy::RowGroups);
                        reader.set_metadata(metadata);
                        reader.finish()
                    })?
                    .map_err(|source| AnalysisError::ReadFrame {
                        path: self.path.clone(),
                        format: self.format,
                        source,
                    })
                });
            if read.is_err() {
                // A broken file: stop after reporting it.
                *next_group = metadata.row_groups.len();
            }
            return Some(read);
        }
        None
    }
}
