//! FrameWriter (streaming, atomic, Parquet metadata), read_frame_batches,
//! read_metadata, and what a plain polars reader sees.

use std::fs::File;
use std::path::Path;

use sofleet_analysis::polars::prelude::*;
use sofleet_analysis::{
    AnalysisError, Format, FrameWriter, columns as c, question_schema, questions_frame, read_frame,
    read_frame_batches, read_metadata, write_frame,
};

use crate::common::lesson_records;
use crate::files::{assert_same, awkward_records, no_temp_files_left};

fn crawl_metadata() -> Vec<(String, String)> {
    [
        ("sofleet.version", "0.1.0"),
        ("sofleet.tags", "python,dask"),
        ("sofleet.base_url", "https://stackoverflow.com"),
        ("note", "ünïcode, \"quoted\"; 日本語"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A small frame of `rows` rows whose ids start at `first`: an integer, a
/// list of strings and a timestamp column.
fn batch(first: u64, rows: usize) -> DataFrame {
    let ids: Vec<u64> = (first..first + rows as u64).collect();
    let mut tags = ListStringChunkedBuilder::new(c::TAGS.into(), rows, rows * 2);
    let names: Vec<String> = ids.iter().map(|i| format!("tag;{i}")).collect();
    for name in &names {
        tags.append_values_iter([name.as_str(), "python"].into_iter());
    }
    let millis: Vec<i64> = ids.iter().map(|i| 1_700_000_000_000 + *i as i64).collect();
    let at = Int64Chunked::from_vec(c::FETCHED_AT.into(), millis)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column();
    DataFrame::new(vec![
        Column::new(c::QUESTION_ID.into(), ids),
        tags.finish().into_column(),
        at,
    ])
    .unwrap()
}

/// The temporary file a writer is filling in `dir`.
fn temp_file_len(dir: &Path) -> u64 {
    let temps: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
        .collect();
    assert_eq!(temps.len(), 1, "{temps:?}");
    std::fs::metadata(&temps[0]).unwrap().len()
}

#[test]
fn parquet_writer_streams_each_batch_to_disk_and_reads_back_batch_by_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.parquet");
    let schema = batch(0, 1).schema().as_ref().clone();
    let mut writer =
        FrameWriter::create(&path, Format::Parquet, &schema, &crawl_metadata()).unwrap();
    let mut last_len = temp_file_len(dir.path());
    for i in 0..100u64 {
        writer.write(&mut batch(i * 1_000, 1_000)).unwrap();
        assert!(!path.exists(), "the target appears only on finish");
        // The batches go to the file as they come (past an 8 KiB write
        // buffer): nothing of them has to stay in memory.
        if i % 10 == 9 {
            let len = temp_file_len(dir.path());
            assert!(len > last_len, "batch {i}: file stuck at {len} bytes");
            last_len = len;
        }
    }
    assert_eq!(writer.rows(), 100_000);
    writer.finish().unwrap();
    no_temp_files_left(dir.path());

    // One batch per row group, in order.
    let mut batches = 0;
    let mut next_id = 0u64;
    for frame in read_frame_batches(&path, Format::Parquet).unwrap() {
        let frame = frame.unwrap();
        assert_eq!(frame.height(), 1_000);
        assert_eq!(frame.schema().as_ref(), &schema);
        let ids = frame.column(c::QUESTION_ID).unwrap().u64().unwrap();
        assert_eq!(ids.get(0), Some(next_id));
        next_id += 1_000;
        batches += 1;
    }
    assert_eq!(batches, 100);
    assert_eq!(
        read_frame(&path, Format::Parquet).unwrap().height(),
        100_000
    );
    assert_eq!(read_metadata(&path).unwrap(), crawl_metadata());
}

#[test]
fn text_writers_write_one_header_and_every_batch() {
    let dir = tempfile::tempdir().unwrap();
    let records = awkward_records();
    let (first, second) = records.split_at(3);
    let whole = questions_frame(&records).unwrap();
    for format in [Format::Csv, Format::JsonLines] {
        let path = dir.path().join(format!("q.{}", format.extension()));
        let mut writer =
            FrameWriter::create(&path, format, &question_schema(), &crawl_metadata()).unwrap();
        writer.write(&mut questions_frame(first).unwrap()).unwrap();
        writer.write(&mut questions_frame(&[]).unwrap()).unwrap();
        writer.write(&mut questions_frame(second).unwrap()).unwrap();
        writer.finish().unwrap();
        assert_same(&read_frame(&path, format).unwrap(), &whole);
        // Text formats carry no metadata; they are read as one batch.
        assert!(read_metadata(&path).unwrap().is_empty());
        let batches: Vec<DataFrame> = read_frame_batches(&path, format)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(batches.len(), 1);
        assert_same(&batches[0], &whole);
    }
    let csv = std::fs::read_to_string(dir.path().join("q.csv")).unwrap();
    assert_eq!(csv.matches("question_id").count(), 1, "{csv}");
    no_temp_files_left(dir.path());
}

#[test]
fn a_writer_finished_without_batches_gives_an_empty_file_with_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Parquet, Format::Csv] {
        let path = dir.path().join(format!("empty.{}", format.extension()));
        FrameWriter::create(&path, format, &question_schema(), &[])
            .unwrap()
            .finish()
            .unwrap();
        let read = read_frame(&path, format).unwrap();
        assert_eq!(read.height(), 0);
        assert_eq!(read.schema().as_ref(), &question_schema());
        assert_eq!(
            read_frame_batches(&path, format).unwrap().count(),
            usize::from(format == Format::Csv)
        );
    }
}

