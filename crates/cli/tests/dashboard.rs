//! The dashboard of `sofleet crawl --dashboard` and `sofleet dashboard --redis` in a real
//! headless Chromium (skipped with a note where Chromium is not installed, unless
//! `SOFLEET_REQUIRE_BROWSER=1`, as in CI): during a crawl of the mock site the page shows the
//! worker, the progress and the politeness, its counts grow without a reload, and its final
//! totals are the crawl's summary; the fleet view lists every worker of a 2-worker Redis fleet
//! with its address; beyond loopback a request without the token is refused. Each test saves
//! screenshots under `target/artifacts/dashboard/`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::fleet::{Worker, redis};
use common::{expected_ids, signal, sofleet, wait_or_kill};
use sofleet_dashboard::testing::Browser;
use sofleet_mock_so::{Latency, MockSite, MockSiteConfig};

/// A child's stderr, line by line, on a channel (read by a thread of its own).
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; returns it.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(e) => panic!("no line with {needle:?} ({e}); saw:\n{}", seen.join("\n")),
        }
    }
}

/// The URL printed after `Dashboard: `.
fn dashboard_url(line: &str) -> String {
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string()
}

/// `sofleet dashboard --redis REDIS --addr ADDR` (with `env`), its stderr lines, what was
/// read of them, and the line announcing the dashboard.
struct FleetDashboard {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    announced: String,
}

impl FleetDashboard {
    fn start(redis: &str, addr: &str, env: &[(&str, &str)]) -> FleetDashboard {
        let mut child = sofleet()
            .args(["dashboard", "--redis", redis, "--addr", addr])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = stderr_lines(&mut child);
        let mut seen = Vec::new();
        let announced = wait_for_line(&lines, "Dashboard: ", &mut seen);
        FleetDashboard {
            child,
            lines,
            seen,
            announced,
        }
    }

    fn url(&self) -> String {
        dashboard_url(&self.announced)
    }

    /// Stops it with SIGTERM; its exit status.
    fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        signal(&self.child, "TERM");
        let exit =
            wait_or_kill(&mut self.child, Duration::from_secs(20)).expect("the dashboard stops");
        self.seen.extend(self.lines.try_iter());
        (exit, self.seen)
    }
}

