//! The result poster: results to reply streams, acknowledged and deleted job entries.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Shared, recreate_group};
use crate::backoff::{Backoff, worker_backoff};
use crate::conn::{Link, is_nogroup};

/// A message to the result poster.
pub(super) enum Post {
    Started {
        reply: String,
        job: u64,
    },
    Done {
        entry_id: String,
        reply: String,
        job: u64,
        kind: &'static str,
        data: Vec<u8>,
        ok: bool,
    },
    /// Acknowledge and delete an entry that cannot be answered (no reply stream).
    Drop {
        entry_id: String,
    },
}

/// Posts results (XADD to reply streams) and acknowledges + deletes the job entries, in
/// batches, one MULTI/EXEC transaction per batch. Retries on the [`worker_backoff`]
/// schedule (recreating a lost consumer group first); while the worker stops, for at most
/// 10 s.
pub(super) async fn poster_loop(
    mut link: Link,
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Post>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let mut backoff = Backoff::new(worker_backoff());
        let mut stop_deadline: Option<Instant> = None;
        loop {
            let Err(e) = post_batch(&mut link, &shared, &batch).await else {
                break;
            };
            link.note_error(&e);
            let nogroup = is_nogroup(&e);
            if nogroup && recreate_group(&mut link, &shared).await {
                continue;
            }
            if shared.stopping.load(Ordering::SeqCst) {
                let deadline =
                    *stop_deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(10));
                if Instant::now() >= deadline {
                    tracing::error!(
                        worker = %shared.consumer,
                        "giving up posting {} results while stopping ({e}); the jobs \
                         stay pending and will be reclaimed by another worker",
                        batch.len()
                    );
                    break;
                }
            }
            let delay = backoff.next_delay();
            if !nogroup {
                tracing::warn!(
                    worker = %shared.consumer,
                    url = %shared.url,
                    "posting results failed ({e}); retrying in {delay:?}"
                );
            }
            tokio::time::sleep(delay).await;
        }
    }
}

async fn post_batch(link: &mut Link, shared: &Shared, batch: &[Post]) -> redis::RedisResult<()> {
    let mut c = link.conn().await?;
    let mut pipe = redis::pipe();
    pipe.atomic();
    let mut acks: Vec<&str> = Vec::new();
    let mut replies: BTreeSet<&str> = BTreeSet::new();
    let (mut done, mut failed) = (0u64, 0u64);
    // A job that finished within this batch needs no separate "started" report.
    let finished: HashSet<(&str, u64)> = batch
        .iter()
        .filter_map(|p| match p {
            Post::Done { reply, job, .. } => Some((reply.as_str(), *job)),
            _ => None,
        })
        .collect();
    for p in batch {
        match p {
            Post::Started { reply, job } if finished.contains(&(reply.as_str(), *job)) => {}
            Post::Started { reply, job } => {
                pipe.cmd("XADD")
                    .arg(reply)
                    .arg("*")
                    .arg("j")
                    .arg(*job)
                    .arg("t")
                    .arg("s")
                    .arg("w")
                    .arg(&shared.consumer)
                    .ignore();
                replies.insert(reply);
            }
            Post::Done {
                entry_id,
                reply,
                job,
                kind,
                data,
                ok,
            } => {
                pipe.cmd("XADD")
                    .arg(reply)
                    .arg("*")
                    .arg("j")
                    .arg(*job)
                    .arg("t")
                    .arg(*kind)
                    .arg("d")
                    .arg(data.as_slice())
                    .arg("w")
                    .arg(&shared.consumer)
                    .ignore();
                replies.insert(reply);
                acks.push(entry_id);
                done += 1;
                if !ok {
                    failed += 1;
                }
            }
            Post::Drop { entry_id } => acks.push(entry_id),
        }
    }
    let ttl = shared.opts.reply_ttl.as_millis().max(1000) as u64;
    for r in &replies {
        pipe.cmd("PEXPIRE").arg(*r).arg(ttl).ignore();
    }
    if !acks.is_empty() {
        pipe.cmd("XACK")
            .arg(&shared.keys.jobs)
            .arg(&shared.keys.group)
            .arg(&acks)
            .ignore();
        pipe.cmd("XDEL").arg(&shared.keys.jobs).arg(&acks).ignore();
    }
    pipe.query_async::<()>(&mut c).await?;
    shared.completed.fetch_add(done, Ordering::Relaxed);
    shared.failed.fetch_add(failed, Ordering::Relaxed);
    let mut pending = shared.pending.lock();
    for a in acks {
        pending.remove(a);
    }
    Ok(())
}
