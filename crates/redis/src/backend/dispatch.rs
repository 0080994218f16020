//! The executor's [`Backend`] trait on [`RedisBackend`]: jobs encoded and handed to the
//! writer, cancellation, readiness and shutdown.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use sofleet_executor::backend::{CompletionSink, Job, JobId, JobOutcome};
use sofleet_executor::{Backend, BackendError};

use super::RedisBackend;
use super::state::{Cmd, InFlight};
use crate::wire;

#[async_trait]
impl Backend for RedisBackend {
    fn name(&self) -> &str {
        "redis"
    }

    fn runs_in_process(&self) -> bool {
        false
    }

    fn attach(&self, sink: CompletionSink) {
        if self.inner.sink.set(sink).is_err() {
            tracing::warn!("redis backend attached twice; keeping the first client");
        }
    }

    fn dispatch(&self, jobs: Vec<Job>) {
        let inner = &self.inner;
        let mut rejected = Vec::new();
        let mut ids = Vec::with_capacity(jobs.len());
        let closed = inner.closed.load(Ordering::SeqCst);
        {
            let mut map = inner.jobs.lock();
            for job in jobs {
                if closed {
                    rejected.push((
                        job.id,
                        JobOutcome::BackendError(format!(
                            "task {}: the redis backend has been shut down",
                            job.key
                        )),
                    ));
                    continue;
                }
                match wire::encode_job(&job, &inner.reply_key, inner.opts.max_payload_bytes) {
                    Ok(enc) => {
                        map.insert(
                            job.id,
                            InFlight {
                                key: job.key,
                                encoded: Arc::new(enc),
                                entry_id: None,
                                started: false,
                            },
                        );
                        ids.push(job.id);
                    }
                    Err(msg) => rejected.push((job.id, JobOutcome::BackendError(msg))),
                }
            }
        }
        if !ids.is_empty() && inner.tx.send(Cmd::Send(ids.clone())).is_err() {
            let mut map = inner.jobs.lock();
            for id in ids {
                if let Some(j) = map.remove(&id) {
                    rejected.push((
                        id,
                        JobOutcome::BackendError(format!(
                            "task {}: the redis backend's I/O thread has stopped",
                            j.key
                        )),
                    ));
                }
            }
        }
        inner.report(rejected);
    }

    fn cancel(&self, id: JobId) {
        let removed = self.inner.jobs.lock().remove(&id);
        if let Some(job) = removed {
            if let Some(entry) = job.entry_id {
                // Not yet taken by a worker: it never will be. Taken: the result is ignored.
                let _ = self.inner.tx.send(Cmd::Cancel(entry));
            }
            self.inner.report(vec![(id, JobOutcome::Cancelled)]);
        }
    }

    async fn ready(&self) -> Result<(), BackendError> {
        self.on_control("PING", |link, _| {
            Box::pin(async move {
                let mut c = link.conn().await?;
                redis::cmd("PING").query_async::<()>(&mut c).await
            })
        })
        .await
        .map_err(|e| BackendError::new(e.to_string()))
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.inner
            .fail_all("the redis backend was shut down before the job finished");
        let inner = self.inner.clone();
        let cleanup = self.inner.handle.spawn(async move {
            let del = async {
                let mut link = inner.control.lock().await;
                if let Ok(mut c) = link.conn().await {
                    let _ = redis::cmd("DEL")
                        .arg(&inner.reply_key)
                        .arg(&inner.marker_key)
                        .query_async::<()>(&mut c)
                        .await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), del).await;
        });
        let _ = cleanup.await;
        let _ = self.inner.stop.send(true);
        Ok(())
    }
}
