//! What a user reads before running anything: every `--help` as a snapshot (a change to the
//! text is a visible diff in `tests/snapshots/`), shell completions for each shell, and flags
//! from environment variables (a flag on the command line wins). Runs the real binary.

mod common;

use std::process::Command;

use common::{sofleet, stderr, stdout};

fn help(args: &[&str]) -> String {
    let output = sofleet().args(args).arg("--help").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn every_help_text() {
    insta::assert_snapshot!("sofleet", help(&[]));
    for sub in [
        "crawl",
        "report",
        "titles",
        "extract",
        "worker",
        "dashboard",
        "mock-site",
        "fetch",
        "completions",
    ] {
        insta::assert_snapshot!(sub, help(&[sub]));
    }
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = sofleet().args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for word in ["crawl", "worker", "base-url", "allow-host"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash and registers the completion.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sofleet.bash");
    let output = sofleet().args(["completions", "bash"]).output().unwrap();
    std::fs::write(&path, &output.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p sofleet",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("-F _sofleet sofleet"),
        "{}",
        stdout(&check)
    );
    // An unknown shell is a usage error listing the shells.
    let output = sofleet().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bash, elvish, fish, powershell, zsh"),
        "{}",
        stderr(&output)
    );
    insta::assert_snapshot!("completions_unknown_shell", stderr(&output));
}

#[test]
fn flags_come_from_the_environment_and_the_command_line_wins() {
    let dir = tempfile::tempdir().unwrap();
    // SOFLEET_TAG satisfies the required --tag, SOFLEET_BASE_URL replaces the default site
    // (nothing listens on port 9: a network failure naming it).
    let output = sofleet()
        .args(["crawl", "--no-progress", "--retries", "0", "-o"])
        .arg(dir.path().join("a.jsonl"))
        .env("SOFLEET_TAG", "dask")
        .env("SOFLEET_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("http://127.0.0.1:9"),
        "{}",
        stderr(&output)
    );
    // The command line beats the environment.
    let output = sofleet()
        .args(["crawl", "--no-progress", "--retries", "0", "-t", "dask"])
        .args(["--base-url", "http://127.0.0.1:7", "-o"])
        .arg(dir.path().join("b.jsonl"))
        .env("SOFLEET_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("http://127.0.0.1:7"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("127.0.0.1:9"),
        "{}",
        stderr(&output)
    );
    // A bad value from the environment is named like a bad flag, with its variable.
    let output = sofleet()
        .args(["crawl", "-t", "dask"])
        .env("SOFLEET_RATE", "fast")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--rate"), "{}", stderr(&output));
    insta::assert_snapshot!("rate_from_the_environment", stderr(&output));
    // Switches take the usual words; a worker's variables are its own.
    let output = sofleet()
        .args([
            "titles",
            "--serial",
            "-p",
            "1",
            "--base-url",
            "http://127.0.0.1:9",
        ])
        .env("SOFLEET_IGNORE_ROBOTS", "yes")
        .env("SOFLEET_WORKER_REDIS", "redis://:hunter2@127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    // With robots.txt ignored the first request is the page itself, not robots.txt.
    assert!(
        !stderr(&output).contains("robots.txt"),
        "{}",
        stderr(&output)
    );
    let output = sofleet()
        .args(["worker"])
        .env("SOFLEET_WORKER_REDIS", "redis://:hunter2@127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("127.0.0.1:9") && !text.contains("hunter2"),
        "{text}"
    );
}
