//! [`ManualBackend`]: a backend stepped by the test, like tower-test's `mock::pair`.
//!
//! Nothing runs by itself: every job the client dispatches waits in a queue until the test
//! takes it ([`ManualHandle::next`]) and reports how it ended ([`ManualHandle::complete`], or
//! [`ManualHandle::run`] to run it for real). Dispatch and reports are synchronous, so a test
//! of the scheduler (dependencies, cancellation, retries, resource limits) reads as a sequence
//! of steps and needs no timeouts.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::backend::{Backend, CompletionSink, Job, JobId, JobOutcome, JobValue, run_job};

#[derive(Default)]
struct Inner {
    sink: Option<CompletionSink>,
    queue: VecDeque<Job>,
    cancels: Vec<JobId>,
}

/// The backend half of [`manual_pair`]: give it to [`Client::new`](crate::Client::new).
#[derive(Clone)]
pub struct ManualBackend {
    inner: Arc<Mutex<Inner>>,
    in_process: bool,
}

/// The test's half of [`manual_pair`]: takes dispatched jobs and reports their outcomes.
#[derive(Clone)]
pub struct ManualHandle {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for ManualBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualBackend")
            .field("queued", &self.inner.lock().queue.len())
            .finish()
    }
}

impl std::fmt::Debug for ManualHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualHandle")
            .field("queued", &self.inner.lock().queue.len())
            .finish()
    }
}

/// A backend that runs in process (jobs carry their typed runner) and the handle that steps
/// it.
///
/// ```
/// use sofleet_executor::Client;
/// use sofleet_executor::conformance::manual_pair;
/// use sofleet_executor::conformance::tasks::Add;
///
/// let (backend, jobs) = manual_pair();
/// let client = Client::new(backend);
/// let sum = client.submit(Add { a: 2, b: 3 });
/// let job = jobs.next();
/// assert_eq!(&*job.name, "conformance-add");
/// jobs.run(job);
/// assert_eq!(sum.result().unwrap(), 5);
/// ```
pub fn manual_pair() -> (ManualBackend, ManualHandle) {
    pair(true)
}

/// Like [`manual_pair`], for a backend that runs jobs in another process: jobs carry
/// serialised tasks and values travel as bytes.
pub fn manual_pair_serialized() -> (ManualBackend, ManualHandle) {
    pair(false)
}

fn pair(in_process: bool) -> (ManualBackend, ManualHandle) {
    let inner = Arc::new(Mutex::new(Inner::default()));
    (
        ManualBackend {
            inner: inner.clone(),
            in_process,
        },
        ManualHandle { inner },
    )
}

#[async_trait::async_trait]
impl Backend for ManualBackend {
    fn name(&self) -> &str {
        "manual"
    }

    fn runs_in_process(&self) -> bool {
        self.in_process
    }

    fn attach(&self, sink: CompletionSink) {
        self.inner.lock().sink = Some(sink);
    }

    fn dispatch(&self, jobs: Vec<Job>) {
        self.inner.lock().queue.extend(jobs);
    }

    fn cancel(&self, id: JobId) {
        self.inner.lock().cancels.push(id);
    }
}

impl ManualHandle {
    /// How many dispatched jobs wait to be taken.
    pub fn queued(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// Takes the oldest dispatched job. Panics if none was dispatched.
    pub fn next(&self) -> Job {
        self.try_next()
            .expect("ManualHandle::next: the client dispatched no job")
    }

    /// Takes the oldest dispatched job, if any.
    pub fn try_next(&self) -> Option<Job> {
        self.inner.lock().queue.pop_front()
    }

    /// Takes every dispatched job, oldest first.
    pub fn take_all(&self) -> Vec<Job> {
        self.inner.lock().queue.drain(..).collect()
    }

    /// The job ids the client asked to cancel since the last call, in order.
    pub fn cancelled(&self) -> Vec<JobId> {
        std::mem::take(&mut self.inner.lock().cancels)
    }

    /// Reports that job `id` began running.
    pub fn start(&self, id: JobId) {
        self.sink().started(id);
    }

    /// Reports how job `id` ended. Jobs this reports may dispatch further jobs at once.
    pub fn complete(&self, id: JobId, outcome: JobOutcome) {
        self.sink().completed(id, outcome);
    }

    /// Reports that `job` succeeded with `value` (an in-process value).
    pub fn succeed<T: serde::Serialize + Send + Sync + 'static>(&self, job: &Job, value: T) {
        self.complete(job.id, JobOutcome::Success(JobValue::local(value)));
    }

    /// Runs `job` on this thread (blocking until it ends), reports it started and ended, and
    /// returns the outcome it reported.
    pub fn run(&self, job: Job) -> JobOutcome {
        let id = job.id;
        let outcome = futures::executor::block_on(run_job(job, None));
        self.sink().started_and_completed(id, outcome.clone());
        outcome
    }

    fn sink(&self) -> CompletionSink {
        // Cloned out of the lock: a report may dispatch new jobs into this same backend.
        self.inner
            .lock()
            .sink
            .clone()
            .expect("ManualHandle: the backend was not given to Client::new")
    }
}
