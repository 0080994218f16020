//! The hash maps of the scheduler and the tokio backend.
//!
//! Node ids are sequential `u64`s and job ids are `node << JobId::DISPATCH_BITS | dispatch`
//! (see [`JobId`](crate::backend::JobId)); [`SequentialHasher`] keeps that order in the low bits
//! of the hash, so entries made (and mostly finished) in order sit in neighbouring buckets
//! (cache- and prefetch-friendly), while hashbrown's control tag (the top 7 bits) gets a mix of
//! the whole id. Task keys (strings) use `foldhash`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes one `u64` as `value >> SHIFT` in the low bits plus a mixed 7-bit tag on top.
/// `SHIFT` drops bits that do not count up (e.g. a job id's dispatch counter and shard).
#[derive(Default)]
pub(crate) struct SequentialHasher<const SHIFT: u32>(u64);

impl<const SHIFT: u32> Hasher for SequentialHasher<SHIFT> {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only single `u64` ids are hashed with this hasher; fold anything else in.
        for b in bytes {
            self.write_u64(self.0 ^ u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        const TAG: u64 = 0xFE00_0000_0000_0000;
        self.0 = (n.rotate_right(SHIFT) & !TAG) | (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) & TAG);
    }
}

/// A map keyed by the scheduler's sequential node ids.
pub(crate) type NodeMap<V> = HashMap<u64, V, BuildHasherDefault<SequentialHasher<0>>>;

/// A map keyed by task keys (or anything else that is not a sequential id).
pub(crate) type KeyMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
