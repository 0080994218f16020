//! The example's two programs as a user runs them: the client picks its backend from
//! `SOFLEET_BACKEND`, the worker serves every task of the library it was built with.

mod common;

use std::process::{Command, Output};

use sofleet_redis::testing::RedisServer;

use common::Worker;

fn client(backend: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sofleet-example-client"));
    match backend {
        Some(b) => cmd.env("SOFLEET_BACKEND", b),
        None => cmd.env_remove("SOFLEET_BACKEND"),
    };
    cmd.output().expect("run sofleet-example-client")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const EXPECTED: &str = "words=23 sum_of_squares=385 flaky_attempt=2\n";

#[test]
fn one_variable_moves_the_client_from_threads_to_tokio_to_a_fleet() {
    for (backend, name) in [
        (None, "threads"),
        (Some("threads:3"), "threads"),
        (Some("tokio"), "tokio"),
    ] {
        let out = client(backend);
        assert!(out.status.success(), "{backend:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), EXPECTED);
        assert!(
            text(&out.stderr).contains(&format!("backend: {name}")),
            "{}",
            text(&out.stderr)
        );
    }
    let server = RedisServer::start().expect("redis-server");
    let _worker = Worker::start(&server.url(), "fleet");
    let out = client(Some(&server.url()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), EXPECTED);
    assert!(text(&out.stderr).contains("backend: redis"));
}

#[test]
fn a_bad_backend_lists_the_accepted_forms_without_the_password() {
    let out = client(Some("redis-cluster://:hunter2@db:6379"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown backend `redis-cluster://:***@db:6379`"),
        "{err}"
    );
    assert!(
        err.contains("threads, threads:N, tokio, redis://[:PASSWORD@]HOST[:PORT][/DB]"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn the_worker_runs_every_task_of_the_library_it_was_built_with() {
    let out = Command::new(env!("CARGO_BIN_EXE_sofleet-example-worker"))
        .arg("--list-tasks")
        .output()
        .expect("run worker");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "sofleet_example_fleet::add v1\n\
         sofleet_example_fleet::flaky v1\n\
         sofleet_example_fleet::process_id v1\n\
         sofleet_example_fleet::total v1\n\
         sofleet_example_fleet::word_count v1\n"
    );
}

#[test]
fn a_worker_without_redis_says_how_to_give_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_sofleet-example-worker"))
        .env_remove("SOFLEET_REDIS")
        .env_remove("SOFLEET_BACKEND")
        .output()
        .expect("run worker");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: no Redis URL: pass --redis redis://HOST:6379, or set SOFLEET_REDIS (or \
         SOFLEET_BACKEND) to one\n"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sofleet-example-worker"))
        .args([
            "--redis",
            "redis://:hunter2@127.0.0.1:1",
            "--concurrency",
            "0",
        ])
        .output()
        .expect("run worker");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--concurrency"),
        "{}",
        text(&out.stderr)
    );
}
