//! Shared helpers of the integration tests: worker processes and in-process workers, a raw
//! job listener, a raw Redis connection, waiting for a condition.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::redis::aio::MultiplexedConnection;
use serde::Serialize;
use sofleet_executor::backend::{
    CompletionSink, Job, JobId, JobListener, JobOutcome, JobValue, JobWork,
};
use sofleet_executor::{Task, TaskKey, TaskRegistry};
use sofleet_redis::testing::RedisServer;
use sofleet_redis::{
    RedisBackend, RedisError, RedisOptions, WorkerOptions, WorkerStats, run_worker,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound for any wait in these tests (a hang guard, not a timing assertion).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A `sofleet-test-worker` process, killed on drop.
pub struct WorkerProc {
    pub child: Option<Child>,
    pub name: String,
}

impl WorkerProc {
    /// Starts a worker with extra arguments (e.g. `--visibility-ms 500`).
    pub fn start(url: &str, name: &str, extra: &[&str]) -> WorkerProc {
        let child = Command::new(env!("CARGO_BIN_EXE_sofleet-test-worker"))
            .arg("--redis")
            .arg(url)
            .arg("--name")
            .arg(name)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sofleet-test-worker");
        WorkerProc {
            child: Some(child),
            name: name.to_string(),
        }
    }

    /// SIGKILL, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then wait for a graceful exit and return the printed stats.
    pub fn terminate(&mut self) -> WorkerStats {
        let c = self.child.take().expect("worker already stopped");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
        let out = wait_with_output_timeout(c, PATIENCE);
        assert!(out.status.success(), "worker exited with {}", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("stats {text:?}: {e}"))
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut() {
            None => true,
            Some(c) => matches!(c.try_wait(), Ok(Some(_))),
        }
    }
}

fn wait_with_output_timeout(mut c: Child, timeout: Duration) -> std::process::Output {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = c.try_wait() {
            return c.wait_with_output().expect("collect output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    panic!("worker did not exit within {timeout:?}");
}

impl Drop for WorkerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A worker run in this process by [`run_worker`], and its stop switch.
pub struct InProcessWorker {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<Result<WorkerStats, RedisError>>,
}

impl InProcessWorker {
    /// Starts a worker running the task types of `sofleet_redis::testing::tasks`.
    pub fn start(opts: WorkerOptions) -> InProcessWorker {
        let mut registry = TaskRegistry::new();
        sofleet_redis::testing::tasks::register_all(&mut registry);
        Self::start_with(opts, registry)
    }

    /// Starts a worker running the task types of `registry`.
    pub fn start_with(opts: WorkerOptions, registry: TaskRegistry) -> InProcessWorker {
        let (stop, stop_rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(run_worker(opts, registry, async {
            let _ = stop_rx.await;
        }));
        InProcessWorker { stop, handle }
    }

    /// Stops it gracefully and returns what it did.
    pub async fn stop(self) -> WorkerStats {
        let _ = self.stop.send(());
        tokio::time::timeout(PATIENCE, self.handle)
            .await
            .expect("worker stops")
            .unwrap()
            .expect("worker ran")
    }
}

/// Polls `check` every `every` until it returns `None`; panics with the message it returned
/// last if that takes longer than [`PATIENCE`].
pub async fn wait_for<F: Future<Output = Option<String>>>(
    every: Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + PATIENCE;
    while let Some(failure) = check().await {
        assert!(Instant::now() < deadline, "{failure}");
        tokio::time::sleep(every).await;
    }
}

/// Waits until `check` holds (polling every 50 ms) or fails with `what`.
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    wait_for(Duration::from_millis(50), || {
        let holds = check();
        async move { (!holds.await).then(|| format!("timed out waiting: {what}")) }
    })
    .await
}

/// A plain connection to the Redis at `url`, to look at (or set up) what is stored.
pub async fn redis_conn(url: &str) -> MultiplexedConnection {
    ::redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Starts a redis-server for one test.
pub fn redis() -> RedisServer {
    RedisServer::start().expect("start redis-server")
}

/// Options with short timeouts for tests.
pub fn client_opts() -> RedisOptions {
    let mut o = RedisOptions::default();
    o.connect_timeout = Duration::from_secs(5);
    o.read_block = Duration::from_millis(200);
    o
}

/// Connects a backend.
pub async fn backend(url: &str) -> RedisBackend {
    RedisBackend::connect(url, client_opts())
        .await
        .expect("connect backend")
}

/// Waits until `n` workers are listed live.
pub async fn wait_workers(b: &RedisBackend, n: usize) {
    wait_for(Duration::from_millis(20), || async {
        let live = b.live_workers().await.expect("live_workers");
        (live.len() < n).then(|| format!("only {} of {n} workers came up", live.len()))
    })
    .await
}

/// Records every report of a backend used without a `Client`.
#[derive(Default)]
pub struct Collector {
    pub started: Mutex<HashSet<JobId>>,
    pub done: Mutex<HashMap<JobId, Vec<JobOutcome>>>,
}

impl JobListener for Collector {
    fn started(&self, id: JobId) {
        self.started.lock().unwrap().insert(id);
    }
    fn completed(&self, id: JobId, outcome: JobOutcome) {
        self.done
            .lock()
            .unwrap()
            .entry(id)
            .or_default()
            .push(outcome);
    }
}

impl Collector {
    /// A collector and the sink reporting to it.
    pub fn new() -> (Arc<Collector>, CompletionSink) {
        let c = Arc::new(Collector::default());
        (c.clone(), CompletionSink::new(c))
    }

    pub fn done_count(&self) -> usize {
        self.done.lock().unwrap().len()
    }

    pub fn started_count(&self) -> usize {
        self.started.lock().unwrap().len()
    }

    /// Waits until `n` distinct jobs are reported.
    pub async fn wait_done(&self, n: usize) {
        wait_for(Duration::from_millis(10), || async {
            let done = self.done_count();
            (done < n).then(|| format!("only {done} of {n} jobs reported"))
        })
        .await
    }

    /// Waits until `n` distinct jobs are reported started.
    pub async fn wait_started(&self, n: usize) {
        wait_for(Duration::from_millis(10), || async {
            let started = self.started_count();
            (started < n).then(|| format!("only {started} of {n} jobs started"))
        })
        .await
    }

    /// The single outcome of job `id` (fails if it was reported twice).
    pub fn outcome(&self, id: u64) -> JobOutcome {
        let done = self.done.lock().unwrap();
        let v = done
            .get(&JobId(id))
            .unwrap_or_else(|| panic!("job {id} not reported"));
        assert_eq!(v.len(), 1, "job {id} reported {} times: {v:?}", v.len());
        v[0].clone()
    }
}

/// A serialised job of task type `T` (as the client would build it for a remote backend).
pub fn job<T: Task>(id: u64, task: &T) -> Job {
    job_with_payload::<T>(id, serde_json::to_vec(task).unwrap(), vec![])
}

/// A job with explicit payload bytes and inputs.
pub fn job_with_payload<T: Task>(id: u64, payload: Vec<u8>, inputs: Vec<JobValue>) -> Job {
    raw_job(id, T::NAME, T::VERSION, payload, inputs)
}

/// A job of any name and version.
pub fn raw_job(id: u64, name: &str, version: u32, payload: Vec<u8>, inputs: Vec<JobValue>) -> Job {
    Job {
        id: JobId(id),
        key: TaskKey::new(format!("{name}-{id}")),
        name: name.to_string().into(),
        version,
        attempt: 0,
        work: JobWork::Serialized(payload.into()),
        inputs,
    }
}

/// The success value of an outcome.
pub fn value<T: serde::de::DeserializeOwned + Clone + 'static>(o: &JobOutcome) -> T {
    match o {
        JobOutcome::Success(v) => v.get::<T>().expect("decode output"),
        other => panic!("expected success, got {other:?}"),
    }
}

/// JSON bytes of a value.
pub fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}
