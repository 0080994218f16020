//! The lesson's answers on hand-built records, and the merge property.

use proptest::prelude::*;
use sofleet_analysis::polars::prelude::*;
use sofleet_analysis::{
    AnalysisError, AuthorCount, AuthorVotes, PartialAggregate, ScoreBin, ScoreStats, Summary,
    TagCount, columns as c, questions_frame,
};
use sofleet_records::{Author, CrawledQuestion};

use crate::common::{answer, lesson_records, question, user};

fn counts(pairs: &[(&str, u64)]) -> Vec<AuthorCount> {
    pairs
        .iter()
        .map(|(a, n)| AuthorCount {
            author: (*a).to_owned(),
            count: *n,
        })
        .collect()
}

fn votes(pairs: &[(&str, i64)]) -> Vec<AuthorVotes> {
    pairs
        .iter()
        .map(|(a, n)| AuthorVotes {
            author: (*a).to_owned(),
            votes: *n,
        })
        .collect()
}

/// Every number below is worked out by hand from the table in `common.rs`.
#[test]
fn summary_of_hand_built_records_matches_hand_computed_answers() {
    let df = questions_frame(&lesson_records()).unwrap();
    let s = Summary::from_frame(&df, 3).unwrap();

    assert_eq!(s.questions, 6);
    assert_eq!(s.answered, 5);
    assert_eq!(s.unanswered, 1);
    assert_eq!(s.with_accepted, 2);
    assert!((s.share_unanswered - 1.0 / 6.0).abs() < 1e-12);
    assert!((s.share_accepted - 2.0 / 6.0).abs() < 1e-12);
    assert_eq!(s.distinct_top_answer_authors, 4);

    // value_counts: Zoë 2, then the 1s by name (byte order: B < c < П).
    assert_eq!(
        s.authors_by_count,
        counts(&[("Zoë", 2), ("Bob", 1), ("community wiki", 1)])
    );
    // Group-by sum of top-answer votes: Zoë 10+2, Пётр 7, Bob 5, cw -2.
    assert_eq!(
        s.authors_by_votes,
        votes(&[("Zoë", 12), ("Пётр", 7), ("Bob", 5)])
    );
    assert_eq!(s.most_voted_author, Some(votes(&[("Zoë", 12)]).remove(0)));

    assert_eq!(
        s.questions_per_tag,
        vec![
            TagCount {
                tag: "python".into(),
                questions: 3
            },
            TagCount {
                tag: "pandas".into(),
                questions: 2
            },
            TagCount {
                tag: "rust".into(),
                questions: 2
            },
        ]
    );

    // Top-answer scores: 10, 5, 2, -2, 7.
    assert_eq!(
        s.top_answer_scores,
        Some(ScoreStats {
            count: 5,
            min: -2,
            max: 10,
            mean: 4.4,
            median: 5.0,
        })
    );
    // 13 one-wide bins from -2 to 10, five of them non-empty.
    assert_eq!(s.score_histogram.len(), 13);
    assert_eq!(
        s.score_histogram[0],
        ScoreBin {
            low: -2,
            high: -2,
            count: 1
        }
    );
    let non_empty: Vec<i64> = s
        .score_histogram
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| b.low)
        .collect();
    assert_eq!(non_empty, vec![-2, 2, 5, 7, 10]);
    assert_eq!(s.score_histogram.iter().map(|b| b.count).sum::<u64>(), 5);

    // With a larger top_n every author is ranked.
    let all = Summary::from_frame(&df, 10).unwrap();
    assert_eq!(
        all.authors_by_votes,
        votes(&[("Zoë", 12), ("Пётр", 7), ("Bob", 5), ("community wiki", -2)])
    );
    assert_eq!(
        all.authors_by_count,
        counts(&[("Zoë", 2), ("Bob", 1), ("community wiki", 1), ("Пётр", 1)])
    );
    assert!(
        Summary::from_frame(&df, 0)
            .unwrap()
            .authors_by_count
            .is_empty()
    );
}

#[test]
fn wide_score_ranges_use_at_most_twenty_equal_bins() {
    let records: Vec<CrawledQuestion> = [0i64, 1, 99, 100, 250, 1000]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            question(
                i as u64,
                &[],
                vec![answer(i as u64, *s, false, user("u", None))],
            )
        })
        .collect();
    let s = PartialAggregate::from_page(&records).summary(5);
    // span 1001 -> width ceil(1001/20) = 51 -> 20 bins [0,50] [51,101] ... [969,1000].
    assert_eq!(s.score_histogram.len(), 20);
    assert_eq!(
        s.score_histogram[0],
        ScoreBin {
            low: 0,
            high: 50,
            count: 2
        }
    );
    assert_eq!(
        s.score_histogram[1],
        ScoreBin {
            low: 51,
            high: 101,
            count: 2
        }
    );
    assert_eq!(
        s.score_histogram[4],
        ScoreBin {
            low: 204,
            high: 254,
            count: 1
        }
    );
    assert_eq!(
        s.score_histogram[19],
        ScoreBin {
            low: 969,
            high: 1000,
            count: 1
        }
    );
    assert_eq!(s.top_answer_scores.unwrap().median, (99.0 + 100.0) / 2.0);
}

