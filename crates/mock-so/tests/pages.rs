//! Snapshots of the exact bytes the mock site renders: question pages (the
//! newest markup, era E, the only one the mock renders) for each kind of
//! question, listing pages for each sort, a tagged listing, robots.txt and
//! every error or fault page.
//!
//! Every page shares the same chrome (head assets, top bar, footer and
//! scripts; the sidebar widgets on listing and question pages), 100+ KB of
//! it. It is pinned once, in the `chrome_*` snapshots; in the page snapshots
//! it is replaced by a marker after checking it is byte-identical to the
//! pinned one. Update with `INSTA_UPDATE=always cargo test -p sofleet-mock-so --test pages`
//! (or `cargo insta review`); CI (`CI=true`) fails on any difference.

mod common;

use std::time::Duration;

use common::no_redirect_client as client;
use sofleet_mock_so::{Faults, MockSite, MockSiteConfig, SiteContent, Sort};

/// The site every snapshot is taken from: two tags (one that needs
/// percent-encoding and escaping), enough questions for every example.
fn config() -> MockSiteConfig {
    MockSiteConfig {
        seed: 7,
        tags: vec!["python".into(), "c++".into()],
        questions_per_tag: Some(60),
        ..MockSiteConfig::default()
    }
}

fn site() -> SiteContent {
    SiteContent::generate(&config()).expect("valid config")
}

/// One shared piece of every page: where it starts and where it ends
/// (`end` is excluded, `None` means the end of the page).
struct Piece {
    name: &'static str,
    start: &'static str,
    end: Option<&'static str>,
    /// Whether `end` belongs to the piece.
    end_included: bool,
}

const HEAD_ASSETS: Piece = Piece {
    name: "head assets",
    start: "    <link rel=\"shortcut icon\"",
    end: Some("    <link rel=\"canonical\""),
    end_included: false,
};
const TOP: Piece = Piece {
    name: "top bar",
    start: "<header class=\"s-topbar",
    end: Some("<div id=\"content\""),
    end_included: false,
};
const SIDEBAR: Piece = Piece {
    name: "sidebar widgets",
    start: "<div class=\"s-sidebarwidget s-sidebarwidget__yellow",
    end: Some("more hot questions</a>\n</div>\n"),
    end_included: true,
};
const TAIL: Piece = Piece {
    name: "footer and scripts",
    start: "<footer id=\"footer\"",
    end: None,
    end_included: false,
};

/// The byte range of `piece` in `page`, if the page has it.
fn find(page: &str, piece: &Piece) -> Option<(usize, usize)> {
    let start = page.find(piece.start)?;
    let end = match piece.end {
        None => page.len(),
        Some(end) => {
            let at = start + page[start..].find(end)?;
            if piece.end_included {
                at + end.len()
            } else {
                at
            }
        }
    };
    Some((start, end))
}

/// The chrome as the 404 page (head, top, tail) and a listing page (sidebar)
/// render it.
fn chrome(site: &SiteContent) -> [(Piece, String); 4] {
    let not_found = site.render_not_found_page();
    let listing = site
        .render_listing_page(None, Sort::Newest, 1, 15)
        .expect("page 1 exists");
    let cut = |page: &str, piece: Piece| {
        let (start, end) = find(page, &piece).unwrap_or_else(|| panic!("no {}", piece.name));
        let text = page[start..end].to_string();
        (piece, text)
    };
    [
        cut(&not_found, HEAD_ASSETS),
        cut(&not_found, TOP),
        cut(&listing, SIDEBAR),
        cut(&not_found, TAIL),
    ]
}

/// `page` with every chrome piece checked against the pinned chrome and
/// replaced by a marker.
fn without_chrome(site: &SiteContent, page: &str) -> String {
    let mut page = page.to_string();
    for (piece, pinned) in chrome(site) {
        if let Some((start, end)) = find(&page, &piece) {
            assert!(
                page[start..end] == pinned,
                "the {} of this page differs from the pinned chrome",
                piece.name
            );
            page.replace_range(start..end, &format!("[[chrome: {}]]\n", piece.name));
        }
    }
    page
}

#[test]
fn chrome_is_pinned_once() {
    let site = site();
    for (piece, text) in chrome(&site) {
        insta::assert_snapshot!(format!("chrome_{}", piece.name.replace(' ', "_")), text);
    }
}

#[test]
fn question_pages() {
    let site = site();
    let examples = site.examples();
    let cases = [
        ("accepted_not_first", examples.accepted_not_first),
        ("no_answers", examples.no_answers),
        ("community_wiki_answer", examples.community_wiki_answer),
        ("deleted_user_answer", examples.deleted_user_answer),
        ("negative_score", examples.negative_score),
        ("multi_tag", examples.multi_tag),
        ("duplicate", examples.duplicate),
        ("closed", examples.closed),
        ("non_ascii_author", examples.non_ascii_author),
    ];
    for (name, id) in cases {
        let id = id.unwrap_or_else(|| panic!("the snapshot site has no {name} question"));
        let page = site.render_question_page(id).expect("page exists");
        insta::assert_snapshot!(
            format!("question_era_e_{name}"),
            without_chrome(&site, &page)
        );
    }
}

