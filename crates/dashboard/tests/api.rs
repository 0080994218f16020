//! The dashboard's server against real HTTP requests: `/api/status`, the live stream,
//! `/metrics` (parsed), the token, ports, and worker sources that fail or hang.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_dashboard::{
    Dashboard, DashboardError, LocalWorker, Panel, Status, WorkerRow, WorkerSource, Workers,
};
use sofleet_executor::{Client, Task, TaskContext, TaskError, TokioBackend};

#[derive(Serialize, Deserialize, Clone)]
struct Nap {
    id: u64,
    ms: u64,
    fail: bool,
}

impl Task for Nap {
    type Output = u64;
    const NAME: &'static str = "nap";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        if self.fail {
            Err(TaskError::fatal("told to fail"))
        } else {
            Ok(self.ms)
        }
    }
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
}

async fn run_naps(client: &Client, ok: u64, failed: u64) {
    let futures = client.map(
        (0..ok)
            .map(|id| Nap {
                id,
                ms: 5,
                fail: false,
            })
            .chain((0..failed).map(|id| Nap {
                id: ok + id,
                ms: 1,
                fail: true,
            })),
    );
    for f in futures {
        let _ = f.await;
    }
}

/// A tiny reader of the Prometheus text format: `name{labels} value` lines, checked.
fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    assert!(text.ends_with("# EOF\n"), "no EOF marker:\n{text}");
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            assert!(
                line.is_empty()
                    || line.starts_with("# HELP ")
                    || line.starts_with("# TYPE ")
                    || line.starts_with("# UNIT ")
                    || line == "# EOF",
                "bad comment line {line:?}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.starts_with("sofleet_"),
            "bad metric name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "{line:?}");
        }
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
        out.insert(series.to_string(), value);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_status_and_metrics_count_what_the_client_did() {
    let client = Client::new(TokioBackend::new());
    let dashboard = Dashboard::for_client(&client)
        .title("api test")
        .local_worker(LocalWorker::with_concurrency(7).address("127.0.0.9"))
        .panel_source(Arc::new(|| {
            let mut p = Panel::new("hosts", "Hosts", ["host", "requests"]);
            p.rows.push(vec!["example.test".into(), "3".into()]);
            vec![p]
        }))
        .update_interval(Duration::from_millis(100))
        .serve(loopback())
        .await
        .unwrap();
    run_naps(&client, 30, 4).await;
    let status = dashboard.refresh().await;
    assert_eq!((status.totals.done, status.totals.failed), (30, 4));

    let url = format!("http://{}", dashboard.addr());
    let body: Status = get(&format!("{url}/api/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body.title, "api test");
    assert_eq!(body.backend, "tokio");
    assert_eq!(body.totals.submitted, 34);
    assert_eq!(
        (body.totals.done, body.totals.failed, body.totals.queued),
        (30, 4, 0)
    );
    let nap = body.tasks.iter().find(|t| t.name == "nap").unwrap();
    assert_eq!((nap.done, nap.failed), (30, 4));
    assert_eq!(body.workers.len(), 1);
    let w = &body.workers[0];
    assert_eq!((w.concurrency, w.done, w.failed), (7, 30, 4));
    assert_eq!(w.addresses, vec!["127.0.0.9"]);
    assert_eq!(w.pid, Some(std::process::id()));
    assert!(w.rss_bytes.unwrap() > 1_000_000, "{w:?}");
    assert_eq!(body.stream.spans.len(), 34);
    assert!(
        body.stream
            .spans
            .iter()
            .filter(|s| s.outcome == "failed")
            .count()
            == 4
    );
    assert_eq!(body.panels[0].rows[0][0], "example.test");

    let metrics = get(&format!("{url}/metrics")).await;
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = metrics.text().await.unwrap();
    let m = parse_prometheus(&text);
    assert_eq!(
        m[r#"sofleet_tasks_total{name="nap",state="finished"}"#],
        30.0
    );
    assert_eq!(m[r#"sofleet_tasks_total{name="nap",state="failed"}"#], 4.0);
    assert_eq!(
        m[r#"sofleet_tasks_active{name="nap",state="running"}"#],
        0.0
    );
    let worker = |metric: &str| {
        m[&format!(
            r#"sofleet_worker_{metric}{{worker="local (tokio)",host="{}"}}"#,
            w.host
        )]
    };
    assert_eq!(worker("concurrency"), 7.0);
    assert_eq!(worker("jobs_failed_total"), 4.0);
    assert_eq!(worker("jobs_done_total"), 30.0);
    assert!(worker("memory_bytes") > 1e6);
    assert_eq!(m["sofleet_workers"], 1.0);
    assert!(m["sofleet_dashboard_updates_total"] >= 2.0);

    // The page itself is served, with no reference to anything off this server.
    let page = get(&format!("{url}/status")).await.text().await.unwrap();
    assert!(page.contains("id=\"total-done\""));
    assert!(
        !page.contains("http://")
            || page
                .matches("http://")
                .all(|_| page.contains("http://www.w3.org/2000/svg"))
    );
    assert!(!page.contains("https://"));
    // `/` leads to the page; writes are refused.
    assert!(get(&url).await.url().path().ends_with("/status"));
    let post = reqwest::Client::new()
        .post(format!("{url}/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    dashboard.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_sends_updates_until_the_dashboard_stops() {
    let client = Client::new(TokioBackend::new());
    let dashboard = Dashboard::for_client(&client)
        .update_interval(Duration::from_millis(50))
        .serve(loopback())
        .await
        .unwrap();
    let mut response = get(&format!("http://{}/api/events", dashboard.addr())).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut seqs = Vec::new();
    let mut buffer = String::new();
    while seqs.len() < 3 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("an update within 5 s")
            .unwrap()
            .expect("the stream is open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            if let Some(data) = message.lines().find_map(|l| l.strip_prefix("data: ")) {
                let s: Status = serde_json::from_str(data).unwrap();
                seqs.push(s.seq);
            }
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");
    dashboard.shutdown().await;
    // The stream ends with the dashboard instead of holding it open.
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = response.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream stayed open after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bind_beyond_loopback_needs_a_token_checked_on_every_request() {
    let all: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = Dashboard::new("t").serve(all).await.unwrap_err();
    assert!(matches!(err, DashboardError::TokenRequired { .. }), "{err}");
    assert!(err.to_string().contains("SOFLEET_DASHBOARD_TOKEN"), "{err}");
    let err = Dashboard::new("t")
        .token(Some("short".into()))
        .serve(all)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("shorter than 8"), "{err}");
    let err = Dashboard::new("t")
        .token(Some("has space in it".into()))
        .serve(all)
        .await
        .unwrap_err();
    assert!(matches!(err, DashboardError::BadToken { .. }), "{err}");

    let token = "s3cret-token_1";
    let dashboard = Dashboard::new("t")
        .token(Some(token.into()))
        .serve(all)
        .await
        .unwrap();
    assert!(dashboard.needs_token());
    let base = format!("http://127.0.0.1:{}", dashboard.addr().port());
    for path in ["/status", "/api/status", "/api/events", "/metrics", "/"] {
        let r = get(&format!("{base}{path}")).await;
        assert_eq!(r.status(), 401, "{path} without a token");
        let text = r.text().await.unwrap();
        assert!(text.contains("token") && !text.contains(token), "{text}");
        let r = get(&format!("{base}{path}?token=wrong-token-1")).await;
        assert_eq!(r.status(), 401, "{path} with a wrong token");
    }
    assert_eq!(
        get(&format!("{base}/api/status?token={token}"))
            .await
            .status(),
        200
    );
    let r = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    dashboard.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_port_moves_to_the_next_free_one() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let dashboard = Dashboard::new("t").serve(addr).await.unwrap();
    assert!(dashboard.addr().port() > port, "{}", dashboard.addr());
    assert!(dashboard.url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        get(&format!("http://{}/api/status", dashboard.addr()))
            .await
            .status(),
        200
    );
}

struct FakeFleet {
    hang: bool,
    fail: bool,
}

#[async_trait::async_trait]
impl WorkerSource for FakeFleet {
    async fn workers(&self) -> Result<Workers, String> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        if self.fail {
            return Err("redis://***@127.0.0.1:1 is unreachable".into());
        }
        let mut a = WorkerRow::new("w-a", "box-1");
        (a.concurrency, a.done, a.failed, a.running) = (4, 10, 1, 2);
        a.addresses = vec!["127.0.0.2".into()];
        let mut b = WorkerRow::new("w-b", "box-2");
        (b.concurrency, b.done) = (4, 5);
        let mut w = Workers::rows(vec![a, b]);
        w.queued = Some(3);
        w.pending = Some(2);
        Ok(w)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_view_totals_its_workers_and_survives_failing_sources() {
    let dashboard = Dashboard::new("fleet")
        .worker_source(Arc::new(FakeFleet {
            hang: false,
            fail: false,
        }))
        .worker_source(Arc::new(FakeFleet {
            hang: false,
            fail: true,
        }))
        .serve(loopback())
        .await
        .unwrap();
    let s = dashboard.status();
    assert_eq!(s.backend, "fleet");
    assert_eq!(s.workers.len(), 2);
    assert_eq!(
        (s.totals.done, s.totals.failed, s.totals.running),
        (15, 1, 2)
    );
    assert_eq!((s.queued_remote, s.pending_remote), (Some(3), Some(2)));
    assert_eq!(s.errors, vec!["redis://***@127.0.0.1:1 is unreachable"]);
    dashboard.shutdown().await;

    // A source that never answers delays the update by the time limit at most.
    let started = std::time::Instant::now();
    let dashboard = Dashboard::new("fleet")
        .worker_source(Arc::new(FakeFleet {
            hang: true,
            fail: false,
        }))
        .serve(loopback())
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(dashboard.status().errors[0].contains("did not answer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_outside_a_runtime_is_an_error_not_a_panic() {
    let err = std::thread::spawn(|| {
        futures::executor::block_on(Dashboard::new("t").serve(loopback())).unwrap_err()
    })
    .join()
    .unwrap();
    assert!(matches!(err, DashboardError::NoRuntime), "{err}");
}

/// Answers once with one worker, then never again.
struct AnswersOnce(std::sync::atomic::AtomicBool);

#[async_trait::async_trait]
impl WorkerSource for AnswersOnce {
    async fn workers(&self) -> Result<Workers, String> {
        if self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let mut w = Workers::rows(vec![WorkerRow::new("w-a", "box-1")]);
        w.queued = Some(7);
        Ok(w)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_stops_answering_keeps_its_last_rows_with_a_banner() {
    let dashboard = Dashboard::new("fleet")
        .worker_source(Arc::new(AnswersOnce(Default::default())))
        .update_interval(Duration::from_millis(50))
        .serve(loopback())
        .await
        .unwrap();
    assert!(dashboard.status().errors.is_empty());
    let s = dashboard.refresh().await;
    assert!(
        s.errors[0].contains("showing its last answer"),
        "{:?}",
        s.errors
    );
    assert_eq!(s.workers.len(), 1);
    assert_eq!(s.workers[0].name, "w-a");
    assert_eq!(s.queued_remote, Some(7));
}
