//! The fetcher against a real HTTP server (wiremock on 127.0.0.1): retries, Retry-After,
//! captcha pauses, robots.txt, the cache and the limits. Assertions are on recorded request
//! order and times, never on how long a test took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sofleet_crawl::{CrawlConfig, Fetcher, RetryConfig};
use sofleet_records::FailureKind;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

type Log = Arc<Mutex<Vec<(String, u16, Instant)>>>;

/// A cache age every test page is younger than.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Answers with the templates in order (the last one repeats) and logs every request with its
/// arrival time and the status it got.
struct Seq {
    log: Log,
    n: AtomicUsize,
    answers: Vec<ResponseTemplate>,
    statuses: Vec<u16>,
}

impl Respond for Seq {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let i = self
            .n
            .fetch_add(1, Ordering::SeqCst)
            .min(self.answers.len() - 1);
        self.log.lock().unwrap().push((
            req.url.path().to_owned(),
            self.statuses[i],
            Instant::now(),
        ));
        self.answers[i].clone()
    }
}

async fn route(server: &MockServer, log: &Log, at: &str, answers: Vec<(u16, ResponseTemplate)>) {
    let (statuses, answers) = answers.into_iter().unzip();
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(Seq {
            log: log.clone(),
            n: AtomicUsize::new(0),
            answers,
            statuses,
        })
        .mount(server)
        .await;
}

fn ok(body: &str) -> (u16, ResponseTemplate) {
    (
        200,
        ResponseTemplate::new(200).set_body_string(body.to_owned()),
    )
}

fn status(code: u16) -> (u16, ResponseTemplate) {
    (
        code,
        ResponseTemplate::new(code).set_body_string(format!("status {code}")),
    )
}

fn config(server: &MockServer) -> CrawlConfig {
    CrawlConfig {
        retry: RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
        captcha_pause: Duration::from_millis(300),
        ..CrawlConfig::for_local_site(&server.uri())
    }
}

async fn server_with_robots(robots: Option<&str>) -> (MockServer, Log) {
    let server = MockServer::start().await;
    let log: Log = Arc::default();
    match robots {
        Some(text) => route(&server, &log, "/robots.txt", vec![ok(text)]).await,
        None => route(&server, &log, "/robots.txt", vec![status(404)]).await,
    }
    (server, log)
}

fn requests_to(log: &Log, at: &str) -> Vec<(u16, Instant)> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(p, _, _)| p == at)
        .map(|(_, s, t)| (*s, *t))
        .collect()
}

#[tokio::test]
async fn retry_after_pauses_the_whole_host() {
    let (server, log) = server_with_robots(None).await;
    let limited = (
        429,
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "1")
            .set_body_string("slow down"),
    );
    route(&server, &log, "/a", vec![limited, ok("a")]).await;
    route(&server, &log, "/b", vec![ok("b")]).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server)).unwrap());
    let url_a = format!("{}/a", server.uri());
    let url_b = format!("{}/b", server.uri());
    let f2 = fetcher.clone();
    let a = tokio::spawn(async move { f2.fetch(&url_a, None).await });
    // Start /b only once /a has been refused.
    while requests_to(&log, "/a").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b = fetcher.fetch(&url_b, None).await.unwrap();
    let a = a.await.unwrap().unwrap();
    assert_eq!((a.body.as_str(), a.attempts), ("a", 2));
    assert_eq!(b.body, "b");

    let a_log = requests_to(&log, "/a");
    let refused_at = a_log[0].1;
    assert_eq!(a_log[0].0, 429);
    let b_at = requests_to(&log, "/b")[0].1;
    // Neither the retry nor the other URL went out before the Retry-After was over.
    assert!(
        a_log[1].1 >= refused_at + Duration::from_secs(1),
        "retry sent early"
    );
    assert!(
        b_at >= refused_at + Duration::from_secs(1),
        "another request sent during the pause"
    );
    let stats = fetcher.stats();
    assert_eq!(stats.too_many_requests, 1);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.requests, 4, "{stats}"); // robots + a twice + b
}