#[test]
fn empty_input_gives_an_empty_summary() {
    let s = Summary::from_frame(&questions_frame(&[]).unwrap(), 5).unwrap();
    assert_eq!(s.questions, 0);
    assert_eq!(s.share_unanswered, 0.0);
    assert_eq!(s.most_voted_author, None);
    assert_eq!(s.top_answer_scores, None);
    assert!(s.score_histogram.is_empty());
    assert_eq!(s, PartialAggregate::default().summary(5));
}

#[test]
fn frame_without_required_columns_is_a_clear_error() {
    let mut df = questions_frame(&lesson_records()).unwrap();
    let _ = df.drop_in_place(c::TOP_ANSWER_SCORE).unwrap();
    let err = Summary::from_frame(&df, 3).unwrap_err();
    assert!(
        matches!(&err, AnalysisError::MissingColumn { column, .. } if column == c::TOP_ANSWER_SCORE),
        "{err:?}"
    );
    assert!(err.to_string().contains("top_answer_score"), "{err}");

    let mut df = questions_frame(&lesson_records()).unwrap();
    let as_string = df
        .column(c::ANSWER_COUNT)
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    df.with_column(as_string).unwrap();
    let err = Summary::from_frame(&df, 3).unwrap_err();
    assert!(
        matches!(&err, AnalysisError::ColumnType { column, .. } if column == c::ANSWER_COUNT),
        "{err:?}"
    );

    // A frame from before tags became a list (`;`-joined text) is refused
    // with a message naming the column and the type it needs.
    let mut df = questions_frame(&lesson_records()).unwrap();
    df.with_column(Column::new(c::TAGS.into(), ["python;pandas"; 6]))
        .unwrap();
    let err = Summary::from_frame(&df, 3).unwrap_err();
    assert!(
        matches!(&err, AnalysisError::ColumnType { column, .. } if column == c::TAGS),
        "{err:?}"
    );
    assert!(err.to_string().contains("list[str]"), "{err}");
}

#[test]
fn page_aggregate_equals_frame_aggregate_on_hand_built_records() {
    let records = lesson_records();
    let by_rust = PartialAggregate::from_page(&records);
    let by_polars = PartialAggregate::from_frame(&questions_frame(&records).unwrap()).unwrap();
    assert_eq!(by_rust, by_polars);
    assert_eq!(by_rust.top_answer_author_votes["Zoë"], 12);
    assert_eq!(by_rust.tag_counts["python"], 3);
}

#[test]
fn merge_has_identity_and_partials_serialize() {
    let agg = PartialAggregate::from_page(&lesson_records());
    assert_eq!(agg.clone().merge(PartialAggregate::default()), agg);
    assert_eq!(PartialAggregate::default().merge(agg.clone()), agg);
    // Partials can travel between processes (e.g. via the Redis backend).
    let json = serde_json::to_string(&agg).unwrap();
    let back: PartialAggregate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, agg);
}

// ---- property: merging per-page partials in any order == aggregating the concatenation

const NAMES: [&str; 6] = ["Zoë", "Bob", "Åsa", "Пётр", "李雷", "x|y"];
const TAGS: [&str; 7] = ["python", "pandas", "rust", "c++", "c#", "a;b", ""];

fn arb_author() -> impl Strategy<Value = Author> {
    prop_oneof![
        6 => (0..NAMES.len()).prop_map(|i| user(NAMES[i], Some(i as u64))),
        1 => Just(Author::CommunityWiki),
        1 => Just(Author::Anonymous { display_name: None }),
    ]
}

fn arb_question(id: u64) -> impl Strategy<Value = CrawledQuestion> {
    let answers = prop::collection::vec((-5i64..40, any::<bool>(), arb_author()), 0..4);
    let tags = prop::sample::subsequence(TAGS.to_vec(), 0..=3);
    (answers, tags).prop_map(move |(answers, tags)| {
        let mut accepted_seen = false;
        let answers = answers
            .into_iter()
            .enumerate()
            .map(|(i, (score, acc, author))| {
                let acc = acc && !accepted_seen;
                accepted_seen |= acc;
                answer(id * 10 + i as u64, score, acc, author)
            })
            .collect();
        question(id, &tags, answers)
    })
}

fn arb_pages() -> impl Strategy<Value = Vec<Vec<CrawledQuestion>>> {
    prop::collection::vec(0usize..7, 1..7).prop_flat_map(|sizes| {
        let mut next_id = 1u64;
        let pages: Vec<_> = sizes
            .into_iter()
            .map(|n| {
                let qs: Vec<_> = (0..n).map(|k| arb_question(next_id + k as u64)).collect();
                next_id += n as u64;
                qs
            })
            .collect();
        pages
    })
}

