//! File round trips (Parquet, CSV, JSON Lines), atomic writes, clear errors.

use std::path::Path;

use sofleet_analysis::polars::prelude::*;
use sofleet_analysis::{
    AnalysisError, Format, columns as c, failures_frame, questions_frame, read_frame, tags_frame,
    write_frame,
};
use sofleet_records::Author;

use crate::common::{answer, failures, lesson_records, question, user};

/// Records with awkward values: separators, quotes, newlines, empty strings
/// next to nulls, non-ASCII (CJK), extreme integers, tags with `;` `,` `"`,
/// an empty tag list (question 5 of the lesson), null and pre-1970
/// timestamps.
pub fn awkward_records() -> Vec<sofleet_records::CrawledQuestion> {
    let mut records = lesson_records();
    let mut q = question(
        u64::MAX - 1,
        &["c++", "c#", "日本語", "a;b", "c,d", "say \"hi\"", "[\"x\"]"],
        vec![answer(
            u64::MAX,
            i64::MIN,
            true,
            Author::Anonymous {
                display_name: Some("user\"1, 2\"".into()),
            },
        )],
    );
    q.question.title = "Comma, \"quote\"\nnew line; semicolon é 質問 질문".into();
    q.question.title_clean = String::new();
    q.question.title_status_suffix = Some(String::new());
    q.question.asked = None;
    q.question.score = i64::MAX;
    q.question.answer_count_declared = None;
    q.source_url = "http://127.0.0.1/q?a=1,b=\"2\"".into();
    q.listing_url = None;
    q.listing_tag = None;
    q.listing_page = None;
    q.fetched_at_ms = -1; // 1969-12-31T23:59:59.999Z
    records.push(q);
    let mut q = question(7, &["rust"], vec![answer(8, 0, false, user("", None))]);
    q.question.asked = Some("2010-08-24 05:01:23Z".into());
    records.push(q);
    records
}

pub fn assert_same(read: &DataFrame, original: &DataFrame) {
    assert_eq!(read.schema(), original.schema());
    assert_eq!(read.shape(), original.shape());
    assert!(
        read.equals_missing(original),
        "values differ:\nread {read}\noriginal {original}"
    );
}

pub fn no_temp_files_left(dir: &Path) {
    let leftovers: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn every_format_round_trips_every_value_of_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let questions = questions_frame(&awkward_records()).unwrap();
    let frames = [
        ("questions", questions.clone()),
        ("failures", failures_frame(&failures()).unwrap()),
        ("tags", tags_frame(&questions).unwrap()),
        ("empty_questions", questions_frame(&[]).unwrap()),
    ];
    for format in Format::ALL {
        for (name, frame) in &frames {
            if format == Format::JsonLines && frame.height() == 0 {
                continue; // an empty JSON Lines file has no columns to read back
            }
            let path = dir.path().join(format!("{name}.{}", format.extension()));
            let mut to_write = frame.clone();
            write_frame(&mut to_write, &path, format).unwrap();
            let read = read_frame(&path, format).unwrap();
            assert_same(&read, frame);
        }
    }
    no_temp_files_left(dir.path());
}

#[test]
fn empty_json_lines_file_reads_as_an_empty_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    write_frame(&mut questions_frame(&[]).unwrap(), &path, Format::JsonLines).unwrap();
    assert_eq!(read_frame(&path, Format::JsonLines).unwrap().height(), 0);
}

#[test]
fn unknown_frames_are_read_with_inferred_types() {
    let dir = tempfile::tempdir().unwrap();
    let mut df = DataFrame::new(vec![
        Column::new("name".into(), ["a", "b"]),
        Column::new("n".into(), [1i64, 2]),
    ])
    .unwrap();
    for format in Format::ALL {
        let path = dir.path().join(format!("other.{}", format.extension()));
        write_frame(&mut df, &path, format).unwrap();
        assert_same(&read_frame(&path, format).unwrap(), &df);
    }
}

