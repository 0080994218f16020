//! The mock site over real HTTP (127.0.0.1, reqwest client): routes,
//! pagination bounds and every behaviour switch.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sofleet_extract::{ExtractError, parse_listing, parse_page, parse_question};
use sofleet_mock_so::{
    CLIENT_HEADER, DEFAULT_ROBOTS_TXT, Faults, Latency, MockSite, MockSiteConfig, MockSiteError,
    RateLimit,
};

fn small(per_tag: u32) -> MockSiteConfig {
    MockSiteConfig {
        questions_per_tag: Some(per_tag),
        ..MockSiteConfig::default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn get(client: &reqwest::Client, site: &MockSite, path: &str) -> (u16, String) {
    let resp = client
        .get(format!("{}{path}", site.base_url()))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

async fn get_as(
    client: &reqwest::Client,
    site: &MockSite,
    path: &str,
    who: &str,
) -> reqwest::Response {
    client
        .get(format!("{}{path}", site.base_url()))
        .header(CLIENT_HEADER, who)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn routes_serve_listings_questions_and_robots() {
    let site = MockSite::start(small(60)).await;
    assert!(site.base_url().starts_with("http://127.0.0.1:"));
    let c = client();

    let resp = c
        .get(format!("{}/robots.txt", site.base_url()))
        .send()
        .await
        .unwrap();
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
    let ids: Vec<u64> = parse_listing(&html)
        .unwrap()
        .questions
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(ids, site.expected_listing("dask", "newest", 1, 50));
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // Newest questions over all tags.
    let (status, html) = get(&c, &site, "/questions?tab=newest&page=2").await;
    assert_eq!(status, 200);
    let ids: Vec<u64> = parse_listing(&html)
        .unwrap()
        .questions
        .iter()
        .map(|q| q.id)
        .collect();
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
async fn rate_limit_answers_429_with_retry_after_per_client() {
    let config = MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 3,
            retry_after: Duration::from_millis(1500),
        }),
        record_requests: true,
        ..small(20)
    };
    let site = MockSite::start(config).await;
    let c = client();
    let path = site.listing_path("dask", "votes", 1);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let resp = get_as(&c, &site, &path, "alpha").await;
        if resp.status() == 429 {
            retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    assert_eq!(
        retry_after.as_deref(),
        Some("2"),
        "1.5 s rounds up to 2 whole seconds"
    );
    // Another client is not affected; robots.txt is exempt.
    assert_eq!(get_as(&c, &site, &path, "beta").await.status(), 200);
    assert_eq!(
        get_as(&c, &site, "/robots.txt", "alpha").await.status(),
        200
    );
    // After Retry-After, the client is served again.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(get_as(&c, &site, &path, "alpha").await.status(), 200);

    let log = site.requests().await;
    assert_eq!(log.len(), 9);
    assert_eq!(site.request_count().await, 9);
    let alpha: Vec<u16> = log
        .iter()
        .filter(|r| r.client == "alpha" && r.path == path)
        .map(|r| r.status)
        .collect();
    assert_eq!(alpha, [200, 200, 200, 429, 429, 429, 200]);
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(log[6].client, "beta");
}

#[tokio::test]
async fn requests_without_client_header_share_one_budget() {
    let config = MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 2,
            retry_after: Duration::from_secs(1),
        }),
        record_requests: true,
        ..small(10)
    };
    let site = MockSite::start(config).await;
    let (a, b) = (client(), client());
    let path = site.listing_path("python", "newest", 1);
    assert_eq!(get(&a, &site, &path).await.0, 200);
    assert_eq!(get(&b, &site, &path).await.0, 200);
    let (status, html) = get(&a, &site, &path).await;
    assert_eq!(status, 429);
    assert_eq!(
        parse_page(&html).unwrap_err(),
        ExtractError::TooManyRequests
    );
    assert!(site.requests().await.iter().all(|r| r.client == "default"));
}