#[test]
fn dropping_a_writer_without_finish_leaves_the_old_file_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.parquet");
    let mut old = questions_frame(&lesson_records()[..2]).unwrap();
    write_frame(&mut old, &path, Format::Parquet).unwrap();
    for format in Format::ALL {
        let mut writer = FrameWriter::create(&path, format, &question_schema(), &[]).unwrap();
        writer
            .write(&mut questions_frame(&lesson_records()).unwrap())
            .unwrap();
        drop(writer);
        no_temp_files_left(dir.path());
    }
    assert_same(&read_frame(&path, Format::Parquet).unwrap(), &old);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn a_batch_of_another_schema_is_refused_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.parquet");
    let mut writer = FrameWriter::create(&path, Format::Parquet, &question_schema(), &[]).unwrap();
    let mut other = questions_frame(&lesson_records()).unwrap();
    let _ = other.drop_in_place(c::ASKED).unwrap();
    let err = writer.write(&mut other).unwrap_err();
    assert!(matches!(err, AnalysisError::WriteFrame { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("q.parquet") && message.contains("asked"),
        "{message}"
    );

    let mut good = questions_frame(&lesson_records()).unwrap();
    writer.write(&mut good).unwrap();
    writer.finish().unwrap();
    assert_same(&read_frame(&path, Format::Parquet).unwrap(), &good);
}

#[test]
fn a_failed_batch_poisons_the_writer_and_nothing_is_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.csv");
    let mut record = lesson_records().remove(0);
    record.fetched_at_ms = i64::MAX; // beyond year 9999: CSV cannot hold it
    let mut writer = FrameWriter::create(&path, Format::Csv, &question_schema(), &[]).unwrap();
    writer
        .write(&mut questions_frame(&lesson_records()).unwrap())
        .unwrap();
    assert!(
        writer
            .write(&mut questions_frame(&[record]).unwrap())
            .is_err()
    );
    let err = writer
        .write(&mut questions_frame(&lesson_records()).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("earlier batch"), "{err}");
    let err = writer.finish().unwrap_err();
    assert!(err.to_string().contains("q.csv"), "{err}");
    assert!(!path.exists());
    no_temp_files_left(dir.path());
}

