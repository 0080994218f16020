//! Job entries and cancellation. A job's entry ([`Slot`]) is made when a drainer takes the job
//! from the queue (*admits* it), not when it is dispatched: a dispatch then writes the queue
//! only, and the entries are written, read and removed on the drainer's and chunks' side — a
//! loop of `submit` calls does not pull the shards' memory back and forth between the
//! submitting thread and the worker running the jobs.
//!
//! A job is thus, between dispatch and report, in one of three places: queued (in
//! [`Queue::jobs`]), *in transit* (taken by a drainer, its entry not yet made), or entered (in
//! its shard). A cancel locks the queue, then its shard, and:
//! - finds the entry: removes it and reports the job cancelled (aborting its task, if any);
//! - else, if jobs are queued, records the id in [`Queue::cancel_queued`]: the next take takes
//!   the whole queue, drops the job if it is there and reports it cancelled, and forgets the
//!   records (a job not taken then was not queued when its cancel came);
//! - else, if jobs are in transit, records the id in [`Queue::cancel_in_transit`]: a drainer
//!   ending a transit removes those entries (the drainer owning the job does so before it runs
//!   any job of its round), and the records are forgotten once no jobs are in transit.
//!
//! Otherwise the job has already been reported (or was never dispatched): nothing to do.
//! [`Backend::shutdown`](crate::Backend::shutdown) cancels queued jobs, entered ones and, through
//! [`Queue::shut_down_in_transit`], those in transit.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use super::{Inner, Queue, Slot};
use crate::backend::{CompletionSink, Job, JobId, JobOutcome};

impl Inner {
    /// Takes every queued job into `jobs` (whose buffer the queue gets back), under the queue
    /// lock `q`: the jobs are then in transit until [`admit`](Self::admit) makes their entries.
    /// Returns the ids of queued jobs cancelled since the last take.
    pub(super) fn take_queued(&self, q: &mut Queue, jobs: &mut Vec<Job>) -> Vec<JobId> {
        self.queue.len.store(0, Ordering::Relaxed);
        std::mem::swap(&mut q.jobs, jobs);
        q.in_transit += 1;
        std::mem::take(&mut q.cancel_queued)
    }

    /// Ends the transit of the jobs [`take_queued`](Self::take_queued) took: drops (and
    /// reports) those cancelled while queued, makes the others' entries, then applies the
    /// cancels that came meanwhile. Call it before running any of `jobs`.
    pub(super) fn admit(&self, sink: &CompletionSink, jobs: &mut Vec<Job>, cancelled: Vec<JobId>) {
        let mut reports = Vec::new();
        if !cancelled.is_empty() {
            let cancelled: HashSet<JobId> = cancelled.into_iter().collect();
            jobs.retain(|job| {
                let keep = !cancelled.contains(&job.id);
                if !keep {
                    reports.push(job.id);
                }
                keep
            });
        }
        for job in jobs.iter() {
            self.shard(job.id).insert(job.id, Slot::Pending);
        }
        let (in_transit_cancels, shut_down) = {
            let mut q = self.queue.jobs.lock();
            q.in_transit -= 1;
            let shut_down = q.shut_down_in_transit;
            let cancels = if q.in_transit == 0 {
                q.shut_down_in_transit = false;
                std::mem::take(&mut q.cancel_in_transit)
            } else {
                // Some may be another drainer's, still in transit: it applies them too.
                q.cancel_in_transit.clone()
            };
            (cancels, shut_down)
        };
        let ids = in_transit_cancels.into_iter().chain(
            shut_down
                .then(|| jobs.iter().map(|job| job.id))
                .into_iter()
                .flatten(),
        );
        for id in ids {
            if let Some(slot) = self.shard(id).remove(&id) {
                slot.abort();
                reports.push(id);
            }
        }
        for id in reports {
            sink.completed(id, JobOutcome::Cancelled);
        }
    }

