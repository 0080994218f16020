//! Records -> frames, checked value by value against the hand-built records.

use sofleet_analysis::polars::prelude::*;
use sofleet_analysis::{
    columns as c, failure_schema, failures_frame, question_schema, questions_frame, tags_frame,
    tags_schema,
};

use crate::common::{failures, lesson_records, question};

fn str_at(df: &DataFrame, col: &str, row: usize) -> Option<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .get(row)
        .map(str::to_owned)
}

fn i64_at(df: &DataFrame, col: &str, row: usize) -> Option<i64> {
    df.column(col).unwrap().i64().unwrap().get(row)
}

fn u64_at(df: &DataFrame, col: &str, row: usize) -> Option<u64> {
    df.column(col).unwrap().u64().unwrap().get(row)
}

fn u32_at(df: &DataFrame, col: &str, row: usize) -> Option<u32> {
    df.column(col).unwrap().u32().unwrap().get(row)
}

fn bool_at(df: &DataFrame, col: &str, row: usize) -> Option<bool> {
    df.column(col).unwrap().bool().unwrap().get(row)
}

/// The Unix milliseconds of a Datetime(ms, UTC) cell.
fn ms_at(df: &DataFrame, col: &str, row: usize) -> Option<i64> {
    let column = df.column(col).unwrap();
    assert_eq!(
        column.dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
        "{col}"
    );
    column.datetime().unwrap().physical().get(row)
}

fn tags_at(df: &DataFrame, row: usize) -> Vec<String> {
    let list = df
        .column(c::TAGS)
        .unwrap()
        .list()
        .unwrap()
        .get_as_series(row);
    list.unwrap()
        .str()
        .unwrap()
        .into_no_null_iter()
        .map(str::to_owned)
        .collect()
}

#[test]
fn question_frame_has_documented_schema_and_one_row_per_question() {
    let df = questions_frame(&lesson_records()).unwrap();
    assert_eq!(df.height(), 6);
    assert_eq!(**df.schema(), question_schema());
    // And an empty input still has the full schema.
    let empty = questions_frame(&[]).unwrap();
    assert_eq!(empty.height(), 0);
    assert_eq!(**empty.schema(), question_schema());
}

#[test]
fn question_frame_values_match_the_records() {
    let df = questions_frame(&lesson_records()).unwrap();
    // Row 0: question 1.
    assert_eq!(u64_at(&df, c::QUESTION_ID, 0), Some(1));
    assert_eq!(str_at(&df, c::TITLE, 0).as_deref(), Some("Question 1"));
    assert_eq!(tags_at(&df, 0), ["python", "pandas"]);
    assert_eq!(i64_at(&df, c::SCORE, 0), Some(-2));
    assert_eq!(str_at(&df, c::ASKER, 0).as_deref(), Some("asker"));
    assert_eq!(str_at(&df, c::ASKER_KIND, 0).as_deref(), Some("user"));
    assert_eq!(u32_at(&df, c::ANSWER_COUNT, 0), Some(2));
    assert_eq!(bool_at(&df, c::HAS_ACCEPTED_ANSWER, 0), Some(true));
    assert_eq!(u64_at(&df, c::TOP_ANSWER_ID, 0), Some(101));
    assert_eq!(str_at(&df, c::TOP_ANSWER_AUTHOR, 0).as_deref(), Some("Zoë"));
    assert_eq!(u64_at(&df, c::TOP_ANSWER_AUTHOR_ID, 0), Some(7));
    assert_eq!(
        str_at(&df, c::SOURCE_URL, 0).as_deref(),
        Some("http://127.0.0.1:8080/questions/1/q")
    );
    assert_eq!(ms_at(&df, c::FETCHED_AT, 0), Some(1_700_000_000_001));
    // "2020-01-01T00:00:00Z"
    assert_eq!(ms_at(&df, c::ASKED, 0), Some(1_577_836_800_000));
    assert_eq!(u32_at(&df, c::LISTING_PAGE, 0), Some(1));

    // Row 1: question 2, tie at 5 goes to the accepted answer; first is Åsa.
    assert_eq!(str_at(&df, c::TOP_ANSWER_AUTHOR, 1).as_deref(), Some("Bob"));
    assert_eq!(i64_at(&df, c::TOP_ANSWER_SCORE, 1), Some(5));
    assert_eq!(bool_at(&df, c::TOP_ANSWER_ACCEPTED, 1), Some(true));
    assert_eq!(
        str_at(&df, c::FIRST_ANSWER_AUTHOR, 1).as_deref(),
        Some("Åsa")
    );
    assert_eq!(u64_at(&df, c::FIRST_ANSWER_AUTHOR_ID, 1), None);
    assert_eq!(bool_at(&df, c::FIRST_ANSWER_ACCEPTED, 1), Some(false));

    // Row 2: question 3 has no answers: every answer field is null.
    assert_eq!(u32_at(&df, c::ANSWER_COUNT, 2), Some(0));
    assert_eq!(bool_at(&df, c::HAS_ACCEPTED_ANSWER, 2), Some(false));
    for col in [
        c::TOP_ANSWER_AUTHOR,
        c::TOP_ANSWER_AUTHOR_KIND,
        c::FIRST_ANSWER_AUTHOR,
        c::FIRST_ANSWER_AUTHOR_KIND,
    ] {
        assert_eq!(str_at(&df, col, 2), None, "{col}");
    }
    assert_eq!(i64_at(&df, c::TOP_ANSWER_SCORE, 2), None);
    assert_eq!(u64_at(&df, c::FIRST_ANSWER_ID, 2), None);
    assert_eq!(bool_at(&df, c::TOP_ANSWER_ACCEPTED, 2), None);

    // Row 3: question 4, first answer anonymous, top Zoë.
    assert_eq!(
        str_at(&df, c::FIRST_ANSWER_AUTHOR_KIND, 3).as_deref(),
        Some("anonymous")
    );
    assert_eq!(
        str_at(&df, c::FIRST_ANSWER_AUTHOR, 3).as_deref(),
        Some("anonymous")
    );
    assert_eq!(i64_at(&df, c::FIRST_ANSWER_SCORE, 3), Some(-1));
    assert_eq!(str_at(&df, c::TOP_ANSWER_AUTHOR, 3).as_deref(), Some("Zoë"));

    // Row 4: question 5, no tags, community wiki answer.
    assert!(tags_at(&df, 4).is_empty());
    assert_eq!(
        str_at(&df, c::TOP_ANSWER_AUTHOR_KIND, 4).as_deref(),
        Some("community_wiki")
    );
    assert_eq!(
        str_at(&df, c::TOP_ANSWER_AUTHOR, 4).as_deref(),
        Some("community wiki")
    );
    assert_eq!(
        str_at(&df, c::TOP_ANSWER_AUTHOR, 5).as_deref(),
        Some("Пётр")
    );
}

