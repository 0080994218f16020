//! The hostile-web faults (redirects, raw Retry-After text, always-429 pages,
//! raw robots.txt bytes and Crawl-delay values), request recording being
//! opt-in, and state that must not grow with traffic.

mod common;

use std::time::Duration;

use common::no_redirect_client as client;
use sofleet_mock_so::{
    CLIENT_HEADER, DEFAULT_ROBOTS_TXT, Faults, Latency, MAX_DELAY, MockSite, MockSiteConfig,
    RateLimit, robots_txt_with_crawl_delay,
};

fn small() -> MockSiteConfig {
    MockSiteConfig {
        tags: vec!["dask".into()],
        questions_per_tag: Some(20),
        pages_per_tag: 2,
        ..MockSiteConfig::default()
    }
}

async fn get(site: &MockSite, path: &str) -> reqwest::Response {
    client().get(site.url(path)).send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: &str) -> Option<Vec<u8>> {
    resp.headers().get(name).map(|v| v.as_bytes().to_vec())
}

#[tokio::test]
async fn redirects_answer_301_with_the_location_verbatim() {
    let probe = MockSite::start(small()).await;
    let ids = probe.content().question_ids();
    let (off, on) = (ids[0], ids[1]);
    let off_site = format!("http://127.0.0.2:9/questions/{off}/elsewhere");
    let on_site = format!("/questions/{}/moved", ids[2]);
    let site = MockSite::start(MockSiteConfig {
        redirects: vec![(off, off_site.clone()), (on, on_site.clone())],
        ..small()
    })
    .await;
    for (id, location) in [(off, &off_site), (on, &on_site)] {
        // Any slug (or none) of the question redirects.
        for path in [site.question_path(id), format!("/questions/{id}")] {
            let resp = get(&site, &path).await;
            assert_eq!(resp.status(), 301, "{path}");
            assert_eq!(
                header(&resp, "location"),
                Some(location.clone().into_bytes())
            );
        }
    }
    // Other questions are untouched, and the on-site target is served.
    assert_eq!(get(&site, &site.question_path(ids[3])).await.status(), 200);
    assert_eq!(get(&site, &on_site).await.status(), 200);
}

#[tokio::test]
async fn hostile_retry_after_text_is_served_verbatim() {
    for raw in ["1e30", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", ""] {
        let site = MockSite::start(MockSiteConfig {
            rate_limit: Some(RateLimit {
                requests_per_second: 1,
                retry_after: Duration::from_secs(1),
            }),
            retry_after_header: Some(raw.into()),
            ..small()
        })
        .await;
        let path = site.listing_path("dask", "votes", 1);
        assert_eq!(get(&site, &path).await.status(), 200);
        let resp = get(&site, &path).await;
        assert_eq!(resp.status(), 429);
        assert_eq!(
            header(&resp, "retry-after"),
            Some(raw.as_bytes().to_vec()),
            "{raw:?}"
        );
    }
}

#[tokio::test]
async fn always_429_pages_answer_429_without_a_rate_limit() {
    let probe = MockSite::start(small()).await;
    let ids = probe.content().question_ids();
    let site = MockSite::start(MockSiteConfig {
        always_429: vec![ids[0]],
        ..small()
    })
    .await;
    for _ in 0..3 {
        let resp = get(&site, &site.question_path(ids[0])).await;
        assert_eq!(resp.status(), 429);
        assert_eq!(header(&resp, "retry-after"), Some(b"1".to_vec()));
    }
    assert_eq!(get(&site, &site.question_path(ids[1])).await.status(), 200);

    let hostile = MockSite::start(MockSiteConfig {
        always_429: vec![ids[0]],
        retry_after_header: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        ..small()
    })
    .await;
    let resp = get(&hostile, &hostile.question_path(ids[0])).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        header(&resp, "retry-after"),
        Some(b"Wed, 21 Oct 2015 07:28:00 GMT".to_vec())
    );
}

#[tokio::test]
async fn robots_txt_bytes_and_crawl_delay_are_served() {
    // Not UTF-8: a BOM, Latin-1 and a NUL byte.
    let bytes = b"\xef\xbb\xbfUser-agent: *\nDisallow: /caf\xe9\n\0Crawl-delay: 3\n".to_vec();
    let site = MockSite::start(MockSiteConfig {
        robots_txt_bytes: Some(bytes.clone()),
        ..small()
    })
    .await;
    let resp = get(&site, "/robots.txt").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);

    for value in ["1e30", "-5", "soon", "2.5"] {
        let site = MockSite::start(MockSiteConfig {
            crawl_delay: Some(value.into()),
            ..small()
        })
        .await;
        let body = get(&site, "/robots.txt").await.text().await.unwrap();
        assert_eq!(body, robots_txt_with_crawl_delay(value));
        assert!(body.starts_with(&format!("User-agent: *\nCrawl-delay: {value}\n")));
        // The default rules follow, in the same group.
        assert!(body.ends_with(DEFAULT_ROBOTS_TXT.split_once('\n').unwrap().1));
    }
}

