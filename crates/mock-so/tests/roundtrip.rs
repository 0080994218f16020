//! Every generated page parses with `sofleet_extract` into exactly the
//! generated data (no server needed: pages are rendered from memory).

use sofleet_extract::{parse_listing, parse_question};
use sofleet_mock_so::{MockSiteConfig, SiteContent, Sort};

fn site(tags: &[&str], per_tag: u32, seed: u64) -> SiteContent {
    SiteContent::generate(&MockSiteConfig {
        seed,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        questions_per_tag: Some(per_tag),
        ..MockSiteConfig::default()
    })
    .expect("valid config")
}

#[test]
fn every_question_page_round_trips() {
    let site = site(&["python", "dask", "c++"], 40, 7);
    let mut checked = 0;
    for id in site.question_ids() {
        let page = site.render_question_page(id).expect("page exists");
        assert!(
            page.len() >= 150_000,
            "question {id} page is only {} bytes",
            page.len()
        );
        let parsed =
            parse_question(&page).unwrap_or_else(|e| panic!("question {id} does not parse: {e}"));
        let expected = site.expected_question(id).expect("expected record");
        assert_eq!(parsed, expected, "question {id}");
        checked += 1;
    }
    assert_eq!(checked, 120);
}

#[test]
fn every_listing_page_round_trips() {
    let site = site(&["python", "dask"], 60, 11);
    let mut pages = 0;
    let mut tags: Vec<Option<String>> = site.tags().into_iter().map(Some).collect();
    tags.push(None);
    for tag in &tags {
        for sort in Sort::ALL {
            for pagesize in [15, 50] {
                let last = site.last_page(tag.as_deref(), pagesize);
                assert!(last >= 1);
                for page in 1..=last {
                    let html = site
                        .render_listing_page(tag.as_deref(), sort, page, pagesize)
                        .expect("page exists");
                    let parsed = parse_listing(&html)
                        .unwrap_or_else(|e| panic!("{tag:?} {sort:?} {page}: {e}"));
                    let expected = site
                        .expected_listing_page(tag.as_deref(), sort, page, pagesize)
                        .expect("expected");
                    assert_eq!(
                        parsed, expected,
                        "{tag:?} {sort:?} page {page} size {pagesize}"
                    );
                    pages += 1;
                }
                assert!(
                    site.render_listing_page(tag.as_deref(), sort, last + 1, pagesize)
                        .is_none()
                );
            }
        }
    }
    assert!(pages > 50, "{pages}");
}
