//! The example's tasks, unchanged, on threads, on tokio and on a Redis fleet of workers built
//! only from the tasks' registrations.

mod common;

use std::collections::HashSet;

use sofleet::{Client, Task, TaskError};
use sofleet_example_fleet::{AddTask, JobReport, Question, add, process_id, run_job, word_count};
use sofleet_redis::testing::RedisServer;

use common::Worker;

#[test]
fn the_job_runs_on_threads() {
    let client = futures::executor::block_on(Client::connect("threads:2")).unwrap();
    assert_eq!(client.backend_name(), "threads");
    let report = futures::executor::block_on(run_job(&client)).unwrap();
    assert_eq!(report, JobReport::expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_runs_on_tokio() {
    let client = Client::connect("tokio").await.unwrap();
    assert_eq!(client.backend_name(), "tokio");
    assert_eq!(run_job(&client).await.unwrap(), JobReport::expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_runs_on_a_redis_fleet_of_workers_built_from_the_registrations() {
    let server = RedisServer::start().expect("redis-server");
    let workers = [
        Worker::start(&server.url(), "w1"),
        Worker::start(&server.url(), "w2"),
    ];
    let client = Client::connect(&server.url()).await.unwrap();
    assert_eq!(client.backend_name(), "redis");
    assert_eq!(run_job(&client).await.unwrap(), JobReport::expected());

    // The tasks ran in the worker processes, not here.
    let ran_in: HashSet<u32> =
        futures::future::join_all((0..40).map(|i| client.submit(process_id(i))))
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
    let worker_pids: HashSet<u32> = workers.iter().map(Worker::pid).collect();
    assert!(
        !ran_in.is_empty() && ran_in.is_subset(&worker_pids),
        "{ran_in:?} vs {worker_pids:?}"
    );
    assert!(!ran_in.contains(&std::process::id()));
}

/// The client's copy of `add`, changed without rebuilding the workers.
#[sofleet::task(name = "sofleet_example_fleet::add", version = 2)]
async fn add_changed(a: u64, b: u64) -> Result<u64, TaskError> {
    Ok(a + b + 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_another_version_of_a_task_fails_the_job_naming_both_versions() {
    assert_eq!(AddTask::NAME, AddChangedTask::NAME);
    let server = RedisServer::start().expect("redis-server");
    let _worker = Worker::start(&server.url(), "old");
    let client = Client::connect(&server.url()).await.unwrap();
    assert_eq!(client.submit(add(1, 2)).await.unwrap(), 3);
    let err = client
        .submit(add_changed(1, 2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("version mismatch")
            && err.contains("sofleet_example_fleet::add v2")
            && err.contains("sofleet_example_fleet::add v1")
            && err.contains("same code"),
        "{err}"
    );
}

#[test]
fn pure_tasks_share_a_key_and_impure_ones_do_not() {
    let client = futures::executor::block_on(Client::connect("threads:2")).unwrap();
    let q = Question {
        id: 1,
        score: 3,
        title: "a b c".into(),
    };
    let a = client.submit(word_count(q.clone()));
    let b = client.submit(word_count(q));
    assert_eq!(a.key(), b.key());
    assert_eq!(a.result().unwrap(), 3);
    let x = client.submit(process_id(0));
    let y = client.submit(process_id(0));
    assert_ne!(x.key(), y.key());
    // A future argument is part of the key by its key, not its value.
    let three = client.submit(add(1, 2));
    let via_future = client.submit(add(&three, 1));
    let via_value = client.submit(add(3, 1));
    assert_ne!(via_future.key(), via_value.key());
    assert_eq!(via_future.result().unwrap(), via_value.result().unwrap());
}
