//! The hostile web (issue 15): pages built from the worst repeated
//! fragments for the HTML parser either extract or are refused with
//! `ExtractError::TooComplex`, never a long stall; the time budget stops an
//! extraction with `ExtractError::OverBudget`; no concatenation of hostile
//! fragments panics.
//!
//! No timed assertions: tests about hangs run the extraction on a thread,
//! wait up to 60 s for it and print the measured time.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sofleet_extract::{
    Excess, ExtractError, ExtractLimits, Page, parse_page, parse_page_with, parse_question,
    parse_question_with,
};

/// Generous limit for one extraction on a loaded CI machine (debug build).
const HANG: Duration = Duration::from_secs(60);

fn question_page(body: &str) -> String {
    format!(
        "<html><head><title>t</title></head><body><div id=\"question-header\"><h1><a href=\"/questions/1/x\">T</a></h1></div>\
         <div id=\"question\" class=\"question\" data-questionid=\"1\" data-score=\"2\"><div class=\"s-prose js-post-body\">{body}</div></div>\
         <div id=\"answers\"></div></body></html>"
    )
}

/// `prefix`, then `unit` repeated to about `size` bytes, as a question body.
fn page(prefix: &str, unit: &str, size: usize) -> String {
    let reps = size.saturating_sub(prefix.len()) / unit.len();
    question_page(&format!("{prefix}{}", unit.repeat(reps.max(1))))
}

/// Runs `parse_page_with` on a thread; panics when it takes longer than
/// [`HANG`]. Prints the time taken.
fn parse_within(name: &str, html: String, limits: ExtractLimits) -> Result<Page, ExtractError> {
    let (tx, rx) = mpsc::channel();
    let bytes = html.len();
    thread::spawn(move || {
        let t = Instant::now();
        let result = parse_page_with(&html, &limits);
        let _ = tx.send((result, t.elapsed()));
    });
    let (result, took) = rx.recv_timeout(HANG).unwrap_or_else(|_| {
        panic!("{name}: extraction of {bytes} bytes still running after {HANG:?}")
    });
    println!(
        "{name}: {bytes} bytes in {took:?} -> {}",
        match &result {
            Ok(p) => p.kind().to_string(),
            Err(e) => e.to_string(),
        }
    );
    result
}

/// The worst fragments found for html5ever's tree builder and tokenizer:
/// (name, one-off prefix, repeated unit).
fn hostile_fragments() -> Vec<(&'static str, String, String)> {
    let active: String = (0..1000).map(|i| format!("<b id={i}>")).collect();
    let many_attrs: String = (0..500).map(|i| format!(" a{i}")).collect();
    let plain = |name: &'static str, unit: &str| (name, String::new(), unit.to_string());
    vec![
        plain("span_stray_end", "<span></x>"),
        plain("unclosed_div", "<div>"),
        plain("unclosed_b", "<b>"),
        plain("unclosed_b_distinct_attr", "<b class=x>"),
        plain("span_div_misnested", "<span><div></span>"),
        plain("div_table_misnested", "<div><table></div>"),
        plain("adoption_b_p", "<b><p></b>"),
        plain("adoption_a_div", "<a><div></a>"),
        plain("misnested_b_i", "<b><i></b></i>x"),
        plain("nobr", "<nobr>x"),
        plain("table_foster", "<table><div>x"),
        plain("table_text", "<table>x</table>"),
        plain("table_nested", "<table><tr><td>x"),
        plain("option_span", "<option><span>"),
        plain("p_button", "<p><button>"),
        plain("select_nested", "<select><div>"),
        (
            "reopened_formatting",
            format!("<div>{active}</div>"),
            "<div>x</div>".to_string(),
        ),
        (
            "active_list_a",
            format!("<div>{active}</div>"),
            "<a></a>".to_string(),
        ),
        ("open_b_list", active.clone(), "<b>x</b>".to_string()),
        plain("entities_text", "x&amp;&lt;"),
        plain(
            "huge_attribute",
            &format!("<p title=\"{}\">", "x".repeat(4000)),
        ),
        plain("many_attributes", &format!("<p{many_attrs}>")),
        plain("html_attrs", "<html a>"),
        plain("foreign_svg", "<svg><p><math><mi>"),
        plain("comment_bang", "<!-- --!><div>"),
    ]
}

