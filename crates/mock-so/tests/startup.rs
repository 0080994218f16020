//! Starting a site: configuration errors and ports.

mod common;

use std::time::Duration;

use sofleet_mock_so::{Faults, Latency, MockSite, MockSiteConfig, MockSiteError, RateLimit};

use common::{client, get, small};

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
