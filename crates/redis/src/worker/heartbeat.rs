//! Heartbeats and keep-alive of running jobs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Shared, WorkerInfo};
use crate::conn::Link;
use crate::keys::now_ms;

/// The host name a worker reports (`worker` when the machine does not say).
pub(super) fn host_name() -> String {
    sofleet_executor::machine::host_name().unwrap_or_else(|| "worker".to_string())
}

pub(super) async fn heartbeat_once(link: &mut Link, shared: &Shared) {
    let info = WorkerInfo {
        name: shared.consumer.clone(),
        host: host_name(),
        pid: std::process::id(),
        concurrency: shared.opts.concurrency,
        running: shared.running.load(Ordering::Relaxed),
        completed: shared.completed.load(Ordering::Relaxed),
        failed: shared.failed.load(Ordering::Relaxed),
        rss_bytes: sofleet_executor::machine::resident_memory(),
        addresses: shared.opts.addresses.clone(),
        started_at_ms: shared.started_at_ms,
        heartbeat_ms: now_ms(),
        tasks: shared.tasks.clone(),
    };
    let ttl = (shared.opts.heartbeat_interval * 3).as_millis() as u64 + 500;
    let pending: Vec<String> = shared.pending.lock().iter().cloned().collect();
    let r = async {
        let mut c = link.conn().await?;
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(shared.keys.worker(&shared.consumer))
            .arg(serde_json::to_vec(&info).unwrap_or_default())
            .arg("PX")
            .arg(ttl)
            .ignore();
        if !pending.is_empty() {
            // Keep-alive: reset the idle time of our jobs so no other worker reclaims them
            // (JUSTID does not count as a delivery).
            pipe.cmd("XCLAIM")
                .arg(&shared.keys.jobs)
                .arg(&shared.keys.group)
                .arg(&shared.consumer)
                .arg(0)
                .arg(&pending)
                .arg("JUSTID")
                .ignore();
        }
        pipe.query_async::<()>(&mut c).await
    }
    .await;
    if let Err(e) = r {
        link.note_error(&e);
        tracing::warn!(worker = %shared.consumer, "heartbeat failed: {e}");
    }
}

pub(super) async fn heartbeat_loop(
    mut link: Link,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let period = shared
        .opts
        .heartbeat_interval
        .min(shared.opts.visibility_timeout / 3)
        .max(Duration::from_millis(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => heartbeat_once(&mut link, &shared).await,
            _ = &mut stop => break,
        }
    }
    let key = shared.keys.worker(&shared.consumer);
    if let Ok(mut c) = link.conn().await {
        let _ = redis::cmd("DEL").arg(key).query_async::<()>(&mut c).await;
    }
}
