//! The fetcher against hostile servers (wiremock, and a raw TCP server for headers no HTTP
//! library would write): out-of-range pauses stop the host with a reason instead of a panic or
//! a silent wait; redirects stay on the allowed hosts and obey robots.txt; robots.txt is read
//! under the size and rule limits. Tests that are about a hang wait far longer than needed and
//! print the time they measured; no assertion is on time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use sofleet_crawl::{CrawlConfig, Fetcher, ROBOTS_MAX_BYTES, RetryConfig};
use sofleet_records::FailureKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Far above any expected time: only a hang reaches it.
const HANG: Duration = Duration::from_secs(60);

fn config(base: &str) -> CrawlConfig {
    CrawlConfig {
        retry: RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
        captcha_pause: Duration::from_millis(200),
        max_pause: Duration::from_millis(5_000),
        ..CrawlConfig::for_local_site(base)
    }
}

async fn serve(server: &MockServer, at: &str, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(answer)
        .mount(server)
        .await;
}

fn page(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(body.to_owned())
}

/// A redirect answer: `status` with a `Location` header.
fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("Location", location)
}

/// Requests the server received for `at`, with their `Host` header.
async fn hosts_asking(server: &MockServer, at: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == at)
        .map(|r| {
            r.headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// Runs `fut` with the [`HANG`] timeout, printing how long it took.
async fn timed<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = tokio::time::timeout(HANG, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after {HANG:?}"));
    eprintln!("{what}: {:?}", start.elapsed());
    out
}

#[tokio::test]
async fn a_retry_after_past_the_cap_stops_the_host_with_a_reason() {
    for value in [
        "1e30",
        "18446744073709551616",
        "3600",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let server = MockServer::start().await;
        serve(&server, "/robots.txt", page("User-agent: *\nAllow: /\n")).await;
        serve(
            &server,
            "/questions/1",
            ResponseTemplate::new(429).insert_header("Retry-After", value),
        )
        .await;
        serve(&server, "/questions/2", page("<html>two</html>")).await;
        let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
        let first = timed(
            value,
            fetcher.fetch(&format!("{}/questions/1", server.uri()), None),
        )
        .await
        .unwrap_err();
        assert_eq!(first.kind, FailureKind::PauseTooLong, "{value}: {first:?}");
        assert!(first.message.contains(value), "{value}: {}", first.message);
        assert!(first.message.contains("--max-pause"), "{}", first.message);
        assert_eq!(first.attempts, 1, "one request, then the host stopped");
        // Every later page of the host fails at once with the same reason, unrequested.
        let second = fetcher
            .fetch(&format!("{}/questions/2", server.uri()), None)
            .await
            .unwrap_err();
        assert_eq!(second.kind, FailureKind::PauseTooLong);
        assert_eq!(second.attempts, 0);
        assert!(hosts_asking(&server, "/questions/2").await.is_empty());
        assert_eq!(
            fetcher.host_stopped().map(|f| f.kind),
            Some(FailureKind::PauseTooLong)
        );
    }
}

#[tokio::test]
async fn unreadable_retry_after_values_back_off_and_recover() {
    for value in ["soon", "-5", "NaN", "inf", "1e", ""] {
        let server = MockServer::start().await;
        serve(&server, "/robots.txt", page("")).await;
        Mock::given(method("GET"))
            .and(path("/q"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", value))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        serve(&server, "/q", page("<html>ok</html>")).await;
        let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
        let got = timed(value, fetcher.fetch(&format!("{}/q", server.uri()), None))
            .await
            .unwrap_or_else(|f| panic!("Retry-After {value:?}: {f:?}"));
        assert_eq!((got.status, got.attempts), (200, 2), "{value:?}");
    }
}

#[tokio::test]
async fn a_crawl_delay_past_the_cap_stops_the_host_and_robots_is_read_once() {
    for delay in ["1e30", "2e10", "3600", "inf"] {
        let server = MockServer::start().await;
        serve(
            &server,
            "/robots.txt",
            page(&format!(
                "User-agent: *\nCrawl-delay: {delay}\nDisallow: /private\n"
            )),
        )
        .await;
        serve(&server, "/q", page("<html>ok</html>")).await;
        let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
        for _ in 0..3 {
            let f = timed(delay, fetcher.fetch(&format!("{}/q", server.uri()), None)).await;
            match f {
                // `inf` is not a delay at all: ignored, the page is fetched.
                Ok(page) if delay == "inf" => assert_eq!(page.status, 200),
                Ok(page) => panic!("Crawl-delay {delay}: fetched {page:?}"),
                Err(f) => {
                    assert_eq!(f.kind, FailureKind::PauseTooLong, "{delay}: {f:?}");
                    assert!(f.message.contains("Crawl-delay"), "{}", f.message);
                }
            }
        }
        assert_eq!(
            hosts_asking(&server, "/robots.txt").await.len(),
            1,
            "{delay}"
        );
        if delay != "inf" {
            assert!(hosts_asking(&server, "/q").await.is_empty(), "{delay}");
        }
    }
}

#[tokio::test]
async fn a_redirect_off_the_site_is_a_failure_naming_the_target() {
    let server = MockServer::start().await;
    serve(&server, "/robots.txt", page("")).await;
    let port = server.address().port();
    // Same server, other host name: for the crawler another site.
    let target = format!("http://localhost:{port}/elsewhere");
    serve(&server, "/questions/1", redirect(301, &target)).await;
    serve(&server, "/elsewhere", page("<html>elsewhere</html>")).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
    let f = fetcher
        .fetch(&format!("{}/questions/1", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(f.kind, FailureKind::OffSiteRedirect, "{f:?}");
    assert!(f.message.contains(&target), "{}", f.message);
    assert_eq!(f.http_status, Some(301));
    assert!(hosts_asking(&server, "/elsewhere").await.is_empty());
}

#[tokio::test]
async fn redirects_on_the_site_are_followed_and_the_page_keeps_where_it_came_from() {
    let server = MockServer::start().await;
    serve(&server, "/robots.txt", page("")).await;
    serve(
        &server,
        "/questions/1/old",
        redirect(301, "/questions/1/new-title"),
    )
    .await;
    serve(&server, "/questions/1/new-title", page("<html>q</html>")).await;
    let dir = tempfile::tempdir().unwrap();
    let fetcher = Arc::new(
        Fetcher::new(&CrawlConfig {
            cache_dir: Some(dir.path().to_owned()),
            ..config(&server.uri())
        })
        .unwrap(),
    );
    let asked = format!("{}/questions/1/old", server.uri());
    let got = fetcher.fetch(&asked, Some(DAY)).await.unwrap();
    assert_eq!(got.url, asked);
    assert_eq!(
        got.redirected_to.as_deref(),
        Some(format!("{}/questions/1/new-title", server.uri()).as_str())
    );
    assert_eq!(got.attempts, 2, "the redirect and the page");
    // The cache keeps both URLs: a re-run knows where the page came from without asking.
    fetcher.store(&got).await;
    let again = fetcher.fetch(&asked, Some(DAY)).await.unwrap();
    assert!(again.from_cache);
    assert_eq!(again.redirected_to, got.redirected_to);
}

#[tokio::test]
async fn robots_txt_applies_to_where_a_redirect_leads() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/robots.txt",
        page("User-agent: *\nDisallow: /private\n"),
    )
    .await;
    let port = server.address().port();
    serve(&server, "/questions/1", redirect(302, "/private/1")).await;
    serve(
        &server,
        "/questions/2",
        redirect(302, &format!("http://localhost:{port}/private/2")),
    )
    .await;
    serve(&server, "/private/1", page("secret")).await;
    serve(&server, "/private/2", page("secret")).await;
    let fetcher = Arc::new(
        Fetcher::new(&CrawlConfig {
            redirect_hosts: vec!["localhost".into()],
            ..config(&server.uri())
        })
        .unwrap(),
    );
    for n in [1, 2] {
        let f = fetcher
            .fetch(&format!("{}/questions/{n}", server.uri()), None)
            .await
            .unwrap_err();
        assert_eq!(f.kind, FailureKind::DisallowedByRobots, "{f:?}");
        assert!(
            f.message.contains(&format!("/private/{n}")),
            "{}",
            f.message
        );
        assert!(f.message.contains("redirected from"), "{}", f.message);
    }
    assert!(hosts_asking(&server, "/private/1").await.is_empty());
    assert!(hosts_asking(&server, "/private/2").await.is_empty());
    // The other host's robots.txt was asked for, under its own name.
    let robots_hosts = hosts_asking(&server, "/robots.txt").await;
    assert_eq!(
        robots_hosts,
        vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")]
    );
}

#[tokio::test]
async fn a_redirect_loop_ends_after_the_limit() {
    let server = MockServer::start().await;
    serve(&server, "/robots.txt", page("")).await;
    serve(&server, "/a", redirect(302, "/b")).await;
    serve(&server, "/b", redirect(302, "/a")).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
    let f = timed(
        "redirect loop",
        fetcher.fetch(&format!("{}/a", server.uri()), None),
    )
    .await
    .unwrap_err();
    assert_eq!(f.kind, FailureKind::HttpStatus);
    assert!(f.message.contains("more than 5 redirects"), "{}", f.message);
    assert_eq!(f.attempts, 6);
}

#[tokio::test]
async fn robots_txt_is_read_up_to_500_kib_and_the_rest_ignored() {
    let server = MockServer::start().await;
    let mut robots = String::from("User-agent: *\nDisallow: /early\n");
    while robots.len() < ROBOTS_MAX_BYTES + 10_000 {
        robots.push_str("# filler filler filler filler filler filler filler\n");
    }
    robots.push_str("Disallow: /late\n");
    serve(&server, "/robots.txt", page(&robots)).await;
    serve(&server, "/early", page("e")).await;
    serve(&server, "/late", page("l")).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
    let early = fetcher
        .fetch(&format!("{}/early", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(early.kind, FailureKind::DisallowedByRobots);
    let late = fetcher
        .fetch(&format!("{}/late", server.uri()), None)
        .await
        .expect("a rule past 500 KiB is ignored, as Google does");
    assert_eq!(late.status, 200);
}

#[tokio::test]
async fn a_robots_txt_of_wildcard_rules_is_parsed_in_bounded_time() {
    let server = MockServer::start().await;
    let mut robots = String::from("User-agent: *\n");
    let mut i = 0;
    while robots.len() < 2_700_000 {
        robots.push_str(&format!("Disallow: /*a{i}*b*c*$\nAllow: /*x{i}*y$\n"));
        i += 1;
    }
    serve(&server, "/robots.txt", page(&robots)).await;
    serve(&server, "/q", page("ok")).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server.uri())).unwrap());
    let got = timed(
        "2.7 MB of wildcard rules",
        fetcher.fetch(&format!("{}/q", server.uri()), None),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 200);
}

/// A raw HTTP/1.1 server: answers robots.txt with `robots` and everything else with
/// `response(n)` (raw bytes), closing the connection after each answer.
async fn raw_server(
    robots: String,
    response: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static,
) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(Mutex::new(0usize));
    let count = served.clone();
    let response = Arc::new(response);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let robots = robots.clone();
            let response = response.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = if got.starts_with(b"GET /robots.txt ") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{robots}",
                        robots.len()
                    )
                    .into_bytes()
                } else {
                    let n = {
                        let mut c = count.lock().unwrap();
                        *c += 1;
                        *c
                    };
                    response(n)
                };
                let _ = stream.write_all(&answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), served)
}

