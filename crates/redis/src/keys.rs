//! Redis key names shared by clients and workers.

/// Key names of one sofleet deployment (one namespace).
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// Namespace prefix.
    pub ns: String,
    /// The job stream.
    pub jobs: String,
    /// The consumer group of workers on the job stream.
    pub group: String,
}

impl Keys {
    pub(crate) fn new(ns: &str, group: &str) -> Self {
        Keys {
            ns: ns.to_string(),
            jobs: format!("{ns}:jobs"),
            group: group.to_string(),
        }
    }

    /// The reply stream of one client.
    pub(crate) fn reply(&self, client_id: &str) -> String {
        format!("{}:reply:{client_id}", self.ns)
    }

    /// The liveness marker of one client (its absence after a reconnect means Redis lost data).
    pub(crate) fn client_marker(&self, client_id: &str) -> String {
        format!("{}:client:{client_id}", self.ns)
    }

    /// The heartbeat key of one worker.
    pub(crate) fn worker(&self, consumer: &str) -> String {
        format!("{}:worker:{consumer}", self.ns)
    }

    /// SCAN pattern matching every worker heartbeat key.
    pub(crate) fn worker_pattern(&self) -> String {
        format!("{}:worker:*", self.ns)
    }
}

/// A random 64-bit hex id (no external RNG needed: std's randomly seeded hasher).
pub(crate) fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced() {
        let k = Keys::new("ns", "g");
        assert_eq!(k.jobs, "ns:jobs");
        assert_eq!(k.reply("c1"), "ns:reply:c1");
        assert_eq!(k.worker("w"), "ns:worker:w");
        assert_eq!(k.worker_pattern(), "ns:worker:*");
        assert_ne!(random_hex(), random_hex());
    }
}
