//! Picking the shard of a key that is not a digest (a client id, a grant id).
//!
//! A [`ShardedMap`](crate::sharded::ShardedMap) hashes every key twice: once to pick its
//! shard and once to place it in that shard's table. Only the second must resist chosen
//! keys, and it does (SipHash, the standard maps' default). Keys that pick the same shard
//! merely share its lock, so the first needs to spread keys evenly, no more: a folded
//! multiplication of each eight bytes by a random odd key, a handful of instructions per
//! eight bytes where SipHash takes about a hundred per key. It is not a cryptographic
//! hash; keys chosen to meet in one shard would share one of sixteen locks, each held for
//! a lookup, and nothing else.

use std::hash::{BuildHasher, Hasher};

use oauth_core::RandomSource;

use crate::digest_hash::mix;

/// Builds [`PickHasher`]s from one random seed and one random odd multiplier per map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShardPicking {
    seed: u64,
    multiplier: u64,
}

impl ShardPicking {
    /// A new random seed.
    pub(crate) fn new() -> Self {
        let mut random = [0u8; 16];
        // Without a seed the shards are merely predictable, never wrong: a key's shard
        // only decides which lock it shares.
        let _ = RandomSource::new().fill(&mut random);
        let (seed, multiplier) = random.split_at(8);
        let word = |bytes: &[u8]| {
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes);
            u64::from_le_bytes(word)
        };
        Self {
            seed: word(seed),
            // Odd, so that the low half of each product depends on every bit of its word.
            multiplier: word(multiplier) | 1,
        }
    }
}

impl BuildHasher for ShardPicking {
    type Hasher = PickHasher;

    fn build_hasher(&self) -> PickHasher {
        PickHasher {
            state: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// Folds a key's bytes eight at a time into its state; [`mix`] spreads the result over
/// every bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PickHasher {
    state: u64,
    multiplier: u64,
}

impl PickHasher {
    /// The state and the word, multiplied by the map's key into 128 bits whose halves are
    /// folded together: how a change of the word moves the state depends on the key.
    fn fold(&mut self, word: u64) {
        let product = u128::from(self.state ^ word) * u128::from(self.multiplier);
        self.state = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for PickHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length first, so that a short last chunk padded with zeros is not the same
        // as a longer one that ends in zeros.
        self.fold(bytes.len() as u64);
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.fold(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        mix(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_spread_evenly_over_the_shards() {
        let picking = ShardPicking::new();
        let mut shards = [0u32; 16];
        // Ids that differ only in a counter, as registered clients often do.
        for n in 0..16_000 {
            let id = format!("client-{n}");
            shards[(picking.hash_one(id.as_str()) % 16) as usize] += 1;
        }
        assert!(shards.iter().all(|n| (850..1150).contains(n)), "{shards:?}");
    }

    #[test]
    fn keys_built_to_collide_under_a_fixed_multiplier_do_not() {
        // With a fixed multiplier, a change of a word's top bits moves the state the same
        // way whatever the seed, so the second word can cancel it: these pairs had one
        // hash under every seed. Under a random multiplier they meet no more than any keys.
        for _ in 0..32 {
            let picking = ShardPicking::new();
            let base = picking.hash_one("client-aBBBBBBB");
            assert_ne!(base, picking.hash_one("client-!BBBJBBB"));
            assert_ne!(base, picking.hash_one("client-!BBBZBBB"));
        }
    }

    #[test]
    fn every_byte_and_the_length_count_and_seeds_differ() {
        let picking = ShardPicking::new();
        let hash = |bytes: &[u8]| {
            let mut hasher = picking.build_hasher();
            hasher.write(bytes);
            hasher.finish()
        };
        assert_ne!(hash(b"abcdefgh-1"), hash(b"abcdefgh-2"));
        assert_ne!(hash(b"ab"), hash(b"ab\0"));
        assert_ne!(hash(b""), hash(b"\0"));
        let other = ShardPicking::new();
        assert_ne!(picking.hash_one("demo-spa"), other.hash_one("demo-spa"));
    }
}