#[test]
fn listing_pages_for_each_sort() {
    let site = site();
    for sort in Sort::ALL {
        let page = site
            .render_listing_page(None, sort, 2, 15)
            .expect("page 2 exists");
        insta::assert_snapshot!(
            format!("listing_all_{}", sort.as_str()),
            without_chrome(&site, &page)
        );
    }
}

#[test]
fn tagged_listing_pages() {
    let site = site();
    let page = site
        .render_listing_page(Some("c++"), Sort::Votes, 2, 15)
        .expect("page 2 exists");
    insta::assert_snapshot!(
        "listing_tagged_cpp_votes_page_2",
        without_chrome(&site, &page)
    );
    // A single-page listing has no pager.
    let page = site
        .render_listing_page(Some("c++"), Sort::Active, 1, 50)
        .expect("page 1 exists");
    insta::assert_snapshot!(
        "listing_tagged_cpp_active_pagesize_50",
        without_chrome(&site, &page)
    );
}

#[test]
fn not_found_page() {
    let site = site();
    insta::assert_snapshot!(
        "not_found",
        without_chrome(&site, &site.render_not_found_page())
    );
}

/// Status, headers (but the date) and body of one response, as one text.
async fn response_text(content: &SiteContent, request: reqwest::RequestBuilder) -> String {
    let response = request.send().await.expect("the site answers");
    let mut text = format!("{}\n", response.status());
    let mut headers: Vec<String> = response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("<bytes>")))
        .collect();
    headers.sort();
    for header in headers {
        text.push_str(&header);
        text.push('\n');
    }
    text.push('\n');
    let body = response.bytes().await.expect("a body");
    let body = String::from_utf8_lossy(&body);
    text.push_str(&without_chrome(content, &body));
    text
}

#[tokio::test]
async fn robots_txt() {
    let content = site();
    let client = client();
    let site = MockSite::start(config()).await;
    let text = response_text(&content, client.get(site.url("/robots.txt"))).await;
    insta::assert_snapshot!("robots_default", text);
    let site = MockSite::start(MockSiteConfig {
        crawl_delay: Some("2.5".into()),
        ..config()
    })
    .await;
    let text = response_text(&content, client.get(site.url("/robots.txt"))).await;
    insta::assert_snapshot!("robots_crawl_delay", text);
}

#[tokio::test]
async fn error_and_fault_pages() {
    let content = site();
    let client = client();
    let id = content.question_ids()[3];
    let site = MockSite::start(MockSiteConfig {
        captcha_after: Some(1),
        captcha_cooldown: Duration::from_secs(60),
        ..config()
    })
    .await;
    let path = site.question_path(id);
    // The second request within a second is over the burst.
    let first = client.get(site.url(&path)).send().await.expect("answers");
    assert_eq!(first.status(), 200);
    let text = response_text(&content, client.get(site.url(&path))).await;
    insta::assert_snapshot!("captcha_redirect", text);
    let captcha = "/nocaptcha?s=%2Fquestions%3Fq%3D%22a%22%26b%3D%3Cc%3E";
    let text = response_text(&content, client.get(site.url(captcha))).await;
    insta::assert_snapshot!("captcha_page", text);

    let site = MockSite::start(MockSiteConfig {
        always_429: vec![id],
        ..config()
    })
    .await;
    let text = response_text(&content, client.get(site.url(&path))).await;
    insta::assert_snapshot!("too_many_requests", text);
    let text = response_text(&content, client.post(site.url(&path))).await;
    insta::assert_snapshot!("method_not_allowed", text);
    let text = response_text(&content, client.get(site.url("/no/such/page"))).await;
    insta::assert_snapshot!("not_found_response", text);

    let site = MockSite::start(MockSiteConfig {
        redirects: vec![(id, "/questions/1/elsewhere".into())],
        server_errors: Some(Faults { every_nth: 1 }),
        ..config()
    })
    .await;
    let text = response_text(&content, client.get(site.url(&path))).await;
    insta::assert_snapshot!("moved_permanently", text);
    let mut statuses = Vec::new();
    for other in content.question_ids() {
        let path = site.question_path(other);
        let response = client.get(site.url(&path)).send().await.expect("answers");
        let status = response.status().as_u16();
        if status != 500 && status != 503 || statuses.contains(&status) {
            continue;
        }
        statuses.push(status);
        let body = response.text().await.expect("a body");
        insta::assert_snapshot!(format!("server_error_{status}"), body);
        if statuses.len() == 2 {
            break;
        }
    }
    assert_eq!(statuses.len(), 2, "both 500 and 503 were served");
}
