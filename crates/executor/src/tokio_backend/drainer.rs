//! The drainer task: takes the jobs dispatched one by one (or in batches) from the backend's
//! queue and runs them in chunks, so quick successive dispatches share one spawn and one report.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::chunk::{Reports, run_chunk, run_jobs};
use super::{CHUNK, Inner};
use crate::backend::{CompletionSink, Job};

/// How long a drainer that keeps finding jobs waits (spinning, without yielding) for the next
/// before it exits: more than a `submit` takes, so a loop of `submit` calls keeps one drainer.
const LINGER: Duration = Duration::from_micros(5);

/// Most rounds (takes of the queue) one drainer task runs before it hands the queue over, so
/// that it does not keep its worker from other tasks (e.g. on a current-thread runtime).
const MAX_ROUNDS: u32 = 64;

/// Largest job buffer a drainer keeps for the queue.
const MAX_BUFFER: usize = 1024;

/// The drainer task ([`Queue`](super::Queue)): owns the queue, takes every job queued and runs
/// them in chunks (the first inline, the others on chunk tasks of their own, spreading over the
/// workers), reports them, then takes what was queued meanwhile, until the queue stays empty.
/// Jobs dispatched one at a time in quick succession (a loop of `submit`, or the dependents its
/// reports release) thus share one spawn, and their reports are batched: quick jobs are
/// reported when the queue is empty (while jobs stream in, after waiting up to [`LINGER`] for
/// more) and at least every [`FLUSH_AFTER`](super::FLUSH_AFTER). While they stream in, the
/// drainer also lets a few gather before it takes them ([`gather`]), so that a round's costs
/// are shared as in a batch. Taking jobs makes their entries ([`entries`](super::entries)): a
/// dispatch only queues.
///
/// A job queued while the drainer runs others waits for them, like a job in a chunk. So that
/// it is not held back long, the drainer hands the queue to a new drainer (on another worker if
/// one is free) before its next poll once it has been running jobs for
/// [`FLUSH_AFTER`](super::FLUSH_AFTER), and a dispatch finding it in one round (or one poll) for
/// that long gives the queue to a new drainer at once. (A job queued just as a long first poll
/// begins still waits for it, unless another dispatch comes.)
pub(super) async fn drain(inner: Arc<Inner>, sink: CompletionSink, generation: u64) {
    /// Should the drainer panic (e.g. in a waker its reports wake) or be dropped, another takes
    /// the queue, so jobs dispatched later still run.
    struct Release<'a>(&'a Arc<Inner>, &'a CompletionSink, u64);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            let Release(inner, sink, generation) = *self;
            let mut q = inner.queue.jobs.lock();
            if q.generation != generation {
                return;
            }
            if q.jobs.is_empty() {
                q.drainer = false;
            } else {
                let generation = inner.new_owner(&mut q);
                drop(q);
                inner
                    .handle
                    .spawn(drain(inner.clone(), sink.clone(), generation));
            }
        }
    }
    let release = Release(&inner, &sink, generation);
    drain_rounds(&inner, &sink, generation).await;
    std::mem::forget(release);
}