#[tokio::test]
async fn requests_are_not_recorded_unless_asked() {
    let site = MockSite::start(small()).await;
    assert_eq!(get(&site, "/robots.txt").await.status(), 200);
    assert_eq!(get(&site, "/questions").await.status(), 200);
    assert_eq!(
        site.request_count().await,
        2,
        "the count works without a log"
    );
    assert_eq!(site.try_requests().await, None);
    site.reset().await;
    assert_eq!(site.request_count().await, 0);
    assert_eq!(site.try_requests().await, None, "reset keeps recording off");

    let recording = MockSite::start(MockSiteConfig {
        record_requests: true,
        ..small()
    })
    .await;
    assert_eq!(recording.try_requests().await, Some(Vec::new()));
    assert_eq!(get(&recording, "/robots.txt").await.status(), 200);
    let log = recording.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].path.as_str(), log[0].status), ("/robots.txt", 200));
    recording.reset().await;
    assert_eq!(recording.try_requests().await, Some(Vec::new()));
}

#[tokio::test]
#[should_panic(expected = "record_requests: true")]
async fn reading_the_log_of_a_site_that_does_not_record_panics() {
    let site = MockSite::start(small()).await;
    // Were this an empty list, "no request was made" would pass without checking anything.
    let _ = site.requests().await;
}

#[tokio::test]
async fn many_clients_and_urls_leave_no_state_behind() {
    // Not a memory measurement (see examples/rss_under_load.rs): the site keeps serving
    // correctly across client-state sweeps, and retries still recover.
    let site = MockSite::start(MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 2,
            retry_after: Duration::from_millis(200),
        }),
        captcha_after: Some(50),
        captcha_cooldown: Duration::from_millis(200),
        server_errors: Some(Faults { every_nth: 1 }),
        ..small()
    })
    .await;
    let c = client();
    for round in 0..2 {
        for i in 0..200 {
            let url = site.url(&format!("/questions?page=1&x={round}-{i}"));
            let status = || async {
                c.get(&url)
                    .header(CLIENT_HEADER, format!("client-{i}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            };
            let first = status().await;
            assert!(first == 500 || first == 503, "{first}");
            assert_eq!(status().await, 200, "the retry recovers");
        }
        // Past the one-second window every client is idle and swept on the next request.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(site.request_count().await, 800);
}

#[tokio::test]
async fn new_settings_are_validated_naming_the_field() {
    let long = MAX_DELAY + Duration::from_secs(1);
    let cases = [
        (
            MockSiteConfig {
                latency: Latency::Fixed(long),
                ..small()
            },
            "latency",
        ),
        (
            MockSiteConfig {
                latency: Latency::Random {
                    min: Duration::ZERO,
                    max: long,
                },
                ..small()
            },
            "latency",
        ),
        (
            MockSiteConfig {
                slow_body: Some(long),
                ..small()
            },
            "slow_body",
        ),
        (
            MockSiteConfig {
                captcha_after: Some(3),
                captcha_cooldown: long,
                ..small()
            },
            "captcha_cooldown",
        ),
        (
            MockSiteConfig {
                rate_limit: Some(RateLimit {
                    requests_per_second: 1,
                    retry_after: long,
                }),
                ..small()
            },
            "rate_limit",
        ),
        (
            MockSiteConfig {
                redirects: vec![(1, String::new())],
                ..small()
            },
            "redirects",
        ),
        (
            MockSiteConfig {
                redirects: vec![(1, "/a\r\nSet-Cookie: x".into())],
                ..small()
            },
            "redirects",
        ),
        (
            MockSiteConfig {
                redirects: vec![(1, "/a".into()), (1, "/b".into())],
                ..small()
            },
            "redirects",
        ),
        (
            MockSiteConfig {
                redirects: vec![(1, "/a".into())],
                not_found: vec![1],
                ..small()
            },
            "redirects",
        ),
        (
            MockSiteConfig {
                always_429: vec![1],
                truncated: vec![1],
                ..small()
            },
            "always_429",
        ),
        (
            MockSiteConfig {
                retry_after_header: Some("5\n".into()),
                ..small()
            },
            "retry_after_header",
        ),
        (
            MockSiteConfig {
                crawl_delay: Some("1\nDisallow: /".into()),
                ..small()
            },
            "crawl_delay",
        ),
        (
            MockSiteConfig {
                crawl_delay: Some("1".into()),
                robots_txt: Some("User-agent: *\n".into()),
                ..small()
            },
            "robots_txt",
        ),
        (
            MockSiteConfig {
                robots_txt_bytes: Some(vec![b'#'; sofleet_mock_so::MAX_ROBOTS_TXT_BYTES + 1]),
                ..small()
            },
            "robots_txt_bytes",
        ),
    ];
    common::assert_each_refused(cases).await;
    // The bounds themselves are allowed.
    assert!(
        MockSiteConfig {
            latency: Latency::Fixed(MAX_DELAY),
            slow_body: Some(MAX_DELAY),
            ..small()
        }
        .validate()
        .is_ok()
    );
}