/// The `/api/status` JSON of the dashboard at `page_url`.
async fn api_status(page_url: &str, query: &str) -> serde_json::Value {
    let url = page_url.replace("/status", "/api/status") + query;
    reqwest::get(&url).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_dashboard_follows_the_crawl_live_and_ends_on_its_summary() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let config = MockSiteConfig {
        pages_per_tag: 3,
        latency: Latency::Fixed(Duration::from_millis(30)),
        ..MockSiteConfig::default()
    };
    // Three questions of the listing answer 404: failure rows, on the failures panel.
    let probe = MockSite::start(config.clone()).await;
    let ids = expected_ids(&probe, &["dask"], 1..=3);
    drop(probe);
    let missing: Vec<u64> = ids.iter().copied().step_by(15).take(3).collect();
    let site = MockSite::start(MockSiteConfig {
        not_found: missing.clone(),
        ..config
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let mut child = sofleet()
        .args(["crawl", "--tag", "dask", "--pages", "1-3", "--rate", "15/s"])
        .args(["--concurrency", "3", "--retries", "0", "--no-progress"])
        .args(["--base-url", &site.base_url()])
        .arg("--out")
        .arg(dir.path().join("posts.parquet"))
        .arg("--stats-json")
        .arg(&stats)
        .args(["--dashboard", "127.0.0.1:0", "--dashboard-linger", "5min"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let url = dashboard_url(&wait_for_line(&lines, "Dashboard: ", &mut seen));
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/status"),
        "{url}"
    );

    browser.open(&url).await.unwrap();
    let load_id = browser.eval("return window.__sofleetLoadId").await.unwrap();
    browser
        .wait_until("the worker row", Duration::from_secs(20), || async {
            browser
                .text("#workers tbody tr[data-worker]")
                .await
                .contains("local (tokio)")
        })
        .await
        .unwrap();
    browser
        .wait_for_growth("#total-done", 3.0, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        browser.eval("return window.__sofleetLoadId").await.unwrap(),
        load_id
    );
    let host = site.base_url().trim_start_matches("http://").to_string();
    let politeness = browser.texts("#panel-politeness tbody tr").await;
    assert!(
        politeness
            .iter()
            .any(|row| row.contains(&host) && row.contains("15.0/s")),
        "{politeness:?}"
    );
    browser.screenshot("crawl-running").await.unwrap();

    wait_for_line(&lines, "shows the final figures", &mut seen);
    let status = api_status(&url, "").await;
    let total = |key: &str| status["totals"][key].as_u64().unwrap();
    browser
        .wait_until(
            "the final totals on the page",
            Duration::from_secs(20),
            || async {
                browser.number("#total-done").await == Some(total("done") as f64)
                    && browser.number("#total-running").await == Some(0.0)
            },
        )
        .await
        .unwrap();
    let failure_rows = browser.texts("#panel-failures tbody tr").await;
    assert_eq!(failure_rows.len(), missing.len(), "{failure_rows:?}");
    assert!(
        failure_rows.iter().all(|r| r.contains("not_found")),
        "{failure_rows:?}"
    );
    assert_eq!(
        browser.eval("return window.__sofleetLoadId").await.unwrap(),
        load_id
    );
    browser.screenshot("crawl-done").await.unwrap();

    // Ctrl-C ends the linger; the crawl then writes its summary.
    signal(&child, "INT");
    let exit = wait_or_kill(&mut child, Duration::from_secs(30)).expect("the crawl exits");
    // 4: partial result (the 404s are failure rows).
    assert_eq!(exit.code(), Some(4), "{}", seen.join("\n"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    // Every task the crawl ran, as the page counted it: robots.txt, 3 listings, 45 questions.
    assert_eq!(
        total("done") + total("failed"),
        n(&summary["workers"][0]["tasks"])
    );
    let question = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sofleet-crawl.question")
        .unwrap();
    assert_eq!(
        n(&question["done"]) + n(&question["failed"]),
        n(&summary["questions"]) + missing.len() as u64
    );
    assert_eq!(n(&summary["failures"]), missing.len() as u64);
    let listing = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sofleet-crawl.listing")
        .unwrap();
    assert_eq!(n(&listing["done"]), n(&summary["listing_pages"]));
    // The politeness panel's request count is the crawl's.
    let requests = status["panels"][0]["rows"][0][5]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(requests, summary["requests"]["requests"].to_string());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_dashboard_lists_every_worker_with_its_address() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let redis = redis();
    let _alpha = Worker::start(&redis.url(), &["--name", "alpha", "--bind-ip", "127.0.0.2"]);
    let _beta = Worker::start(&redis.url(), &["--name", "beta"]);
    let dashboard = FleetDashboard::start(&redis.url(), "127.0.0.1:0", &[]);
    let url = dashboard.url();
    browser.open(&url).await.unwrap();
    browser
        .wait_until("both workers", Duration::from_secs(30), || async {
            browser.texts("#workers tbody tr[data-worker]").await.len() == 2
        })
        .await
        .unwrap();
    let rows = browser.texts("#workers tbody tr[data-worker]").await;
    assert!(
        rows[0].starts_with("alpha") && rows[0].contains("127.0.0.2"),
        "{rows:?}"
    );
    assert!(rows[1].starts_with("beta"), "{rows:?}");
    assert_eq!(browser.text("#backend").await, "fleet");
    assert!(
        browser
            .text("#fleet-queue")
            .await
            .contains("queued on the stream: 0")
    );
    browser.screenshot("fleet").await.unwrap();

    let status = api_status(&url, "").await;
    let workers = status["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2);
    assert_eq!(workers[0]["addresses"], serde_json::json!(["127.0.0.2"]));
    assert_eq!(workers[1]["concurrency"], 4);
    assert!(workers.iter().all(|w| w["rss_bytes"].as_u64().unwrap() > 0));
    let metrics = reqwest::get(url.replace("/status", "/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l == "sofleet_workers 2.0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sofleet_fleet_queued_jobs 0.0"),
        "{metrics}"
    );

    let (exit, seen) = dashboard.stop();
    assert!(exit.success(), "{}", seen.join("\n"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_dashboard_needs_its_token() {
    let redis = redis();
    let all = sofleet()
        .args(["dashboard", "--redis", &redis.url(), "--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(2));
    let err = String::from_utf8_lossy(&all.stderr);
    assert!(
        err.contains("--dashboard-token") && err.contains("SOFLEET_DASHBOARD_TOKEN"),
        "{err}"
    );

    let token = "tok-3f9a-test";
    let dashboard = FleetDashboard::start(
        &redis.url(),
        "0.0.0.0:0",
        &[("SOFLEET_DASHBOARD_TOKEN", token)],
    );
    let line = &dashboard.announced;
    assert!(!line.contains(token), "the token is never printed: {line}");
    let port = dashboard
        .url()
        .trim_end_matches("/status")
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let base = format!("http://127.0.0.1:{port}");
    for path in ["/status", "/api/status", "/metrics"] {
        let refused = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(refused.status(), 401, "{path}");
        let allowed = reqwest::get(format!("{base}{path}?token={token}"))
            .await
            .unwrap();
        assert_eq!(allowed.status(), 200, "{path}");
    }
    if let Some(browser) = Browser::start().await.unwrap() {
        browser.open(&format!("{base}/status")).await.unwrap();
        let body = browser
            .eval("return document.body.innerText")
            .await
            .unwrap();
        assert!(body.as_str().unwrap().contains("needs its token"), "{body}");
        browser.screenshot("token-refused").await.unwrap();
        // With the token in the URL the page works: it passes it on to its own requests.
        browser
            .open(&format!("{base}/status?token={token}"))
            .await
            .unwrap();
        browser
            .wait_until("a live page", Duration::from_secs(20), || async {
                browser.text("#live-text").await == "live"
            })
            .await
            .unwrap();
        browser.close().await;
    }
    let (_, seen) = dashboard.stop();
    assert!(seen.iter().all(|l| !l.contains(token)), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_password_never_reaches_the_dashboard() {
    let password = "pw-Secret-42";
    let redis = sofleet_redis::testing::RedisServer::start_with_password(password).unwrap();
    assert!(redis.url().contains(password));
    let _worker = Worker::start(&redis.url(), &["--name", "solo"]);
    let dashboard = FleetDashboard::start(&redis.url(), "127.0.0.1:0", &[]);
    let url = dashboard.url();
    let mut status = api_status(&url, "").await;
    for _ in 0..100 {
        if !status["workers"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = api_status(&url, "").await;
    }
    assert_eq!(status["workers"][0]["name"], "solo");
    let title = status["title"].as_str().unwrap();
    assert!(
        title.contains("redis://") && !title.contains(password),
        "{title}"
    );
    for path in ["/status", "/api/status", "/metrics"] {
        let body = reqwest::get(url.replace("/status", path))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains(password), "{path} shows the password");
    }
    let (_, seen) = dashboard.stop();
    assert!(seen.iter().all(|l| !l.contains(password)), "{seen:?}");
}
