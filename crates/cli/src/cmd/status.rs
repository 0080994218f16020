//! `sofleet status`: a Redis fleet at a glance, like the cluster summary Dask prints for a
//! `Client`: the Redis URL (password masked), the workers, their total concurrency and
//! memory, the queued and pending jobs, then one row per worker. `--json` prints the same
//! data for scripts.

use std::fmt::Write as _;
use std::time::Duration;

use sofleet_redis::{FleetReader, FleetStatus, RedisError, RedisOptions, WorkerInfo, redact_url};
use unicode_width::UnicodeWidthStr;

use crate::args::StatusArgs;
use crate::cmd::runtime;
use crate::exit::{CmdResult, Failure};

/// Reads the fleet once and prints it.
pub fn run(args: StatusArgs) -> CmdResult {
    let mut opts = RedisOptions::default();
    opts.connect_timeout = args.connect_timeout;
    let rt = runtime()?;
    let status = rt.block_on(async {
        let mut reader = FleetReader::connect(&args.redis, &opts).await?;
        reader.status().await
    });
    let status = status.map_err(|e| failure(e, &args.redis))?;
    if args.json {
        println!("{}", json(&status));
    } else {
        print!("{}", render(&status));
    }
    Ok(())
}

/// A failure to read the fleet: a URL the client refuses is a usage error, anything else a
/// network failure (exit 3). The message names the URL with its password masked.
pub(crate) fn failure(e: RedisError, url: &str) -> Failure {
    match e {
        RedisError::InvalidUrl { .. } | RedisError::InvalidOption { .. } => {
            Failure::Usage(format!("{e} (--redis or SOFLEET_REDIS)"))
        }
        RedisError::Connect { .. } => Failure::Network(anyhow::anyhow!(
            "{e}; give --redis (or SOFLEET_REDIS) the URL the workers were started with"
        )),
        other => Failure::Network(anyhow::anyhow!(
            "{other}; run `sofleet status --redis {}` again, and check that redis-server is \
             healthy if it keeps failing",
            redact_url(url)
        )),
    }
}

/// The status as one JSON object: the [`FleetStatus`] fields, the fleet's totals, and each
/// worker's heartbeat age in milliseconds.
fn json(status: &FleetStatus) -> serde_json::Value {
    let mut value = serde_json::to_value(status).unwrap_or_default();
    if let Some(workers) = value.get_mut("workers").and_then(|w| w.as_array_mut()) {
        for (entry, worker) in workers.iter_mut().zip(&status.workers) {
            entry["heartbeat_age_ms"] = super::millis(status.heartbeat_age(worker)).into();
        }
    }
    value["total_concurrency"] = status.total_concurrency().into();
    value["total_running"] = status.total_running().into();
    value["total_completed"] = status.total_completed().into();
    value["total_failed"] = status.total_failed().into();
    value["total_rss_bytes"] = status.total_rss_bytes().into();
    value
}

