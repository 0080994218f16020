//! Records -> polars frames. The schemas are documented on [`columns`].

use polars::prelude::*;
use sofleet_records::{Answer, Author, CrawledQuestion, FailureRecord};

use crate::error::{AnalysisError, PolarsContext, Result};
use crate::time::parse_timestamp_ms;

pub mod columns {
    //! Column names of the frames built by this crate, and their schemas.
    //!
    //! # Question frame schema (one row per question)
    //!
    //! | column | dtype | nullable | meaning |
    //! |---|---|---|---|
    //! | `question_id` | UInt64 | no | question id |
    //! | `title` | String | no | title as displayed (with any `[closed]` suffix) |
    //! | `title_clean` | String | no | title without the status suffix |
    //! | `title_status_suffix` | String | yes | `[closed]`, `[duplicate]`, … |
    //! | `tags` | List(String) | no | the question's tags in page order (an empty list: no tags) |
    //! | `score` | Int64 | no | question score |
    //! | `asker_kind` | String | no | `user`, `community_wiki` or `anonymous` |
    //! | `asker` | String | no | asker display name ([`Author::display_name`](sofleet_records::Author::display_name)) |
    //! | `asked` | Datetime(ms, UTC) | yes | when asked; null when the page gives no time or one [`parse_timestamp_ms`](crate::parse_timestamp_ms) cannot read |
    //! | `answer_count` | UInt32 | no | answers rendered on the page |
    //! | `answer_count_declared` | UInt32 | yes | answers the page declares |
    //! | `has_accepted_answer` | Boolean | no | whether one rendered answer is accepted |
    //! | `top_answer_id` | UInt64 | yes | highest-scored answer ([`Question::top_answer`](sofleet_records::Question::top_answer)); null when unanswered |
    //! | `top_answer_score` | Int64 | yes | its score |
    //! | `top_answer_accepted` | Boolean | yes | whether it is the accepted answer |
    //! | `top_answer_author_kind` | String | yes | `user`, `community_wiki` or `anonymous` |
    //! | `top_answer_author` | String | yes | its author's display name |
    //! | `top_answer_author_id` | UInt64 | yes | its author's user id, when linked |
    //! | `first_answer_id` … `first_answer_author_id` | as above | yes | the same six fields for the first answer in page order ([`Question::first_answer`](sofleet_records::Question::first_answer)) |
    //! | `source_url` | String | no | URL the page was fetched from |
    //! | `listing_url` | String | yes | listing page the link was found on |
    //! | `listing_tag` | String | yes | that listing's tag |
    //! | `listing_page` | UInt32 | yes | that listing's page number |
    //! | `fetched_at` | Datetime(ms, UTC) | no | when the page was fetched ([`CrawledQuestion::fetched_at_ms`](sofleet_records::CrawledQuestion::fetched_at_ms)) |
    //!
    //! Integer columns stay integers when they hold nulls: the files store
    //! `u64`/`i64`/`u32` with nulls, never floats (polars reads them so;
    //! pandas does with `dtype_backend="pyarrow"` or `"numpy_nullable"`, while
    //! its default NumPy backend turns nullable integers into floats). A polars user
    //! reading the Parquet file sees `tags` as `list[str]` and the two
    //! timestamps as `datetime[ms, UTC]`. Tags are stored as they appear on the
    //! page: any text (`;`, `,`, quotes) is kept unchanged. CSV cannot hold a
    //! list, so there a `tags` cell is a JSON array (`["python","dask"]`) and a
    //! timestamp is ISO 8601 text (`2010-08-24T05:01:23.000Z`); JSON Lines holds
    //! the list as a JSON array and timestamps as the same text.
    //! [`read_frame`](crate::read_frame) turns both back into the typed columns.
    //! [`tags_frame`](crate::tags_frame) gives the exploded `(question_id, tag)`
    //! frame.
    //!
    //! # Failure frame schema (one row per failed page)
    //!
    //! | column | dtype | nullable |
    //! |---|---|---|
    //! | `url` | String | no |
    //! | `stage` | String ([`Stage::as_str`](sofleet_records::Stage::as_str)) | no |
    //! | `kind` | String ([`FailureKind::as_str`](sofleet_records::FailureKind::as_str)) | no |
    //! | `http_status` | UInt32 | yes |
    //! | `attempts` | UInt32 | no |
    //! | `message` | String | no |
    //!
    //! The tags frame ([`tags_frame`](crate::tags_frame)) has `question_id` (UInt64) and `tag` (String).

