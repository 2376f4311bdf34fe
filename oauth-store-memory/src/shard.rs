//! One shard of a [`ShardedMap`](crate::sharded::ShardedMap): a hash map whose entries sit
//! in a vector, in no particular order, so that a sweep can stop at any entry and resume
//! there on its next step.
//!
//! A standard `HashMap` can only be swept whole (`retain`), so a purge step would cost the
//! size of the map, not the size of the step. Here the table holds positions into
//! `entries`, and a sweep walks `entries` from the front: the first `swept` entries are
//! those it has seen. Every change keeps that prefix exact: a new entry goes at the end;
//! a removed entry's place is taken by the last entry, and when the removed entry had
//! been seen, the last entry seen takes its place first and the prefix shrinks by one, so
//! no entry moves from the unseen part into the seen one. A sweep that reaches the end
//! has therefore seen every entry that was stored when it began and is still stored.
//!
//! A position costs the table 8 bytes per entry where a `HashMap` keeps the key and value
//! in its table; the key and value move to the vector, so the two layouts weigh about the
//! same (the benchmark suite's bytes per grant say by how much).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

/// A hash map, `K` to `V`, hashing keys with `S`, whose entries can be swept in steps.
#[derive(Debug)]
pub(crate) struct Shard<K, V, S> {
    /// Positions in `entries`, placed by the hash of the key at that position.
    positions: HashTable<usize>,
    entries: Vec<(K, V)>,
    /// How many entries, from the front, the current sweep has seen.
    swept: usize,
    hasher: S,
}

/// What one step of [`Shard::sweep`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    /// How many entries it looked at.
    pub(crate) visited: usize,
    /// How many of those it removed.
    pub(crate) removed: usize,
    /// Whether it reached the end of the entries.
    pub(crate) finished: bool,
}

impl<K: Hash + Eq, V, S: BuildHasher> Shard<K, V, S> {
    /// An empty shard hashing keys with `hasher`.
    pub(crate) fn with_hasher(hasher: S) -> Self {
        Self {
            positions: HashTable::new(),
            entries: Vec::new(),
            swept: 0,
            hasher,
        }
    }