#[test]
fn failure_frame_has_documented_schema_and_values() {
    let df = failures_frame(&failures()).unwrap();
    assert_eq!(**df.schema(), failure_schema());
    assert_eq!(df.height(), 2);
    assert_eq!(str_at(&df, c::STAGE, 0).as_deref(), Some("question"));
    assert_eq!(str_at(&df, c::KIND, 0).as_deref(), Some("not_found"));
    assert_eq!(u32_at(&df, c::HTTP_STATUS, 0), Some(404));
    assert_eq!(u32_at(&df, c::HTTP_STATUS, 1), None);
    assert_eq!(str_at(&df, c::KIND, 1).as_deref(), Some("timeout"));
    assert_eq!(u32_at(&df, c::ATTEMPTS, 1), Some(3));
    assert_eq!(**failures_frame(&[]).unwrap().schema(), failure_schema());
}

#[test]
fn tags_frame_explodes_the_tag_lists() {
    let df = tags_frame(&questions_frame(&lesson_records()).unwrap()).unwrap();
    assert_eq!(**df.schema(), tags_schema());
    let pairs: Vec<(u64, String)> = df
        .column(c::QUESTION_ID)
        .unwrap()
        .u64()
        .unwrap()
        .iter()
        .zip(df.column(c::TAG).unwrap().str().unwrap().iter())
        .map(|(q, t)| (q.unwrap(), t.unwrap().to_owned()))
        .collect();
    let expected: Vec<(u64, String)> = [
        (1, "python"),
        (1, "pandas"),
        (2, "python"),
        (3, "rust"),
        (4, "rust"),
        (4, "python"),
        (6, "pandas"),
    ]
    .into_iter()
    .map(|(q, t)| (q, t.to_owned()))
    .collect();
    assert_eq!(pairs, expected);
}

#[test]
fn any_tag_text_is_stored_unchanged() {
    let awkward = ["a;b", "c,d", "say \"hi\"", "", "日本語", "[x]"];
    let df = questions_frame(&[question(42, &awkward, vec![])]).unwrap();
    assert_eq!(tags_at(&df, 0), awkward);
    // The exploded frame keeps them too, skipping only the empty tag.
    let exploded = tags_frame(&df).unwrap();
    let tags: Vec<&str> = exploded
        .column(c::TAG)
        .unwrap()
        .str()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(tags, ["a;b", "c,d", "say \"hi\"", "日本語", "[x]"]);
}

#[test]
fn asked_is_parsed_in_both_stack_overflow_forms_and_null_otherwise() {
    let with_asked = |asked: Option<&str>| {
        let mut q = question(1, &[], vec![]);
        q.question.asked = asked.map(str::to_owned);
        q
    };
    let records = [
        with_asked(Some("2010-08-24T05:01:23Z")),
        with_asked(Some("2010-08-24 05:01:23Z")),
        with_asked(None),
        with_asked(Some("asked 3 days ago")),
        with_asked(Some("")),
    ];
    let df = questions_frame(&records).unwrap();
    assert_eq!(ms_at(&df, c::ASKED, 0), Some(1_282_626_083_000));
    assert_eq!(ms_at(&df, c::ASKED, 1), Some(1_282_626_083_000));
    for row in 2..5 {
        assert_eq!(ms_at(&df, c::ASKED, row), None, "row {row}");
    }
    assert_eq!(
        df.column(c::ASKED).unwrap().get(0).unwrap().to_string(),
        "2010-08-24 05:01:23 UTC"
    );
    // Printing the frame (UTC datetimes, lists) works.
    let shown = format!("{}", df.select([c::ASKED, c::TAGS, c::FETCHED_AT]).unwrap());
    assert!(shown.contains("2010-08-24 05:01:23 UTC"), "{shown}");
}

#[test]
fn nullable_integer_columns_stay_integers() {
    // Question 3 has no answers: its answer columns are null, not NaN.
    let df = questions_frame(&lesson_records()).unwrap();
    for (col, dtype) in [
        (c::TOP_ANSWER_ID, DataType::UInt64),
        (c::TOP_ANSWER_SCORE, DataType::Int64),
        (c::TOP_ANSWER_AUTHOR_ID, DataType::UInt64),
        (c::FIRST_ANSWER_SCORE, DataType::Int64),
        (c::ANSWER_COUNT_DECLARED, DataType::UInt32),
        (c::LISTING_PAGE, DataType::UInt32),
    ] {
        assert_eq!(df.column(col).unwrap().dtype(), &dtype, "{col}");
    }
    assert_eq!(df.column(c::TOP_ANSWER_ID).unwrap().null_count(), 1);
}
