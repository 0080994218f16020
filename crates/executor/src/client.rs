//! The [`Client`]: the futures API. Scheduling lives in [`crate::scheduler`]; this file turns
//! typed tasks into submissions (payload, content key, in-process runner) and hands them over.

use std::sync::Arc;

use futures::channel::mpsc;

use crate::backend::{Backend, JobValue, LocalRunner};
use crate::error::ExecError;
use crate::events::EventStream;
use crate::future::{AnyFuture, TaskFuture};
use crate::key::{TaskKey, TaskName};
use crate::options::SubmitOptions;
use crate::scheduler::{Runner, Shared, Sub, remake_typed, typed_runner};
use crate::stream::MapBounded;
use crate::task::Task;

/// Counters and sizes describing a client (see [`Client::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Futures the client currently tracks (referenced, or unfinished fire-and-forget, or
    /// waiting for a cancelled job to come back). Results are freed when this drops.
    pub live: usize,
    /// Tracked futures not done yet.
    pub unfinished: usize,
    /// Jobs handed to the backend and not reported back.
    pub in_flight: usize,
    /// Submissions that created a new task, since the client was made.
    pub submitted: u64,
    /// Submissions that returned an existing future (same key), since the client was made.
    pub deduplicated: u64,
    /// Jobs dispatched to the backend (attempts), since the client was made.
    pub dispatched: u64,
}

/// Submits tasks and hands out [`TaskFuture`]s. Cheap to clone; all clones share one scheduler
/// and backend. Usable from synchronous code (with a backend that does not need a runtime,
/// such as [`ThreadsBackend`](crate::ThreadsBackend)) and from async code.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("backend", &self.shared.backend().name())
            .finish()
    }
}

impl Client {
    /// A client over `backend`; attaches the backend's completion sink.
    pub fn new(backend: impl Backend) -> Client {
        Client {
            shared: Shared::new(Box::new(backend)),
        }
    }

    /// The backend's name.
    pub fn backend_name(&self) -> &str {
        self.shared.backend().name()
    }

    /// Checks the backend can run jobs.
    pub async fn ready(&self) -> Result<(), crate::BackendError> {
        self.shared.backend().ready().await
    }

    /// Shuts the backend down (pending work may never finish afterwards).
    pub async fn shutdown(&self) -> Result<(), crate::BackendError> {
        self.shared.backend().shutdown().await
    }

    /// Submits `task` with default options; returns at once.
    ///
    /// A task with future arguments (see [`Task::dependencies`]) starts once they are done.
    pub fn submit<T: Task>(&self, task: T) -> TaskFuture<T::Output> {
        self.submit_after(&[], task, SubmitOptions::default())
    }

    /// Submits `task` with `opts`; returns at once.
    pub fn submit_with<T: Task>(&self, task: T, opts: SubmitOptions) -> TaskFuture<T::Output> {
        self.submit_after(&[], task, opts)
    }

    /// Submits `task` to start once every future in `deps` has finished; their outputs are
    /// available to the task through [`TaskContext::input`](crate::TaskContext::input), in
    /// order. If a dependency fails or is cancelled the task does not run and its future fails
    /// with [`ExecError::DependencyFailed`] naming the failed key.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use sofleet_executor::conformance_free_example::Double;
    /// use sofleet_executor::{Client, SubmitOptions, Task, TaskContext, TaskError, ThreadsBackend};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Sum {}
    /// impl Task for Sum {
    ///     type Output = u64;
    ///     const NAME: &'static str = "sum";
    ///     async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
    ///         Ok(ctx.input::<u64>(0)? + ctx.input::<u64>(1)?)
    ///     }
    /// }
    ///
    /// let client = Client::new(ThreadsBackend::new(2));
    /// let a = client.submit(Double { x: 1 });
    /// let b = client.submit(Double { x: 10 });
    /// let total = client.submit_after(&[a.erase(), b.erase()], Sum {}, SubmitOptions::new());
    /// assert_eq!(total.result().unwrap(), 22);
    /// ```
    pub fn submit_after<T: Task>(
        &self,
        deps: &[AnyFuture],
        mut task: T,
        opts: SubmitOptions,
    ) -> TaskFuture<T::Output> {
        let own = task.dependencies();
        self.submit_inner(deps, own, task, opts)
    }

