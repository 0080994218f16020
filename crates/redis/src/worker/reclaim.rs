//! Lost workers: reclaiming their jobs (or giving up on them) and removing their consumers.

use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use redis::Value;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::job::Runner;
use super::poster::Post;
use super::read::{MAX_META_BYTES, STRIP_LUA, parse_error};
use super::{Shared, recreate_group};
use crate::conn::{Link, is_nogroup};
use crate::wire::{self, Entry};

/// `KEYS[1]` the job stream; `ARGV`: group, consumer, min idle ms, cursor, count, limit on
/// payload plus inputs, limit on other fields. `XAUTOCLAIM` whose entries pass through
/// `strip` (an oversized job stuck with a dead worker is not read either), with each claimed
/// entry's delivery count (this delivery included): `{cursor, entries, counts}`.
static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        r"{}
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local limit, meta_limit = tonumber(ARGV[6]), tonumber(ARGV[7])
local out, counts = {{}}, {{}}
for _, e in ipairs(r[2]) do
  if type(e) == 'table' and type(e[2]) == 'table' then
    out[#out + 1] = strip(e, limit, meta_limit)
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    counts[#counts + 1] = (p[1] and p[1][4]) or 1
  end
end
return {{r[1], out, counts}}
",
        *STRIP_LUA
    ))
});

/// `KEYS[1]` the job stream, `KEYS[2]` the consumer's heartbeat key; `ARGV`: group, consumer,
/// `1` to require that the heartbeat key is gone. Deletes the consumer only if it has no
/// pending entry (`XGROUP DELCONSUMER` would drop them) and, if asked, no live heartbeat.
/// Returns 1 if deleted, 0 if not.
static REMOVE_CONSUMER: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
",
    )
});

/// One reclaim step of the read loop: claims jobs of lost workers (using up to all of
/// `permits`) and starts them or gives up on them, then removes consumers of dead workers.
/// Errors are logged (the read loop backs off on its own errors).
pub(super) async fn step(
    runner: &Runner,
    link: &mut Link,
    cursor: &mut String,
    permits: &mut Vec<OwnedSemaphorePermit>,
) {
    let shared = &runner.shared;
    match reclaim(link, shared, cursor, permits.len()).await {
        Ok(claimed) => {
            for (entry, deliveries) in claimed {
                let limit = shared.opts.max_deliveries as u64;
                if deliveries > limit {
                    give_up(shared, &runner.post, entry, deliveries);
                } else if let Some(p) = permits.pop() {
                    shared.reclaimed.fetch_add(1, Ordering::Relaxed);
                    runner.start(entry, p);
                }
            }
        }
        Err(e) => {
            link.note_error(&e);
            if is_nogroup(&e) {
                recreate_group(link, shared).await;
            } else {
                tracing::warn!(worker = %shared.consumer, "reclaiming jobs failed: {e}");
            }
            return;
        }
    }
    if let Err(e) = remove_dead_consumers(link, shared).await {
        link.note_error(&e);
        tracing::warn!(worker = %shared.consumer, "removing dead consumers failed: {e}");
    }
}

/// Claims up to `count` jobs idle longer than the visibility timeout, with their delivery
/// counts (including this delivery).
async fn reclaim(
    link: &mut Link,
    shared: &Shared,
    cursor: &mut String,
    count: usize,
) -> redis::RedisResult<Vec<(Entry, u64)>> {
    let mut c = link.conn().await?;
    let v: Value = CLAIM
        .key(&shared.keys.jobs)
        .arg(&shared.keys.group)
        .arg(&shared.consumer)
        .arg(shared.opts.visibility_timeout.as_millis() as u64)
        .arg(cursor.as_str())
        .arg(count)
        .arg(shared.opts.max_payload_bytes)
        .arg(MAX_META_BYTES)
        .invoke_async(&mut c)
        .await?;
    let Value::Array(mut parts) = v else {
        return Err(parse_error("the reclaim script did not return an array"));
    };
    let counts = if parts.len() == 3 { parts.pop() } else { None };
    let (next, entries) = wire::parse_autoclaim(Value::Array(parts)).map_err(parse_error)?;
    *cursor = next;
    let counts: Vec<u64> = match counts {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Int(n) => u64::try_from(n).unwrap_or(1),
                _ => 1,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let deliveries = counts.get(i).copied().unwrap_or(1);
        tracing::warn!(
            worker = %shared.consumer,
            entry = %entry.id,
            deliveries,
            "reclaimed a job whose worker stopped responding"
        );
        out.push((entry, deliveries));
    }
    Ok(out)
}

