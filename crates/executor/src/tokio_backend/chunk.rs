//! Running jobs: a chunk polls each job once inline and reports the quick ones together; a job
//! not finished after its first poll moves to a tokio task of its own, a blocking one to
//! `spawn_blocking`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;

use super::drainer::hand_over;
use super::{FLUSH_AFTER, Inner, Slot};
use crate::backend::{
    CompletionSink, Job, JobId, JobOutcome, JobWork, LocalRunner, RunnerFuture, panic_message,
    run_job_with,
};
use crate::resources::Resources;
use crate::task::{TaskContext, TaskRegistry};

/// A job's future, movable between tasks (both forms are boxed, hence `Unpin`).
enum Work {
    /// An in-process task's own future; panics are caught at every poll.
    Local(RunnerFuture),
    /// A job run by [`run_job_with`] (registry/serialised jobs); it catches panics itself.
    Boxed(BoxFuture<'static, JobOutcome>),
}

impl Work {
    fn new(job: Job, registry: Option<&TaskRegistry>, resources: &Resources) -> Work {
        match job.work {
            JobWork::Local(LocalRunner::Async(f)) => {
                Work::Local(f(TaskContext::new(job.key, job.attempt, job.inputs)
                    .with_resources(resources.clone())))
            }
            _ => Work::Boxed(run_job_with(job, registry, resources)),
        }
    }
}

impl Future for Work {
    type Output = JobOutcome;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<JobOutcome> {
        match &mut *self {
            Work::Local(f) => {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.as_mut().poll(cx)))
                {
                    Ok(Poll::Ready(Ok(v))) => Poll::Ready(JobOutcome::Success(v)),
                    Ok(Poll::Ready(Err(e))) => Poll::Ready(JobOutcome::Failed(e)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(p) => Poll::Ready(JobOutcome::Panicked(panic_message(&*p))),
                }
            }
            Work::Boxed(f) => f.as_mut().poll(cx),
        }
    }
}

/// Spawns `fut` for job `id` (whose entry must exist) and records its abort handle.
pub(super) fn spawn_tracked(
    inner: &Arc<Inner>,
    id: JobId,
    fut: impl Future<Output = ()> + Send + 'static,
) {
    let h = inner.handle.spawn(fut);
    let mut shard = inner.shard(id);
    match shard.get_mut(&id) {
        Some(slot) => *slot = Slot::Running(h.abort_handle()),
        // Already finished (abort is a no-op) or cancelled while spawning.
        None => h.abort(),
    }
}

/// Runs a chunk of jobs on one tokio task: each job is polled once inline, and reported with
/// the chunk's other quick jobs in one batch if it finished; a job that is not finished after
/// its first poll moves to a tokio task of its own (abortable), as does a blocking closure.
pub(super) async fn run_chunk(inner: Arc<Inner>, sink: CompletionSink, mut jobs: Vec<Job>) {
    let mut done = Reports::default();
    run_jobs(&inner, &sink, &mut jobs, &mut done, &mut None).await;
    done.flush(&sink);
}

/// Jobs that finished on their first poll, not reported yet: reported together, but at least
/// every [`FLUSH_AFTER`], so a slow job does not hold back the results of quick ones.
#[derive(Default)]
pub(super) struct Reports {
    pub(super) list: Vec<(JobId, JobOutcome)>,
    /// When the first of them finished.
    since: Option<Instant>,
}

impl Reports {
    pub(super) fn push(&mut self, sink: &CompletionSink, id: JobId, out: JobOutcome) {
        self.list.push((id, out));
        let t = *self.since.get_or_insert_with(Instant::now);
        // Reading the clock costs more than a no-op job: look every 8 reports.
        if self.list.len().is_multiple_of(8) && t.elapsed() >= FLUSH_AFTER {
            self.flush(sink);
        }
    }

