//! The fast path against the reference path (html5ever): on every fixture
//! page and on pages mutated by the robustness suite's mutators (plus text
//! edits that keep the markup well-formed), the fast path either returns
//! exactly the reference's result or declines, and the public API always
//! returns the reference's result.

mod support;

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sofleet_extract::paths::{self, FastOutcome};
use sofleet_extract::{ExtractLimits, parse_page};
use support::{FIXTURES, delete_tags, fixture, floor_char, token_soup};

/// Pages the fast path must accept (the benchmark's real-size pages and a
/// few per era): a decline here is a performance regression.
const MUST_ACCEPT: [&str; 5] = [
    "d-q-duplicate-notice",
    "c-q-real-size",
    "e-q-real-size",
    "e-q-real-size-long",
    "e-list-tagged",
];

/// Tallies of one differential run.
#[derive(Debug, Default)]
struct Tally {
    same: usize,
    declined: Vec<&'static str>,
}

impl Tally {
    fn report(&self, what: &str) {
        let mut reasons = self.declined.clone();
        reasons.sort_unstable();
        reasons.dedup();
        eprintln!(
            "{what}: {} compared, {} identical, {} declined ({})",
            self.same + self.declined.len(),
            self.same,
            self.declined.len(),
            reasons.join("; ")
        );
    }
}

/// Runs both paths on `doc`: the fast path's result, when it has one, must be
/// the reference's, and so must the public API's. `Err` describes a
/// disagreement.
fn compare(doc: &str, tally: &mut Tally) -> Result<(), String> {
    let limits = ExtractLimits::default();
    let reference = paths::reference(doc, &limits);
    match paths::fast(doc, &limits) {
        FastOutcome::Done(fast) if fast == reference => tally.same += 1,
        FastOutcome::Done(fast) => {
            return Err(format!(
                "fast path disagrees:\n fast: {fast:?}\n reference: {reference:?}"
            ));
        }
        FastOutcome::Declined(why) => tally.declined.push(why),
    }
    let public = parse_page(doc);
    if public != reference {
        return Err(format!(
            "public API disagrees:\n public: {public:?}\n reference: {reference:?}"
        ));
    }
    Ok(())
}

fn fixture_names() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pages");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".html").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_fixture_agrees() {
    let mut tally = Tally::default();
    let mut accepted = Vec::new();
    for name in fixture_names() {
        let doc = fixture(&name);
        let declined_before = tally.declined.len();
        if let Err(e) = compare(&doc, &mut tally) {
            panic!("{name}: {e}");
        }
        if tally.declined.len() == declined_before {
            accepted.push(name.clone());
        } else {
            eprintln!("  {name}: declined ({})", tally.declined.last().unwrap());
        }
    }
    tally.report("fixtures");
    for name in MUST_ACCEPT {
        assert!(
            accepted.iter().any(|a| a == name),
            "{name} was declined by the fast path"
        );
    }
}

/// Snippets inserted into pages: text, character references of every kind,
/// line ends, and markup the fast path must decline or read exactly.
const SNIPPETS: [&str; 30] = [
    "&#13;",
    "&#xD;",
    "<noscript><p>&amp; x</p></noscript>",
    "<style>a<b&amp;</style>",
    "<table><tr><td>x</td></tr></table>",
    "<select><option>a<option selected>b</select>",
    "x",
    " ",
    "\n",
    "\r\n",
    "\r",
    "é",
    "&amp;",
    "&lt;b&gt;",
    "&#233;",
    "&#x1F600;",
    "&nbsp;",
    "&",
    "&amp",
    "&notin;",
    "&#128;",
    "<",
    "<b>",
    "</b>",
    "<br/>",
    "<p>",
    "<!-- c -->",
    "<table>",
    "<a href=\"/q\">",
    "\"",
];

/// A fixture with snippets inserted at random places (in text, in tags, in
/// attribute values).
fn edited_fixture() -> impl Strategy<Value = String> {
    (
        0..FIXTURES.len(),
        prop::collection::vec((0.0f64..1.0, prop::sample::select(SNIPPETS.to_vec())), 1..6),
    )
        .prop_map(|(which, edits)| {
            let mut doc = fixture(FIXTURES[which]);
            for (at, snippet) in edits {
                let i = floor_char(&doc, (doc.len() as f64 * at) as usize);
                doc.insert_str(i, snippet);
            }
            doc
        })
}

/// A fixture with tags deleted (the robustness suite's mutator).
fn fixture_with_tags_deleted() -> impl Strategy<Value = String> {
    (
        0..FIXTURES.len(),
        prop::collection::vec(any::<usize>(), 1..6),
    )
        .prop_map(|(which, picks)| delete_tags(&fixture(FIXTURES[which]), &picks))
}

/// A fixture with a section repeated (the robustness suite's mutator).
fn fixture_with_duplicated_section() -> impl Strategy<Value = String> {
    (0..FIXTURES.len(), 0.0f64..1.0, 0.0f64..0.5, 1usize..4).prop_map(|(which, a, len, times)| {
        let doc = fixture(FIXTURES[which]);
        let start = floor_char(&doc, (doc.len() as f64 * a) as usize);
        let end = floor_char(&doc, start + (doc.len() as f64 * len) as usize);
        let section = &doc[start..end];
        format!("{}{}{}", &doc[..end], section.repeat(times), &doc[end..])
    })
}

/// Runs `cases` differential cases of `strategy` and reports the tallies.
fn differential(what: &str, cases: u32, strategy: impl Strategy<Value = String>) -> Tally {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&strategy, |doc| {
        compare(&doc, &mut tally.borrow_mut()).map_err(TestCaseError::fail)
    });
    let tally = tally.into_inner();
    tally.report(what);
    if let Err(e) = result {
        panic!("{what}: {e}");
    }
    tally
}

#[test]
fn edited_fixtures_agree() {
    let tally = differential("edited fixtures", 400, edited_fixture());
    // Most edits keep the page within what the fast path reads.
    assert!(tally.same > 0, "the fast path accepted no edited page");
}

#[test]
fn fixtures_with_tags_deleted_agree() {
    differential("tags deleted", 200, fixture_with_tags_deleted());
}

#[test]
fn fixtures_with_duplicated_sections_agree() {
    differential(
        "duplicated sections",
        150,
        fixture_with_duplicated_section(),
    );
}

#[test]
fn token_soup_agrees() {
    differential("token soup", 300, token_soup());
}