#[tokio::test]
async fn captcha_redirect_after_burst_then_recovery() {
    let config = MockSiteConfig {
        captcha_after: Some(3),
        captcha_cooldown: Duration::from_millis(700),
        ..small(20)
    };
    let site = MockSite::start(config).await;
    let c = no_redirect_client();
    let path = site.listing_path("pandas", "votes", 1);
    let mut statuses = Vec::new();
    let mut location = None;
    for _ in 0..5 {
        let resp = get_as(&c, &site, &path, "burst").await;
        if resp.status() == 302 {
            location = resp
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 302, 302]);
    let location = location.unwrap();
    assert!(location.starts_with("/nocaptcha?s="), "{location}");
    // The verification page is served (and recognised as a captcha).
    let (status, html) = get(&c, &site, &location).await;
    assert_eq!(status, 200);
    match parse_page(&html).unwrap_err() {
        ExtractError::Captcha { url_path, .. } => {
            assert_eq!(url_path.as_deref(), Some("/questions/tagged/pandas"))
        }
        other => panic!("expected a captcha, got {other:?}"),
    }
    // A client that follows redirects lands on /nocaptcha.
    let follow = client();
    let resp = get_as(&follow, &site, &path, "burst").await;
    assert_eq!(resp.url().path(), "/nocaptcha");
    // Other clients are unaffected; after the cool-down the burst client recovers.
    assert_eq!(get_as(&c, &site, &path, "calm").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(get_as(&c, &site, &path, "burst").await.status(), 200);
}

#[tokio::test]
async fn intermittent_server_errors_recover_on_retry() {
    // every_nth = 1: every URL fails its first attempt only.
    let site = MockSite::start(MockSiteConfig {
        server_errors: Some(Faults { every_nth: 1 }),
        ..small(20)
    })
    .await;
    let c = client();
    for path in [
        site.listing_path("dask", "votes", 1),
        site.question_path(site.expected_listing("dask", "votes", 1, 15)[0]),
    ] {
        assert!(site.fails_first_attempt(&path));
        let (first, html) = get(&c, &site, &path).await;
        assert!(first == 500 || first == 503, "{path}: {first}");
        assert!(parse_page(&html).is_err());
        assert_eq!(
            get(&c, &site, &path).await.0,
            200,
            "{path} recovers on retry"
        );
        assert_eq!(get(&c, &site, &path).await.0, 200);
    }
    // every_nth = 3: about a third of the URLs fail once; which ones is
    // deterministic and exposed by fails_first_attempt.
    let site = MockSite::start(MockSiteConfig {
        server_errors: Some(Faults { every_nth: 3 }),
        ..small(20)
    })
    .await;
    let ids = site.expected_listing("python", "votes", 1, 15);
    let mut faulty = 0;
    for &id in &ids {
        let path = site.question_path(id);
        let (first, _) = get(&c, &site, &path).await;
        if site.fails_first_attempt(&path) {
            faulty += 1;
            assert!(first == 500 || first == 503);
            assert_eq!(get(&c, &site, &path).await.0, 200);
        } else {
            assert_eq!(first, 200, "{path}");
        }
    }
    assert!(
        faulty > 0 && faulty < ids.len(),
        "{faulty} of {}",
        ids.len()
    );
}

#[tokio::test]
async fn truncated_and_not_found_question_ids() {
    let base = MockSite::start(small(20)).await;
    let ids = base.expected_listing("dask", "newest", 1, 15);
    let (cut, gone, fine) = (ids[0], ids[1], ids[2]);
    let site = MockSite::start(MockSiteConfig {
        truncated: vec![cut],
        not_found: vec![gone],
        ..small(20)
    })
    .await;
    let c = client();

    let full = site.content().render_question_page(cut).unwrap();
    for _ in 0..2 {
        let (status, html) = get(&c, &site, &site.question_path(cut)).await;
        assert_eq!(status, 200);
        assert!(
            html.len() < full.len() * 6 / 10 && html.len() >= full.len() * 4 / 10,
            "{} of {}",
            html.len(),
            full.len()
        );
        assert!(full.starts_with(&html));
        assert!(matches!(
            parse_question(&html),
            Err(ExtractError::Truncated { .. })
        ));
    }

    let (status, html) = get(&c, &site, &site.question_path(gone)).await;
    assert_eq!(status, 404);
    assert_eq!(parse_page(&html).unwrap_err(), ExtractError::NotFound);
    assert!(
        site.expected_question(gone).is_some(),
        "content still known"
    );

    let (status, html) = get(&c, &site, &site.question_path(fine)).await;
    assert_eq!(status, 200);
    assert_eq!(
        parse_question(&html).unwrap(),
        site.expected_question(fine).unwrap()
    );
}

#[tokio::test]
async fn slow_body_trips_client_timeouts_on_question_pages_only() {
    let site = MockSite::start(MockSiteConfig {
        slow_body: Some(Duration::from_secs(3)),
        ..small(10)
    })
    .await;
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let listing = c
        .get(format!(
            "{}{}",
            site.base_url(),
            site.listing_path("dask", "votes", 1)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);
    let id = site.expected_listing("dask", "votes", 1, 15)[0];
    let err = c
        .get(format!("{}{}", site.base_url(), site.question_path(id)))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn latency_is_added_to_every_response() {
    let delay = Duration::from_millis(250);
    let site = MockSite::start(MockSiteConfig {
        latency: Latency::Fixed(delay),
        ..small(10)
    })
    .await;
    let c = client();
    for path in [
        "/robots.txt".to_string(),
        site.listing_path("python", "votes", 1),
    ] {
        let started = Instant::now();
        assert_eq!(get(&c, &site, &path).await.0, 200);
        assert!(
            started.elapsed() >= delay,
            "{path} answered before the configured latency"
        );
    }
    let (min, max) = (Duration::from_millis(100), Duration::from_millis(200));
    let site = MockSite::start(MockSiteConfig {
        latency: Latency::Random { min, max },
        ..small(10)
    })
    .await;
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(get(&c, &site, "/robots.txt").await.0, 200);
        assert!(started.elapsed() >= min);
    }
}

#[tokio::test]
async fn custom_robots_txt_and_method_check() {
    let robots = "User-agent: *\nDisallow: /questions/tagged/\n".to_string();
    let site = MockSite::start(MockSiteConfig {
        robots_txt: Some(robots.clone()),
        record_requests: true,
        ..small(5)
    })
    .await;
    let c = client();
    assert_eq!(get(&c, &site, "/robots.txt").await, (200, robots));
    let resp = c
        .post(format!("{}/questions", site.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let log = site.requests().await;
    assert_eq!(
        log.iter()
            .map(|r| (r.method.as_str(), r.status))
            .collect::<Vec<_>>(),
        [("GET", 200), ("POST", 405)]
    );
    site.reset().await;
    assert!(site.requests().await.is_empty());
    assert_eq!(site.request_count().await, 0);
    assert_eq!(
        get(&c, &site, "/robots.txt").await.0,
        200,
        "still serving after reset"
    );
}

#[tokio::test]
async fn large_site_of_ten_thousand_questions() {
    let config = MockSiteConfig {
        tags: vec![
            "python".into(),
            "dask".into(),
            "pandas".into(),
            "polars".into(),
        ],
        questions_per_tag: Some(2_500),
        ..MockSiteConfig::default()
    };
    let site = MockSite::start(config).await;
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
    assert_eq!(
        parse_listing(&html)
            .unwrap()
            .questions
            .iter()
            .map(|q| q.id)
            .collect::<Vec<_>>(),
        listed
    );
    for &id in [ids[0], ids[4_999], ids[9_999]].iter() {
        let (status, html) = get(&c, &site, &site.question_path(id)).await;
        assert_eq!(status, 200);
        assert_eq!(
            parse_question(&html).unwrap(),
            site.expected_question(id).unwrap()
        );
    }
}

#[tokio::test]
async fn invalid_configurations_are_typed_errors() {
    let cases = [
        (
            MockSiteConfig {
                tags: vec![],
                ..MockSiteConfig::default()
            },
            "tags",
        ),
        (
            MockSiteConfig {
                tags: vec!["Bad Tag".into()],
                ..MockSiteConfig::default()
            },
            "tags",
        ),
        (
            MockSiteConfig {
                tags: vec!["a".into(), "a".into()],
                ..MockSiteConfig::default()
            },
            "tags",
        ),
        (
            MockSiteConfig {
                pages_per_tag: 0,
                ..MockSiteConfig::default()
            },
            "pages_per_tag",
        ),
        (
            MockSiteConfig {
                questions_per_tag: Some(0),
                ..MockSiteConfig::default()
            },
            "questions_per_tag",
        ),
        (
            MockSiteConfig {
                questions_per_tag: Some(1_000_000),
                ..MockSiteConfig::default()
            },
            "questions_per_tag",
        ),
        (
            MockSiteConfig {
                latency: Latency::Random {
                    min: Duration::from_secs(2),
                    max: Duration::from_secs(1),
                },
                ..MockSiteConfig::default()
            },
            "latency",
        ),
        (
            MockSiteConfig {
                rate_limit: Some(RateLimit {
                    requests_per_second: 0,
                    retry_after: Duration::from_secs(1),
                }),
                ..MockSiteConfig::default()
            },
            "rate_limit",
        ),
        (
            MockSiteConfig {
                captcha_after: Some(0),
                ..MockSiteConfig::default()
            },
            "captcha_after",
        ),
        (
            MockSiteConfig {
                server_errors: Some(Faults { every_nth: 0 }),
                ..MockSiteConfig::default()
            },
            "server_errors",
        ),
    ];
    common::assert_each_refused(cases).await;
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

#[tokio::test]
async fn peer_tagging_proxy_keys_clients_by_source_address() {
    use sofleet_mock_so::PeerTaggingProxy;
    let config = MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 2,
            retry_after: Duration::from_secs(1),
        }),
        record_requests: true,
        ..small(10)
    };
    let site = MockSite::start(config).await;
    let upstream: std::net::SocketAddr = site
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = PeerTaggingProxy::start("127.0.0.1:0".parse().unwrap(), upstream)
        .await
        .unwrap();
    let from = |ip: &str| {
        reqwest::Client::builder()
            .no_proxy()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    };
    let (two, three) = (from("127.0.0.2"), from("127.0.0.3"));
    let url = format!(
        "{}{}",
        proxy.base_url(),
        site.listing_path("dask", "votes", 1)
    );
    let mut statuses = Vec::new();
    for _ in 0..3 {
        // A spoofed client header is replaced by the source address.
        statuses.push(
            two.get(&url)
                .header(CLIENT_HEADER, "someone-else")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    let body = three.get(&url).send().await.unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(
        parse_listing(&body.text().await.unwrap())
            .unwrap()
            .questions
            .len(),
        site.expected_listing("dask", "votes", 1, 15).len()
    );
    assert_eq!(statuses, [200, 200, 429]);
    let clients: Vec<String> = site
        .requests()
        .await
        .into_iter()
        .map(|r| r.client)
        .collect();
    assert_eq!(
        clients,
        ["127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"]
    );
}

#[tokio::test]
async fn fixed_port_and_busy_port() {
    // Find a free port, then ask for it explicitly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site = MockSite::try_start(MockSiteConfig {
        port: Some(port),
        ..small(5)
    })
    .await
    .unwrap();
    assert_eq!(site.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(get(&client(), &site, "/robots.txt").await.0, 200);
    // The port is taken now: a second site cannot use it.
    match MockSite::try_start(MockSiteConfig {
        port: Some(port),
        ..small(5)
    })
    .await
    {
        Err(MockSiteError::Bind { port: p, .. }) => assert_eq!(p, port),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("bound a busy port"),
    }
}