    /// Question id (UInt64).
    pub const QUESTION_ID: &str = "question_id";
    /// Title as displayed (String).
    pub const TITLE: &str = "title";
    /// Title without status suffix (String).
    pub const TITLE_CLEAN: &str = "title_clean";
    /// Status suffix such as `[closed]` (String, nullable).
    pub const TITLE_STATUS_SUFFIX: &str = "title_status_suffix";
    /// Tags in page order (List(String)).
    pub const TAGS: &str = "tags";
    /// Question score (Int64).
    pub const SCORE: &str = "score";
    /// Asker kind (String).
    pub const ASKER_KIND: &str = "asker_kind";
    /// Asker display name (String).
    pub const ASKER: &str = "asker";
    /// When asked (Datetime(ms, UTC), nullable).
    pub const ASKED: &str = "asked";
    /// Rendered answers (UInt32).
    pub const ANSWER_COUNT: &str = "answer_count";
    /// Declared answers (UInt32, nullable).
    pub const ANSWER_COUNT_DECLARED: &str = "answer_count_declared";
    /// Whether an answer is accepted (Boolean).
    pub const HAS_ACCEPTED_ANSWER: &str = "has_accepted_answer";
    /// Top answer id (UInt64, nullable).
    pub const TOP_ANSWER_ID: &str = "top_answer_id";
    /// Top answer score (Int64, nullable).
    pub const TOP_ANSWER_SCORE: &str = "top_answer_score";
    /// Whether the top answer is accepted (Boolean, nullable).
    pub const TOP_ANSWER_ACCEPTED: &str = "top_answer_accepted";
    /// Top answer author kind (String, nullable).
    pub const TOP_ANSWER_AUTHOR_KIND: &str = "top_answer_author_kind";
    /// Top answer author display name (String, nullable).
    pub const TOP_ANSWER_AUTHOR: &str = "top_answer_author";
    /// Top answer author user id (UInt64, nullable).
    pub const TOP_ANSWER_AUTHOR_ID: &str = "top_answer_author_id";
    /// First answer id (UInt64, nullable).
    pub const FIRST_ANSWER_ID: &str = "first_answer_id";
    /// First answer score (Int64, nullable).
    pub const FIRST_ANSWER_SCORE: &str = "first_answer_score";
    /// Whether the first answer is accepted (Boolean, nullable).
    pub const FIRST_ANSWER_ACCEPTED: &str = "first_answer_accepted";
    /// First answer author kind (String, nullable).
    pub const FIRST_ANSWER_AUTHOR_KIND: &str = "first_answer_author_kind";
    /// First answer author display name (String, nullable).
    pub const FIRST_ANSWER_AUTHOR: &str = "first_answer_author";
    /// First answer author user id (UInt64, nullable).
    pub const FIRST_ANSWER_AUTHOR_ID: &str = "first_answer_author_id";
    /// Source URL (String).
    pub const SOURCE_URL: &str = "source_url";
    /// Listing URL (String, nullable).
    pub const LISTING_URL: &str = "listing_url";
    /// Listing tag (String, nullable).
    pub const LISTING_TAG: &str = "listing_tag";
    /// Listing page number (UInt32, nullable).
    pub const LISTING_PAGE: &str = "listing_page";
    /// Fetch time (Datetime(ms, UTC)).
    pub const FETCHED_AT: &str = "fetched_at";

    /// Failure URL (String).
    pub const URL: &str = "url";
    /// Failure stage (String).
    pub const STAGE: &str = "stage";
    /// Failure kind (String).
    pub const KIND: &str = "kind";
    /// Last HTTP status (UInt32, nullable).
    pub const HTTP_STATUS: &str = "http_status";
    /// Attempts made (UInt32).
    pub const ATTEMPTS: &str = "attempts";
    /// Error message (String).
    pub const MESSAGE: &str = "message";

