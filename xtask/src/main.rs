//! Project automation, in the style of rust-analyzer's xtask: plain Rust instead
//! of shell scripts, run as `cargo xtask <command>` (the alias lives in
//! `.cargo/config.toml`).
//!
//! - `cargo xtask test`: everything CI checks — formatting, clippy with
//!   `-D warnings`, every unit, integration (the mock site over loopback, real
//!   `redis-server` processes, real worker processes) and doc test, in the debug profile.
//! - `cargo xtask demo`: the whole job offline against the embedded mock site.
//! - `cargo xtask bench [NAME…] [--quick]`: the criterion suites in `benches/`.
//! - `cargo xtask check-pages DIR`: measure the extractor on saved pages with an `expected.json`.

mod check_pages;
mod demo;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                 fmt check, clippy -D warnings, all tests and doc tests (debug profile)
  demo                 crawl the embedded mock site offline and write out/ (posts, report, charts)
  bench [NAME…] [--quick]
                       criterion suites: executor, extract, crawl, analysis, redis,
                       mock-site, robots (default: all)
  check-pages DIR      run the extractor over saved pages with an expected.json and print agreement
";

/// The benchmark suites, each a `[[bench]]` of `benches/` gated by the feature of the same name.
const BENCH_SUITES: [&str; 7] = [
    "executor",
    "extract",
    "crawl",
    "analysis",
    "redis",
    "mock-site",
    "robots",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        bail!("no command given");
    };
    match command.as_str() {
        "test" => test(rest),
        "demo" => demo::run(&project_root(), rest),
        "bench" => bench(rest),
        "check-pages" => {
            let [dir] = rest else {
                bail!(
                    "check-pages takes exactly one argument, the folder of saved pages (with expected.json)"
                );
            };
            let all_agree = check_pages::run(Path::new(dir))?;
            if !all_agree {
                std::process::exit(1);
            }
            Ok(())
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            bail!("unknown command `{other}`")
        }
    }
}

/// The workspace root (the parent of this crate's folder).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

/// Runs a command, echoing it first, and fails with its name if it fails.
fn run(step: &str, mut cmd: Command) -> Result<()> {
    eprintln!("\n==> {step}: {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{step}`"))?;
    if !status.success() {
        bail!("`{step}` failed ({status})");
    }
    Ok(())
}

fn test(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("`cargo xtask test` takes no arguments (got `{extra}`)");
    }
    ensure_redis_server()?;
    ensure_browser()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("format check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    run("clippy", clippy)?;

    let mut tests = cargo();
    tests.args(["test", "--workspace", "--all-features"]);
    run("tests (unit, integration, doc)", tests)?;
    eprintln!("\nall checks passed");
    Ok(())
}

/// The Redis backend tests start real `redis-server` processes. On a fresh
/// Debian/Ubuntu machine where we are root, install it; elsewhere say how.
fn ensure_redis_server() -> Result<()> {
    if ensure_installed("redis-server", &["redis-server"])? {
        return Ok(());
    }
    bail!(
        "redis-server is not on PATH: the Redis backend tests start real redis-server \
         processes. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, \
         macOS: `brew install redis`) and re-run."
    )
}

/// The dashboard's browser tests drive a headless Chromium through `chromedriver`. On a
/// Debian/Ubuntu machine where we are root, install them; elsewhere the tests skip with a
/// note (CI sets `SOFLEET_REQUIRE_BROWSER=1`, which makes a skip a failure).
fn ensure_browser() -> Result<()> {
    let chromium = ensure_installed("chromium", &["chromium"])?;
    let driver = ensure_installed("chromedriver", &["chromium-driver"])?;
    if !(chromium && driver) {
        eprintln!(
            "==> note: chromium and chromedriver are not installed: the dashboard's browser \
             tests will be skipped (Debian/Ubuntu: `sudo apt-get install -y chromium \
             chromium-driver`)"
        );
    }
    Ok(())
}

/// Whether `program` runs, after installing `packages` with apt-get when it does not and we
/// are root on a machine with apt-get.
fn ensure_installed(program: &str, packages: &[&str]) -> Result<bool> {
    let present = || Command::new(program).arg("--version").output().is_ok();
    if present() {
        return Ok(true);
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let has_apt = Command::new("apt-get").arg("--version").output().is_ok();
    if !(is_root && has_apt) {
        return Ok(false);
    }
    eprintln!(
        "==> {program} is missing; installing {} with apt-get",
        packages.join(" ")
    );
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run("apt-get update", update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(&format!("apt-get install {}", packages.join(" ")), install)?;
    Ok(present())
}

fn bench(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut names: Vec<&str> = args
        .iter()
        .filter(|a| *a != "--quick")
        .map(String::as_str)
        .collect();
    for name in &names {
        if !BENCH_SUITES.contains(name) {
            bail!(
                "unknown benchmark suite `{name}`; choose from: {}",
                BENCH_SUITES.join(", ")
            );
        }
    }
    if names.is_empty() {
        names = BENCH_SUITES.to_vec();
    }
    for name in names {
        let mut cmd = cargo();
        cmd.args([
            "bench",
            "--package",
            "sofleet-benches",
            "--features",
            name,
            "--bench",
            &name.replace('-', "_"),
        ]);
        // Criterion's HTML plots need a system font that plotters (built with
        // `ab_glyph` for our charts) does not look up: text reports only.
        cmd.args(["--", "--noplot"]);
        if quick {
            cmd.arg("--quick");
        }
        run(&format!("bench {name}"), cmd)?;
    }
    Ok(())
}
