//! What the CLI's tests share: the binary run in an environment of its own, its output as
//! text and with the run's variable parts replaced for snapshots, the numbers of its summary,
//! what the mock site is expected to list, and (in [`fleet`]) the workers of a fleet.

#![allow(dead_code)] // each test file uses its own subset

pub mod fleet;

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use sofleet_analysis::polars::prelude::{DataFrame, DataType};
use sofleet_mock_so::MockSite;

/// The `sofleet` binary with none of the caller's `SOFLEET_*`, `RUST_LOG` or `NO_COLOR`, so
/// help texts, defaults and log output do not depend on who runs the tests.
pub fn sofleet() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("sofleet"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SOFLEET_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    cmd
}

/// Runs the command to the end on a blocking thread, so a mock site in this process keeps
/// serving meanwhile.
pub async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The last line on stderr: where a failing command says why.
pub fn last_line(output: &Output) -> String {
    stderr(output).lines().last().unwrap_or_default().to_owned()
}

/// `text` with each `(part, placeholder)` replaced, in order (an empty part is skipped): the
/// run's variable parts (temporary paths, ports, URLs) made stable for a snapshot.
pub fn redact(text: &str, parts: &[(&str, &str)]) -> String {
    parts
        .iter()
        .filter(|(part, _)| !part.is_empty())
        .fold(text.to_owned(), |text, (part, placeholder)| {
            text.replace(part, placeholder)
        })
}

/// `text` with the mock site's URL as `http://SITE` and the temporary folder as `TMP` (pass
/// `""` for no site).
pub fn stable(text: &str, site: &str, dir: &Path) -> String {
    redact(
        text,
        &[(&dir.display().to_string(), "TMP"), (site, "http://SITE")],
    )
}

/// The number after `label ` in a printed summary, e.g. `number_after(text, "requests")`.
pub fn number_after(text: &str, label: &str) -> u64 {
    let at = text
        .find(&format!("{label} "))
        .unwrap_or_else(|| panic!("no `{label}` in:\n{text}"));
    text[at + label.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{label}`:\n{text}"))
}

/// A loopback port nobody listens on (bound, noted, closed).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends `kill -NAME` (e.g. `"TERM"`, `"KILL"`) to the child.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

/// Waits up to `limit` for the child to exit; past it kills it and returns `None`.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The question ids the site lists for `tags` on `pages` (sorted by votes, 15 a page), each
/// once, in ascending order: what a crawl of them must write.
pub fn expected_ids(site: &MockSite, tags: &[&str], pages: RangeInclusive<u32>) -> Vec<u64> {
    let ids: BTreeSet<u64> = tags
        .iter()
        .flat_map(|tag| {
            pages
                .clone()
                .flat_map(|page| site.expected_listing(tag, "votes", page, 15))
        })
        .collect();
    ids.into_iter().collect()
}

/// The `question_id` column of a records frame, in the frame's order.
pub fn question_ids(frame: &DataFrame) -> Vec<u64> {
    frame
        .column("question_id")
        .unwrap()
        .cast(&DataType::UInt64)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// `args` as a reader would type them after `sofleet`, an argument with spaces, quotes or
/// control characters quoted (Rust escapes), for the transcripts of snapshots.
pub fn command_line(args: &[&str]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|arg| {
            if arg.is_empty()
                || arg
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"')
            {
                format!("{arg:?}")
            } else {
                (*arg).to_owned()
            }
        })
        .collect();
    format!("$ sofleet {}", quoted.join(" "))
}

/// `text` with the random part of sofleet's temporary file names (`.sofleet-` and the
/// characters `tempfile` picks) as `.sofleet-RANDOM`.
pub fn temp_names(text: &str) -> String {
    const PREFIX: &str = ".sofleet-";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        out.push_str(&rest[..at + PREFIX.len()]);
        rest = rest[at + PREFIX.len()..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        out.push_str("RANDOM");
    }
    out.push_str(rest);
    out
}
