//! A map split into independently locked shards, so that unrelated keys never contend.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

use crate::digest_hash::DigestHashing;

const SHARDS: usize = 16;

/// A hash map split into [`SHARDS`] mutex-guarded parts. `S` hashes keys, twice over:
/// one hasher picks the shard, another places the key in the shard's table.
#[derive(Debug)]
pub(crate) struct ShardedMap<K, V, S = RandomState> {
    shards: Vec<Mutex<HashMap<K, V, S>>>,
    hasher: S,
}

/// A pair of independent hashers for [`ShardedMap`]: the first places keys within a
/// shard, the second picks the shard.
pub(crate) trait ShardHashing: BuildHasher + Clone + Sized {
    /// Two independent hashers.
    fn pair() -> (Self, Self);
}

impl ShardHashing for RandomState {
    fn pair() -> (Self, Self) {
        (RandomState::new(), RandomState::new())
    }
}

impl ShardHashing for DigestHashing {
    fn pair() -> (Self, Self) {
        DigestHashing::pair()
    }
}

impl<K: Hash + Eq, V, S: ShardHashing> ShardedMap<K, V, S> {
    pub(crate) fn new() -> Self {
        let (within, shard) = S::pair();
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_hasher(within.clone())))
                .collect(),
            hasher: shard,
        }
    }

    /// Locks the shard that holds `key`, given as the key or as a borrowed form of it
    /// (`Borrow` promises both hash alike, so they pick the same shard).
    pub(crate) fn shard<Q>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, V, S>>
    where
        K: Borrow<Q>,
        Q: Hash + ?Sized,
    {
        // Shard count is a power of two; the modulo keeps the index in range.
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        lock(&self.shards[index])
    }

    /// Locks each shard in turn (for sweeps such as purging).
    pub(crate) fn each_shard(&self) -> impl Iterator<Item = MutexGuard<'_, HashMap<K, V, S>>> {
        self.shards.iter().map(lock)
    }
}

/// Every critical section here leaves its map consistent before it can panic (there is no
/// code that can panic between two related writes), so a poisoned lock is safe to reuse.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