    /// Tag of the exploded tags frame (String).
    pub const TAG: &str = "tag";
}

use columns as c;

/// The dtype of the `tags` column: List(String).
pub(crate) fn tags_dtype() -> DataType {
    DataType::List(Box::new(DataType::String))
}

/// The dtype of the timestamp columns: Datetime(ms, UTC).
pub(crate) fn timestamp_dtype() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
}

fn question_columns() -> Vec<(&'static str, DataType)> {
    vec![
        (c::QUESTION_ID, DataType::UInt64),
        (c::TITLE, DataType::String),
        (c::TITLE_CLEAN, DataType::String),
        (c::TITLE_STATUS_SUFFIX, DataType::String),
        (c::TAGS, tags_dtype()),
        (c::SCORE, DataType::Int64),
        (c::ASKER_KIND, DataType::String),
        (c::ASKER, DataType::String),
        (c::ASKED, timestamp_dtype()),
        (c::ANSWER_COUNT, DataType::UInt32),
        (c::ANSWER_COUNT_DECLARED, DataType::UInt32),
        (c::HAS_ACCEPTED_ANSWER, DataType::Boolean),
        (c::TOP_ANSWER_ID, DataType::UInt64),
        (c::TOP_ANSWER_SCORE, DataType::Int64),
        (c::TOP_ANSWER_ACCEPTED, DataType::Boolean),
        (c::TOP_ANSWER_AUTHOR_KIND, DataType::String),
        (c::TOP_ANSWER_AUTHOR, DataType::String),
        (c::TOP_ANSWER_AUTHOR_ID, DataType::UInt64),
        (c::FIRST_ANSWER_ID, DataType::UInt64),
        (c::FIRST_ANSWER_SCORE, DataType::Int64),
        (c::FIRST_ANSWER_ACCEPTED, DataType::Boolean),
        (c::FIRST_ANSWER_AUTHOR_KIND, DataType::String),
        (c::FIRST_ANSWER_AUTHOR, DataType::String),
        (c::FIRST_ANSWER_AUTHOR_ID, DataType::UInt64),
        (c::SOURCE_URL, DataType::String),
        (c::LISTING_URL, DataType::String),
        (c::LISTING_TAG, DataType::String),
        (c::LISTING_PAGE, DataType::UInt32),
        (c::FETCHED_AT, timestamp_dtype()),
    ]
}

fn failure_columns() -> Vec<(&'static str, DataType)> {
    vec![
        (c::URL, DataType::String),
        (c::STAGE, DataType::String),
        (c::KIND, DataType::String),
        (c::HTTP_STATUS, DataType::UInt32),
        (c::ATTEMPTS, DataType::UInt32),
        (c::MESSAGE, DataType::String),
    ]
}

fn tags_columns() -> Vec<(&'static str, DataType)> {
    vec![
        (c::QUESTION_ID, DataType::UInt64),
        (c::TAG, DataType::String),
    ]
}

fn schema_of(cols: &[(&str, DataType)]) -> Schema {
    cols.iter()
        .map(|(name, dtype)| Field::new((*name).into(), dtype.clone()))
        .collect()
}

/// The schema of [`questions_frame`] (see the module table above for meanings).
///
/// ```
/// use sofleet_analysis::{columns as c, question_schema};
/// let schema = question_schema();
/// assert_eq!(schema.get(c::TAGS).unwrap().to_string(), "list[str]");
/// assert_eq!(schema.get(c::FETCHED_AT).unwrap().to_string(), "datetime[ms, UTC]");
/// ```
pub fn question_schema() -> Schema {
    schema_of(&question_columns())
}

/// The schema of [`failures_frame`].
pub fn failure_schema() -> Schema {
    schema_of(&failure_columns())
}

/// The schema of [`tags_frame`]: `question_id` (UInt64), `tag` (String).
pub fn tags_schema() -> Schema {
    schema_of(&tags_columns())
}

/// The stable word for an author kind (same as its serde tag).
pub(crate) fn author_kind(author: &Author) -> &'static str {
    match author {
        Author::User { .. } => "user",
        Author::CommunityWiki => "community_wiki",
        Author::Anonymous { .. } => "anonymous",
    }
}

