//! Facts about this machine and process that workers report: the host name and the resident
//! memory (the heartbeat of a Redis worker, a dashboard's row for a local backend, a crawl
//! worker's budget key).

/// This machine's host name: `/etc/hostname`, else `$HOSTNAME`; `None` when neither says.
///
/// ```
/// if let Some(name) = sofleet_executor::machine::host_name() {
///     assert!(!name.is_empty() && name == name.trim());
/// }
/// ```
pub fn host_name() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
}

/// Resident memory of this process in bytes, from `/proc/self/status` (Linux); `None`
/// elsewhere or when it cannot be read.
///
/// ```
/// if cfg!(target_os = "linux") {
///     assert!(sofleet_executor::machine::resident_memory().unwrap() > 0);
/// }
/// ```
pub fn resident_memory() -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::vm_rss_bytes;

    #[test]
    fn reads_the_vm_rss_line_in_kilobytes() {
        let status = "Name:\tsofleet\nVmPeak:\t  200 kB\nVmRSS:\t   51200 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_bytes(status), Some(51200 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\tlots kB\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\t12 MB\n"), None);
    }
}
