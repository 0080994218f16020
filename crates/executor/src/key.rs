//! Task keys.
//!
//! # The key rule
//!
//! * An explicit key ([`SubmitOptions::key`](crate::SubmitOptions)) is used as given.
//! * Otherwise a **pure** task (per-type [`Task::PURE`](crate::Task::PURE), overridable with
//!   [`SubmitOptions::pure`](crate::SubmitOptions)) gets the content key
//!   `"{NAME}-{hex}"`, where `hex` is the first 128 bits of the BLAKE3 hash of
//!   `NAME`, `VERSION`, the serde_json bytes of the task struct, and the keys of the futures
//!   it was submitted after (in order).
//! * An **impure** task, and every closure task, gets `"{NAME}-{random 128-bit hex}"`.
//!
//! While a future with a given key is pending, running, finished or failed and at least one
//! handle to it (or a dependent task) is alive, submitting a task with the same key returns that
//! same future and the task does not run again. Once every handle is dropped the key is
//! forgotten and the next submission runs afresh. A cancelled key is replaced by the next
//! submission.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Name of a task type (`Task::NAME`, or the name given to a closure task).
pub type TaskName = Cow<'static, str>;

/// The key identifying a submitted task (see the [module docs](crate::key) for the rule).
/// Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey(Arc<str>);

impl TaskKey {
    /// A key with the given text.
    pub fn new(key: impl AsRef<str>) -> Self {
        TaskKey(Arc::from(key.as_ref()))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Content key from a task name and a finished BLAKE3 hash.
    pub(crate) fn from_hash(name: &str, hash: &[u8; 32]) -> Self {
        Self::with_hex(name, &hash[..16])
    }

    /// Fresh random key for an impure task.
    pub(crate) fn random(name: &str) -> Self {
        Self::with_hex(name, &fresh_random_bits().to_le_bytes())
    }

    fn with_hex(name: &str, bytes: &[u8]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let len = name.len() + 1 + bytes.len() * 2;
        let mut buf = [0u8; 128];
        if len > buf.len() {
            let mut s = String::with_capacity(len);
            s.push_str(name);
            s.push('-');
            for b in bytes {
                s.push(HEX[(b >> 4) as usize] as char);
                s.push(HEX[(b & 15) as usize] as char);
            }
            return TaskKey(Arc::from(s));
        }
        buf[..name.len()].copy_from_slice(name.as_bytes());
        buf[name.len()] = b'-';
        for (i, b) in bytes.iter().enumerate() {
            buf[name.len() + 1 + 2 * i] = HEX[(b >> 4) as usize];
            buf[name.len() + 2 + 2 * i] = HEX[(b & 15) as usize];
        }
        // `name` is UTF-8 and the rest is ASCII, so this never fails.
        match std::str::from_utf8(&buf[..len]) {
            Ok(s) => TaskKey(Arc::from(s)),
            Err(_) => TaskKey(Arc::from(format!("{name}-invalid"))),
        }
    }
}

thread_local! {
    /// Per-thread 128-bit counter, seeded from the OS-seeded `rand` generator.
    static KEY_STATE: std::cell::Cell<u128> = std::cell::Cell::new(rand::random());
}

/// 128 random-looking bits, distinct on every call: a per-thread randomly seeded 128-bit
/// counter (odd step, so it visits every value before repeating) run through a bijective mix.
/// Much cheaper than drawing 16 bytes from a CSPRNG per task; two threads' streams collide
/// only if their random seeds are within a few billion steps of each other (odds ~2^-90).
fn fresh_random_bits() -> u128 {
    const STEP: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
    const MUL: u128 = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645;
    let state = KEY_STATE.with(|s| {
        let v = s.get().wrapping_add(STEP);
        s.set(v);
        v
    });
    let mut x = state;
    x ^= x >> 67;
    x = x.wrapping_mul(MUL);
    x ^= x >> 59;
    x = x.wrapping_mul(MUL);
    x ^ (x >> 64)
}

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl From<&str> for TaskKey {
    fn from(s: &str) -> Self {
        TaskKey::new(s)
    }
}

impl From<String> for TaskKey {
    fn from(s: String) -> Self {
        TaskKey(Arc::from(s))
    }
}

impl AsRef<str> for TaskKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for TaskKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TaskKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TaskKey::from(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_distinct_and_well_formed() {
        let keys: std::collections::HashSet<TaskKey> =
            (0..10_000).map(|_| TaskKey::random("noop")).collect();
        assert_eq!(keys.len(), 10_000);
        for k in keys.iter().take(100) {
            let hex = k.as_str().strip_prefix("noop-").expect("name prefix");
            assert_eq!(hex.len(), 32, "{k}");
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{k}");
        }
        // Another thread's stream does not repeat this one's keys.
        let other: Vec<TaskKey> =
            std::thread::spawn(|| (0..10_000).map(|_| TaskKey::random("noop")).collect())
                .join()
                .expect("thread");
        assert!(other.iter().all(|k| !keys.contains(k)));
    }

    #[test]
    fn random_bits_vary_in_every_position() {
        // Successive values differ in both halves (the mix spreads the counter's steps).
        let a = fresh_random_bits();
        let b = fresh_random_bits();
        assert_ne!(a as u64, b as u64);
        assert_ne!((a >> 64) as u64, (b >> 64) as u64);
    }
}
