//! Per-client behaviours over real HTTP: the rate limit (429 + Retry-After),
//! the captcha burst detector, and clients keyed by header or source address.

mod common;

use std::time::Duration;

use sofleet_extract::{ExtractError, parse_listing, parse_page};
use sofleet_mock_so::{CLIENT_HEADER, MockSite, MockSiteConfig, RateLimit};

use common::{client, get, get_as, no_redirect_client, small, statuses_as};

/// A small site (10 questions a tag) that records requests and allows each
/// client two requests a second (Retry-After 1 s).
fn recorded_two_per_second() -> MockSiteConfig {
    MockSiteConfig {
        rate_limit: Some(RateLimit {
            requests_per_second: 2,
            retry_after: Duration::from_secs(1),
        }),
        record_requests: true,
        ..small(10)
    }
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
    let (statuses, retry_after) =
        statuses_as(&c, &site, &path, "alpha", 6, (429, "retry-after")).await;
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
    let site = MockSite::start(recorded_two_per_second()).await;
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
    let (statuses, location) = statuses_as(&c, &site, &path, "burst", 5, (302, "location")).await;
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
async fn peer_tagging_proxy_keys_clients_by_source_address() {
    use sofleet_mock_so::PeerTaggingProxy;
    let site = MockSite::start(recorded_two_per_second()).await;
    let proxy = PeerTaggingProxy::start("127.0.0.1:0".parse().unwrap(), site.addr())
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
