//! Heartbeats and keep-alive of running jobs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Shared, WorkerInfo};
use crate::conn::Link;
use crate::keys::now_ms;

pub(super) fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".to_string())
}

/// Resident memory of this process in bytes, from `/proc/self/status` (Linux); `None`
/// elsewhere or when it cannot be read.
pub(super) fn resident_memory_bytes() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| vm_rss_bytes(&status))
}

/// The `VmRSS:` line of a `/proc/PID/status` text, in bytes (the kernel writes it in kB).
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        _ => None,
    }
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
        rss_bytes: resident_memory_bytes(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tsofleet\nVmPeak:\t  200 kB\nVmRSS:\t   51200 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_bytes(status), Some(50 << 20));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\tlots kB\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\t12 MB\n"), None);
        if cfg!(target_os = "linux") {
            assert!(resident_memory_bytes().is_some_and(|b| b > 0));
        }
    }
}