/// Hostile header values, plus random bytes, for the fuzz loop.
fn hostile_values(rng: &mut rand::rngs::StdRng) -> String {
    const CORPUS: &[&str] = &[
        "1e30",
        "-1",
        "18446744073709551616",
        "99999999999999999999999999",
        "NaN",
        "inf",
        "-inf",
        "0x10",
        "1.5",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "",
        " ",
        "%00",
        "http://",
        "//evil.example/x",
        "javascript:alert(1)",
        "http://[::1",
        "/captcha",
        "\u{00e9}\u{00e9}",
    ];
    if rng.random_bool(0.6) {
        CORPUS[rng.random_range(0..CORPUS.len())].to_owned()
    } else {
        let len = rng.random_range(0..40);
        (0..len)
            .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
            .collect()
    }
}

#[tokio::test]
async fn hostile_headers_and_robots_bodies_never_panic_or_hang() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let statuses = [200u16, 301, 302, 303, 307, 308, 429, 503, 500, 404];
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    let start = Instant::now();
    for round in 0..60 {
        let status = statuses[rng.random_range(0..statuses.len())];
        let retry_after = hostile_values(&mut rng);
        let location = hostile_values(&mut rng);
        let length = match rng.random_range(0..4) {
            0 => "0".to_owned(),
            1 => "99999999999".to_owned(),
            2 => hostile_values(&mut rng),
            _ => "5".to_owned(),
        };
        let delay = hostile_values(&mut rng);
        let robots_rules: String = (0..rng.random_range(0..4))
            .map(|_| format!("Disallow: {}\n", hostile_values(&mut rng)))
            .collect();
        let robots = format!("User-agent: *\nCrawl-delay: {delay}\n{robots_rules}");
        let raw = format!(
            "HTTP/1.1 {status} Hostile\r\nRetry-After: {retry_after}\r\nLocation: {location}\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\nhello"
        );
        let (base, _) = raw_server(robots, move |_| raw.clone().into_bytes()).await;
        let fetcher = Arc::new(
            Fetcher::new(&CrawlConfig {
                timeout: Duration::from_millis(2_000),
                max_pause: Duration::from_millis(1_000),
                captcha_pause: Duration::from_millis(100),
                retry: RetryConfig {
                    max_attempts: 2,
                    initial_backoff: Duration::from_millis(1),
                    max_backoff: Duration::from_millis(5),
                },
                ..config(&base)
            })
            .unwrap(),
        );
        let result = timed(
            &format!("round {round} (status {status}, Retry-After {retry_after:?})"),
            fetcher.fetch(&format!("{base}/questions/{round}"), None),
        )
        .await;
        let key = match result {
            Ok(_) => "ok".to_owned(),
            Err(f) => f.kind.as_str().to_owned(),
        };
        *outcomes.entry(key).or_default() += 1;
    }
    eprintln!("60 hostile servers in {:?}: {outcomes:?}", start.elapsed());
    assert!(
        outcomes.len() > 3,
        "the fuzz loop should reach many outcomes: {outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_parse_budget_is_a_failure_row_not_a_stall() {
    let server = MockServer::start().await;
    serve(&server, "/robots.txt", page("")).await;
    // A question page of the project's fixtures with 4 MB of plain paragraphs in its post:
    // cheap per byte, but far more than 1 ms of parsing.
    let fixture = include_str!("../../../fixtures/pages/e-q-real-size.html");
    let marker = "js-post-body\" itemprop=\"text\">";
    let at = fixture.find(marker).expect("the fixture has a post body") + marker.len();
    let body = format!(
        "{}{}{}",
        &fixture[..at],
        "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n".repeat(64_000),
        &fixture[at..]
    );
    serve(&server, "/questions/1/big", page(&body)).await;
    let config = CrawlConfig {
        parse_budget: Duration::from_millis(1),
        ..config(&server.uri())
    };
    let worker = sofleet_crawl::CrawlWorker::local(&config).unwrap();
    let ctx =
        sofleet_executor::TaskContext::new(sofleet_executor::TaskKey::new("big"), 0, Vec::new())
            .with_resources(worker.into_resources());
    let task = sofleet_crawl::QuestionTask {
        config,
        run_id: 15,
        url: format!("{}/questions/1/big", server.uri()),
    };
    let out = timed("4 MB page, 1 ms budget", task.execute(&ctx))
        .await
        .output;
    let sofleet_crawl::CrawlOutput::Failed(row) = out else {
        panic!("a page over the budget was not a failure row: {out:?}");
    };
    assert_eq!(row.kind, FailureKind::Parse, "{row:?}");
    assert!(row.message.contains("budget"), "{}", row.message);
}

#[test]
fn the_parse_budget_is_range_checked() {
    for ms in [0, 600_001] {
        let config = CrawlConfig {
            parse_budget: Duration::from_millis(ms),
            ..CrawlConfig::default()
        };
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("parse_budget_ms"),
            "{ms}"
        );
    }
}
