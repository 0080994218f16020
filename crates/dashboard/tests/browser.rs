//! The dashboard page in a real headless Chromium (see `sofleet_dashboard::testing`): it shows
//! the client's progress, workers and task stream, its numbers grow without a reload, and at
//! the end its totals are the client's. Each test saves a screenshot under
//! `target/artifacts/dashboard/`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofleet_dashboard::testing::Browser;
use sofleet_dashboard::{Dashboard, LocalWorker};
use sofleet_executor::{Client, Task, TaskContext, TaskError, ThreadsBackend};

#[derive(Serialize, Deserialize, Clone)]
struct Step {
    id: u64,
    ms: u64,
}

impl Task for Step {
    type Output = u64;
    const NAME: &'static str = "step";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        std::thread::sleep(Duration::from_millis(self.ms));
        if self.id % 10 == 9 {
            return Err(TaskError::fatal("every tenth step fails"));
        }
        Ok(self.id)
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct Check {
    id: u64,
}

impl Task for Check {
    type Output = u64;
    const NAME: &'static str = "check";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        std::thread::sleep(Duration::from_millis(15));
        Ok(self.id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_a_running_client_live_and_ends_on_its_totals() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let client = Client::new(ThreadsBackend::new(3));
    let dashboard = Dashboard::for_client(&client)
        .title("browser test")
        .local_worker(LocalWorker::with_concurrency(3).address("127.0.0.1"))
        .update_interval(Duration::from_millis(200))
        .serve("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .unwrap();
    // About 3 seconds of work on 3 threads.
    let steps = client.map((0..150).map(|id| Step { id, ms: 40 }));
    let checks = client.map((0..60).map(|id| Check { id }));

    browser.open(&dashboard.url()).await.unwrap();
    let load_id = browser.eval("return window.__sofleetLoadId").await.unwrap();
    browser
        .wait_until("a worker row", Duration::from_secs(15), || async {
            browser.texts("#workers tbody tr[data-worker]").await.len() == 1
        })
        .await
        .unwrap();
    let worker = browser.text("#workers tbody tr").await;
    assert!(
        worker.contains("local (threads)") && worker.contains("127.0.0.1"),
        "{worker}"
    );
    browser
        .wait_for_growth("#total-done", 1.0, Duration::from_secs(15))
        .await
        .unwrap();
    // It grew in the same page: no reload happened.
    assert_eq!(
        browser.eval("return window.__sofleetLoadId").await.unwrap(),
        load_id
    );
    assert_eq!(browser.text("#live-text").await, "live");
    // Progress per task name and a task stream with bars.
    let names = browser
        .texts("#progress tbody tr[data-task] td:first-child")
        .await;
    assert!(names.contains(&"step".to_string()), "{names:?}");
    let bars = browser
        .eval("return document.querySelectorAll('#task-stream rect').length")
        .await
        .unwrap();
    assert!(bars.as_u64().unwrap() > 0, "no bars on the task stream");
    browser.screenshot("executor-running").await.unwrap();

    let mut failed = 0;
    for f in steps {
        failed += u64::from(f.await.is_err());
    }
    for f in checks {
        f.await.unwrap();
    }
    let last = dashboard.refresh().await;
    assert_eq!((last.totals.done, last.totals.failed), (195, failed));
    browser
        .wait_until("the final totals", Duration::from_secs(15), || async {
            browser.number("#total-done").await == Some(195.0)
                && browser.number("#total-failed").await == Some(failed as f64)
        })
        .await
        .unwrap();
    assert_eq!(browser.number("#total-running").await, Some(0.0));
    let failed_bars = browser
        .eval("return document.querySelectorAll('#task-stream rect[data-outcome=failed]').length")
        .await
        .unwrap();
    assert!(
        failed_bars.as_u64().unwrap() > 0,
        "failures are marked on the task stream"
    );
    assert_eq!(
        browser.eval("return window.__sofleetLoadId").await.unwrap(),
        load_id
    );
    let shot = browser.screenshot("executor-done").await.unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    browser.close().await;
    dashboard.shutdown().await;
}
