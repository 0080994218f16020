//! The submit path on the I/O thread: jobs sent in pipelined batches, cancelled entries
//! deleted, the liveness marker refreshed, and everything in flight resubmitted when Redis
//! lost its data.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use sofleet_executor::backend::JobId;
use tokio::sync::mpsc;

use super::state::{Cmd, Inner};
use crate::backoff::{Backoff, reconnect_backoff};
use crate::conn::{Link, ensure_group};
use crate::wire::EncodedJob;

/// Sends dispatched jobs in pipelined batches, deletes cancelled entries, refreshes the
/// liveness marker, and resubmits everything in flight when Redis lost its data. On errors it
/// retries on the [`reconnect_backoff`] schedule; after
/// [`RedisOptions::reconnect_timeout`](crate::RedisOptions::reconnect_timeout) without Redis,
/// it fails every job in flight.
pub(super) async fn writer_loop(
    inner: Arc<Inner>,
    mut link: Link,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
) {
    let mut stop = inner.stop.subscribe();
    let mut unsent: BTreeSet<JobId> = BTreeSet::new();
    let mut cancels: Vec<String> = Vec::new();
    let mut check_marker = false;
    let mut tick = tokio::time::interval(inner.opts.marker_ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    loop {
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { break };
                let mut next = Some(cmd);
                while let Some(cmd) = next {
                    match cmd {
                        Cmd::Send(ids) => unsent.extend(ids),
                        Cmd::Cancel(entry) => cancels.push(entry),
                        Cmd::CheckMarker => check_marker = true,
                    }
                    next = rx.try_recv().ok();
                }
            }
            _ = tick.tick() => check_marker = true,
            _ = stop.changed() => break,
        }
        let mut down_since: Option<Instant> = None;
        let mut backoff = Backoff::new(reconnect_backoff());
        loop {
            match sync(
                &inner,
                &mut link,
                &mut unsent,
                &mut cancels,
                &mut check_marker,
            )
            .await
            {
                Ok(()) => break,
                Err(e) => {
                    link.note_error(&e);
                    check_marker = true;
                    let since = *down_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= inner.opts.reconnect_timeout {
                        inner.fail_all(&format!(
                            "lost the connection to Redis at {} and could not get it back within \
                             {:?} (RedisOptions::reconnect_timeout): {e}; whether the job ran is \
                             unknown — check that redis-server is running",
                            inner.url, inner.opts.reconnect_timeout
                        ));
                        unsent.clear();
                        cancels.clear();
                        break;
                    }
                    let delay = backoff.next_delay();
                    tracing::warn!(url = %inner.url, "redis backend: {e}; retrying in {delay:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        }
    }
}

/// One round of the writer: the marker (if due), the cancels, then every unsent job.
async fn sync(
    inner: &Inner,
    link: &mut Link,
    unsent: &mut BTreeSet<JobId>,
    cancels: &mut Vec<String>,
    check_marker: &mut bool,
) -> redis::RedisResult<()> {
    let mut c = link.conn().await?;
    if *check_marker {
        let old: Option<String> = redis::cmd("SET")
            .arg(&inner.marker_key)
            .arg(1)
            .arg("PX")
            .arg(inner.opts.marker_ttl.as_millis() as u64)
            .arg("GET")
            .query_async(&mut c)
            .await?;
        if old.is_none() {
            let all: Vec<JobId> = inner.jobs.lock().keys().copied().collect();
            tracing::warn!(
                url = %inner.url,
                "redis backend: Redis lost its data (restart?); resubmitting {} jobs",
                all.len()
            );
            ensure_group(&mut c, &inner.keys.jobs, &inner.keys.group).await?;
            unsent.extend(all);
        }
        *check_marker = false;
    }
    if !cancels.is_empty() {
        redis::cmd("XDEL")
            .arg(&inner.keys.jobs)
            .arg(&*cancels)
            .query_async::<()>(&mut c)
            .await?;
        cancels.clear();
    }
    while !unsent.is_empty() {
        let mut batch: Vec<(JobId, Arc<EncodedJob>)> = Vec::new();
        {
            let map = inner.jobs.lock();
            while batch.len() < inner.opts.batch_size {
                let Some(id) = unsent.pop_first() else { break };
                if let Some(j) = map.get(&id) {
                    batch.push((id, j.encoded.clone()));
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let mut pipe = redis::pipe();
        for (_, enc) in &batch {
            let cmd = pipe.cmd("XADD").arg(&inner.keys.jobs).arg("*");
            for (k, v) in &enc.fields {
                cmd.arg(*k).arg(&**v);
            }
        }
        match pipe.query_async::<Vec<String>>(&mut c).await {
            Ok(entry_ids) => {
                let mut map = inner.jobs.lock();
                for ((id, _), entry) in batch.iter().zip(entry_ids) {
                    if let Some(j) = map.get_mut(id) {
                        j.entry_id = Some(entry);
                    }
                }
            }
            Err(e) => {
                unsent.extend(batch.iter().map(|(id, _)| *id));
                return Err(e);
            }
        }
    }
    Ok(())
}
