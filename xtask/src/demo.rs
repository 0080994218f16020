//! `cargo xtask demo`: the whole job, offline, against the embedded mock site.
//!
//! It builds the `sofleet` binary (debug profile, like the tests), starts
//! `sofleet mock-site` on a free loopback port with realistic latency, crawls
//! two tags × three listing pages with the tokio backend, writes
//! `out/posts.parquet` (+ failures), then runs `sofleet report` to write
//! `out/report.md` and the charts, and prints the top answerers. Real processes
//! talking HTTP over 127.0.0.1: exactly what a user would run by hand.

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
    let status = Command::new(&sofleet)
        .args(["crawl", "--base-url", &base_url])
        .args([
            "--tag", "dask", "--tag", "pandas", "--sort", "votes", "--pages", "1-3",
        ])
        .args(["--backend", "tokio", "--concurrency", "8", "--rate", "50/s"])
        .arg("--out")
        .arg(&posts)
        .status()
        .context("cannot run `sofleet crawl`")?;
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
