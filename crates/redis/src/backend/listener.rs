//! The reply listener on the I/O thread: reads this client's reply stream and reports each
//! job once.

use std::sync::Arc;

use redis::Value;
use sofleet_executor::backend::JobId;

use super::state::{Cmd, Inner};
use crate::backoff::{Backoff, reconnect_backoff};
use crate::conn::Link;
use crate::wire::{self, Reply};

/// Reads this client's reply stream and reports to the sink; trims what it has read. On
/// errors it asks the writer to check the liveness marker and retries on the
/// [`reconnect_backoff`] schedule, restarted after each successful read.
pub(super) async fn reader_loop(inner: Arc<Inner>, mut link: Link) {
    let mut stop = inner.stop.subscribe();
    let mut last = "0-0".to_string();
    let mut trimmed = last.clone();
    let mut was_down = false;
    let mut backoff = Backoff::new(reconnect_backoff());
    loop {
        let trim = trimmed != last;
        let read = async {
            let mut c = link.conn().await?;
            let mut xread = redis::cmd("XREAD");
            xread
                .arg("COUNT")
                .arg(4096)
                .arg("BLOCK")
                .arg(inner.opts.read_block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&inner.reply_key)
                .arg(&last);
            let v: Value = if !trim {
                xread.query_async(&mut c).await?
            } else {
                // Entries before the last one read are no longer needed: trim them in the
                // same round trip as the next read.
                let mut pipe = redis::pipe();
                pipe.cmd("XTRIM")
                    .arg(&inner.reply_key)
                    .arg("MINID")
                    .arg(&last)
                    .ignore()
                    .add_command(xread);
                let (v,): (Value,) = pipe.query_async(&mut c).await?;
                v
            };
            wire::parse_read(v).map_err(|m| {
                redis::RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "bad XREAD reply",
                    m,
                ))
            })
        };
        let r = tokio::select! {
            r = read => r,
            _ = stop.changed() => return,
        };
        match r {
            Ok(entries) => {
                backoff.reset();
                if was_down {
                    was_down = false;
                    tracing::info!(url = %inner.url, "redis backend: reconnected to Redis");
                    let _ = inner.tx.send(Cmd::CheckMarker);
                }
                if trim {
                    trimmed = last.clone();
                }
                if let Some(e) = entries.last() {
                    last = e.id.clone();
                }
                handle_replies(&inner, entries);
            }
            Err(e) => {
                link.note_error(&e);
                if !was_down {
                    tracing::warn!(url = %inner.url, "redis backend: reading replies failed: {e}");
                }
                was_down = true;
                // Redis may come back as a new server whose stream ids do not continue ours:
                // re-read the (trimmed) stream from its start; repeats are ignored.
                last = "0-0".to_string();
                trimmed = last.clone();
                let _ = inner.tx.send(Cmd::CheckMarker);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_delay()) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

/// Reports the started and finished jobs of `entries` (each job's first result only).
fn handle_replies(inner: &Inner, entries: Vec<wire::Entry>) {
    let mut started = Vec::new();
    let mut done = Vec::new();
    {
        let mut map = inner.jobs.lock();
        for e in &entries {
            match wire::decode_reply(e) {
                Ok((job, Reply::Started)) => {
                    if let Some(j) = map.get_mut(&JobId(job))
                        && !j.started
                    {
                        j.started = true;
                        started.push(JobId(job));
                    }
                }
                Ok((job, Reply::Done(outcome))) => {
                    // Exactly once: a job run twice (reclaimed, resubmitted) reports only the
                    // first result.
                    if let Some(j) = map.remove(&JobId(job)) {
                        if !j.started {
                            started.push(JobId(job));
                        }
                        done.push((JobId(job), outcome));
                    }
                }
                Err(msg) => tracing::warn!("redis backend: ignoring reply: {msg}"),
            }
        }
    }
    if let Some(sink) = inner.sink.get() {
        for id in started {
            sink.started(id);
        }
    }
    inner.report(done);
}
