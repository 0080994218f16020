//! Helpers shared by the mock site's test files (each test file uses some).
#![allow(dead_code)]

use std::time::Duration;

use sofleet_extract::{parse_listing, parse_question};
use sofleet_mock_so::{CLIENT_HEADER, MockSite, MockSiteConfig, MockSiteError};

/// Asserts that every configuration is refused with `InvalidConfig` naming its field.
pub async fn assert_each_refused(cases: impl IntoIterator<Item = (MockSiteConfig, &'static str)>) {
    for (config, field) in cases {
        match MockSite::try_start(config).await {
            Err(MockSiteError::InvalidConfig { field: f, problem }) => {
                assert_eq!(f, field, "{problem}");
                assert!(!problem.is_empty());
            }
            Err(other) => panic!("{field}: unexpected error {other}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    }
}

/// The default site with `per_tag` questions per tag.
pub fn small(per_tag: u32) -> MockSiteConfig {
    MockSiteConfig {
        questions_per_tag: Some(per_tag),
        ..MockSiteConfig::default()
    }
}

/// A client that follows redirects (30 s timeout, no proxy).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client that does not follow redirects.
pub fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// GETs `path`: status and body.
pub async fn get(client: &reqwest::Client, site: &MockSite, path: &str) -> (u16, String) {
    let resp = client
        .get(format!("{}{path}", site.base_url()))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// GETs `path` as client `who` (the [`CLIENT_HEADER`] value).
pub async fn get_as(
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

/// Sends `n` requests for `path` as client `who`: every status, and the
/// `header` of the last response that answered `status`.
pub async fn statuses_as(
    client: &reqwest::Client,
    site: &MockSite,
    path: &str,
    who: &str,
    n: usize,
    (status, header): (u16, &str),
) -> (Vec<u16>, Option<String>) {
    let mut statuses = Vec::new();
    let mut value = None;
    for _ in 0..n {
        let resp = get_as(client, site, path, who).await;
        if resp.status() == status {
            value = resp
                .headers()
                .get(header)
                .map(|v| v.to_str().unwrap().to_string());
        }
        statuses.push(resp.status().as_u16());
    }
    (statuses, value)
}

/// The question ids a listing page lists, in page order.
pub fn listed_ids(html: &str) -> Vec<u64> {
    parse_listing(html)
        .unwrap()
        .questions
        .iter()
        .map(|q| q.id)
        .collect()
}

/// GETs question `id`'s page: it answers 200 and parses to exactly the
/// expected record.
pub async fn assert_question_served(client: &reqwest::Client, site: &MockSite, id: u64) {
    let (status, html) = get(client, site, &site.question_path(id)).await;
    assert_eq!(status, 200);
    assert_eq!(
        parse_question(&html).unwrap(),
        site.expected_question(id).unwrap()
    );
}
