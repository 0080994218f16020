//! The executor's shared backend test suite on the Redis backend: every check gets a fresh
//! redis-server and two `sofleet-test-worker` processes (built with the conformance tasks).
//! Run with `cargo test -p sofleet-redis --features conformance`.

mod common;

use async_trait::async_trait;
use common::*;
use sofleet_executor::backend::{CompletionSink, Job, JobId};
use sofleet_executor::conformance::Config;
use sofleet_executor::{Backend, BackendError, Client};
use sofleet_redis::RedisBackend;
use sofleet_redis::testing::RedisServer;

/// The Redis backend plus the server and workers it runs on, shut down with the client.
struct Fleet {
    backend: RedisBackend,
    _workers: Vec<WorkerProc>,
    _server: RedisServer,
}

#[async_trait]
impl Backend for Fleet {
    fn name(&self) -> &str {
        self.backend.name()
    }
    fn runs_in_process(&self) -> bool {
        self.backend.runs_in_process()
    }
    fn attach(&self, sink: CompletionSink) {
        self.backend.attach(sink)
    }
    fn dispatch(&self, jobs: Vec<Job>) {
        self.backend.dispatch(jobs)
    }
    fn cancel(&self, id: JobId) {
        self.backend.cancel(id)
    }
    async fn ready(&self) -> Result<(), BackendError> {
        self.backend.ready().await
    }
    async fn shutdown(&self) -> Result<(), BackendError> {
        self.backend.shutdown().await
    }
}

async fn fleet() -> Client {
    let server = RedisServer::start().expect("start redis-server");
    let workers = (0..2)
        .map(|i| WorkerProc::start(&server.url(), &format!("c{i}"), &["--concurrency", "8"]))
        .collect();
    let backend = backend(&server.url()).await;
    wait_workers(&backend, 2).await;
    Client::new(Fleet {
        backend,
        _workers: workers,
        _server: server,
    })
}

/// Sizes: reduced for the debug test run; `SOFLEET_CONFORMANCE_FULL=1` runs the suite's
/// full default sizes (100,000 futures in `as_completed_memory`, ...).
fn config() -> Config {
    if std::env::var_os("SOFLEET_CONFORMANCE_FULL").is_some() {
        return Config::default();
    }
    Config {
        many: 1_000,
        chain: 100,
        as_completed: 5_000,
        map_bounded: 2_000,
        ..Config::default()
    }
}

sofleet_executor::conformance_tests!(fleet(), config());