/// The status as text: a summary, then a table of the workers (or how to start one).
pub(crate) fn render(status: &FleetStatus) -> String {
    let mut out = String::new();
    let workers = &status.workers;
    let reporting = workers.iter().filter(|w| w.rss_bytes.is_some()).count();
    let memory = match reporting {
        0 => "-".to_owned(),
        n if n == workers.len() => bytes(status.total_rss_bytes()),
        n => format!(
            "{} ({n} of {} workers report it)",
            bytes(status.total_rss_bytes()),
            workers.len()
        ),
    };
    let summary = [
        (
            "Redis",
            format!(
                "{} (namespace {}, group {})",
                status.redis, status.namespace, status.group
            ),
        ),
        ("Workers", workers.len().to_string()),
        (
            "Concurrency",
            format!(
                "{} in total, {} running",
                status.total_concurrency(),
                status.total_running()
            ),
        ),
        ("Memory", memory),
        (
            "Queued jobs",
            format!("{} (not yet taken by a worker)", status.queued),
        ),
        (
            "Pending jobs",
            format!("{} (taken, not yet done)", status.pending),
        ),
    ];
    for (label, value) in summary {
        let _ = writeln!(out, "{:<14}{value}", format!("{label}:"));
    }
    out.push('\n');
    if workers.is_empty() {
        let _ = writeln!(
            out,
            "No live worker is serving this Redis. Start one with:\n  sofleet worker --redis {}",
            status.redis
        );
        if status.redis.contains("***") {
            out.push_str("(with the password in place of ***)\n");
        }
        return out;
    }
    let header = [
        "NAME",
        "HOST",
        "PID",
        "ADDRESS",
        "CONCURRENCY",
        "RUNNING",
        "DONE",
        "FAILED",
        "MEMORY",
        "HEARTBEAT",
    ];
    // Text columns are left-aligned, numbers right-aligned.
    let right = [
        false, false, true, false, true, true, true, true, true, false,
    ];
    let rows: Vec<[String; 10]> = workers.iter().map(|w| row(status, w)).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header = header.map(str::to_owned);
    for cells in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.width());
            if i > 0 {
                line.push_str("  ");
            }
            if right[i] {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// One worker's cells, in the order of the header.
fn row(status: &FleetStatus, w: &WorkerInfo) -> [String; 10] {
    [
        w.name.clone(),
        w.host.clone(),
        w.pid.to_string(),
        if w.addresses.is_empty() {
            "-".to_owned()
        } else {
            w.addresses.join(", ")
        },
        w.concurrency.to_string(),
        w.running.to_string(),
        w.completed.to_string(),
        w.failed.to_string(),
        w.rss_bytes.map_or_else(|| "-".to_owned(), bytes),
        age(status.heartbeat_age(w)),
    ]
}

/// A size in binary units with one decimal: `512 B`, `40.0 MiB`, `1.5 GiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// How long ago, rounded: `0.4 s ago` (tenths under 10 s), `42 s ago`, `3 min ago`.
fn age(d: Duration) -> String {
    let tenths = (d.as_millis() + 50) / 100;
    let secs = (d.as_millis() + 500) / 1000;
    if tenths < 100 {
        format!("{}.{} s ago", tenths / 10, tenths % 10)
    } else if secs < 120 {
        format!("{secs} s ago")
    } else {
        format!("{} min ago", secs / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fleet of three workers as fixed data: one with a source address and failures, one
    /// with two addresses and a long name, one (older) that reports neither memory nor
    /// failures.
    fn fixed() -> FleetStatus {
        serde_json::from_str(
            r#"{
              "redis": "redis://:***@10.0.0.5:6379",
              "namespace": "sofleet",
              "group": "workers",
              "queued": 1250,
              "pending": 12,
              "read_at_ms": 1700000010000,
              "workers": [
                {"name": "crawler-a-4711-3fa9c2", "host": "crawler-a", "pid": 4711,
                 "concurrency": 8, "running": 8, "completed": 1204, "failed": 3,
                 "rss_bytes": 48758784, "addresses": ["10.0.0.7"],
                 "started_at_ms": 1699999000000, "heartbeat_ms": 1700000009600,
                 "tasks": ["sofleet-crawl.question v1"]},
                {"name": "crawler-b-with-a-long-name", "host": "crawler-b", "pid": 88,
                 "concurrency": 16, "running": 4, "completed": 97, "failed": 0,
                 "rss_bytes": 1288490188, "addresses": ["10.0.0.8", "2001:db8::8"],
                 "started_at_ms": 1699999000000, "heartbeat_ms": 1700000008200,
                 "tasks": []},
                {"name": "old", "host": "crawler-c", "pid": 12345, "concurrency": 4,
                 "running": 0, "completed": 0, "started_at_ms": 1699999000000,
                 "heartbeat_ms": 1700000010300, "tasks": []}
              ]
            }"#,
        )
        .unwrap()
    }

    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({
            snapshot_path => "../../tests/snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(name, text);
        });
    }

    #[test]
    fn the_table_of_a_fleet() {
        let status = fixed();
        snapshot("status__table", &render(&status));
    }

    #[test]
    fn a_fleet_without_workers_says_how_to_start_one() {
        let mut status = fixed();
        status.workers.clear();
        status.pending = 0;
        snapshot("status__table_without_workers", &render(&status));
    }

    #[test]
    fn json_has_the_status_totals_and_ages() {
        let status = fixed();
        let value = json(&status);
        assert_eq!(value["total_concurrency"], 28);
        assert_eq!(value["total_running"], 12);
        assert_eq!(value["total_failed"], 3);
        assert_eq!(value["total_rss_bytes"], 48758784_u64 + 1288490188);
        assert_eq!(value["queued"], 1250);
        assert_eq!(value["workers"][0]["heartbeat_age_ms"], 400);
        assert_eq!(value["workers"][2]["heartbeat_age_ms"], 0);
        assert_eq!(value["workers"][1]["addresses"][1], "2001:db8::8");
        // What a script reads back is the status itself.
        let back: FleetStatus = serde_json::from_value(value).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn sizes_and_ages_read_well() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(48_758_784), "46.5 MiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(bytes(u64::MAX), "16.0 EiB");
        assert_eq!(age(Duration::from_millis(400)), "0.4 s ago");
        assert_eq!(age(Duration::ZERO), "0.0 s ago");
        assert_eq!(age(Duration::from_millis(9_940)), "9.9 s ago");
        assert_eq!(age(Duration::from_millis(9_960)), "10 s ago");
        assert_eq!(age(Duration::from_secs(42)), "42 s ago");
        assert_eq!(age(Duration::from_secs(600)), "10 min ago");
    }
}