#[test]
fn overwriting_replaces_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/q.parquet");
    let mut all = questions_frame(&lesson_records()).unwrap();
    write_frame(&mut all, &path, Format::Parquet).unwrap();
    let mut fewer = questions_frame(&lesson_records()[..2]).unwrap();
    write_frame(&mut fewer, &path, Format::Parquet).unwrap();
    assert_eq!(read_frame(&path, Format::Parquet).unwrap().height(), 2);
    no_temp_files_left(path.parent().unwrap());
}

#[test]
fn a_failed_write_leaves_neither_target_nor_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    // CSV cannot hold a list column.
    let list = Series::new("l".into(), [Series::new("".into(), [1i32, 2])]);
    let mut df = DataFrame::new(vec![list.into()]).unwrap();
    let path = dir.path().join("bad.csv");
    let err = write_frame(&mut df, &path, Format::Csv).unwrap_err();
    assert!(matches!(err, AnalysisError::WriteFrame { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.csv"), "{err}");
    assert!(!path.exists());
    no_temp_files_left(dir.path());

    // A parent that is a file is an I/O error naming it.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let err = write_frame(
        &mut questions_frame(&[]).unwrap(),
        &blocker.join("q.parquet"),
        Format::Parquet,
    )
    .unwrap_err();
    assert!(matches!(err, AnalysisError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("file"), "{err}");
}

#[test]
fn corrupt_or_missing_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"this is not a parquet file at all").unwrap();

    let good = dir.path().join("good.parquet");
    write_frame(
        &mut questions_frame(&lesson_records()).unwrap(),
        &good,
        Format::Parquet,
    )
    .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped_bytes = bytes.clone();
    let mid = flipped_bytes.len() / 3;
    for b in &mut flipped_bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let flipped = dir.path().join("flipped.parquet");
    std::fs::write(&flipped, &flipped_bytes).unwrap();
    let empty = dir.path().join("empty.parquet");
    std::fs::write(&empty, b"").unwrap();

    for path in [&garbage, &truncated, &empty] {
        let err = read_frame(path, Format::Parquet).unwrap_err();
        assert!(matches!(err, AnalysisError::ReadFrame { .. }), "{err:?}");
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(err.to_string().contains(name.as_ref()), "{err}");
    }
    // Damage inside the data pages may or may not be detected by the
    // decoder, but it must never panic out of read_frame.
    if let Err(err) = read_frame(&flipped, Format::Parquet) {
        assert!(err.to_string().contains("flipped.parquet"), "{err}");
    }

    let missing = dir.path().join("missing.csv");
    let err = read_frame(&missing, Format::Csv).unwrap_err();
    assert!(matches!(err, AnalysisError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.csv"), "{err}");

    let bad_jsonl = dir.path().join("bad.jsonl");
    std::fs::write(&bad_jsonl, b"{\"a\": 1}\n{not json\n").unwrap();
    let err = read_frame(&bad_jsonl, Format::JsonLines).unwrap_err();
    assert!(err.to_string().contains("bad.jsonl"), "{err}");
}

#[test]
fn formats_are_named_by_extension_and_by_name() {
    assert_eq!(Format::default(), Format::Parquet);
    assert_eq!(
        Format::from_path(Path::new("a/b.PARQUET")),
        Some(Format::Parquet)
    );
    assert_eq!(Format::from_path(Path::new("b.csv")), Some(Format::Csv));
    assert_eq!(
        Format::from_path(Path::new("b.ndjson")),
        Some(Format::JsonLines)
    );
    assert_eq!(Format::from_path(Path::new("b")), None);
    let err = Format::from_path_or_err(Path::new("out.xlsx")).unwrap_err();
    assert!(err.to_string().contains("out.xlsx"), "{err}");
    assert_eq!("jsonl".parse::<Format>().unwrap(), Format::JsonLines);
    assert!("xml".parse::<Format>().is_err());
}

#[test]
fn text_formats_store_tags_as_json_arrays_and_timestamps_as_iso_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut frame = questions_frame(&lesson_records()).unwrap();
    let csv = dir.path().join("q.csv");
    write_frame(&mut frame, &csv, Format::Csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.contains(",tags,") && header.ends_with(",fetched_at"),
        "{header}"
    );
    // Question 1: two tags, asked 2020-01-01, fetched 1_700_000_000_001 ms.
    let row = text.lines().nth(1).unwrap();
    for cell in [
        r#""[""python"",""pandas""]""#,
        "2020-01-01T00:00:00.000Z",
        "2023-11-14T22:13:20.001Z",
    ] {
        assert!(row.contains(cell), "{cell} not in {row}");
    }
    // Question 5 has no tags: an empty JSON array, not an empty cell.
    assert!(text.lines().nth(5).unwrap().contains(",[],"), "{text}");

    let jsonl = dir.path().join("q.jsonl");
    write_frame(&mut frame, &jsonl, Format::JsonLines).unwrap();
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["tags"], serde_json::json!(["python", "pandas"]));
    assert_eq!(first["asked"], "2020-01-01T00:00:00.000Z");
    assert_eq!(first["fetched_at"], "2023-11-14T22:13:20.001Z");
    assert_eq!(first["question_id"], 1);
}

