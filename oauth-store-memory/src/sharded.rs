//! A map split into independently locked shards, so that unrelated keys never contend.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

use crate::digest_hash::DigestHashing;
use crate::shard::Shard;
use crate::shard_pick::ShardPicking;

const SHARDS: usize = 16;

/// A hash map split into [`SHARDS`] mutex-guarded parts. `S` places keys in a shard's
/// table; its [`ShardHashing::Picker`] picks the shard.
#[derive(Debug)]
pub(crate) struct ShardedMap<K, V, S: ShardHashing = RandomState> {
    shards: Vec<Mutex<Shard<K, V, S>>>,
    picker: S::Picker,
}

/// Where a sweep over a [`ShardedMap`] stands between its steps (each shard knows how far
/// into it the sweep has come).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The shard the sweep is in; past the last one when the sweep is over, where it
    /// stays until restarted.
    shard: usize,
}

impl Cursor {
    /// Whether the sweep has been over every shard.
    pub(crate) fn is_done(&self) -> bool {
        self.shard >= SHARDS
    }
}

/// What one step of [`ShardedMap::sweep`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Step {
    /// How many entries it looked at.
    pub(crate) visited: usize,
    /// How many of those it removed.
    pub(crate) removed: usize,
}

/// The hashing of a [`ShardedMap`]: this hasher places keys within a shard, an
/// independent [`ShardHashing::Picker`] picks the shard.
pub(crate) trait ShardHashing: BuildHasher + Clone + Sized {
    /// What picks a key's shard.
    type Picker: BuildHasher + std::fmt::Debug;
    /// A hasher and a picker, independent of each other.
    fn pair() -> (Self, Self::Picker);
}

/// SipHash within a shard (keys some callers choose, such as client ids); a keyed fast
/// hash picks the shard, where keys that meet only share a lock (see [`ShardPicking`]).
impl ShardHashing for RandomState {
    type Picker = ShardPicking;

    fn pair() -> (Self, ShardPicking) {
        (RandomState::new(), ShardPicking::new())
    }
}

/// Two lanes of the digest's own bytes.
impl ShardHashing for DigestHashing {
    type Picker = DigestHashing;

    fn pair() -> (Self, Self) {
        DigestHashing::pair()
    }
}

impl<K: Hash + Eq, V, S: ShardHashing> ShardedMap<K, V, S> {
    pub(crate) fn new() -> Self {
        let (within, picker) = S::pair();
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Shard::with_hasher(within.clone())))
                .collect(),
            picker,
        }
    }

    /// Locks the shard that holds `key`, given as the key or as a borrowed form of it
    /// (`Borrow` promises both hash alike, so they pick the same shard).
    pub(crate) fn shard<Q>(&self, key: &Q) -> MutexGuard<'_, Shard<K, V, S>>
    where
        K: Borrow<Q>,
        Q: Hash + ?Sized,
    {
        // Shard count is a power of two; the modulo keeps the index in range.
        let index = (self.picker.hash_one(key) as usize) % SHARDS;
        lock(&self.shards[index])
    }

    /// Locks each shard in turn (for whole scans, which are rare: listing clients,
    /// revoking a subject's grants).
    pub(crate) fn each_shard(&self) -> impl Iterator<Item = MutexGuard<'_, Shard<K, V, S>>> {
        self.shards.iter().map(lock)
    }

    /// One step of a sweep over every shard in turn, from `cursor` on: looks at up to
    /// `budget` entries, removes those `keep` refuses, at most `limit` of them, and moves
    /// `cursor` past what it looked at. One shard is locked at a time, for at most
    /// `budget` entries, so a step costs its budget whatever the size of the map. A sweep
    /// sees every entry stored before it began and still stored (an entry stored during
    /// it may be missed).
    pub(crate) fn sweep(
        &self,
        cursor: &mut Cursor,
        budget: usize,
        limit: usize,
        mut keep: impl FnMut(&K, &mut V) -> bool,
    ) -> Step {
        let mut total = Step::default();
        while let Some(shard) = self.shards.get(cursor.shard) {
            let step = lock(shard).sweep(budget - total.visited, limit - total.removed, &mut keep);
            total.visited += step.visited;
            total.removed += step.removed;
            if !step.finished {
                break;
            }
            cursor.shard += 1;
        }
        total
    }

    /// Starts a new sweep: `cursor` and every shard back at the front.
    pub(crate) fn restart_sweep(&self, cursor: &mut Cursor) {
        for shard in &self.shards {
            lock(shard).restart_sweep();
        }
        *cursor = Cursor::default();
    }
}

/// Every critical section here leaves its map consistent before it can panic (there is no
/// code that can panic between two related writes), so a poisoned lock is safe to reuse.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
