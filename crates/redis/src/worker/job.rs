//! How a job runs on a worker: its entry decoded (or refused with a reply), the task run
//! through the registry with the worker's resources, its result sized and handed to the
//! poster.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::FutureExt;
use sofleet_executor::backend::JobOutcome;
use sofleet_executor::{TaskContext, TaskError, TaskKey, TaskRegistry};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::Shared;
use super::poster::Post;
use crate::wire::{self, BadJob, Entry, WireJob};

/// What starting a job needs: the worker's state, its task types and the poster's queue.
#[derive(Clone)]
pub(super) struct Runner {
    pub(super) shared: Arc<Shared>,
    pub(super) registry: Arc<TaskRegistry>,
    pub(super) post: mpsc::UnboundedSender<Post>,
}

impl Runner {
    /// Starts every entry read, each with one of `permits`.
    pub(super) async fn start_all(
        &self,
        sem: &Arc<Semaphore>,
        entries: Vec<Entry>,
        permits: &mut Vec<OwnedSemaphorePermit>,
    ) {
        for entry in entries {
            match permits.pop() {
                Some(p) => self.start(entry, p),
                None => {
                    // Cannot happen (COUNT <= permits), but never lose an entry.
                    if let Ok(p) = sem.clone().acquire_owned().await {
                        self.start(entry, p);
                    }
                }
            }
        }
    }

    /// Runs one entry on its own tokio task (holding `permit` until its result is queued),
    /// or, if it cannot be decoded, queues its refusal.
    pub(super) fn start(&self, entry: Entry, permit: OwnedSemaphorePermit) {
        let shared = &self.shared;
        let post = &self.post;
        shared.pending.lock().insert(entry.id.clone());
        let job = match wire::decode_job(entry, shared.opts.max_payload_bytes, &shared.reply_prefix)
        {
            Ok(job) => job,
            Err(BadJob {
                entry_id,
                reply_to,
                message,
            }) => {
                tracing::warn!(worker = %shared.consumer, "rejecting job entry {entry_id}: {message}");
                let _ = post.send(match reply_to {
                    Some((reply, job)) => Post::Done {
                        entry_id,
                        reply,
                        job,
                        kind: "be",
                        data: message.into_bytes(),
                        ok: false,
                    },
                    None => Post::Drop { entry_id },
                });
                return;
            }
        };
        let shared = shared.clone();
        let registry = self.registry.clone();
        let post = post.clone();
        shared.running.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let WireJob {
                entry_id,
                reply,
                job_id,
                key,
                name,
                version,
                attempt,
                payload,
                inputs,
            } = job;
            if shared.opts.report_started {
                let _ = post.send(Post::Started {
                    reply: reply.clone(),
                    job: job_id,
                });
            }
            let ctx = TaskContext::new(TaskKey::new(&key), attempt, inputs)
                .with_resources(shared.opts.resources.clone());
            // run_serialized catches panics; the outer catch is for a panicking registry itself.
            let outcome = std::panic::AssertUnwindSafe(
                registry.run_serialized(&name, version, ctx, &payload),
            )
            .catch_unwind()
            .await
            .unwrap_or_else(|p| {
                JobOutcome::Panicked(sofleet_executor::backend::panic_message(&*p))
            });
            let (mut kind, mut data) = wire::encode_outcome(&outcome);
            if data.len() > shared.opts.max_payload_bytes {
                let e = TaskError::fatal(format!(
                    "output of task {key} ({name} v{version}) is {} bytes, over the worker's limit \
                     of {} bytes (WorkerOptions::max_payload_bytes)",
                    data.len(),
                    shared.opts.max_payload_bytes
                ));
                (kind, data) = wire::encode_outcome(&JobOutcome::Failed(e));
            }
            let ok = kind == "ok";
            if !ok {
                tracing::debug!(worker = %shared.consumer, task = %key, kind, "job did not succeed");
            }
            let _ = post.send(Post::Done {
                entry_id,
                reply,
                job: job_id,
                kind,
                data,
                ok,
            });
            shared.running.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}
