//! `cargo xtask check-pages DIR`: runs the extractor over a folder of saved
//! pages with an `expected.json` beside them and compares every field that
//! file defines for each page's kind.
//!
//! Fields that describe the capture rather than the page (`file`, `source`,
//! `capture_date`, `era`) are not page content and are listed as such; every
//! other field is compared, including fields this checker does not know
//! (they count as disagreements, "not extracted").
//!
//! Every page is also run through both tree builders of the extractor, the
//! fast path and the reference path (html5ever): their records must be
//! identical, or the fast path must decline the page (the public API then
//! uses the reference path). Disagreements fail the check; declines are
//! listed with their reason.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sofleet_extract::paths::{self, FastOutcome};
use sofleet_extract::{ExtractError, ExtractLimits, ListingPage, Page, Question, parse_page_bytes};

/// Keys of `expected.json` that describe the capture, not the page.
const METADATA: [&str; 4] = ["file", "source", "capture_date", "era"];

/// The first `n` characters (code points) of `s`.
fn prefix(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn question_fields(q: &Question) -> BTreeMap<&'static str, Value> {
    let first = q.first_answer();
    let accepted = q.accepted_answer();
    BTreeMap::from([
        ("kind", json!("question")),
        ("title", json!(q.page_title)),
        ("site_host", json!(q.site_host)),
        ("question_id", json!(q.id)),
        ("question_title", json!(q.title)),
        ("question_title_status_suffix", json!(q.title_status_suffix)),
        ("question_title_clean", json!(q.title_clean)),
        ("og_title", json!(q.og_title)),
        ("question_score", json!(q.score)),
        ("tags", json!(q.tags)),
        ("body_prefix", json!(prefix(&q.body_text, 60))),
        (
            "body_prefix_excluding_notices",
            json!(prefix(&q.body_text_excluding_notices, 60)),
        ),
        ("answer_count", json!(q.answers.len())),
        ("answer_count_declared", json!(q.answer_count_declared)),
        ("first_answer_id", json!(first.map(|a| a.id))),
        ("first_answer_score", json!(first.map(|a| a.score))),
        (
            "first_answer_author",
            json!(first.map(|a| a.author.display_name())),
        ),
        (
            "first_answer_author_attr",
            json!(first.and_then(|a| a.author_username_attr.clone())),
        ),
        ("has_accepted_answer", json!(accepted.is_some())),
        ("accepted_answer_id", json!(accepted.map(|a| a.id))),
        ("answer_sort", json!(q.answer_sort)),
        ("markup_era", json!(q.markup_era.letter().to_string())),
    ])
}

fn listing_fields(l: &ListingPage) -> BTreeMap<&'static str, Value> {
    let mut m = BTreeMap::from([
        ("kind", json!("listing")),
        ("title", json!(l.page_title)),
        ("site_host", json!(l.site_host)),
        ("listing_type", json!(l.listing_type.as_str())),
        ("listing_markup", json!(l.row_markup)),
        (
            "question_ids",
            json!(l.questions.iter().map(|q| q.id).collect::<Vec<_>>()),
        ),
        (
            "question_links",
            json!(
                l.questions
                    .iter()
                    .map(|q| q.link.as_str())
                    .collect::<Vec<_>>()
            ),
        ),
    ]);
    match &l.pagination {
        None => {
            m.insert("pagination", Value::Null);
        }
        Some(p) => {
            m.insert("pagination.current_page", json!(p.current_page));
            m.insert("pagination.has_next_link", json!(p.next_href.is_some()));
            m.insert("pagination.next_href", json!(p.next_href));
            m.insert(
                "pagination.highest_page_number_shown",
                json!(p.highest_page_number_shown),
            );
        }
    }
    m
}

fn error_fields(e: &ExtractError) -> BTreeMap<&'static str, Value> {
    match e {
        ExtractError::Captcha {
            by,
            url_path,
            site_host,
            page_title,
        } => BTreeMap::from([
            ("kind", json!("blocked")),
            ("title", json!(page_title)),
            ("site_host", json!(site_host)),
            ("blocked_by", json!(by)),
            ("blocked_url_path", json!(url_path)),
        ]),
        other => BTreeMap::from([
            ("kind", json!(format!("error: {}", other.kind()))),
            ("error", json!(other.to_string())),
        ]),
    }
}