#[test]
fn bad_tag_or_timestamp_cells_name_the_file_column_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut frame = questions_frame(&lesson_records()).unwrap();

    let csv = dir.path().join("old-tags.csv");
    write_frame(&mut frame, &csv, Format::Csv).unwrap();
    let text =
        std::fs::read_to_string(&csv)
            .unwrap()
            .replacen(r#""[""python""]""#, "python;pandas", 1);
    std::fs::write(&csv, text).unwrap();
    let err = read_frame(&csv, Format::Csv).unwrap_err();
    match &err {
        AnalysisError::BadValue(cell) => {
            assert_eq!(cell.column, c::TAGS);
            assert_eq!(cell.row, 2);
            assert_eq!(cell.value, "python;pandas");
            assert_eq!(cell.path, csv);
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("old-tags.csv") && message.contains("JSON array"),
        "{message}"
    );

    let jsonl = dir.path().join("bad-time.jsonl");
    write_frame(&mut frame, &jsonl, Format::JsonLines).unwrap();
    let text =
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .replacen("2023-11-14T22:13:20.001Z", "soon", 1);
    std::fs::write(&jsonl, text).unwrap();
    let err = read_frame(&jsonl, Format::JsonLines).unwrap_err();
    assert!(
        matches!(&err, AnalysisError::BadValue(cell) if cell.column == c::FETCHED_AT && cell.row == 1),
        "{err:?}"
    );
    assert!(err.to_string().contains("bad-time.jsonl"), "{err}");
}

#[test]
fn timestamps_beyond_year_9999_are_kept_by_parquet_and_refused_by_text_formats() {
    let dir = tempfile::tempdir().unwrap();
    let mut record = question(1, &["rust"], vec![]);
    record.fetched_at_ms = i64::MIN;
    let frame = questions_frame(&[record]).unwrap();

    let parquet = dir.path().join("q.parquet");
    write_frame(&mut frame.clone(), &parquet, Format::Parquet).unwrap();
    assert_same(&read_frame(&parquet, Format::Parquet).unwrap(), &frame);

    for format in [Format::Csv, Format::JsonLines] {
        let path = dir.path().join(format!("q.{}", format.extension()));
        let err = write_frame(&mut frame.clone(), &path, format).unwrap_err();
        assert!(matches!(err, AnalysisError::WriteFrame { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("fetched_at") && message.contains("Parquet"),
            "{message}"
        );
        assert!(!path.exists());
    }
    no_temp_files_left(dir.path());
}