#[test]
fn the_arrow_schema_key_is_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let metadata = vec![("ARROW:schema".to_owned(), "x".to_owned())];
    let err = FrameWriter::create(
        &dir.path().join("q.parquet"),
        Format::Parquet,
        &question_schema(),
        &metadata,
    )
    .unwrap_err();
    assert!(err.to_string().contains("reserved"), "{err}");
    no_temp_files_left(dir.path());
}

#[test]
fn a_polars_reader_sees_lists_datetimes_and_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.parquet");
    let frame = questions_frame(&awkward_records()).unwrap();
    let mut writer = FrameWriter::create(
        &path,
        Format::Parquet,
        &question_schema(),
        &crawl_metadata(),
    )
    .unwrap();
    writer.write(&mut frame.clone()).unwrap();
    writer.finish().unwrap();

    let mut reader = ParquetReader::new(File::open(&path).unwrap());
    let kv: Vec<(String, Option<String>)> = reader
        .get_metadata()
        .unwrap()
        .key_value_metadata
        .iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect();
    for (key, value) in crawl_metadata() {
        assert!(
            kv.contains(&(key.clone(), Some(value))),
            "{key} missing in {kv:?}"
        );
    }
    let read = reader.finish().unwrap();
    let dtype = |name: &str| read.column(name).unwrap().dtype().to_string();
    assert_eq!(dtype(c::TAGS), "list[str]");
    assert_eq!(dtype(c::ASKED), "datetime[ms, UTC]");
    assert_eq!(dtype(c::FETCHED_AT), "datetime[ms, UTC]");
    assert_eq!(dtype(c::TOP_ANSWER_ID), "u64");
    assert_eq!(dtype(c::TOP_ANSWER_SCORE), "i64");
    assert_eq!(dtype(c::ANSWER_COUNT_DECLARED), "u32");
    assert_same(&read, &frame);
}

#[test]
fn metadata_and_batches_of_broken_files_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"this is not a parquet file at all").unwrap();
    for err in [
        read_metadata(&garbage).unwrap_err(),
        read_frame_batches(&garbage, Format::Parquet).unwrap_err(),
    ] {
        assert!(matches!(err, AnalysisError::ReadFrame { .. }), "{err:?}");
        assert!(err.to_string().contains("garbage.parquet"), "{err}");
    }
    let missing = dir.path().join("missing.parquet");
    let err = read_metadata(&missing).unwrap_err();
    assert!(matches!(err, AnalysisError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.parquet"), "{err}");
    let err = read_metadata(&dir.path().join("q.xlsx")).unwrap_err();
    assert!(
        matches!(err, AnalysisError::UnknownFormat { .. }),
        "{err:?}"
    );

    // Damaged row groups: errors (or, if undetected, frames), never panics.
    let good = dir.path().join("good.parquet");
    let mut writer = FrameWriter::create(
        &good,
        Format::Parquet,
        &question_schema(),
        &crawl_metadata(),
    )
    .unwrap();
    for _ in 0..4 {
        writer
            .write(&mut questions_frame(&awkward_records()).unwrap())
            .unwrap();
    }
    writer.finish().unwrap();
    let mut bytes = std::fs::read(&good).unwrap();
    let end = bytes.len() / 2;
    for b in &mut bytes[64..end] {
        *b ^= 0x5a;
    }
    let flipped = dir.path().join("flipped.parquet");
    std::fs::write(&flipped, &bytes).unwrap();
    let results: Vec<_> = read_frame_batches(&flipped, Format::Parquet)
        .unwrap()
        .collect();
    assert!(!results.is_empty());
    for result in &results {
        if let Err(err) = result {
            assert!(err.to_string().contains("flipped.parquet"), "{err}");
        }
    }
    // An error ends the iteration.
    if let Some(i) = results.iter().position(Result::is_err) {
        assert_eq!(i, results.len() - 1);
    }
}

#[test]
fn writers_and_batch_readers_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<FrameWriter>();
    send::<sofleet_analysis::FrameBatches>();
}