fn concat_frames(pages: &[Vec<CrawledQuestion>]) -> DataFrame {
    let mut all = questions_frame(&[]).unwrap();
    for page in pages {
        all.vstack_mut(&questions_frame(page).unwrap()).unwrap();
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn merging_partials_in_any_order_equals_aggregating_the_concatenated_frame(
        (pages, order, split) in arb_pages().prop_flat_map(|pages| {
            let n = pages.len();
            let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            (Just(pages), order, 0..=n)
        })
    ) {
        let whole = PartialAggregate::from_frame(&concat_frames(&pages)).unwrap();

        // Partials per page, each computed with polars on the page's frame
        // and directly from the records; both must agree page by page.
        let partials: Vec<PartialAggregate> = pages
            .iter()
            .map(|p| {
                let by_frame = PartialAggregate::from_frame(&questions_frame(p).unwrap()).unwrap();
                assert_eq!(by_frame, PartialAggregate::from_page(p));
                by_frame
            })
            .collect();

        // Completion order: a random permutation, folded left.
        let folded = order
            .iter()
            .fold(PartialAggregate::default(), |acc, &i| acc.merge(partials[i].clone()));
        prop_assert_eq!(&folded, &whole);

        // Associativity: merge the two halves of the permuted list separately.
        let (left, right) = order.split_at(split);
        let fold = |ix: &[usize]| ix.iter().fold(PartialAggregate::default(), |acc, &i| {
            let mut acc = acc;
            acc.merge_from(&partials[i]);
            acc
        });
        prop_assert_eq!(fold(right).merge(fold(left)), whole.clone());

        // And the lesson's answers agree too.
        let frame = concat_frames(&pages);
        prop_assert_eq!(folded.summary(3), Summary::from_frame(&frame, 3).unwrap());
    }
}

/// Frames of 100,000+ rows count their tags on several threads; the result
/// must equal a plain sequential count.
#[test]
fn large_frames_aggregate_like_a_sequential_count() {
    use std::collections::{BTreeMap, HashMap};
    let rows = 120_000usize;
    // 120,000 tags in all: counted on several threads.
    let mut tags = ListStringChunkedBuilder::new(c::TAGS.into(), rows, rows);
    for i in 0..rows {
        let row: &[&str] = match i % 3 {
            0 => &["a"],
            1 => &["a", "b"],
            _ => &[],
        };
        tags.append_values_iter(row.iter().copied());
    }
    let author: Vec<Option<String>> = (0..rows)
        .map(|i| (i % 10 != 0).then(|| format!("u{}", i % 7)))
        .collect();
    let score: Vec<Option<i64>> = (0..rows)
        .map(|i| (i % 10 != 0).then_some((i % 5) as i64 - 1))
        .collect();
    let answer_count: Vec<u32> = (0..rows).map(|i| u32::from(i % 10 != 0)).collect();
    let accepted: Vec<bool> = (0..rows).map(|i| i % 4 == 0).collect();

    let mut want_counts: HashMap<String, u64> = HashMap::new();
    let mut want_votes: HashMap<String, i64> = HashMap::new();
    let mut want_scores: BTreeMap<i64, u64> = BTreeMap::new();
    for (a, s) in author.iter().zip(&score) {
        if let (Some(a), Some(s)) = (a, s) {
            *want_counts.entry(a.clone()).or_default() += 1;
            *want_votes.entry(a.clone()).or_default() += s;
            *want_scores.entry(*s).or_default() += 1;
        }
    }
    let df = DataFrame::new(vec![
        Column::new(c::ANSWER_COUNT.into(), answer_count),
        Column::new(c::HAS_ACCEPTED_ANSWER.into(), accepted),
        Column::new(c::TOP_ANSWER_AUTHOR.into(), author),
        Column::new(c::TOP_ANSWER_SCORE.into(), score),
        tags.finish().into_column(),
    ])
    .unwrap();
    let agg = PartialAggregate::from_frame(&df).unwrap();
    assert_eq!(agg.questions, 120_000);
    assert_eq!(agg.answered, 108_000);
    assert_eq!(agg.with_accepted, 30_000);
    assert_eq!(agg.tag_counts.len(), 2);
    assert_eq!(agg.tag_counts["a"], 80_000);
    assert_eq!(agg.tag_counts["b"], 40_000);
    let as_std = |m: &sofleet_analysis::NameMap<u64>| -> HashMap<String, u64> {
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    assert_eq!(as_std(&agg.top_answer_author_counts), want_counts);
    let votes: HashMap<String, i64> = agg
        .top_answer_author_votes
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(votes, want_votes);
    assert_eq!(agg.top_answer_score_counts, want_scores);
    assert_eq!(want_scores.values().sum::<u64>(), 108_000);
}
