//! A headless Chromium driven over WebDriver, for browser tests of dashboards (this crate's
//! and the CLI's). Feature `testing`.
//!
//! [`Browser::start`] needs `chromedriver` and Chromium (Debian: packages `chromium` and
//! `chromium-driver`; `.ci/run` installs them). Where they are missing it returns `Ok(None)`
//! so a test can say it was skipped, unless `SOFLEET_REQUIRE_BROWSER=1` (set by CI), which
//! makes that an error.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// The environment variable that turns a missing browser into an error.
pub const REQUIRE_BROWSER_ENV: &str = "SOFLEET_REQUIRE_BROWSER";

/// A headless Chromium session; the browser and its driver end when this is dropped.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("driver_pid", &self.driver.id())
            .finish_non_exhaustive()
    }
}

fn find_program(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    candidates.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Browser {
    /// Starts `chromedriver` (or `$SOFLEET_CHROMEDRIVER`) and a headless Chromium (or
    /// `$SOFLEET_CHROMIUM`) with a fresh profile and a 1280×1000 window.
    ///
    /// # Errors
    /// When the programs are missing and `SOFLEET_REQUIRE_BROWSER=1`, or they fail to start.
    pub async fn start() -> Result<Option<Browser>, String> {
        let driver = find_program("SOFLEET_CHROMEDRIVER", &["chromedriver"]);
        let chromium = find_program(
            "SOFLEET_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            let message = "chromedriver and chromium are not installed (Debian: apt-get install \
                           chromium chromium-driver)";
            if std::env::var(REQUIRE_BROWSER_ENV).is_ok_and(|v| v == "1") {
                return Err(format!(
                    "{message}, and {REQUIRE_BROWSER_ENV}=1 requires them"
                ));
            }
            eprintln!("SKIPPED (no browser): {message}");
            return Ok(None);
        };
        let port = free_port().map_err(|e| format!("no free port for chromedriver: {e}"))?;
        let mut child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
        let profile = tempfile::tempdir().map_err(|e| format!("no temporary profile: {e}"))?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_string(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => {
                    let _ = child.kill();
                    return Err(format!(
                        "chromedriver at {url} did not start a session: {e}"
                    ));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Some(Browser {
            client: Some(client),
            driver: child,
            _profile: profile,
        }))
    }

    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open until close")
    }

    /// Opens `url`.
    ///
    /// # Errors
    /// When the browser cannot load it.
    pub async fn open(&self, url: &str) -> Result<(), String> {
        self.client()
            .goto(url)
            .await
            .map_err(|e| format!("cannot open {url}: {e}"))
    }

    /// The text of the first element matching the CSS selector `css` (empty if none). Read
    /// in the page's own script, so a page re-rendering itself never gives a stale element.
    pub async fn text(&self, css: &str) -> String {
        self.texts(css).await.into_iter().next().unwrap_or_default()
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText)";
        match self
            .client()
            .execute(script, vec![serde_json::Value::String(css.to_string())])
            .await
        {
            Ok(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The number shown by the first element matching `css` (`1,234` reads 1234; `None` if
    /// there is no such element or it shows no number).
    pub async fn number(&self, css: &str) -> Option<f64> {
        let text = self.text(css).await;
        text.replace(',', "").trim().parse().ok()
    }

    /// Runs `script` in the page and returns its value.
    ///
    /// # Errors
    /// When the script fails.
    pub async fn eval(&self, script: &str) -> Result<serde_json::Value, String> {
        self.client()
            .execute(script, Vec::new())
            .await
            .map_err(|e| format!("script failed: {e}"))
    }

    /// Waits until `check` returns true, checking every 100 ms for at most `timeout`.
    ///
    /// # Errors
    /// Naming `what` when the time runs out.
    pub async fn wait_until<F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        check: F,
    ) -> Result<(), String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if check().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("timed out after {timeout:?} waiting for {what}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the number shown by `css` is at least `at_least`, then until it grows, in
    /// the same page (a dashboard sets `window.__sofleetLoadId` once per load: a reload in
    /// between is an error). Returns the two numbers read.
    ///
    /// # Errors
    /// When either wait runs out of `timeout`, or the page was reloaded.
    pub async fn wait_for_growth(
        &self,
        css: &str,
        at_least: f64,
        timeout: Duration,
    ) -> Result<(f64, f64), String> {
        let load_id = self.eval("return window.__sofleetLoadId").await?;
        let read = || async { self.number(css).await.unwrap_or(f64::NEG_INFINITY) };
        self.wait_until(&format!("{css} ≥ {at_least}"), timeout, || async {
            read().await >= at_least
        })
        .await?;
        let first = read().await;
        self.wait_until(&format!("{css} to grow past {first}"), timeout, || async {
            read().await > first
        })
        .await?;
        let later = read().await;
        if self.eval("return window.__sofleetLoadId").await? != load_id {
            return Err(format!("the page reloaded while {css} grew"));
        }
        Ok((first, later))
    }

    /// Saves a screenshot of the window as `name.png` in [`artifacts_dir`] and returns its
    /// path.
    ///
    /// # Errors
    /// When the browser or the file system fails.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, String> {
        let png = self
            .client()
            .screenshot()
            .await
            .map_err(|e| format!("screenshot failed: {e}"))?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where screenshots go: `$SOFLEET_ARTIFACTS`, else `target/artifacts/dashboard` of the
/// running test binary's target directory.
pub fn artifacts_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SOFLEET_ARTIFACTS") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|p| p.file_name().is_some_and(|n| n == "target"))
                .map(|t| t.join("artifacts").join("dashboard"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("sofleet-artifacts"))
}
