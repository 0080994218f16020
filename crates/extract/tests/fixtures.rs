//! Data-driven fixture tests: one snapshot check per page in
//! `fixtures/pages`, comparing the extractor's output with the expected
//! record written beside the page (`<name>.expected.json`, see
//! fixtures/README.md) as text, with [`expect_test`]. A mismatch fails and
//! prints the expected and actual text and a diff of the two.
//!
//! When the extractor's output changes on purpose, rewrite the expected
//! files from it and review the change with `git diff fixtures/pages`:
//!
//! ```text
//! UPDATE_EXPECT=1 cargo test -p sofleet-extract --test fixtures
//! ```
//!
//! The expected records are written by `fixtures/pages/generate.py` from
//! its own data, in the same text format: keep the generator in step.

use std::path::PathBuf;

use expect_test::expect_file;
use serde::Serialize;
use serde_json::ser::PrettyFormatter;
use serde_json::{Value, json};
use sofleet_extract::{ExtractError, parse_page};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pages")
}

/// The error as the expected files describe it.
fn error_json(e: &ExtractError) -> Value {
    match e {
        ExtractError::Captcha {
            by,
            url_path,
            site_host,
            page_title,
        } => json!({"kind": e.kind(), "by": by, "url_path": url_path,
                     "site_host": site_host, "page_title": page_title}),
        ExtractError::Truncated { bytes, looked_like } => {
            json!({"kind": e.kind(), "bytes": bytes, "looked_like": looked_like})
        }
        ExtractError::UnreadableListing {
            row_markup,
            rows,
            missing,
            ..
        } => json!({"kind": e.kind(), "row_markup": row_markup, "rows": rows, "missing": missing}),
        _ => json!({"kind": e.kind()}),
    }
}

/// The snapshot text of a page's result: pretty JSON with sorted keys, one
/// space per indent level and a final newline, byte for byte what
/// `fixtures/pages/generate.py` writes (`json.dump(..., ensure_ascii=False,
/// indent=1, sort_keys=True)`), so the generator's files and the update
/// switch write the same text.
fn snapshot(mut value: Value) -> String {
    // Whatever the map type (`preserve_order` may be on in a workspace build).
    value.sort_all_objects();
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(b" "));
    value.serialize(&mut ser).unwrap();
    let mut text = String::from_utf8(out).unwrap();
    text.push('\n');
    text
}

fn check(name: &str) {
    let html_path = dir().join(format!("{name}.html"));
    let html = std::fs::read_to_string(&html_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", html_path.display()));
    let actual = match parse_page(&html) {
        Ok(page) => json!({ "ok": serde_json::to_value(&page).unwrap() }),
        Err(e) => {
            // Every error must also render a message naming what the page was.
            assert!(!e.to_string().is_empty());
            json!({ "error": error_json(&e) })
        }
    };
    // On a mismatch: a diff against the expected file and the update command.
    expect_file![dir().join(format!("{name}.expected.json"))].assert_eq(&snapshot(actual));
}

macro_rules! fixtures {
    ($($test:ident => $name:literal,)*) => {
        $( #[test] fn $test() { check($name); } )*

        /// Every page in the folder has a check above (no silently skipped fixture).
        #[test]
        fn every_fixture_is_checked() {
            let listed = [$($name),*];
            let mut missing = Vec::new();
            for entry in std::fs::read_dir(dir()).unwrap() {
                let file = entry.unwrap().file_name().into_string().unwrap();
                if let Some(stem) = file.strip_suffix(".html") {
                    if !listed.contains(&stem) {
                        missing.push(stem.to_string());
                    }
                    assert!(dir().join(format!("{stem}.expected.json")).exists(), "{stem} has no expected record");
                }
            }
            assert!(missing.is_empty(), "fixtures without a check: {missing:?}");
        }
    };
}

fixtures! {
    a_list_tagged => "a-list-tagged",
    a_q_accepted => "a-q-accepted",
    a_q_community_wiki => "a-q-community-wiki",
    a_q_no_answers => "a-q-no-answers",
    b_list_homepage => "b-list-homepage",
    b_list_homepage_broken_rows => "b-list-homepage-broken-rows",
    b_list_search => "b-list-search",
    b_q_accepted_not_top => "b-q-accepted-not-top",
    b_q_deleted_user => "b-q-deleted-user",
    b_q_negative => "b-q-negative",
    b_q_post_layout_2018 => "b-q-post-layout-2018",
    block_404 => "block-404",
    block_429 => "block-429",
    block_captcha_cloudflare => "block-captcha-cloudflare",
    block_captcha_stackexchange => "block-captcha-stackexchange",
    c_list_row_problem => "c-list-row-problem",
    c_list_search => "c-list-search",
    c_list_tagged => "c-list-tagged",
    c_q_closed_notice => "c-q-closed-notice",
    c_q_first_grid_2019 => "c-q-first-grid-2019",
    c_q_localised_pt => "c-q-localised-pt",
    c_q_real_size => "c-q-real-size",
    d_list_newest => "d-list-newest",
    d_q_community_wiki_answer => "d-q-community-wiki-answer",
    d_q_duplicate_notice => "d-q-duplicate-notice",
    d_q_non_ascii => "d-q-non-ascii",
    e_list_newest => "e-list-newest",
    e_list_tagged => "e-list-tagged",
    e_q_accepted_not_top => "e-q-accepted-not-top",
    e_q_cw_and_deleted => "e-q-cw-and-deleted",
    e_q_no_answers => "e-q-no-answers",
    e_q_real_size_long => "e-q-real-size-long",
    e_q_real_size => "e-q-real-size",
    empty => "empty",
    not_a_page => "not-a-page",
    truncated_question => "truncated-question",
    unreadable_listing => "unreadable-listing",
}

/// `top_answer` (highest score; ties: accepted first, then page order) and
/// `first_answer` (page order) on the fixture pages built for them.
#[test]
fn top_and_first_answer() {
    let load = |name: &str| {
        sofleet_extract::parse_question(
            &std::fs::read_to_string(dir().join(format!("{name}.html"))).unwrap(),
        )
        .unwrap()
    };
    let cases = [
        // (page, top, first, accepted)
        (
            "b-q-accepted-not-top",
            Some(21001050),
            Some(21001050),
            Some(21001002),
        ),
        (
            "e-q-accepted-not-top",
            Some(71010050),
            Some(71010050),
            Some(71010011),
        ),
        (
            "d-q-non-ascii",
            Some(63007010),
            Some(63007020),
            Some(63007010),
        ),
        ("b-q-negative", Some(23003020), Some(23003010), None),
        ("e-q-no-answers", None, None, None),
    ];
    for (name, top, first, accepted) in cases {
        let q = load(name);
        assert_eq!(q.top_answer().map(|a| a.id), top, "{name}: top");
        assert_eq!(q.first_answer().map(|a| a.id), first, "{name}: first");
        assert_eq!(
            q.accepted_answer().map(|a| a.id),
            accepted,
            "{name}: accepted"
        );
    }
}