/// The body of [`drain`], until it gives up the queue.
async fn drain_rounds(inner: &Arc<Inner>, sink: &CompletionSink, generation: u64) {
    let mut rounds = 0u32;
    // The jobs of a round; its buffer goes back to the queue (no allocation per round).
    let mut jobs: Vec<Job> = Vec::new();
    // Quick jobs' reports, across rounds (sent at least every FLUSH_AFTER).
    let mut done = Reports::default();
    // Whether jobs keep coming while reports are pending (e.g. from a loop of `submit`, which
    // does not wait for them): then, when the queue is empty, first wait a moment for more
    // before reporting, unless the last reports released jobs (dependents, whose runs wait
    // for the reports).
    let mut stream = false;
    let mut released = true;
    loop {
        if done.due() {
            done.flush(sink);
        }
        // The queue's lock, unless a dispatch found this drainer stuck in a round and gave the
        // queue to another: then this drainer reports what it ran and exits.
        macro_rules! lock_owned {
            () => {{
                let q = inner.queue.jobs.lock();
                if q.generation != generation {
                    drop(q);
                    done.flush(sink);
                    return;
                }
                q
            }};
        }
        let cancelled = {
            let mut q = lock_owned!();
            let streaming = rounds >= 2 && inner.linger;
            if !q.jobs.is_empty() && !done.list.is_empty() {
                stream = true;
            }
            if q.jobs.is_empty() && streaming && stream && !released {
                drop(q);
                stream = linger(inner);
                q = lock_owned!();
            }
            if q.jobs.is_empty() {
                drop(q);
                released = done.flush_released(sink);
                q = lock_owned!();
                // Jobs are coming one by one: wait for the next a moment (spinning, a few
                // microseconds) rather than have the next dispatch spawn a drainer.
                if q.jobs.is_empty() && streaming {
                    drop(q);
                    linger(inner);
                    q = lock_owned!();
                }
                if q.jobs.is_empty() {
                    q.drainer = false;
                    return;
                }
            }
            if streaming && stream && !released && q.jobs.len() < GATHER {
                // Jobs are coming one by one: let a few more come, to run them as one round.
                drop(q);
                gather(inner);
                q = lock_owned!();
            }
            if jobs.capacity() > MAX_BUFFER {
                jobs = Vec::new();
            }
            inner.take_queued(&mut q, &mut jobs)
        };
        inner.admit(sink, &mut jobs, cancelled);
        rounds += 1;
        if jobs.len() > CHUNK {
            let mut rest = jobs.drain(CHUNK..);
            loop {
                let chunk: Vec<Job> = rest.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                inner
                    .handle
                    .spawn(run_chunk(inner.clone(), sink.clone(), chunk));
            }
        }
        let mut owner = Some((generation, Instant::now()));
        run_jobs(inner, sink, &mut jobs, &mut done, &mut owner).await;
        if owner.is_none() {
            done.flush(sink);
            return;
        }
        if rounds == MAX_ROUNDS {
            // Let the runtime run other tasks: a new drainer goes on with the queue.
            done.flush(sink);
            hand_over(inner, sink);
            return;
        }
    }
}

/// Hands the queue to a new drainer task (the caller no longer owns it).
pub(super) fn hand_over(inner: &Arc<Inner>, sink: &CompletionSink) {
    let generation = inner.new_owner(&mut inner.queue.jobs.lock());
    inner
        .handle
        .spawn(drain(inner.clone(), sink.clone(), generation));
}

/// Spins up to [`LINGER`] until a job is queued; whether one was.
fn linger(inner: &Inner) -> bool {
    let start = Instant::now();
    loop {
        if inner.queue.len.load(Ordering::Relaxed) > 0 {
            return true;
        }
        if start.elapsed() >= LINGER {
            return false;
        }
        for _ in 0..64 {
            std::hint::spin_loop();
        }
    }
}

/// How many jobs a drainer fed one by one waits for ([`gather`]) before it takes the queue.
const GATHER: usize = 16;

/// How long a drainer waits for [`GATHER`] jobs at most: about what a dozen `submit` calls take.
const GATHER_WAIT: Duration = Duration::from_micros(20);

/// Spins up to [`GATHER_WAIT`] until [`GATHER`] jobs are queued. A loop of `submit` calls
/// queues jobs about as fast as the drainer runs no-ops: taking them as they come, the drainer
/// would take one or two per round and pay a round's costs (the queue's lock, whose cache line
/// the submitting thread then has to fetch back, and a report) for each; gathering a few first
/// makes those costs shared, as for a batch.
fn gather(inner: &Inner) {
    let start = Instant::now();
    let mut next_look = Duration::from_micros(1);
    loop {
        let waited = start.elapsed();
        if waited >= GATHER_WAIT {
            return;
        }
        // Reading the queue's length pulls its cache line from the submitting thread: look
        // once a microsecond.
        if waited >= next_look {
            if inner.queue.len.load(Ordering::Relaxed) >= GATHER {
                return;
            }
            next_look = waited + Duration::from_micros(1);
        }
        for _ in 0..16 {
            std::hint::spin_loop();
        }
    }
}