#[test]
fn hostile_pages_extract_or_are_refused() {
    for (name, prefix, unit) in hostile_fragments() {
        let html = page(&prefix, &unit, 200_000);
        match parse_within(name, html, ExtractLimits::default()) {
            Ok(_) => {}
            Err(e @ ExtractError::TooComplex { .. }) => {
                assert_eq!(e.kind(), "too_complex");
                assert!(!e.is_retryable());
            }
            Err(e) => panic!("{name}: unexpected error {e}"),
        }
    }
}

#[test]
fn the_issue_page_is_refused_at_once() {
    // 1 MB of `<span></x>` took 58.6 s: the end tags close nothing, so the
    // open-element stack grew with every span.
    let html = question_page(&"<span></x>".repeat(100_000));
    match parse_within("span_stray_end_1mb", html, ExtractLimits::default()) {
        Err(ExtractError::TooComplex {
            excess: Excess::Nesting,
            found,
            limit,
            ..
        }) => assert!(found > limit && limit == sofleet_extract::MAX_NESTING),
        other => panic!(
            "expected a nesting refusal, got {:?}",
            other.map(|p| p.kind())
        ),
    }
}

#[test]
fn attribute_floods_are_refused() {
    let attrs: String = (0..20_000).map(|i| format!(" a{i}=v")).collect();
    let html = question_page(&format!("<p{attrs}>x</p>"));
    match parse_within("attribute_flood", html, ExtractLimits::default()) {
        Err(ExtractError::TooComplex {
            excess: Excess::Attributes,
            found: 20_000,
            ..
        }) => {}
        other => panic!(
            "expected an attribute refusal, got {:?}",
            other.map(|p| p.kind())
        ),
    }
    // One huge attribute is linear work: it extracts.
    let html = question_page(&format!("<p title=\"{}\">x</p>", "v".repeat(2_000_000)));
    let page = parse_within("huge_attribute", html, ExtractLimits::default()).unwrap();
    assert_eq!(page.kind(), "question");
}

#[test]
fn misnesting_the_prescan_cannot_see_is_stopped_while_parsing() {
    // Nested tables add four open elements (table, tbody, tr, td) per
    // fragment, but only the table counts in the pre-scan's estimate.
    let html = question_page(&"<table><tr><td>x".repeat(600));
    match parse_within("nested_tables", html, ExtractLimits::default()) {
        Err(ExtractError::TooComplex {
            excess: Excess::OpenElements,
            found,
            limit,
            ..
        }) => assert!(found > limit),
        other => panic!("expected OpenElements, got {:?}", other.map(|p| p.kind())),
    }
    // Formatting elements closed by a block are re-opened in every later
    // block: the pre-scan's work estimate (or, failing that, the node
    // count while parsing) gives it away.
    let active: String = (0..500).map(|i| format!("<b id={i}>")).collect();
    let html = question_page(&format!(
        "<div>{active}</div>{}",
        "<div>x</div>".repeat(20_000)
    ));
    match parse_within("reopened_formatting", html, ExtractLimits::default()) {
        Err(ExtractError::TooComplex {
            excess: Excess::Work | Excess::Nodes,
            ..
        }) => {}
        other => panic!("expected Work or Nodes, got {:?}", other.map(|p| p.kind())),
    }
}

#[test]
fn time_budget_fires() {
    // Within every shape limit, but big: about 1.2 MB of paragraphs.
    let html = question_page(&"<p>some text</p>".repeat(75_000));
    let tiny = ExtractLimits::default().with_time_budget(Duration::from_micros(1));
    match parse_within("budget_1us", html.clone(), tiny) {
        Err(
            e @ ExtractError::OverBudget {
                elapsed, budget, ..
            },
        ) => {
            assert!(elapsed > budget);
            assert_eq!(budget, Duration::from_micros(1));
            assert_eq!(e.kind(), "over_budget");
            assert!(!e.is_retryable());
            assert!(e.to_string().contains("time budget"), "{e}");
        }
        other => panic!("expected OverBudget, got {:?}", other.map(|p| p.kind())),
    }
    // The same page without a budget (the default) extracts.
    let q = parse_question(&html).unwrap();
    assert!(q.body_text.starts_with("some text"));
    // And with a generous one.
    let generous = ExtractLimits::default().with_time_budget(Duration::from_secs(600));
    assert!(parse_question_with(&html, &generous).is_ok());
}