    /// Submits `task` after the explicit `deps` and then its `own` future arguments.
    fn submit_inner<T: Task>(
        &self,
        deps: &[AnyFuture],
        own: Vec<AnyFuture>,
        task: T,
        opts: SubmitOptions,
    ) -> TaskFuture<T::Output> {
        let all;
        let deps = if own.is_empty() {
            deps
        } else if deps.is_empty() {
            &own[..]
        } else {
            // The task's own dependencies come after the explicit ones (see `input_base`).
            all = [deps, &own[..]].concat();
            &all[..]
        };
        let sub = self.prepare(deps, task, &opts);
        let any = self.shared.submit_erased(sub, deps, &opts);
        TaskFuture::from_any(any, JobValue::get::<T::Output>)
    }

    /// Serialises/hashes a task into a submission (outside the scheduler lock).
    fn prepare<T: Task>(&self, deps: &[AnyFuture], task: T, opts: &SubmitOptions) -> Sub {
        let pure = opts.pure.unwrap_or(T::PURE);
        let retry = opts.retry.clone().unwrap_or_else(T::retry_policy);
        let need_bytes = !self.shared.in_process() || retry.max_retries > 0;
        let mut payload: Option<Arc<[u8]>> = None;
        let mut ser_error = None;
        if need_bytes {
            match serde_json::to_vec(&task) {
                Ok(b) => payload = Some(b.into()),
                Err(e) => ser_error = Some(e.to_string()),
            }
        }
        let indexed = opts.key.is_some() || (pure && ser_error.is_none());
        let key = match &opts.key {
            Some(k) => k.clone(),
            None if pure && ser_error.is_none() => {
                let mut h = blake3::Hasher::new();
                h.update(T::NAME.as_bytes());
                h.update(&[0]);
                h.update(&T::VERSION.to_le_bytes());
                match &payload {
                    Some(p) => {
                        h.update(p);
                    }
                    None => {
                        // Into a buffer, then one update: serde_json writes token by token,
                        // and each hasher update has a fixed cost.
                        let mut buf = Vec::with_capacity(64);
                        match serde_json::to_writer(&mut buf, &task) {
                            Ok(()) => {
                                h.update(&buf);
                            }
                            Err(e) => ser_error = Some(e.to_string()),
                        }
                    }
                }
                for d in deps {
                    h.update(&[0]);
                    h.update(d.key().as_str().as_bytes());
                }
                TaskKey::from_hash(T::NAME, h.finalize().as_bytes())
            }
            None => TaskKey::random(T::NAME),
        };
        let runner = if self.shared.in_process() {
            Some(Runner {
                first: Some(typed_runner(task)),
                remake: Some(remake_typed::<T>),
            })
        } else {
            None
        };
        Sub {
            key,
            indexed,
            name: TaskName::Borrowed(T::NAME),
            version: T::VERSION,
            payload,
            runner,
            retry,
            error: ser_error.map(|message| ExecError::Serialization {
                name: TaskName::Borrowed(T::NAME),
                message,
            }),
        }
    }

