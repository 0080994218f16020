//! The fault switches over real HTTP: intermittent 500/503, truncated and
//! 404 question pages, slow bodies, latency, robots.txt and the method check.

mod common;

use std::time::{Duration, Instant};

use sofleet_extract::{ExtractError, parse_page, parse_question};
use sofleet_mock_so::{Faults, Latency, MockSite, MockSiteConfig};

use common::{assert_question_served, client, get, small};

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

    assert_question_served(&c, &site, fine).await;
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
    let resp = c.post(site.url("/questions")).send().await.unwrap();
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
