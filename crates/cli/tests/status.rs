//! `sofleet status` against real parts: a `redis-server`, two real `sofleet worker`
//! processes (one sending from 127.0.0.2, which Linux routes on `lo` like all of 127/8), the
//! table and `--json` read from them, a password that never shows, and Redis unreachable.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::fleet::{Worker, redis};
use common::{free_port, sofleet, stderr, stdout};
use serde_json::Value;
use sofleet_redis::testing::RedisServer;

/// Upper bound of any wait here (a hang guard, not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// `sofleet worker` named `name` with `concurrency` slots, then `extra`.
fn worker(url: &str, name: &str, concurrency: u32, extra: &[&str]) -> Worker {
    let mut cmd = sofleet();
    cmd.args(["worker", "--redis", url, "--name", name])
        .args(["--concurrency", &concurrency.to_string()])
        .args(["--allow-host", "127.0.0.1"])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    Worker::spawn(&mut cmd)
}

fn status(args: &[&str]) -> Output {
    let mut cmd = sofleet();
    cmd.arg("status").args(args);
    output_within(cmd, PATIENCE)
}

/// Runs the command; fails the test if it takes longer than `limit`.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let started = Instant::now();
    let output = cmd.output().unwrap();
    assert!(
        started.elapsed() < limit,
        "took {:?}: {}",
        started.elapsed(),
        stderr(&output)
    );
    output
}

/// `sofleet status --json` once `n` workers are listed.
fn json_with_workers(url: &str, n: usize) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let output = status(&["--redis", url, "--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let value: Value = serde_json::from_str(&stdout(&output))
            .unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)));
        if value["workers"].as_array().unwrap().len() >= n {
            return value;
        }
        assert!(Instant::now() < deadline, "only {value}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The table's row of worker `name`, split at whitespace.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"))
        .split_whitespace()
        .collect()
}