#[tokio::test]
async fn server_errors_are_retried_then_recorded() {
    let (server, log) = server_with_robots(None).await;
    route(
        &server,
        &log,
        "/flaky",
        vec![status(503), status(500), ok("fine")],
    )
    .await;
    route(&server, &log, "/broken", vec![status(500)]).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server)).unwrap());
    let page = fetcher
        .fetch(&format!("{}/flaky", server.uri()), None)
        .await
        .unwrap();
    assert_eq!((page.body.as_str(), page.attempts), ("fine", 3));
    let err = fetcher
        .fetch(&format!("{}/broken", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::ServerError);
    assert_eq!((err.attempts, err.http_status), (3, Some(500)));
    assert_eq!(requests_to(&log, "/broken").len(), 3);
    let stats = fetcher.stats();
    assert_eq!((stats.status_5xx, stats.retries), (5, 4), "{stats}");
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let (server, log) = server_with_robots(None).await;
    route(&server, &log, "/gone", vec![status(404)]).await;
    route(&server, &log, "/forbidden", vec![status(403)]).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server)).unwrap());
    let gone = fetcher
        .fetch(&format!("{}/gone", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(
        (gone.kind, gone.attempts, gone.http_status),
        (FailureKind::NotFound, 1, Some(404))
    );
    let forbidden = fetcher
        .fetch(&format!("{}/forbidden", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(
        (forbidden.kind, forbidden.attempts),
        (FailureKind::HttpStatus, 1)
    );
    let off = fetcher
        .fetch("http://example.com/questions/1/x", None)
        .await
        .unwrap_err();
    assert_eq!((off.kind, off.attempts), (FailureKind::OffHost, 0));
    assert_eq!(fetcher.stats().requests, 3); // robots, gone, forbidden: nothing off-host
}

#[tokio::test]
async fn captcha_pauses_the_host_and_is_retried() {
    let (server, log) = server_with_robots(None).await;
    let captcha = (
        302,
        ResponseTemplate::new(302).insert_header("Location", "/nocaptcha?s=%2fq"),
    );
    route(&server, &log, "/q", vec![captcha.clone(), ok("content")]).await;
    route(&server, &log, "/always", vec![captcha]).await;
    let page = "<html><head><title>Human verification - Stack Exchange</title></head><body>\
                <form action=\"/nocaptcha\" method=\"post\"><input name=\"s\" value=\"/x\"></form></body></html>";
    route(&server, &log, "/served", vec![ok(page), ok("content")]).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server)).unwrap());
    let got = fetcher
        .fetch(&format!("{}/q", server.uri()), None)
        .await
        .unwrap();
    assert_eq!((got.body.as_str(), got.attempts), ("content", 2));
    let q = requests_to(&log, "/q");
    assert!(
        q[1].1 >= q[0].1 + Duration::from_millis(300),
        "captcha pause not honoured"
    );
    assert!(
        requests_to(&log, "/nocaptcha").is_empty(),
        "the captcha page was followed"
    );
    let served = fetcher
        .fetch(&format!("{}/served", server.uri()), None)
        .await
        .unwrap();
    assert_eq!(
        served.body, "content",
        "a captcha body must never be returned as content"
    );
    let err = fetcher
        .fetch(&format!("{}/always", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attempts),
        (FailureKind::Captcha, 6),
        "captchas get twice the attempts"
    );
    assert_eq!(fetcher.stats().captchas, 8);
}