    /// Whether the first of them finished [`FLUSH_AFTER`] ago or more.
    pub(super) fn due(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() >= FLUSH_AFTER)
    }

    pub(super) fn flush(&mut self, sink: &CompletionSink) {
        self.since = None;
        sink.started_and_completed_many(std::mem::take(&mut self.list));
    }

    /// [`flush`](Self::flush); whether the reports dispatched jobs (released dependents: the
    /// completion sink dispatches them on this thread, during the flush).
    pub(super) fn flush_released(&mut self, sink: &CompletionSink) -> bool {
        DISPATCHED_HERE.set(false);
        self.flush(sink);
        DISPATCHED_HERE.get()
    }
}

thread_local! {
    /// Set by every dispatch on this thread, read around one flush by
    /// [`Reports::flush_released`]: a per-thread flag, so a dispatch costs no shared write.
    pub(super) static DISPATCHED_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The body of [`run_chunk`]: runs (and empties) `jobs`, adding the quick ones to `done`. A
/// drainer that owns the queue passes its generation and the time it took these jobs in
/// `owner`: once that is [`FLUSH_AFTER`] ago and more jobs are queued, it hands the queue to a
/// new drainer before it polls its next job, and `owner` becomes `None` (as when a dispatch
/// found it stuck in this round and gave the queue to a new drainer).
pub(super) async fn run_jobs(
    inner: &Arc<Inner>,
    sink: &CompletionSink,
    jobs: &mut Vec<Job>,
    done: &mut Reports,
    owner: &mut Option<(u64, Instant)>,
) {
    // While the owner runs this round, a dispatch may find it stuck (`Inner::owner_stuck`).
    let round_since = owner.map(|_| {
        let now = inner.now();
        inner.polling_since.store(now, Ordering::Relaxed);
        now
    });
    for job in jobs.drain(..) {
        let id = job.id;
        if let Some((generation, taken)) = *owner {
            if inner.owner.load(Ordering::Relaxed) != generation {
                *owner = None;
            } else if taken.elapsed() >= FLUSH_AFTER && inner.queue.len.load(Ordering::Relaxed) > 0
            {
                hand_over(inner, sink);
                *owner = None;
            }
        }
        // A job cancelled while queued has no entry any more (its cancel was reported).
        if !inner.shard(id).contains_key(&id) {
            continue;
        }
        if job.is_blocking() {
            let (task_inner, task_sink) = (inner.clone(), sink.clone());
            spawn_tracked(inner, id, run_blocking(task_inner, task_sink, job));
            continue;
        }
        let mut work = Work::new(job, inner.registry.as_ref(), &inner.resources);
        let polled = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut work).poll(cx))).await;
        match polled {
            Poll::Ready(out) => {
                // Whoever removes the entry reports the job (a cancel may have won).
                if inner.shard(id).remove(&id).is_some() {
                    done.push(sink, id, out);
                }
            }
            Poll::Pending => {
                // Cancelled during its first poll: the cancel was reported; drop the job.
                if !inner.shard(id).contains_key(&id) {
                    continue;
                }
                sink.started(id);
                let (task_inner, task_sink) = (inner.clone(), sink.clone());
                // A cancel from now on removes the entry: `spawn_tracked` then aborts the task,
                // or, once it recorded the abort handle, the cancel aborts it.
                spawn_tracked(inner, id, async move {
                    let out = work.await;
                    if task_inner.shard(id).remove(&id).is_some() {
                        task_sink.completed(id, out);
                    }
                });
            }
        }
    }
    if let Some(since) = round_since {
        // Unless a new owner took over meanwhile (and reset it).
        let _ =
            inner
                .polling_since
                .compare_exchange(since, 0, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Runs a blocking closure job where blocking is allowed.
pub(super) async fn run_blocking(inner: Arc<Inner>, sink: CompletionSink, job: Job) {
    let id = job.id;
    sink.started(id);
    let resources = inner.resources.clone();
    let out = match tokio::task::spawn_blocking(move || {
        futures::executor::block_on(run_job_with(job, None, &resources))
    })
    .await
    {
        Ok(o) => o,
        Err(e) => JobOutcome::Panicked(e.to_string()),
    };
    if inner.shard(id).remove(&id).is_some() {
        sink.completed(id, out);
    }
}
