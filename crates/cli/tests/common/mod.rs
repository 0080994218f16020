//! What the tests of the everyday commands share: the binary run in an environment of its
//! own, and its output as text.

#![allow(dead_code)] // each test file uses its own subset

use std::process::{Command, Output, Stdio};

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