    /// The position of `key`'s entry.
    fn position<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // Some maps are nearly always empty (grants revoked before they were issued): a
        // lookup there need not hash at all.
        if self.entries.is_empty() {
            return None;
        }
        self.position_hashed(self.hasher.hash_one(key), key)
    }

    /// The position of `key`'s entry, given the key's hash.
    fn position_hashed<Q>(&self, hash: u64, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let entries = &self.entries;
        self.positions
            .find(hash, |&at| entries[at].0.borrow() == key)
            .copied()
    }

    /// Whether `key` has an entry.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.position(key).is_some()
    }

    /// The value of `key`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key).map(|(_, value)| value)
    }

    /// The stored key equal to `key`, and its value.
    pub(crate) fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let at = self.position(key)?;
        self.entries.get(at).map(|(key, value)| (key, value))
    }

    /// The value of `key`, to change.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let at = self.position(key)?;
        self.entries.get_mut(at).map(|(_, value)| value)
    }

    /// Stores `value` under `key`, answering the value it replaces (the stored key stays,
    /// as a `HashMap` keeps it).
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hasher.hash_one(&key);
        if let Some(at) = self.position_hashed(hash, &key) {
            return self
                .entries
                .get_mut(at)
                .map(|(_, stored)| std::mem::replace(stored, value));
        }
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.positions
            .insert_unique(hash, entries.len(), |&at| hasher.hash_one(&entries[at].0));
        self.entries.push((key, value));
        None
    }

    /// The value of `key`, stored first as `make` makes it if there is none.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let at = match self.position(&key) {
            Some(at) => at,
            None => {
                self.insert(key, make());
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    /// Removes `key`'s entry, answering its value.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let at = self.position(key)?;
        Some(self.remove_at(at).1)
    }

    /// Removes the entry at `at` (which holds one), keeping the seen prefix exact (see
    /// the module docs).
    fn remove_at(&mut self, mut at: usize) -> (K, V) {
        if at < self.swept {
            // Seen: the last seen entry takes its place, and the doomed entry leaves from
            // the end of the prefix, which no longer counts it.
            self.swept -= 1;
            self.swap(at, self.swept);
            at = self.swept;
        }
        self.swap_remove(at)
    }

    /// Exchanges the entries at `a` and `b`, and their positions.
    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let hash_a = self.hasher.hash_one(&self.entries[a].0);
        let hash_b = self.hasher.hash_one(&self.entries[b].0);
        // Through a mark no position can equal: while `a`'s slot and `b`'s would both say
        // `b`, the second lookup could find the first's.
        self.repoint(hash_a, a, usize::MAX);
        self.repoint(hash_b, b, a);
        self.repoint(hash_a, usize::MAX, b);
        self.entries.swap(a, b);
    }

    /// Removes the entry at `at`: the last entry takes its place.
    fn swap_remove(&mut self, at: usize) -> (K, V) {
        let hash = self.hasher.hash_one(&self.entries[at].0);
        if let Ok(slot) = self.positions.find_entry(hash, |&p| p == at) {
            slot.remove();
        }
        let removed = self.entries.swap_remove(at);
        if let Some((moved, _)) = self.entries.get(at) {
            let hash = self.hasher.hash_one(moved);
            self.repoint(hash, self.entries.len(), at);
        }
        removed
    }

    /// The slot of the key hashing to `hash` that says `from` says `to` instead.
    fn repoint(&mut self, hash: u64, from: usize, to: usize) {
        if let Some(position) = self.positions.find_mut(hash, |&p| p == from) {
            *position = to;
        }
    }

    /// Keeps only the entries `keep` accepts (it may change their values, not their keys).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut at = 0;
        while let Some((key, value)) = self.entries.get_mut(at) {
            if keep(key, value) {
                at += 1;
            } else {
                self.remove_at(at);
            }
        }
    }

    /// One step of the sweep: from the first entry it has not seen, looks at up to
    /// `budget` entries and removes those `keep` refuses, stopping early once `limit` are
    /// removed. A removed entry's place is taken by the last entry, which the same step
    /// looks at next.
    pub(crate) fn sweep(
        &mut self,
        budget: usize,
        limit: usize,
        mut keep: impl FnMut(&K, &mut V) -> bool,
    ) -> Swept {
        let mut step = Swept {
            visited: 0,
            removed: 0,
            finished: false,
        };
        while step.visited < budget && step.removed < limit {
            let at = self.swept;
            let Some((key, value)) = self.entries.get_mut(at) else {
                break;
            };
            step.visited += 1;
            if keep(key, value) {
                self.swept += 1;
            } else {
                self.remove_at(at);
                step.removed += 1;
            }
        }
        step.finished = self.swept >= self.entries.len();
        step
    }

    /// Starts the sweep again from the front.
    pub(crate) fn restart_sweep(&mut self) {
        self.swept = 0;
    }

    /// Every key, in no particular order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(key, _)| key)
    }

    /// Every value, in no particular order.
    #[cfg(test)]
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }

    /// How many entries the shard holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::hash::RandomState;

    fn shard() -> Shard<u64, u64, RandomState> {
        Shard::with_hasher(RandomState::new())
    }

    /// Every operation agrees with a `HashMap` given the same sequence, removals and
    /// sweep steps moving entries around included.
    #[test]
    fn agrees_with_a_hash_map() {
        let (mut ours, mut theirs) = (shard(), HashMap::new());
        // A fixed mix of inserts, replacements, removals and lookups over a small key
        // range, so that keys come back after removal.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let key = (state >> 33) % 512;
            match (state >> 20) % 7 {
                0 | 1 => assert_eq!(ours.insert(key, state), theirs.insert(key, state)),
                2 => assert_eq!(ours.remove(&key), theirs.remove(&key)),
                3 => {
                    // A short sweep step removing some of what it sees: the map loses
                    // exactly those.
                    let mut removed = Vec::new();
                    ours.sweep(5, 2, |key, _| {
                        let keep = key % 5 != 0;
                        if !keep {
                            removed.push(*key);
                        }
                        keep
                    });
                    for key in removed {
                        assert!(theirs.remove(&key).is_some());
                    }
                }
                4 if state.is_multiple_of(16) => ours.restart_sweep(),
                _ => assert_eq!(ours.get(&key), theirs.get(&key)),
            }
            assert_eq!(ours.len(), theirs.len());
        }
        for key in 0..512 {
            assert_eq!(ours.get(&key), theirs.get(&key));
            assert_eq!(ours.contains_key(&key), theirs.contains_key(&key));
        }
        ours.retain(|key, _| key % 3 == 0);
        theirs.retain(|key, _| key % 3 == 0);
        let keys: HashSet<u64> = ours.keys().copied().collect();
        assert_eq!(keys, theirs.keys().copied().collect());
        for key in 0..512 {
            assert_eq!(ours.get(&key), theirs.get(&key));
        }
    }

    /// Steps never look at more than their budget, and a sweep that reaches the end
    /// has removed every entry it was asked to (including those moved into removed
    /// entries' places), whatever the budget and limit.
    #[test]
    fn a_sweep_in_steps_sees_every_entry_within_its_budget() {
        for (budget, limit) in [(1, 1), (3, 2), (7, 100), (64, 5), (10_000, 10_000)] {
            let mut ours = shard();
            for key in 0..1_000 {
                ours.insert(key, key);
            }
            let (mut steps, mut removed) = (0, 0);
            loop {
                let step = ours.sweep(budget, limit, |key, _| key % 4 != 0);
                assert!(step.visited <= budget && step.removed <= limit);
                removed += step.removed;
                steps += 1;
                if step.finished {
                    break;
                }
            }
            assert_eq!(removed, 250, "budget {budget}, limit {limit}");
            assert_eq!(ours.len(), 750);
            for key in 0..1_000 {
                assert_eq!(ours.get(&key).is_some(), key % 4 != 0);
            }
            assert!(steps >= 1_000 / budget.min(1_000));
        }
    }

    /// Removals and inserts between a sweep's steps, in the part it has seen and in the
    /// part it has not, never make it miss an entry stored before it began: the prefix
    /// it has seen stays exact.
    #[test]
    fn changes_between_steps_never_hide_an_entry_from_the_sweep() {
        let mut ours = shard();
        for key in 0..2_000 {
            ours.insert(key, 0);
        }
        let mut seen = HashSet::new();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        loop {
            let step = ours.sweep(13, usize::MAX, |key, _| {
                seen.insert(*key);
                true
            });
            // Between steps: remove an entry at random (seen or not), and now and then
            // store a new one (not too often: the last entry, which a removal moves, must
            // mostly be one stored before the sweep).
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let victim = (state >> 33) % 2_000;
            ours.remove(&victim);
            if state.is_multiple_of(8) {
                ours.insert(10_000 + (state >> 40), 0);
            }
            if step.finished {
                break;
            }
        }
        for key in ours.keys().filter(|key| **key < 2_000) {
            assert!(
                seen.contains(key),
                "entry {key} was stored throughout and never seen"
            );
        }
        for key in 0..2_000 {
            // Positions still lead to their own keys after all the moves.
            if let Some((found, _)) = ours.get_key_value(&key) {
                assert_eq!(*found, key);
            }
        }
    }
}