#[test]
fn time_budget_stops_a_slow_page_part_way() {
    // One of the costliest shapes within every limit: tags with 500
    // distinct attributes (the tokenizer compares each with the earlier
    // ones), about 1.5 s for 10 MB in a release build. A 50 ms budget stops
    // it early (before or part way through the parse).
    let attrs: String = (0..500).map(|i| format!(" a{i}")).collect();
    let html = page("", &format!("<p{attrs}>"), 4_000_000);
    let limits = ExtractLimits::default().with_time_budget(Duration::from_millis(50));
    match parse_within("slow_page_50ms", html, limits) {
        Err(ExtractError::OverBudget { elapsed, .. }) => println!("stopped after {elapsed:?}"),
        other => panic!("expected OverBudget, got {:?}", other.map(|p| p.kind())),
    }
}

#[test]
fn walking_the_open_elements_over_and_over_is_refused() {
    // 1,000 active <b>s (within the limits), then an <a> per 7 bytes: each
    // one looks for an active <a> through the whole list.
    let active: String = (0..1000).map(|i| format!("<b id={i}>")).collect();
    let html = page(&format!("<div>{active}</div>"), "<a></a>", 1_000_000);
    match parse_within("active_list_a", html, ExtractLimits::default()) {
        Err(ExtractError::TooComplex {
            excess: Excess::Work,
            found,
            limit,
            ..
        }) => assert!(found > limit),
        other => panic!("expected Work, got {:?}", other.map(|p| p.kind())),
    }
    // A hundred unclosed <b>s around ordinary paragraphs extract.
    let open: String = (0..100).map(|i| format!("<b id={i}>")).collect();
    let html = page(&open, "<p>x</p>", 100_000);
    let q = parse_within("open_b_then_paragraphs", html, ExtractLimits::default()).unwrap();
    assert_eq!(q.kind(), "question");
}

#[test]
fn limits_are_configurable() {
    let html = question_page(&"<div>".repeat(50));
    assert!(parse_page(&html).is_ok());
    let strict = ExtractLimits {
        max_nesting: 20,
        ..ExtractLimits::default()
    };
    match parse_page_with(&html, &strict) {
        Err(ExtractError::TooComplex {
            excess: Excess::Nesting,
            limit: 20,
            ..
        }) => {}
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.kind())),
    }
}

fn hostile_piece() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "<span>",
        "</x>",
        "</span>",
        "<div>",
        "</div>",
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<a href=\"/questions/2/y\">",
        "</a>",
        "<nobr>",
        "<p>",
        "</p>",
        "<button>",
        "<table>",
        "</table>",
        "<tr>",
        "<td>",
        "</td>",
        "<caption>",
        "<select>",
        "<option>",
        "<svg>",
        "<math>",
        "<mi>",
        "<foreignObject>",
        "</svg>",
        "<template>",
        "</template>",
        "<html a b>",
        "<body c>",
        "<b id=1 class=\"c\" title='t'>",
        "<p a b c d e f g h i j>",
        "<frameset>",
        "<plaintext>",
        "<textarea>",
        "<script>",
        "</script>",
        "<!--",
        "--!>",
        "-->",
        "<![CDATA[",
        "]]>",
        "x",
        "&amp;",
        "&",
        "\0",
        "\r\n",
        "<",
        ">",
        "\"",
        "é",
        "<div id=\"question\" data-questionid=\"5\">",
        "<div class=\"s-prose js-post-body\">",
        "<a class=\"post-tag\">t</a>",
        "<div class=\"post-signature\"><div class=\"user-details\">",
        "<div class=\"pager\"><a href=\"?page=2\">",
    ]);
    (pieces, 1usize..300).prop_map(|(p, n)| p.repeat(n))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary concatenations of hostile fragments (each repeated up to
    /// 300 times), inside a question page or as a bare document, never
    /// panic, and any error is a proper one.
    #[test]
    fn hostile_concatenations_never_panic(
        parts in prop::collection::vec(hostile_piece(), 0..40),
        wrap in any::<bool>(),
        budget_us in prop::option::of(0u64..2_000),
    ) {
        let body = parts.concat();
        let html = if wrap { question_page(&body) } else { body };
        let limits = ExtractLimits {
            time_budget: budget_us.map(Duration::from_micros),
            ..ExtractLimits::default()
        };
        match parse_page_with(&html, &limits) {
            Ok(Page::Question(q)) => { let _ = q.top_answer(); }
            Ok(Page::Listing(l)) => { let _ = l.questions.len(); }
            Err(e) => {
                prop_assert!(!e.kind().is_empty());
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