    /// [`Backend::cancel`](crate::Backend::cancel) (see the module docs).
    pub(super) fn cancel(&self, id: JobId) {
        let slot = {
            let mut q = self.queue.jobs.lock();
            let slot = self.shard(id).remove(&id);
            if slot.is_none() {
                if !q.jobs.is_empty() {
                    q.cancel_queued.push(id);
                }
                if q.in_transit > 0 {
                    q.cancel_in_transit.push(id);
                }
                return;
            }
            slot
        };
        if let Some(slot) = slot {
            slot.abort();
        }
        if let Some(sink) = self.sink.get() {
            sink.completed(id, JobOutcome::Cancelled);
        }
    }

    /// Cancels every job dispatched and not reported (see the module docs).
    pub(super) fn cancel_all(&self) {
        let queued = {
            let mut q = self.queue.jobs.lock();
            self.queue.len.store(0, Ordering::Relaxed);
            q.cancel_queued.clear();
            if q.in_transit > 0 {
                q.shut_down_in_transit = true;
            }
            std::mem::take(&mut q.jobs)
        };
        let mut cancelled: Vec<JobId> = queued.iter().map(|job| job.id).collect();
        drop(queued);
        for shard in &self.running {
            let entries: Vec<(JobId, Slot)> = shard.lock().drain().collect();
            for (id, slot) in entries {
                slot.abort();
                cancelled.push(id);
            }
        }
        if let Some(sink) = self.sink.get() {
            for id in cancelled {
                sink.completed(id, JobOutcome::Cancelled);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The in-transit window (a job taken by a drainer, its entry not yet made) lasts well under
    //! a microsecond in a real run: these tests take the queue themselves to stand in it.

    use std::time::Duration;

    use crate::backend::Job;
    use crate::conformance_free_example::Double;
    use crate::{Client, ExecError, TaskFuture, TokioBackend};

    /// A client whose four jobs this test has taken from the queue (in transit), with the
    /// cancels recorded while they were queued.
    fn four_jobs_in_transit(
        backend: &TokioBackend,
        client: &Client,
    ) -> (Vec<TaskFuture<u64>>, Vec<Job>, Vec<crate::backend::JobId>) {
        // On a current-thread runtime nothing runs before the test yields: the jobs wait in
        // the queue.
        let futures: Vec<_> = (0..4).map(|x| client.submit(Double { x })).collect();
        let inner = &backend.inner;
        let mut jobs = Vec::new();
        let cancelled = inner.take_queued(&mut inner.queue.jobs.lock(), &mut jobs);
        assert_eq!(jobs.len(), 4);
        (futures, jobs, cancelled)
    }

    fn entered(backend: &TokioBackend, jobs: &[Job]) -> Vec<bool> {
        let inner = &backend.inner;
        jobs.iter()
            .map(|job| inner.shard(job.id).contains_key(&job.id))
            .collect()
    }

    /// Every future ends cancelled and the backend reported every job.
    async fn all_cancelled(client: &Client, futures: Vec<TaskFuture<u64>>) {
        for (i, f) in futures.into_iter().enumerate() {
            let r = tokio::time::timeout(Duration::from_secs(10), f)
                .await
                .unwrap_or_else(|_| panic!("job {i} never settled"));
            assert!(matches!(r, Err(ExecError::Cancelled { .. })), "{i}: {r:?}");
        }
        assert_eq!(client.stats().in_flight, 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_cancel_during_a_transit_removes_the_entry_once_it_is_made() {
        let backend = TokioBackend::new();
        let client = Client::new(backend.clone());
        let (futures, mut jobs, cancelled) = four_jobs_in_transit(&backend, &client);
        futures[1].cancel();
        let inner = &backend.inner;
        inner.admit(inner.sink.get().unwrap(), &mut jobs, cancelled);
        assert_eq!(entered(&backend, &jobs), [true, false, true, true]);
        // The jobs taken here have no drainer to run them: a shutdown settles the others.
        inner.cancel_all();
        all_cancelled(&client, futures).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_shutdown_during_a_transit_cancels_the_jobs_in_it() {
        let backend = TokioBackend::new();
        let client = Client::new(backend.clone());
        let (futures, mut jobs, cancelled) = four_jobs_in_transit(&backend, &client);
        client.shutdown().await.unwrap();
        let inner = &backend.inner;
        inner.admit(inner.sink.get().unwrap(), &mut jobs, cancelled);
        assert_eq!(entered(&backend, &jobs), [false; 4]);
        all_cancelled(&client, futures).await;
    }
}