#[test]
fn status_lists_the_workers_with_their_addresses_and_total_concurrency() {
    let server = redis();
    let url = server.url();
    let alpha = worker(&url, "alpha", 3, &["--bind-ip", "127.0.0.2"]);
    let beta = worker(&url, "beta", 5, &[]);

    let json = json_with_workers(&url, 2);
    let workers = json["workers"].as_array().unwrap();
    let names: Vec<&str> = workers
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(workers[0]["addresses"], serde_json::json!(["127.0.0.2"]));
    assert_eq!(workers[1]["addresses"], serde_json::json!([]));
    assert_eq!(workers[0]["pid"], alpha.0.id());
    assert_eq!(workers[1]["pid"], beta.0.id());
    let sum: u64 = workers
        .iter()
        .map(|w| w["concurrency"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 8);
    assert_eq!(json["total_concurrency"], 8);
    assert_eq!(
        (json["queued"].as_u64(), json["pending"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(json["redis"], url.as_str());
    for w in workers {
        assert!(w["rss_bytes"].as_u64().unwrap() > 1 << 20, "{w}");
        assert!(w["heartbeat_age_ms"].as_u64().unwrap() < 30_000, "{w}");
        assert_eq!(
            (w["running"].as_u64(), w["failed"].as_u64()),
            (Some(0), Some(0))
        );
    }
    let total_rss: u64 = workers
        .iter()
        .map(|w| w["rss_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(json["total_rss_bytes"], total_rss);

    // The table shows the same fleet.
    let output = status(&["--redis", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(
        table.starts_with(&format!(
            "Redis:        {url} (namespace sofleet, group workers)\n"
        )),
        "{table}"
    );
    assert!(table.contains("\nWorkers:      2\n"), "{table}");
    assert!(
        table.contains("\nConcurrency:  8 in total, 0 running\n"),
        "{table}"
    );
    assert!(table.contains("\nQueued jobs:  0 "), "{table}");
    assert!(table.contains("\nPending jobs: 0 "), "{table}");
    let header = row(&table, "NAME");
    assert_eq!(
        header,
        [
            "NAME",
            "HOST",
            "PID",
            "ADDRESS",
            "CONCURRENCY",
            "RUNNING",
            "DONE",
            "FAILED",
            "MEMORY",
            "HEARTBEAT"
        ]
    );
    for (name, pid, address, concurrency) in [
        ("alpha", alpha.0.id(), "127.0.0.2", "3"),
        ("beta", beta.0.id(), "-", "5"),
    ] {
        let cells = row(&table, name);
        let json_host = workers.iter().find(|w| w["name"] == name).unwrap()["host"].clone();
        assert_eq!(cells[1], json_host.as_str().unwrap(), "{table}");
        assert_eq!(cells[2], pid.to_string(), "{table}");
        assert_eq!(
            &cells[3..8],
            [address, concurrency, "0", "0", "0"],
            "{table}"
        );
        assert!(cells[9].ends_with("iB"), "memory in binary units: {table}");
        assert_eq!(&cells[11..], ["s", "ago"], "{table}");
    }
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    drop((alpha, beta));
}

#[test]
fn without_workers_it_says_how_to_start_one_and_reads_sofleet_redis() {
    let server = redis();
    let url = server.url();
    let mut cmd = sofleet();
    cmd.arg("status").env("SOFLEET_REDIS", &url);
    let output = output_within(cmd, PATIENCE);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output).replace(&url, "redis://REDIS");
    insta::assert_snapshot!("no_workers", text);
}

#[test]
fn a_password_never_shows() {
    const SECRET: &str = "s3cr3t-Pw";
    let server = RedisServer::start_with_password(SECRET).expect("redis-server must be installed");
    let url = server.url();
    assert!(url.contains(SECRET));
    let masked = url.replace(SECRET, "***");
    let _w = worker(&url, "guarded", 2, &[]);
    let json = json_with_workers(&url, 1);
    assert_eq!(json["redis"], masked.as_str());
    let mut seen = vec![json.to_string()];
    let output = status(&["--redis", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(&masked), "{}", stdout(&output));
    seen.push(stdout(&output) + &stderr(&output));

    // A wrong password, a server that is not there, a URL the client refuses: errors that
    // name the URL masked.
    let wrong = url.replace(SECRET, "not-the-Pw");
    let gone = format!("redis://:{SECRET}@127.0.0.1:{}", free_port());
    let broken = format!("redis://:{SECRET}/x@127.0.0.1:{}", server.port());
    for (bad, codes) in [(&wrong, [3, 3]), (&gone, [3, 3]), (&broken, [2, 3])] {
        let output = status(&["--redis", bad, "--connect-timeout", "300ms"]);
        let code = output.status.code().unwrap_or_default();
        assert!(
            codes.contains(&code),
            "{bad}: exit {code}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(err.contains("***"), "{err}");
        assert!(!err.contains("not-the-Pw"), "{err}");
        seen.push(stdout(&output) + &err);
    }
    // The password from the environment is no different, and --help never shows it.
    let mut cmd = sofleet();
    cmd.args(["status", "--help"]).env("SOFLEET_REDIS", &url);
    let output = output_within(cmd, PATIENCE);
    seen.push(stdout(&output) + &stderr(&output));
    for text in seen {
        assert!(!text.contains(SECRET), "password shown:\n{text}");
    }
}

#[test]
fn unreachable_redis_is_a_clear_network_error() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let output = output_within(
        {
            let mut cmd = sofleet();
            cmd.args(["status", "--redis", &url, "--connect-timeout", "500ms"]);
            cmd
        },
        Duration::from_secs(15),
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let err = stderr(&output).replace(&port.to_string(), "PORT");
    insta::assert_snapshot!("unreachable", err);

    // Not a Redis URL at all: a usage error.
    let output = status(&["--redis", "http://127.0.0.1:6379"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("invalid Redis URL"),
        "{}",
        stderr(&output)
    );
    // Nothing given: clap says the flag (or its variable) is needed.
    let output = status(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--redis"), "{}", stderr(&output));
}

#[test]
fn help() {
    let output = status(&["--help"]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("help", stdout(&output));
}
