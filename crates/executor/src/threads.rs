//! [`ThreadsBackend`]: a pool of OS threads for blocking and CPU-bound work.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::Mutex;

use crossbeam_channel::{Receiver, Sender};

use crate::backend::{
    Backend, BackendError, CompletionSink, Job, JobId, JobOutcome, run_job_inline,
};
use crate::resources::Resources;
use crate::task::TaskRegistry;

struct Worker {
    sink: OnceLock<CompletionSink>,
    registry: Option<TaskRegistry>,
    resources: Resources,
    cancelled: Mutex<HashSet<JobId>>,
    n_cancelled: AtomicUsize,
}

/// Runs jobs on `n` OS threads, one job at a time per thread (like Dask's thread pool).
///
/// Each thread owns a tokio current-thread runtime (all drivers enabled), and a task's future
/// runs to completion on it with `block_on`, so async tasks doing I/O (e.g. `reqwest`) work
/// too; they just do not interleave on one thread. No ambient runtime is needed, so the client
/// can be used from plain synchronous code. A panicking task becomes an error on its future;
/// the thread carries on. Threads exit when the backend (i.e. its client) is dropped.
pub struct ThreadsBackend {
    tx: Sender<Job>,
    worker: Arc<Worker>,
    threads: usize,
    in_process: bool,
}

impl std::fmt::Debug for ThreadsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ThreadsBackend({} threads)", self.threads)
    }
}

impl ThreadsBackend {
    /// A pool of `n_threads` threads (at least 1).
    pub fn new(n_threads: usize) -> Self {
        Self::build(n_threads, None, Resources::new())
    }

    /// A pool that receives jobs serialised, as a remote worker would, and runs them through
    /// `registry` (useful to test that task types survive serialisation).
    pub fn serialized(n_threads: usize, registry: TaskRegistry) -> Self {
        Self::build(n_threads, Some(registry), Resources::new())
    }

    /// The same pool whose tasks read `resources` from their context
    /// ([`TaskContext::resource`](crate::TaskContext::resource)); call it before handing the
    /// backend to a [`Client`](crate::Client).
    ///
    /// ```
    /// use sofleet_executor::{Resources, ThreadsBackend};
    /// let backend = ThreadsBackend::new(4).with_resources(Resources::new().with(String::from("db")));
    /// # drop(backend);
    /// ```
    pub fn with_resources(self, resources: Resources) -> Self {
        // The threads hold the old worker state: start the pool again with the resources (the
        // old threads exit when the old channel closes, below).
        Self::build(self.threads, self.worker.registry.clone(), resources)
    }

    fn build(n_threads: usize, registry: Option<TaskRegistry>, resources: Resources) -> Self {
        let n = n_threads.max(1);
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let in_process = registry.is_none();
        let worker = Arc::new(Worker {
            sink: OnceLock::new(),
            registry,
            resources,
            cancelled: Mutex::new(HashSet::new()),
            n_cancelled: AtomicUsize::new(0),
        });
        for i in 0..n {
            let rx = rx.clone();
            let w = worker.clone();
            std::thread::Builder::new()
                .name(format!("sofleet-worker-{i}"))
                .spawn(move || worker_loop(rx, w))
                .expect("cannot spawn an executor worker thread");
        }
        ThreadsBackend {
            tx,
            worker,
            threads: n,
            in_process,
        }
    }
}

fn worker_loop(rx: Receiver<Job>, w: Arc<Worker>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            // Report every job we receive as a backend error rather than hanging.
            while let Ok(job) = rx.recv() {
                if let Some(s) = w.sink.get() {
                    s.completed(
                        job.id,
                        JobOutcome::BackendError(format!(
                            "worker cannot start a tokio runtime: {e}"
                        )),
                    );
                }
            }
            return;
        }
    };
    // When a monitor wants start times: the end of this thread's last job, if the thread went
    // straight on to the next one (then that is the next job's start: one clock read per job).
    let mut last_end: Option<Instant> = None;
    loop {
        let job = match rx.try_recv() {
            Ok(job) => job,
            Err(_) => {
                // Waiting for work: the next job starts when it arrives, not at the last end.
                last_end = None;
                match rx.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
        };
        let Some(sink) = w.sink.get() else { continue };
        let id = job.id;
        if w.n_cancelled.load(Ordering::Acquire) > 0 {
            let mut c = w.cancelled.lock();
            if c.remove(&id) {
                w.n_cancelled.store(c.len(), Ordering::Release);
                drop(c);
                sink.completed(id, JobOutcome::Cancelled);
                continue;
            }
        }
        let mut fut = std::pin::pin!(run_job_inline(job, w.registry.as_ref(), &w.resources));
        // A monitor draws the job from its start: read the clock only then.
        let started = if sink.wants_start_time(id) {
            Some(last_end.take().unwrap_or_else(Instant::now))
        } else {
            last_end = None;
            None
        };
        // Most short tasks finish on their first poll: report start and end in one step.
        match rt.block_on(async { futures::poll!(&mut fut) }) {
            std::task::Poll::Ready(out) => match started {
                Some(at) => {
                    let end = Instant::now();
                    last_end = Some(end);
                    sink.completed_with_times(id, at, end, out);
                }
                None => sink.started_and_completed(id, out),
            },
            std::task::Poll::Pending => {
                last_end = None;
                sink.started(id);
                let out = rt.block_on(fut);
                sink.completed(id, out);
            }
        }
    }
}

#[async_trait::async_trait]
impl Backend for ThreadsBackend {
    fn name(&self) -> &str {
        "threads"
    }

    fn runs_in_process(&self) -> bool {
        self.in_process
    }

    fn attach(&self, sink: CompletionSink) {
        let _ = self.worker.sink.set(sink);
    }

    fn dispatch(&self, jobs: Vec<Job>) {
        for job in jobs {
            if let Err(e) = self.tx.send(job) {
                // Unreachable while we hold a receiver-owning thread; report, never hang.
                let job = e.into_inner();
                if let Some(s) = self.worker.sink.get() {
                    s.completed(
                        job.id,
                        JobOutcome::BackendError("worker pool is gone".into()),
                    );
                }
            }
        }
    }

    fn cancel(&self, id: JobId) {
        // Jobs still queued are skipped; a running one cannot be interrupted (its result is
        // discarded by the client).
        let mut c = self.worker.cancelled.lock();
        if c.len() > 100_000 {
            // Ids of jobs that already ran would otherwise accumulate.
            c.clear();
        }
        c.insert(id);
        self.worker.n_cancelled.store(c.len(), Ordering::Release);
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        Ok(())
    }
}
