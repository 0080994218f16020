//! The mock site over real HTTP (127.0.0.1, reqwest client): routes, listing
//! pagination and bounds, and the generated site (size, determinism).

mod common;

use std::collections::HashSet;

use sofleet_extract::{ExtractError, parse_listing, parse_page, parse_question};
use sofleet_mock_so::{DEFAULT_ROBOTS_TXT, MockSite, MockSiteConfig};

use common::{assert_question_served, client, get, listed_ids, small};

#[tokio::test]
async fn routes_serve_listings_questions_and_robots() {
    let site = MockSite::start(small(60)).await;
    assert!(site.base_url().starts_with("http://127.0.0.1:"));
    let c = client();

    let resp = c.get(site.url("/robots.txt")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(resp.text().await.unwrap(), DEFAULT_ROBOTS_TXT);

    // Tagged listing, contract path shape.
    let path = site.listing_path("dask", "votes", 2);
    assert_eq!(path, "/questions/tagged/dask?tab=votes&page=2&pagesize=15");
    let (status, html) = get(&c, &site, &path).await;
    assert_eq!(status, 200);
    let listing = parse_listing(&html).unwrap();
    let ids: Vec<u64> = listing.questions.iter().map(|q| q.id).collect();
    assert_eq!(ids, site.expected_listing("dask", "votes", 2, 15));
    assert_eq!(ids.len(), 15);
    assert_eq!(
        listing.questions,
        site.expected_listing_entries("dask", "votes", 2, 15)
    );
    let pagination = listing.pagination.unwrap();
    assert_eq!(pagination.current_page, Some(2));
    assert_eq!(
        pagination.next_href.as_deref(),
        Some(site.listing_path("dask", "votes", 3).as_str())
    );

    // Old-style `sort=` and other page sizes.
    let (status, html) = get(
        &c,
        &site,
        "/questions/tagged/dask?sort=newest&page=1&pagesize=50",
    )
    .await;
    assert_eq!(status, 200);
    let ids = listed_ids(&html);
    assert_eq!(ids, site.expected_listing("dask", "newest", 1, 50));
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // Newest questions over all tags.
    let (status, html) = get(&c, &site, "/questions?tab=newest&page=2").await;
    assert_eq!(status, 200);
    let ids = listed_ids(&html);
    assert_eq!(ids, site.content().all_listing_ids("newest", 2, 15));

    // Question pages with the canonical slug, another slug, or none.
    let id = ids[3];
    let expected = site.expected_question(id).unwrap();
    for path in [
        site.question_path(id),
        format!("/questions/{id}/whatever-slug"),
        format!("/questions/{id}"),
    ] {
        let (status, html) = get(&c, &site, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.len() >= 150_000);
        assert_eq!(parse_question(&html).unwrap(), expected, "{path}");
    }
    assert!(
        site.question_path(id)
            .starts_with(&format!("/questions/{id}/"))
    );
}

#[tokio::test]
async fn pagination_bounds_and_unknown_pages_answer_404() {
    // 60 questions of primary tag "python" plus the ones that also carry it.
    let site = MockSite::start(small(60)).await;
    let c = client();
    let last = site.last_page("python", 15);
    assert!((4..=10).contains(&last), "{last}");
    assert_eq!(site.last_page("python", 50), 2);
    let (status, html) = get(&c, &site, &site.listing_path("python", "votes", last)).await;
    assert_eq!(status, 200);
    assert!(
        parse_listing(&html)
            .unwrap()
            .pagination
            .unwrap()
            .next_href
            .is_none(),
        "last page has no next link"
    );
    for path in [
        site.listing_path("python", "votes", last + 1),
        site.listing_path_with_pagesize("python", "active", 3, 50),
        "/questions/tagged/no-such-tag?tab=votes&page=1".to_string(),
        "/questions/1".to_string(),
        "/users/1/someone".to_string(),
    ] {
        let (status, html) = get(&c, &site, &path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            parse_page(&html).unwrap_err(),
            ExtractError::NotFound,
            "{path}"
        );
        assert!(site.expected_listing("python", "active", 3, 50).is_empty());
    }
    // pages_per_tag caps the listing whatever the amount of questions.
    let site = MockSite::start(MockSiteConfig {
        pages_per_tag: 2,
        ..small(100)
    })
    .await;
    assert_eq!(site.last_page("dask", 15), 2);
    assert_eq!(
        get(&c, &site, &site.listing_path("dask", "votes", 2))
            .await
            .0,
        200
    );
    assert_eq!(
        get(&c, &site, &site.listing_path("dask", "votes", 3))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn default_site_has_ten_pages_of_fifty_per_tag() {
    let site = MockSite::start(MockSiteConfig::default()).await;
    let content = site.content();
    assert_eq!(content.question_count(), 1500);
    for tag in ["python", "dask", "pandas"] {
        assert_eq!(site.last_page(tag, 50), 10);
        assert_eq!(site.last_page(tag, 15), 10);
        let all = content.reachable_ids(tag, "votes", 50);
        assert_eq!(all.len(), 500);
        assert_eq!(
            all.iter().collect::<HashSet<_>>().len(),
            500,
            "no id twice within one tag"
        );
    }
    // Multi-tag questions show up under both tags, so a crawler must dedup.
    let ex = content.examples();
    let shared = ex
        .multi_tag
        .expect("some question carries two configured tags");
    let q = site.expected_question(shared).unwrap();
    let configured: Vec<&String> = q
        .tags
        .iter()
        .filter(|t| ["python", "dask", "pandas"].contains(&t.as_str()))
        .collect();
    assert!(configured.len() >= 2);
    for tag in configured {
        assert!(
            content.tag_ids(tag, "votes").contains(&shared),
            "question {shared} listed under {tag}"
        );
    }
    let python: HashSet<u64> = content
        .reachable_ids("python", "newest", 50)
        .into_iter()
        .collect();
    let dask: HashSet<u64> = content
        .reachable_ids("dask", "newest", 50)
        .into_iter()
        .collect();
    assert!(
        !python.is_disjoint(&dask),
        "a crawl of both tags meets some questions twice"
    );
    // The interesting cases all exist in the default site.
    for (name, id) in [
        ("no answers", ex.no_answers),
        ("accepted not first", ex.accepted_not_first),
        ("community wiki", ex.community_wiki_answer),
        ("deleted user", ex.deleted_user_answer),
        ("negative score", ex.negative_score),
        ("duplicate", ex.duplicate),
        ("closed", ex.closed),
        ("non-ASCII author", ex.non_ascii_author),
    ] {
        assert!(id.is_some(), "{name}");
    }
    let q = site
        .expected_question(ex.accepted_not_first.unwrap())
        .unwrap();
    assert!(!q.answers[0].accepted && q.accepted_answer().is_some());
    let q = site
        .expected_question(ex.community_wiki_answer.unwrap())
        .unwrap();
    assert!(
        q.answers
            .iter()
            .any(|a| a.author == sofleet_extract::Author::CommunityWiki)
    );
}

#[tokio::test]
async fn large_site_of_ten_thousand_questions() {
    let tags = ["python", "dask", "pandas", "polars"];
    let site = MockSite::start(MockSiteConfig {
        tags: tags.map(String::from).to_vec(),
        questions_per_tag: Some(2_500),
        ..MockSiteConfig::default()
    })
    .await;
    let content = site.content();
    assert_eq!(content.question_count(), 10_000);
    let ids = content.question_ids();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10_000);
    let c = client();
    let listed = site.expected_listing("polars", "frequent", 10, 50);
    assert_eq!(listed.len(), 50);
    let (status, html) = get(
        &c,
        &site,
        &site.listing_path_with_pagesize("polars", "frequent", 10, 50),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed_ids(&html), listed);
    for &id in [ids[0], ids[4_999], ids[9_999]].iter() {
        assert_question_served(&c, &site, id).await;
    }
}

#[tokio::test]
async fn same_seed_same_site_other_seed_other_site() {
    let a = MockSite::start(MockSiteConfig {
        seed: 5,
        ..small(30)
    })
    .await;
    let b = MockSite::start(MockSiteConfig {
        seed: 5,
        ..small(30)
    })
    .await;
    let c = MockSite::start(MockSiteConfig {
        seed: 6,
        ..small(30)
    })
    .await;
    let ids = a.content().question_ids();
    assert_eq!(ids, b.content().question_ids());
    assert_eq!(
        a.content().render_question_page(ids[7]),
        b.content().render_question_page(ids[7])
    );
    assert_eq!(
        a.expected_listing("dask", "votes", 1, 15),
        b.expected_listing("dask", "votes", 1, 15)
    );
    let differs = ids.iter().any(|&id| {
        a.expected_question(id).map(|q| q.title) != c.expected_question(id).map(|q| q.title)
    });
    assert!(differs);
}