#[tokio::test]
async fn robots_disallow_and_crawl_delay_are_obeyed() {
    let robots = "User-agent: *\nDisallow: /private\nCrawl-delay: 0.25\n";
    let (server, log) = server_with_robots(Some(robots)).await;
    route(&server, &log, "/private/x", vec![ok("secret")]).await;
    for p in ["/p1", "/p2", "/p3"] {
        route(&server, &log, p, vec![ok("public")]).await;
    }
    let fetcher = Arc::new(Fetcher::new(&config(&server)).unwrap());
    let err = fetcher
        .fetch(&format!("{}/private/x", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attempts),
        (FailureKind::DisallowedByRobots, 0)
    );
    let fetches = ["/p1", "/p2", "/p3"].map(|p| {
        let f = fetcher.clone();
        let url = format!("{}{p}", server.uri());
        async move { f.fetch(&url, None).await }
    });
    for r in futures::future::join_all(fetches).await {
        assert_eq!(r.unwrap().body, "public");
    }
    assert!(requests_to(&log, "/private/x").is_empty());
    let mut times: Vec<Instant> = log.lock().unwrap().iter().map(|(_, _, t)| *t).collect();
    times.sort();
    assert_eq!(
        times.len(),
        4,
        "robots.txt fetched once, then the three pages"
    );
    for pair in times.windows(2) {
        // Crawl-delay 0.25 s (a little slack for when the server logs arrival).
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(200),
            "Crawl-delay not honoured: {:?}",
            pair[1] - pair[0]
        );
    }

    // Opting out fetches the disallowed page.
    let bold = Arc::new(
        Fetcher::new(&CrawlConfig {
            ignore_robots: true,
            ..config(&server)
        })
        .unwrap(),
    );
    assert_eq!(
        bold.fetch(&format!("{}/private/x", server.uri()), None)
            .await
            .unwrap()
            .body,
        "secret"
    );
}