    /// Submits a blocking closure (local backends only; a remote backend fails it with
    /// [`ExecError::Backend`]). Closure tasks are always impure (fresh key) and never retried.
    pub fn submit_fn<R, F>(&self, name: &str, f: F) -> TaskFuture<R>
    where
        R: Clone + Send + Sync + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let name: TaskName = TaskName::Owned(name.to_string());
        let runner = Runner {
            first: Some(LocalRunner::Blocking(Box::new(move |_ctx| {
                Ok(JobValue::local_only(f()))
            }))),
            remake: None,
        };
        let any = self.shared.submit_erased(
            Sub {
                key: TaskKey::random(&name),
                indexed: false,
                name,
                version: 0,
                payload: None,
                runner: Some(runner),
                retry: crate::options::RetryPolicy::none(),
                error: None,
            },
            &[],
            &SubmitOptions::default(),
        );
        TaskFuture::from_any(any, JobValue::get_local::<R>)
    }

    /// Submits every task (default options) and returns their futures in input order.
    /// Submissions are handed to the scheduler and the backend in batches.
    pub fn map<T: Task>(&self, tasks: impl IntoIterator<Item = T>) -> Vec<TaskFuture<T::Output>> {
        self.map_with(tasks, SubmitOptions::default())
    }

    /// Submits every task with `opts` and returns their futures in input order.
    pub fn map_with<T: Task>(
        &self,
        tasks: impl IntoIterator<Item = T>,
        opts: SubmitOptions,
    ) -> Vec<TaskFuture<T::Output>> {
        const BATCH: usize = 512;
        let iter = tasks.into_iter();
        let mut out = Vec::with_capacity(iter.size_hint().0);
        let mut batch = Vec::with_capacity(BATCH);
        // Hands the batch to the scheduler (one lock, one dispatch), its futures in order.
        let flush = |batch: &mut Vec<Sub>, out: &mut Vec<TaskFuture<T::Output>>| {
            if !batch.is_empty() {
                self.shared
                    .submit_batch(std::mem::take(batch), &opts, &mut |a| {
                        out.push(TaskFuture::from_any(a, JobValue::get::<T::Output>))
                    });
            }
        };
        for mut t in iter {
            let own = t.dependencies();
            if !own.is_empty() {
                // Futures as arguments: submitted after them, in input order.
                flush(&mut batch, &mut out);
                out.push(self.submit_inner(&[], own, t, opts.clone()));
                continue;
            }
            batch.push(self.prepare(&[], t, &opts));
            if batch.len() == BATCH {
                flush(&mut batch, &mut out);
            }
        }
        flush(&mut batch, &mut out);
        out
    }

    /// Backpressured map: pulls tasks from `tasks` lazily, keeps at most `max_in_flight`
    /// submitted and unconsumed, and yields results in completion order. Memory stays bounded
    /// by `max_in_flight` however long the input is. `max_in_flight` of 0 is treated as 1.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use sofleet_executor::conformance_free_example::Double;
    /// use sofleet_executor::{Client, SubmitOptions, ThreadsBackend};
    ///
    /// let client = Client::new(ThreadsBackend::new(2));
    /// let sum: u64 = futures::executor::block_on(
    ///     client
    ///         .map_bounded((0..10_000u64).map(|x| Double { x }), 64, SubmitOptions::new())
    ///         .map(|r| r.unwrap())
    ///         .fold(0, |a, b| async move { a + b }),
    /// );
    /// assert_eq!(sum, 2 * (10_000 * 9_999 / 2));
    /// ```
    pub fn map_bounded<T, I>(
        &self,
        tasks: I,
        max_in_flight: usize,
        opts: SubmitOptions,
    ) -> MapBounded<T::Output>
    where
        T: Task,
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        let client = self.clone();
        let mut iter = tasks.into_iter();
        MapBounded::new(
            Box::new(move || iter.next().map(|t| client.submit_with(t, opts.clone()))),
            max_in_flight.max(1),
        )
    }

    /// Allows at most `limit` tasks tagged `tag` (see [`SubmitOptions::resources`]) to be
    /// dispatched at once. A limit of 0 holds tagged tasks back until it is raised.
    pub fn set_resource_limit(&self, tag: &str, limit: usize) {
        self.shared.set_resource_limit(tag, Some(limit));
    }

    /// Removes the limit of `tag`.
    pub fn clear_resource_limit(&self, tag: &str) {
        self.shared.set_resource_limit(tag, None);
    }

    /// A stream of progress events from now on (every subscriber gets every event, unbounded,
    /// in scheduler order). Dropping the stream unsubscribes.
    pub fn events(&self) -> EventStream {
        let (tx, rx) = mpsc::unbounded();
        self.shared.subscribe(tx);
        EventStream::new(rx)
    }

    /// Current counters.
    pub fn stats(&self) -> ClientStats {
        self.shared.stats()
    }

    /// Starts recording what a dashboard shows (counters per task name, the task stream) and
    /// returns a handle to read it; later calls return a handle on the same recorder. See
    /// [`monitor`](crate::monitor) for what it keeps and what it costs.
    ///
    /// ```
    /// use sofleet_executor::{Client, ThreadsBackend};
    /// let client = Client::new(ThreadsBackend::new(2));
    /// let monitor = client.monitor();
    /// client.submit_fn("hello", || "world").result().unwrap();
    /// let snapshot = monitor.snapshot(0);
    /// assert_eq!(snapshot.tasks[0].name, "hello");
    /// assert_eq!(snapshot.tasks[0].finished, 1);
    /// ```
    pub fn monitor(&self) -> crate::Monitor {
        self.shared.start_monitor();
        crate::Monitor {
            shared: Arc::downgrade(&self.shared),
            backend: self.shared.backend().name().to_string(),
        }
    }
}