/// The expected values to compare, flattened like the actual ones:
/// metadata dropped, `markup_era` reduced to its letter, a pagination object
/// split into its fields.
fn expected_fields(entry: &serde_json::Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in entry {
        if METADATA.contains(&k.as_str()) {
            continue;
        }
        match (k.as_str(), v) {
            ("markup_era", Value::String(s)) => {
                out.push((k.clone(), json!(s.chars().take(1).collect::<String>())));
            }
            ("pagination", Value::Object(p)) => {
                for (pk, pv) in p {
                    out.push((format!("pagination.{pk}"), pv.clone()));
                }
            }
            _ => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// What the two tree builders made of one page.
enum PathsVerdict {
    Identical,
    Declined(&'static str),
    Disagree(String),
}

/// Runs the fast and the reference path on `bytes` (as `parse_page_bytes`
/// reads them) and compares their results.
fn compare_paths(bytes: &[u8]) -> PathsVerdict {
    let text = String::from_utf8_lossy(bytes);
    let limits = ExtractLimits::default();
    let reference = paths::reference(&text, &limits);
    match paths::fast(&text, &limits) {
        FastOutcome::Declined(why) => PathsVerdict::Declined(why),
        FastOutcome::Done(fast) if fast == reference => PathsVerdict::Identical,
        FastOutcome::Done(fast) => {
            let show = |r: &Result<Page, ExtractError>| {
                short(
                    &serde_json::to_value(r.as_ref().map_err(ToString::to_string))
                        .unwrap_or_default(),
                )
            };
            PathsVerdict::Disagree(format!(
                "fast {} reference {}",
                show(&fast),
                show(&reference)
            ))
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// Runs the check over `dir` (which holds `expected.json` and the pages it
/// names), prints the per-field agreement table and every disagreement, and
/// returns whether every compared field agreed.
pub fn run(dir: &Path) -> Result<bool> {
    let expected_path = dir.join("expected.json");
    let text = std::fs::read_to_string(&expected_path)
        .with_context(|| format!("reading {}", expected_path.display()))?;
    let entries: Vec<Value> = serde_json::from_str(&text).with_context(|| {
        format!(
            "parsing {} (expected a JSON array)",
            expected_path.display()
        )
    })?;
    if entries.is_empty() {
        bail!("{} lists no pages", expected_path.display());
    }

    // field -> (matched, compared), in order of first appearance.
    let mut table: Vec<(String, usize, usize)> = Vec::new();
    let mut disagreements: Vec<String> = Vec::new();
    let mut matched_total = 0usize;
    let mut compared_total = 0usize;
    // Fast path against reference path.
    let mut identical = 0usize;
    let mut declines: Vec<String> = Vec::new();
    let mut path_disagreements: Vec<String> = Vec::new();

    for entry in &entries {
        let Some(obj) = entry.as_object() else {
            bail!("{}: every entry must be an object", expected_path.display());
        };
        let file = obj
            .get("file")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: entry without \"file\"", expected_path.display()))?;
        let bytes = std::fs::read(dir.join(file))
            .with_context(|| format!("reading {}", dir.join(file).display()))?;
        match compare_paths(&bytes) {
            PathsVerdict::Identical => identical += 1,
            PathsVerdict::Declined(why) => declines.push(format!("  {file}: {why}")),
            PathsVerdict::Disagree(what) => path_disagreements.push(format!("  {file}: {what}")),
        }
        let actual = match parse_page_bytes(&bytes) {
            Ok(Page::Question(q)) => question_fields(&q),
            Ok(Page::Listing(l)) => listing_fields(&l),
            Err(e) => error_fields(&e),
        };
        for (field, want) in expected_fields(obj) {
            let got = actual.get(field.as_str());
            let ok = got == Some(&want);
            let row = match table.iter_mut().find(|(f, _, _)| *f == field) {
                Some(row) => row,
                None => {
                    table.push((field.clone(), 0, 0));
                    table.last_mut().expect("just pushed")
                }
            };
            row.2 += 1;
            compared_total += 1;
            if ok {
                row.1 += 1;
                matched_total += 1;
            } else {
                disagreements.push(format!(
                    "  {file}: {field}: expected {} got {}",
                    short(&want),
                    got.map_or_else(|| "(not extracted)".to_string(), short)
                ));
            }
        }
    }

    let width = table
        .iter()
        .map(|(f, _, _)| f.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!("pages: {}  ({})", entries.len(), dir.display());
    println!(
        "not compared (capture metadata, not page content): {}",
        METADATA.join(", ")
    );
    println!("{:<width$}  {:>9}  {:>7}", "field", "agree", "%");
    for (field, m, c) in &table {
        let pct = if *c == 0 {
            100.0
        } else {
            100.0 * *m as f64 / *c as f64
        };
        println!("{field:<width$}  {:>9}  {pct:>6.1}%", format!("{m}/{c}"));
    }
    if disagreements.is_empty() {
        println!("disagreements: none");
    } else {
        println!("disagreements ({}):", disagreements.len());
        for d in &disagreements {
            println!("{d}");
        }
    }
    println!("agreement: {matched_total}/{compared_total} fields");
    println!(
        "fast path vs reference path: {identical} identical, {} declined, {} disagreements",
        declines.len(),
        path_disagreements.len()
    );
    for d in declines.iter().chain(&path_disagreements) {
        println!("{d}");
    }
    Ok(matched_total == compared_total && path_disagreements.is_empty())
}