#[tokio::test]
async fn unreachable_robots_stops_the_crawl() {
    let server = MockServer::start().await;
    let log: Log = Arc::default();
    route(&server, &log, "/robots.txt", vec![status(503)]).await;
    route(&server, &log, "/p", vec![ok("page")]).await;
    let fetcher = Arc::new(Fetcher::new(&config(&server)).unwrap());
    let err = fetcher.ensure_robots().await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (FailureKind::ServerError, 3));
    let p = fetcher
        .fetch(&format!("{}/p", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!(p.kind, FailureKind::DisallowedByRobots);
    assert!(requests_to(&log, "/p").is_empty());
}

#[tokio::test]
async fn cache_serves_a_rerun_without_requests() {
    let (server, log) = server_with_robots(Some("User-agent: *\nDisallow:\n")).await;
    route(&server, &log, "/page", vec![ok("cached body")]).await;
    route(&server, &log, "/missing", vec![status(404)]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = CrawlConfig {
        cache_dir: Some(dir.path().to_owned()),
        ..config(&server)
    };
    let first = Arc::new(Fetcher::new(&cfg).unwrap());
    let page = first
        .fetch(&format!("{}/page", server.uri()), Some(DAY))
        .await
        .unwrap();
    assert!(!page.from_cache);
    first.store(&page).await;
    first
        .fetch(&format!("{}/missing", server.uri()), Some(DAY))
        .await
        .unwrap_err();
    let sent = log.lock().unwrap().len();
    assert_eq!(sent, 3);

    let second = Arc::new(Fetcher::new(&cfg).unwrap());
    let again = second
        .fetch(&format!("{}/page", server.uri()), Some(DAY))
        .await
        .unwrap();
    assert_eq!(
        (again.body.as_str(), again.from_cache, again.attempts),
        ("cached body", true, 0)
    );
    assert_eq!(again.fetched_at_ms, page.fetched_at_ms);
    let missing = second
        .fetch(&format!("{}/missing", server.uri()), Some(DAY))
        .await
        .unwrap_err();
    assert_eq!(missing.kind, FailureKind::NotFound);
    second.ensure_robots().await.unwrap();
    assert_eq!(log.lock().unwrap().len(), sent, "the re-run made requests");
    assert_eq!(second.stats().requests, 0);
    assert_eq!(second.stats().cache_hits, 3);
}

#[tokio::test]
async fn oversized_slow_and_unreachable() {
    let (server, log) = server_with_robots(None).await;
    route(&server, &log, "/big", vec![ok(&"x".repeat(5_000))]).await;
    route(
        &server,
        &log,
        "/slow",
        vec![(
            200,
            ResponseTemplate::new(200)
                .set_body_string("late")
                .set_delay(Duration::from_secs(2)),
        )],
    )
    .await;
    let cfg = CrawlConfig {
        max_body_bytes: 1_000,
        timeout: Duration::from_millis(200),
        ..config(&server)
    };
    let fetcher = Arc::new(Fetcher::new(&cfg).unwrap());
    let big = fetcher
        .fetch(&format!("{}/big", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!((big.kind, big.attempts), (FailureKind::TooLarge, 1));
    let slow = fetcher
        .fetch(&format!("{}/slow", server.uri()), None)
        .await
        .unwrap_err();
    assert_eq!((slow.kind, slow.attempts), (FailureKind::Timeout, 3));

    // Nothing listens on this port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = CrawlConfig {
        ignore_robots: true,
        ..config(&server)
    };
    let dead = Arc::new(
        Fetcher::new(&CrawlConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            ..cfg
        })
        .unwrap(),
    );
    let err = dead
        .fetch(&format!("http://127.0.0.1:{port}/x"), None)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.attempts), (FailureKind::Connect, 3));
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let err = Fetcher::new(&CrawlConfig {
        base_url: "stackoverflow.com".into(),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("base_url"), "{err}");
    let err = Fetcher::new(&CrawlConfig {
        requests_per_second: Some(0.0),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("requests_per_second"), "{err}");
}

#[test]
fn retry_after_accepts_seconds_and_http_dates() {
    use sofleet_crawl::parse_retry_after;
    assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
    let later = std::time::SystemTime::now() + Duration::from_secs(10);
    let wait = parse_retry_after(&httpdate::fmt_http_date(later)).expect("an HTTP date");
    assert!(
        wait > Duration::from_secs(8) && wait <= Duration::from_secs(10),
        "{wait:?}"
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("-3"), None);
    assert_eq!(parse_retry_after(""), None);
}

#[tokio::test]
async fn politeness_shows_the_pause_a_site_asked_for_counting_down_and_its_429s() {
    let (server, log) = server_with_robots(None).await;
    let limited = (
        429,
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "2")
            .set_body_string("slow down"),
    );
    route(&server, &log, "/a", vec![limited, ok("a")]).await;
    let config = CrawlConfig {
        requests_per_second: Some(20.0),
        ..config(&server)
    };
    let fetcher = Arc::new(Fetcher::new(&config).unwrap());
    let before = fetcher.politeness();
    assert_eq!(before.interval, Some(Duration::from_millis(50)));
    assert_eq!(before.requests_per_second(), Some(20.0));
    assert_eq!(
        (before.in_flight, before.requests, before.paused_for),
        (0, 0, None)
    );
    assert_eq!(
        before.max_in_flight,
        config.max_concurrency_per_host as usize
    );
    assert!(before.host.starts_with("127.0.0.1:"), "{before:?}");

    let f2 = fetcher.clone();
    let url = format!("{}/a", server.uri());
    let a = tokio::spawn(async move { f2.fetch(&url, None).await });
    while requests_to(&log, "/a").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let paused = fetcher.politeness();
    assert_eq!(paused.too_many_requests, 1, "{paused:?}");
    let left = paused.paused_for.expect("a pause is on");
    assert!(
        left > Duration::from_millis(1000) && left <= Duration::from_secs(2),
        "{left:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = fetcher.politeness().paused_for.expect("still paused");
    assert!(
        later < left,
        "the pause counts down: {left:?} then {later:?}"
    );

    a.await.unwrap().unwrap();
    let after = fetcher.politeness();
    assert_eq!((after.paused_for, after.in_flight), (None, 0));
    assert_eq!(after.requests, requests_to(&log, "/a").len() as u64 + 1); // + robots.txt
    assert_eq!(after.stopped, None);
}
