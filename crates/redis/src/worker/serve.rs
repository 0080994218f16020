//! The worker's read loop: free slots taken, jobs of lost workers reclaimed now and then,
//! new jobs read (oversized ones without their payload) and started, until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::sync::Semaphore;

use super::job::Runner;
use super::{read, reclaim, recreate_group};
use crate::backoff::{Backoff, worker_backoff};
use crate::conn::{Link, is_nogroup};
use crate::wire::Entry;

/// Reads and starts jobs until `shutdown` resolves; a read in progress then still finishes and
/// what it got runs. `ctl` is the connection of reclaiming and group recreation, `reader` the
/// one of the (blocking) reads. Read errors are retried on the [`worker_backoff`] schedule,
/// restarted after each successful read.
pub(super) async fn serve(
    runner: &Runner,
    sem: &Arc<Semaphore>,
    ctl: &mut Link,
    reader: &mut Link,
    shutdown: impl Future<Output = ()>,
) {
    let shared = &runner.shared;
    let reclaim_every = shared
        .opts
        .reclaim_interval
        .unwrap_or(shared.opts.visibility_timeout / 4)
        .max(Duration::from_millis(10));
    let mut next_reclaim = Instant::now();
    let mut claim_cursor = "0-0".to_string();
    let mut backoff = Backoff::new(worker_backoff());
    let shutdown = shutdown.fuse();
    futures::pin_mut!(shutdown);
    let mut stopping = false;

    while !stopping {
        let first = tokio::select! {
            p = sem.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let mut permits = vec![first];
        while permits.len() < shared.opts.batch_size {
            match sem.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }

        if Instant::now() >= next_reclaim {
            next_reclaim = Instant::now() + reclaim_every;
            reclaim::step(runner, ctl, &mut claim_cursor, &mut permits).await;
        }
        if permits.is_empty() {
            continue;
        }

        // Whatever is waiting, up to a batch, without blocking; oversized entries come without
        // their payload. Only when nothing waits, block for one entry, then top the batch up.
        let mut result = read::read_batch(reader, shared, permits.len()).await;
        if matches!(&result, Ok(entries) if entries.is_empty()) {
            result = {
                let read = read::read_one(reader, shared);
                futures::pin_mut!(read);
                // A read in progress is never abandoned (its entries would sit in this worker's
                // pending list until reclaimed): on shutdown, let it finish and run what it got.
                tokio::select! {
                    r = &mut read => r,
                    _ = &mut shutdown => {
                        stopping = true;
                        read.await
                    }
                }
            };
            // Start what the blocking read got at once, then top the batch up.
            if let Ok(entries) = &mut result
                && !entries.is_empty()
            {
                let got = std::mem::take(entries);
                runner.start_all(sem, got, &mut permits).await;
                if !permits.is_empty() && !stopping {
                    result = top_up(runner, reader, permits.len()).await;
                }
            }
        }
        match result {
            Ok(entries) => {
                backoff.reset();
                runner.start_all(sem, entries, &mut permits).await;
            }
            Err(e) => {
                reader.note_error(&e);
                if is_nogroup(&e) && recreate_group(ctl, shared).await {
                    continue;
                }
                let delay = backoff.next_delay();
                if !is_nogroup(&e) {
                    tracing::warn!(
                        worker = %shared.consumer,
                        url = %shared.url,
                        "reading jobs failed ({e}); retrying in {delay:?}"
                    );
                }
                drop(permits);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = &mut shutdown, if !stopping => stopping = true,
                }
            }
        }
    }
}

/// The rest of a batch after a blocking read got one entry; on an error (logged) nothing,
/// since the entry already read runs and the next round retries.
async fn top_up(
    runner: &Runner,
    reader: &mut Link,
    count: usize,
) -> redis::RedisResult<Vec<Entry>> {
    match read::read_batch(reader, &runner.shared, count).await {
        Ok(more) => Ok(more),
        Err(e) => {
            reader.note_error(&e);
            tracing::warn!(worker = %runner.shared.consumer, "reading jobs failed: {e}");
            Ok(Vec::new())
        }
    }
}
