//! `cargo xtask demo`: the whole job, offline, against the embedded mock site.
//!
//! It builds the `sofleet` binary (debug profile, like the tests), starts
//! `sofleet mock-site` on a free loopback port with realistic latency, crawls
//! two tags × three listing pages with the tokio backend, writes
//! `out/posts.parquet` (+ failures), then runs `sofleet report` to write
//! `out/report.md` and the charts, and prints the top answerers. The crawl serves its live
//! dashboard (the URL is printed); at its end the demo saves `out/dashboard.png` with headless
//! Chromium when it is installed. Real processes talking HTTP over 127.0.0.1: exactly what a
//! user would run by hand.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Kills the mock site when the demo ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Saves a picture of the page at `url` with headless Chromium (Debian: `chromium`).
fn screenshot(url: &str, to: &Path) -> Result<()> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .context("Chromium is not installed (Debian: apt-get install chromium)")?;
    let profile =
        std::env::temp_dir().join(format!("sofleet-demo-chromium-{}", std::process::id()));
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,1180",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", to.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run Chromium")?;
    let _ = std::fs::remove_dir_all(&profile);
    if !status.success() || !to.exists() {
        bail!("Chromium failed ({status})");
    }
    Ok(())
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("`cargo xtask demo` takes no arguments (got `{extra}`)");
    }
    let mut build = super::cargo();
    build.args([
        "build",
        "--quiet",
        "--package",
        "sofleet-cli",
        "--bin",
        "sofleet",
    ]);
    super::run("build sofleet", build)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let sofleet = target.join("debug").join("sofleet");
    let out = root.join("out");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    // 1. The mock site, on a free port, with 100 ms latency per response.
    let mut mock = Command::new(&sofleet)
        .args(["mock-site", "--port", "0", "--latency", "100ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start `sofleet mock-site`")?;
    let stdout = mock.stdout.take().context("mock-site has no stdout")?;
    let mock = KillOnDrop(mock);
    let mut first_line = String::new();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .context("mock-site did not say where it listens")?;
    let base_url = first_line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .with_context(|| format!("mock-site printed no URL: {first_line:?}"))?
        .to_string();
    eprintln!("==> mock Stack Overflow site at {base_url} (100 ms latency per response)");

    // 2. The crawl: 2 tags × 3 pages, tokio backend.
    let posts = out.join("posts.parquet");
    // The demo is the whole job from scratch: a crawl into an existing dataset would only add
    // what is new (none of it, on the same mock site).
    for stale in ["posts.parquet", "posts.failures.parquet"] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    let _ = std::fs::remove_dir_all(out.join("posts.parquet.journal"));
    let started = Instant::now();
    let mut crawl = Command::new(&sofleet)
        .args(["crawl", "--base-url", &base_url])
        .args([
            "--tag", "dask", "--tag", "pandas", "--sort", "votes", "--pages", "1-3",
        ])
        .args(["--backend", "tokio", "--concurrency", "8", "--rate", "50/s"])
        // The live dashboard, on a free loopback port; kept up after the crawl until the
        // screenshot is taken.
        .args(["--dashboard", "127.0.0.1:0", "--dashboard-linger", "2min"])
        .arg("--out")
        .arg(&posts)
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `sofleet crawl`")?;
    let stderr = crawl.stderr.take().context("the crawl has no stderr")?;
    let mut dashboard = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.context("cannot read the crawl's output")?;
        eprintln!("{line}");
        if let Some(rest) = line.strip_prefix("Dashboard: ") {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            eprintln!("==> open {url} to watch the crawl live (progress, task stream, politeness)");
            dashboard = Some(url);
        }
        if line.contains("shows the final figures") {
            let shot = out.join("dashboard.png");
            let still = dashboard.as_deref().map(|url| format!("{url}?live=0"));
            match still.as_deref().map(|url| screenshot(url, &shot)) {
                Some(Ok(())) => eprintln!("==> dashboard screenshot: {}", shot.display()),
                Some(Err(e)) => eprintln!("==> no dashboard screenshot: {e:#}"),
                None => eprintln!("==> the crawl printed no dashboard URL"),
            }
            // Ends the dashboard's linger: the crawl then writes its output.
            let _ = Command::new("kill")
                .args(["-INT", &crawl.id().to_string()])
                .status();
        }
    }
    let status = crawl.wait().context("cannot wait for `sofleet crawl`")?;
    if !status.success() {
        bail!("`sofleet crawl` failed ({status})");
    }
    eprintln!("==> crawl finished in {:.1?}", started.elapsed());

    // 3. The report: the lesson's answers, report.md and charts.
    let status = Command::new(&sofleet)
        .arg("report")
        .arg(&posts)
        .args(["--top", "10", "--charts"])
        .arg(&out)
        .status()
        .context("cannot run `sofleet report`")?;
    if !status.success() {
        bail!("`sofleet report` failed ({status})");
    }
    drop(mock);
    eprintln!("\n==> wrote {}", out.display());
    for entry in std::fs::read_dir(&out)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            eprintln!("    {}", entry.file_name().to_string_lossy());
        }
    }
    Ok(())
}
