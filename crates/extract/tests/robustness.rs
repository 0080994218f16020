//! No panic, hang or blow-up on any input: property tests over arbitrary
//! bytes, markup-like token soup and mutated fixture pages (truncated, tags
//! deleted, sections duplicated), plus pathological shapes (deep nesting,
//! thousands of nested answers). Case counts are bounded for CI.

use proptest::prelude::*;
use sofleet_extract::{Excess, ExtractError, Page, parse_page, parse_page_bytes};
use support::{FIXTURES, LISTINGS, delete_row_tag, delete_tags, fixture, floor_char, token_soup};

mod support;

/// Exercises everything a caller would touch on the result.
fn consume(result: Result<Page, ExtractError>) {
    match result {
        Ok(Page::Question(q)) => {
            let _ = (q.top_answer(), q.first_answer(), q.accepted_answer());
            for a in &q.answers {
                let _ = a.author.display_name();
            }
            serde_json::to_string(&q).unwrap();
        }
        Ok(Page::Listing(l)) => {
            serde_json::to_string(&l).unwrap();
        }
        Err(e) => {
            assert!(!e.kind().is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        consume(parse_page_bytes(&bytes));
    }

    #[test]
    fn markup_token_soup_never_panics(doc in token_soup()) {
        consume(parse_page(&doc));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// A page cut anywhere before its closing `</body>` is reported as
    /// truncated (or empty), never returned as a record.
    #[test]
    fn truncated_fixture_is_an_error(which in 0..FIXTURES.len(), frac in 0.0f64..1.0) {
        let doc = fixture(FIXTURES[which]);
        let body_end = doc.rfind("</body").unwrap();
        let cut = floor_char(&doc, (body_end as f64 * frac) as usize);
        match parse_page(&doc[..cut]) {
            Err(ExtractError::Truncated { bytes, .. }) => prop_assert_eq!(bytes, cut),
            Err(ExtractError::Empty) => prop_assert!(doc[..cut].trim().is_empty()),
            other => prop_assert!(false, "cut at {} of {}: {:?}", cut, FIXTURES[which], other.map(|p| p.kind())),
        }
    }

    /// One tag deleted anywhere in a listing's rows (a lost start tag, a lost or stray
    /// end tag) costs at most one row: every other row is read exactly as before.
    #[test]
    fn one_broken_tag_costs_at_most_one_row(which in 0..LISTINGS.len(), pick in any::<usize>()) {
        let (name, rows) = LISTINGS[which];
        let whole = sofleet_extract::parse_listing(&fixture(name)).unwrap();
        prop_assert_eq!(whole.questions.len(), rows);
        let broken = sofleet_extract::parse_listing(&delete_row_tag(&fixture(name), pick));
        let broken = broken.map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
        let same = whole.questions.iter().filter(|q| broken.questions.contains(q)).count();
        prop_assert!(same + 1 >= rows, "{}: {} of {} rows unchanged", name, same, rows);
    }

    #[test]
    fn fixture_with_tags_deleted_never_panics(
        which in 0..FIXTURES.len(),
        picks in prop::collection::vec(any::<usize>(), 1..40),
    ) {
        consume(parse_page(&delete_tags(&fixture(FIXTURES[which]), &picks)));
    }

    #[test]
    fn fixture_with_duplicated_section_never_panics(
        which in 0..FIXTURES.len(),
        a in 0.0f64..1.0,
        len in 0.0f64..0.5,
        times in 1usize..4,
    ) {
        let doc = fixture(FIXTURES[which]);
        let start = floor_char(&doc, (doc.len() as f64 * a) as usize);
        let end = floor_char(&doc, start + (doc.len() as f64 * len) as usize);
        let section = &doc[start..end];
        let mutated = format!("{}{}{}", &doc[..end], section.repeat(times), &doc[end..]);
        consume(parse_page(&mutated));
    }
}

fn question_shell(body: &str, answers: &str) -> String {
    format!(
        "<html><head><title>t</title></head><body><div id=\"question-header\"><h1><a href=\"/questions/1/x\">T</a></h1></div>\
         <div id=\"question\" class=\"question\" data-questionid=\"1\" data-score=\"2\"><div class=\"s-prose js-post-body\">{body}</div></div>\
         <div id=\"answers\">{answers}</div></body></html>"
    )
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    // The tree builder's work grows with nesting depth; 20,000 levels would
    // take minutes. It is refused by a linear pre-scan instead.
    for opener in ["<div>", "<span>", "<b data-x=\"1\">", "<div/>"] {
        let doc = question_shell(&format!("{}deep", opener.repeat(20_000)), "");
        match parse_page(&doc) {
            Err(
                e @ ExtractError::TooComplex {
                    excess: Excess::Nesting,
                    ..
                },
            ) => {
                assert!(e.to_string().contains("nests"), "{e}");
                assert_eq!(e.kind(), "too_complex");
                assert!(!e.is_retryable());
            }
            other => panic!(
                "{opener}: expected a refusal, got {:?}",
                other.map(|p| p.kind())
            ),
        }
    }
}

#[test]
fn nesting_below_the_limit_parses_and_nested_answers_do_not_count() {
    let depth = 900;
    let body = format!("{}deep{}", "<div>".repeat(depth), "</div>".repeat(depth));
    let nested_answers =
        "<div id=\"answer-5\" class=\"answer\" data-score=\"1\"><div class=\"s-prose js-post-body\">x</div>".repeat(50);
    let q = sofleet_extract::parse_question(&question_shell(&body, &nested_answers)).unwrap();
    assert_eq!(q.body_text, "deep");
    // Only the outermost answer element is an answer of the page.
    assert_eq!(q.answers.len(), 1);
}

#[test]
fn many_open_formatting_elements_and_rows_finish() {
    let tags: String = (0..800).map(|i| format!("<b data-i=\"{i}\">")).collect();
    let doc = format!(
        "<html><head><title>t</title></head><body><div id=\"mainbar\">{tags}{}</div></body></html>",
        (0..2_000)
            .map(|i| format!(
                "<div class=\"question-summary\" id=\"question-summary-{i}\"><h3><a class=\"question-hyperlink\" href=\"/questions/{i}/x\">q</a></h3></div>"
            ))
            .collect::<String>()
    );
    let listing = sofleet_extract::parse_listing(&doc).unwrap();
    assert_eq!(listing.questions.len(), 2_000);
}