/// Deletes the consumers of the group that have no pending entry, have been idle for
/// [`WorkerOptions::consumer_idle_removal`](crate::WorkerOptions::consumer_idle_removal) and
/// have no live heartbeat (workers that were killed). Returns how many were deleted.
async fn remove_dead_consumers(link: &mut Link, shared: &Shared) -> redis::RedisResult<usize> {
    let mut c = link.conn().await?;
    let v: Value = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(&shared.keys.jobs)
        .arg(&shared.keys.group)
        .query_async(&mut c)
        .await?;
    let window = shared.opts.consumer_idle_removal.as_millis() as u64;
    let dead: Vec<String> = wire::parse_consumers(v)
        .map_err(parse_error)?
        .into_iter()
        .filter(|c| c.name != shared.consumer && c.pending == 0 && c.idle_ms >= window)
        .map(|c| c.name)
        .collect();
    let mut removed = 0;
    for name in dead {
        let deleted: i64 = REMOVE_CONSUMER
            .key(&shared.keys.jobs)
            .key(shared.keys.worker(&name))
            .arg(&shared.keys.group)
            .arg(&name)
            .arg(1)
            .invoke_async(&mut c)
            .await?;
        if deleted == 1 {
            removed += 1;
            tracing::info!(
                worker = %shared.consumer,
                "removed consumer {name} of a worker gone for over {:?}",
                shared.opts.consumer_idle_removal
            );
        }
    }
    Ok(removed)
}

/// On a graceful stop, after every result is posted: deletes this worker's consumer unless
/// entries are still pending for it (they stay for another worker to reclaim).
pub(super) async fn remove_own_consumer(link: &mut Link, shared: &Shared) {
    let remove = async {
        let mut c = link.conn().await?;
        REMOVE_CONSUMER
            .key(&shared.keys.jobs)
            .key(shared.keys.worker(&shared.consumer))
            .arg(&shared.keys.group)
            .arg(&shared.consumer)
            .arg(0)
            .invoke_async::<i64>(&mut c)
            .await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), remove).await {
        Ok(Ok(1)) => tracing::debug!(worker = %shared.consumer, "left the consumer group"),
        Ok(Ok(_)) => tracing::warn!(
            worker = %shared.consumer,
            "jobs are still pending for this worker: its consumer stays in the group until \
             another worker reclaims them"
        ),
        Ok(Err(e)) => {
            tracing::warn!(worker = %shared.consumer, "leaving the consumer group failed: {e}")
        }
        Err(_) => tracing::warn!(
            worker = %shared.consumer,
            "leaving the consumer group timed out"
        ),
    }
}

fn give_up(shared: &Shared, post: &mpsc::UnboundedSender<Post>, entry: Entry, deliveries: u64) {
    shared.given_up.fetch_add(1, Ordering::Relaxed);
    let lost = deliveries.saturating_sub(1);
    let what = format!(
        "task {} ({} v{})",
        entry.get_str("k").unwrap_or("?"),
        entry.get_str("n").unwrap_or("?"),
        entry.get_str("v").unwrap_or("?")
    );
    let message = format!(
        "{what}: worker lost {lost} times (each worker running it died or stopped responding \
         for longer than the visibility timeout); giving up after {lost} deliveries \
         (WorkerOptions::max_deliveries = {})",
        shared.opts.max_deliveries
    );
    tracing::error!(worker = %shared.consumer, "{message}");
    shared.pending.lock().insert(entry.id.clone());
    let _ = post.send(match (entry.get_str("r"), entry.get_u64("j")) {
        (Some(reply), Some(job)) => Post::Done {
            entry_id: entry.id.clone(),
            reply: reply.to_string(),
            job,
            kind: "be",
            data: message.into_bytes(),
            ok: false,
        },
        _ => Post::Drop {
            entry_id: entry.id.clone(),
        },
    });
}
