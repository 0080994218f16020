//! Issue #17 (part 1): listing rows read independently of each other's markup, search
//! results with their answer hits, the listing error rule (no readable row is an error,
//! an unreadable row is a visible problem), and the markup era read from the markup that
//! defines it. The fixture pages are described in fixtures/README.md.

use std::path::PathBuf;

use sofleet_extract::{ExtractError, ListingPage, MarkupEra, parse_listing, parse_question};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/pages")
        .join(format!("{name}.html"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn listing(name: &str) -> ListingPage {
    parse_listing(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn page(rows: &str) -> String {
    format!(
        "<html><head><title>Newest</title></head><body><div id=\"mainbar\">\
         <div id=\"questions\">{rows}</div></div></body></html>"
    )
}

fn ids(l: &ListingPage) -> Vec<u64> {
    l.questions.iter().map(|q| q.id).collect()
}

/// A misspelled end tag (`votes/div>`) leaves its row open, so the HTML parser puts
/// every later row inside it: each row is still read, in page order.
#[test]
fn a_broken_row_costs_at_most_itself() {
    let html = fixture("b-list-homepage-broken-rows");
    assert_eq!(html.matches("votes/div>").count(), 3);
    let l = listing("b-list-homepage-broken-rows");
    assert_eq!(l.questions.len(), 24);
    assert!(l.row_problems.is_empty());
    let mut sorted = ids(&l);
    sorted.sort_unstable();
    assert_eq!(ids(&l), sorted, "page order kept");
    // Each row keeps its own tags, not those of the rows parsed into it.
    assert!(l.questions.iter().all(|q| (1..=4).contains(&q.tags.len())));

    // Rows nested every way broken markup nests them: a chain, and two rows side by
    // side inside one unclosed row.
    let row = |id: u32, close: bool| {
        format!(
            "<div class=\"question-summary\" id=\"question-summary-{id}\"><div class=\"votes\">\
             <span class=\"vote-count-post\">{id}</span></div><h3><a class=\"question-hyperlink\" \
             href=\"/questions/{id}/q\">Q{id}</a></h3>{}",
            if close { "</div>" } else { "" }
        )
    };
    let rows = [
        row(1, false),
        row(2, true),
        row(3, false),
        row(4, false),
        row(5, true),
        row(6, true),
    ]
    .concat();
    let l = parse_listing(&page(&rows)).unwrap();
    assert_eq!(ids(&l), [1, 2, 3, 4, 5, 6]);
    let scores: Vec<i64> = l.questions.iter().map(|q| q.score).collect();
    assert_eq!(scores, [1, 2, 3, 4, 5, 6]);
    let titles: Vec<&str> = l.questions.iter().map(|q| q.title.as_str()).collect();
    assert_eq!(titles, ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"]);
}

/// A row that cannot be read is reported on the page, with where it was and what it
/// lacked; the rows after it are read.
#[test]
fn an_unreadable_row_is_a_visible_problem() {
    let l = listing("c-list-row-problem");
    assert_eq!(l.questions.len(), 11);
    assert_eq!(l.row_problems.len(), 1);
    let p = &l.row_problems[0];
    assert_eq!(p.position, 4);
    assert_eq!(p.row_id.as_deref(), Some("question-summary-58000136"));
    assert!(p.missing.starts_with("title link"), "{}", p.missing);
    assert!(!ids(&l).contains(&58000136));
    // The problem survives serialisation (journals, `sofleet extract`).
    let json = serde_json::to_value(&l).unwrap();
    assert_eq!(json["row_problems"][0]["position"], 4);
}

/// Rows found, none readable: an error naming what was missing, never an empty listing.
#[test]
fn a_listing_without_a_readable_row_is_an_error() {
    let err = parse_listing(&fixture("unreadable-listing")).unwrap_err();
    let ExtractError::UnreadableListing {
        row_markup,
        rows,
        missing,
        ..
    } = &err
    else {
        panic!("expected UnreadableListing, got {err:?}");
    };
    assert_eq!((*row_markup, *rows), ("question-summary", 6));
    assert!(missing.starts_with("title link"), "{missing}");
    assert_eq!(err.kind(), "unreadable_listing");
    assert!(!err.is_retryable());
    let message = err.to_string();
    assert!(message.contains("6 `question-summary` row(s)") && message.contains("title link"));

    // The same rule for the other row markup, and for rows whose links lack an id.
    let rows = "<div class=\"s-post-summary\"><h3 class=\"s-post-summary--content-title\">\
                <a href=\"/questions/tagged/rust\">no id</a></h3></div>"
        .repeat(2);
    let err = parse_listing(&page(&rows)).unwrap_err();
    assert!(
        matches!(&err, ExtractError::UnreadableListing { row_markup: "s-post-summary", rows: 2, missing, .. }
            if missing.starts_with("question id")),
        "{err:?}"
    );
}

/// Search results: question hits read with their bare titles, answer hits marked with
/// the answer id and named by their question (2013–2016 and 2019–2020 markup).
#[test]
fn search_results_mark_answer_hits() {
    for (name, rows, answers) in [("b-list-search", 12, 3), ("c-list-search", 15, 5)] {
        let l = listing(name);
        assert_eq!(l.questions.len(), rows, "{name}");
        assert!(l.row_problems.is_empty(), "{name}");
        let hits: Vec<_> = l.questions.iter().filter(|q| q.is_answer_hit()).collect();
        assert_eq!(hits.len(), answers, "{name}");
        for q in &l.questions {
            assert!(!q.title.starts_with("Q: ") && !q.title.starts_with("A: "));
            assert!(
                q.link.starts_with(&format!("/questions/{}/", q.id)),
                "{name}: {q:?}"
            );
            if let Some(answer) = q.answer_id {
                assert_ne!(answer, q.id);
                assert!(q.link.contains(&format!("/{answer}")), "{name}: {q:?}");
                assert!(q.tags.is_empty() && q.has_accepted_answer.is_none());
            } else {
                assert!(!q.tags.is_empty());
            }
        }
    }

    // 2021 on: `s-post-summary` rows whose `data-post-id` is the answer's on answer hits.
    let rows = "<div id=\"question-summary-11\" class=\"s-post-summary js-post-summary\" \
                data-post-id=\"11\" data-post-type-id=\"1\"><h3 class=\"s-post-summary--content-title\">\
                <a href=\"/questions/11/q\" class=\"s-link\">Q eleven</a></h3></div>\
                <div id=\"answer-id-99\" class=\"s-post-summary js-post-summary\" data-post-id=\"99\" \
                data-post-type-id=\"2\"><h3 class=\"s-post-summary--content-title\">\
                <a href=\"/questions/12/q/99#99\" class=\"answer-hyperlink s-link\">Q twelve</a></h3></div>";
    let l = parse_listing(&page(rows)).unwrap();
    let got: Vec<_> = l.questions.iter().map(|q| (q.id, q.answer_id)).collect();
    assert_eq!(got, [(11, None), (12, Some(99))]);
}

/// Each era from the markup that defines it, on the pages either side of each boundary.
#[test]
fn eras_at_their_boundaries() {
    for (name, era) in [
        // A | B: data-questionid / data-answerid.
        ("a-q-accepted", MarkupEra::A),
        ("b-q-accepted-not-top", MarkupEra::B),
        // B | C: the grid's `.js-vote-count`, not the `post-layout` wrappers (2018).
        ("b-q-post-layout-2018", MarkupEra::B),
        ("c-q-first-grid-2019", MarkupEra::C),
        // C | D: the `.s-prose.js-post-body` body.
        ("c-q-closed-notice", MarkupEra::C),
        ("d-q-non-ascii", MarkupEra::D),
        // D | E: `data-score` on the question.
        ("d-q-community-wiki-answer", MarkupEra::D),
        ("e-q-accepted-not-top", MarkupEra::E),
    ] {
        let q = parse_question(&fixture(name)).unwrap();
        assert_eq!(q.markup_era, era, "{name}");
    }

    // The same post, changed one defining marker at a time.
    let post = |attrs: &str, votes: &str, body: &str| {
        format!(
            "<html><head><title>Q</title></head><body><div id=\"question-header\"><h1>\
             <a href=\"/questions/5/q\">Q</a></h1></div><div id=\"question\" {attrs}>\
             <div class=\"post-layout\"><div class=\"votecell post-layout--left\">{votes}</div>\
             <div class=\"postcell post-layout--right\"><div class=\"{body}\">text</div></div>\
             </div></div></body></html>"
        )
    };
    let old_votes = "<span class=\"vote-count-post \">3</span>";
    let grid_votes = "<div class=\"js-vote-count\" data-value=\"3\">3</div>";
    let ids = "class=\"question\" data-questionid=\"5\"";
    for (html, era) in [
        (post("", old_votes, "post-text"), MarkupEra::A),
        (post(ids, old_votes, "post-text"), MarkupEra::B),
        (post(ids, grid_votes, "post-text"), MarkupEra::C),
        (post(ids, grid_votes, "s-prose js-post-body"), MarkupEra::D),
        (
            post(
                &format!("{ids} data-score=\"3\""),
                grid_votes,
                "s-prose js-post-body",
            ),
            MarkupEra::E,
        ),
    ] {
        let q = parse_question(&html).unwrap();
        assert_eq!((q.markup_era, q.score), (era, 3));
    }
}
