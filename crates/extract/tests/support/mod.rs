//! The robustness suite's fixtures and page mutators, shared with the fast
//! path's differential tests (`fast_path.rs`).

// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

use proptest::prelude::*;

/// Small and medium fixtures (the debug profile parses them quickly).
pub const FIXTURES: [&str; 10] = [
    "a-q-accepted",
    "b-q-deleted-user",
    "c-q-localised-pt",
    "d-q-non-ascii",
    "e-q-accepted-not-top",
    "e-q-cw-and-deleted",
    "a-list-tagged",
    "b-list-homepage",
    "b-list-homepage-broken-rows",
    "b-list-search",
];

/// Listing fixtures for the one-bad-row property: (page, rows).
pub const LISTINGS: [(&str, usize); 3] = [
    ("a-list-tagged", 15),
    ("b-list-homepage", 20),
    ("c-list-search", 15),
];

/// Removes one tag (`<…>`) among those between the first listing row and the sidebar.
pub fn delete_row_tag(doc: &str, pick: usize) -> String {
    let start = doc.find("<div class=\"question-summary").unwrap();
    let end = doc.find("<div id=\"sidebar\"").unwrap();
    let starts: Vec<usize> = doc[start..end]
        .match_indices('<')
        .map(|(i, _)| start + i)
        .collect();
    let s = starts[pick % starts.len()];
    let len = doc[s..].find('>').unwrap();
    let mut out = doc.to_string();
    out.replace_range(s..=s + len, "");
    out
}

pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/pages")
        .join(format!("{name}.html"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Removes the `k`-th tag (`<…>`) for each k in `picks` (indices mod count).
pub fn delete_tags(doc: &str, picks: &[usize]) -> String {
    let mut doc = doc.to_string();
    for &p in picks {
        let starts: Vec<usize> = doc.match_indices('<').map(|(i, _)| i).collect();
        if starts.is_empty() {
            break;
        }
        let s = starts[p % starts.len()];
        if let Some(len) = doc[s..].find('>') {
            doc.replace_range(s..=s + len, "");
        }
    }
    doc
}

pub fn token_soup() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "<html>",
        "</html>",
        "<head>",
        "</head>",
        "<body>",
        "</body>",
        "<title>",
        "</title>",
        "<div id=\"question-header\">",
        "<h1>",
        "</h1>",
        "<a href=\"/questions/12/x\">",
        "</a>",
        "<div id=\"question\" class=\"question\" data-questionid=\"7\">",
        "<div id=\"answer-9\" class=\"answer accepted-answer\" data-score=\"-3\">",
        "<div class=\"s-prose js-post-body\">",
        "<div class=\"post-text\">",
        "<div class=\"js-vote-count\" data-value=\"x\">",
        "<span class=\"vote-count-post\">",
        "<div class=\"post-signature owner\">",
        "<div class=\"user-details\">",
        "<a href=\"/users/5/u\">",
        "<span class=\"community-wiki\">",
        "<aside class=\"js-post-notice\">",
        "<div class=\"question-summary\" id=\"question-summary-3\">",
        "<div class=\"s-post-summary\">",
        "<div class=\"pager\">",
        "<a rel=\"next\" href=\"?page=99999999999\">",
        "<b>",
        "<table>",
        "<td>",
        "<script>",
        "</script>",
        "</div>",
        "</span>",
        "text ",
        "12",
        "-",
        "&amp;",
        "é",
        "<!--",
        "-->",
        "<select id=\"answer-sort\"><option selected value=\"votes\">",
        "<div id=\"sidebar\">",
        "<div id=\"mainbar\">",
        "_cf_chl_opt",
        "<h2 data-answercount=\"4294967296\">",
    ]);
    prop::collection::vec(tokens, 0..300).prop_map(|v| v.concat())
}