fn author_id(author: &Author) -> Option<u64> {
    match author {
        Author::User { user_id, .. } => *user_id,
        _ => None,
    }
}

/// Six nullable columns describing one chosen answer per question.
#[derive(Default)]
struct AnswerColumns {
    id: Vec<Option<u64>>,
    score: Vec<Option<i64>>,
    accepted: Vec<Option<bool>>,
    author_kind: Vec<Option<&'static str>>,
    author: Vec<Option<String>>,
    author_id: Vec<Option<u64>>,
}

impl AnswerColumns {
    fn with_capacity(n: usize) -> Self {
        AnswerColumns {
            id: Vec::with_capacity(n),
            score: Vec::with_capacity(n),
            accepted: Vec::with_capacity(n),
            author_kind: Vec::with_capacity(n),
            author: Vec::with_capacity(n),
            author_id: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, answer: Option<&Answer>) {
        self.id.push(answer.map(|a| a.id));
        self.score.push(answer.map(|a| a.score));
        self.accepted.push(answer.map(|a| a.accepted));
        self.author_kind
            .push(answer.map(|a| author_kind(&a.author)));
        self.author
            .push(answer.map(|a| a.author.display_name().to_owned()));
        self.author_id
            .push(answer.and_then(|a| author_id(&a.author)));
    }

    fn into_columns(self, names: [&str; 6]) -> [Column; 6] {
        [
            Column::new(names[0].into(), self.id),
            Column::new(names[1].into(), self.score),
            Column::new(names[2].into(), self.accepted),
            Column::new(names[3].into(), self.author_kind),
            Column::new(names[4].into(), self.author),
            Column::new(names[5].into(), self.author_id),
        ]
    }
}

/// Builds the question frame: one row per record, columns as in
/// [`question_schema`] (documented in the [`columns`] table). Tags are kept
/// exactly as the records hold them; `asked` is parsed with
/// [`parse_timestamp_ms`](crate::parse_timestamp_ms) (null when it cannot be).
///
/// # Errors
/// [`AnalysisError::Polars`] if polars rejects the columns.
pub fn questions_frame(records: &[CrawledQuestion]) -> Result<DataFrame> {
    let n = records.len();
    let mut question_id = Vec::with_capacity(n);
    let mut title = Vec::with_capacity(n);
    let mut title_clean = Vec::with_capacity(n);
    let mut title_status_suffix = Vec::with_capacity(n);
    let tag_count = records.iter().map(|r| r.question.tags.len()).sum();
    let mut tags = ListStringChunkedBuilder::new(c::TAGS.into(), n, tag_count);
    let mut score = Vec::with_capacity(n);
    let mut asker_kind = Vec::with_capacity(n);
    let mut asker = Vec::with_capacity(n);
    let mut asked = Vec::with_capacity(n);
    let mut answer_count = Vec::with_capacity(n);
    let mut answer_count_declared = Vec::with_capacity(n);
    let mut has_accepted = Vec::with_capacity(n);
    let mut top = AnswerColumns::with_capacity(n);
    let mut first = AnswerColumns::with_capacity(n);
    let mut source_url = Vec::with_capacity(n);
    let mut listing_url = Vec::with_capacity(n);
    let mut listing_tag = Vec::with_capacity(n);
    let mut listing_page = Vec::with_capacity(n);
    let mut fetched_at = Vec::with_capacity(n);

    for record in records {
        let q = &record.question;
        question_id.push(q.id);
        title.push(q.title.as_str());
        title_clean.push(q.title_clean.as_str());
        title_status_suffix.push(q.title_status_suffix.as_deref());
        tags.append_values_iter(q.tags.iter().map(String::as_str));
        score.push(q.score);
        asker_kind.push(author_kind(&q.author));
        asker.push(q.author.display_name());
        asked.push(q.asked.as_deref().and_then(parse_timestamp_ms));
        answer_count.push(u32::try_from(q.answers.len()).unwrap_or(u32::MAX));
        answer_count_declared.push(q.answer_count_declared);
        has_accepted.push(q.accepted_answer().is_some());
        top.push(q.top_answer());
        first.push(q.first_answer());
        source_url.push(record.source_url.as_str());
        listing_url.push(record.listing_url.as_deref());
        listing_tag.push(record.listing_tag.as_deref());
        listing_page.push(record.listing_page);
        fetched_at.push(record.fetched_at_ms);
    }

    let [t_id, t_score, t_acc, t_kind, t_author, t_author_id] = top.into_columns([
        c::TOP_ANSWER_ID,
        c::TOP_ANSWER_SCORE,
        c::TOP_ANSWER_ACCEPTED,
        c::TOP_ANSWER_AUTHOR_KIND,
        c::TOP_ANSWER_AUTHOR,
        c::TOP_ANSWER_AUTHOR_ID,
    ]);
    let [f_id, f_score, f_acc, f_kind, f_author, f_author_id] = first.into_columns([
        c::FIRST_ANSWER_ID,
        c::FIRST_ANSWER_SCORE,
        c::FIRST_ANSWER_ACCEPTED,
        c::FIRST_ANSWER_AUTHOR_KIND,
        c::FIRST_ANSWER_AUTHOR,
        c::FIRST_ANSWER_AUTHOR_ID,
    ]);

    let columns = vec![
        Column::new(c::QUESTION_ID.into(), question_id),
        Column::new(c::TITLE.into(), title),
        Column::new(c::TITLE_CLEAN.into(), title_clean),
        Column::new(c::TITLE_STATUS_SUFFIX.into(), title_status_suffix),
        tags.finish().into_column(),
        Column::new(c::SCORE.into(), score),
        Column::new(c::ASKER_KIND.into(), asker_kind),
        Column::new(c::ASKER.into(), asker),
        timestamps(
            c::ASKED,
            Int64Chunked::from_slice_options(PlSmallStr::EMPTY, &asked),
        ),
        Column::new(c::ANSWER_COUNT.into(), answer_count),
        Column::new(c::ANSWER_COUNT_DECLARED.into(), answer_count_declared),
        Column::new(c::HAS_ACCEPTED_ANSWER.into(), has_accepted),
        t_id,
        t_score,
        t_acc,
        t_kind,
        t_author,
        t_author_id,
        f_id,
        f_score,
        f_acc,
        f_kind,
        f_author,
        f_author_id,
        Column::new(c::SOURCE_URL.into(), source_url),
        Column::new(c::LISTING_URL.into(), listing_url),
        Column::new(c::LISTING_TAG.into(), listing_tag),
        Column::new(c::LISTING_PAGE.into(), listing_page),
        timestamps(
            c::FETCHED_AT,
            Int64Chunked::from_vec(PlSmallStr::EMPTY, fetched_at),
        ),
    ];
    let df = DataFrame::new(columns).ctx(|| "building the question frame".into())?;
    // Empty input gives all-null-typed columns in some polars versions; cast
    // to the documented schema so every frame has exactly the same dtypes.
    conform(df, &question_columns())
}

/// A Datetime(ms, UTC) column of Unix milliseconds.
fn timestamps(name: &str, millis: Int64Chunked) -> Column {
    millis
        .with_name(name.into())
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}

/// Builds the failure frame: one row per failure record, columns as in
/// [`failure_schema`].
///
/// # Errors
/// [`AnalysisError::Polars`] if polars rejects the columns.
pub fn failures_frame(records: &[FailureRecord]) -> Result<DataFrame> {
    let url: Vec<&str> = records.iter().map(|r| r.url.as_str()).collect();
    let stage: Vec<&str> = records.iter().map(|r| r.stage.as_str()).collect();
    let kind: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    let http_status: Vec<Option<u32>> = records
        .iter()
        .map(|r| r.http_status.map(u32::from))
        .collect();
    let attempts: Vec<u32> = records.iter().map(|r| r.attempts).collect();
    let message: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    let df = DataFrame::new(vec![
        Column::new(c::URL.into(), url),
        Column::new(c::STAGE.into(), stage),
        Column::new(c::KIND.into(), kind),
        Column::new(c::HTTP_STATUS.into(), http_status),
        Column::new(c::ATTEMPTS.into(), attempts),
        Column::new(c::MESSAGE.into(), message),
    ])
    .ctx(|| "building the failure frame".into())?;
    conform(df, &failure_columns())
}

/// Explodes the `tags` column of a question frame: one row per
/// `(question_id, tag)`, in frame order then tag order ([`tags_schema`]).
/// Questions without tags (an empty or null list) have no row; empty tag
/// strings are skipped, as in the tag counts of
/// [`PartialAggregate`](crate::PartialAggregate).
///
/// ```
/// use sofleet_analysis::{columns as c, tags_frame};
/// use sofleet_analysis::polars::prelude::*;
///
/// let mut tags = ListStringChunkedBuilder::new(c::TAGS.into(), 2, 3);
/// tags.append_values_iter(["python", "a;b"].into_iter());
/// tags.append_values_iter(["rust"].into_iter());
/// let questions = DataFrame::new(vec![
///     Column::new(c::QUESTION_ID.into(), [1u64, 2]),
///     tags.finish().into_column(),
/// ])?;
/// let exploded = tags_frame(&questions)?;
/// let tags: Vec<_> = exploded.column(c::TAG)?.str()?.into_no_null_iter().collect();
/// assert_eq!(tags, ["python", "a;b", "rust"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`AnalysisError::MissingColumn`] / [`AnalysisError::ColumnType`] if the
/// frame lacks `question_id` (UInt64) or `tags` (List(String)).
pub fn tags_frame(questions: &DataFrame) -> Result<DataFrame> {
    let ids = typed_column(questions, c::QUESTION_ID, &DataType::UInt64)?;
    let tags = typed_column(questions, c::TAGS, &tags_dtype())?;
    let ids = ids.u64().ctx(|| "reading question_id".into())?;
    let tags = tags.list().ctx(|| "reading tags".into())?;
    let mut out_ids: Vec<Option<u64>> = Vec::new();
    let mut out_tags: Vec<String> = Vec::new();
    for (id, list) in ids.iter().zip(tags.amortized_iter()) {
        let Some(list) = list else { continue };
        let list = list
            .as_ref()
            .str()
            .ctx(|| "reading the tags of a row".into())?;
        for tag in list.iter().flatten().filter(|t| !t.is_empty()) {
            out_ids.push(id);
            out_tags.push(tag.to_owned());
        }
    }
    let df = DataFrame::new(vec![
        Column::new(c::QUESTION_ID.into(), out_ids),
        Column::new(c::TAG.into(), out_tags),
    ])
    .ctx(|| "building the tags frame".into())?;
    conform(df, &tags_columns())
}

/// Every tag of a List(String) `tags` column, flattened in row order (nulls
/// for empty or null lists; the caller skips them and empty strings).
pub(crate) fn flat_tags(tags: &Column) -> Result<Series> {
    tags.as_materialized_series()
        .explode(false)
        .ctx(|| "flattening the tags lists".into())
}

/// Casts every column to the documented dtype (a no-op when it already has it).
fn conform(mut df: DataFrame, cols: &[(&str, DataType)]) -> Result<DataFrame> {
    for (name, dtype) in cols {
        let column = df
            .column(name)
            .ctx(|| format!("looking up column {name}"))?;
        if column.dtype() != dtype {
            let cast = column
                .cast(dtype)
                .ctx(|| format!("casting column {name} to {dtype}"))?;
            df.with_column(cast)
                .ctx(|| format!("replacing column {name}"))?;
        }
    }
    Ok(df)
}

/// The column `name`, checked to exist with dtype `dtype`.
pub(crate) fn typed_column<'a>(
    df: &'a DataFrame,
    name: &str,
    dtype: &DataType,
) -> Result<&'a Column> {
    let column = df.column(name).map_err(|_| AnalysisError::MissingColumn {
        column: name.to_owned(),
        expected: dtype.to_string(),
    })?;
    if column.dtype() != dtype {
        return Err(AnalysisError::ColumnType {
            column: name.to_owned(),
            found: column.dtype().to_string(),
            expected: dtype.to_string(),
        });
    }
    Ok(column)
}

/// The known schemas, for readers of schema-less formats.
pub(crate) fn known_schemas() -> [Schema; 3] {
    [question_schema(), failure_schema(), tags_schema()]
}
