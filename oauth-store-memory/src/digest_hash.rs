//! Hashing for maps keyed by SHA-256 digests ([`SecretHash`](oauth_core::SecretHash)).
//!
//! A digest is already uniformly distributed, so hashing it again with SipHash (the
//! standard maps' default, built to resist chosen keys) buys nothing: eight of its bytes
//! are as good a hash. Every key such a map stores is the digest of a value the engine drew
//! at random, so no one can choose which keys are stored, and a lookup of a chosen digest
//! only probes. A random seed per map keeps bucket positions unpredictable all the same.
//! The same holds for the profile interner's keys, each the output of a randomly keyed
//! SipHash the store computes itself: as uniform as a digest, and chosen by no one.
//!
//! Two lanes read different bytes of the digest: one picks a key's shard, the other hashes
//! it within the shard, so the two are independent (a shard's keys would otherwise share
//! the bits that place them in its table).

use std::hash::{BuildHasher, Hasher};

use oauth_core::RandomSource;

/// Builds [`DigestHasher`]s that read one lane (8 bytes) of each digest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestHashing {
    lane: usize,
    seed: u64,
}

impl DigestHashing {
    /// The lane that places keys within a shard, and the lane that picks the shard.
    pub(crate) fn pair() -> (Self, Self) {
        (Self::new(0), Self::new(1))
    }

    fn new(lane: usize) -> Self {
        let mut seed = [0u8; 8];
        // Without a seed the placement is merely predictable, never wrong, and the keys
        // are random digests: an unavailable random source is not worth failing over.
        let _ = RandomSource::new().fill(&mut seed);
        Self {
            lane,
            seed: u64::from_le_bytes(seed),
        }
    }
}

impl BuildHasher for DigestHashing {
    type Hasher = DigestHasher;

    fn build_hasher(&self) -> DigestHasher {
        DigestHasher {
            lane: self.lane,
            state: self.seed,
        }
    }
}

/// Hashes a digest by one lane of its bytes; anything else it is given (the length
/// prefix `Hash` writes for an array, or a key that is not a digest) is mixed in whole.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestHasher {
    lane: usize,
    state: u64,
}

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        let start = self.lane * 8;
        if let Some(lane) = bytes.get(start..start + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(lane);
            self.state ^= u64::from_le_bytes(word);
            return;
        }
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.state = mix(self.state ^ u64::from_le_bytes(word));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.state = mix(self.state ^ n as u64);
    }

    fn finish(&self) -> u64 {
        mix(self.state)
    }
}

/// MurmurHash3's 64-bit finalizer: a bijection whose every output bit depends on every
/// input bit, so the table's low bits and its control byte's high bits are both random.
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::SecretHash;

    #[test]
    fn lanes_read_different_bytes_and_seeds_differ() {
        let (within, shard) = DigestHashing::pair();
        let mut a = [0u8; 32];
        a[0] = 1;
        let mut b = [0u8; 32];
        b[8] = 1;
        let (a, b) = (SecretHash(a), SecretHash(b));
        // The placing lane sees only a's change, the shard lane only b's.
        let zero = SecretHash([0u8; 32]);
        assert_ne!(within.hash_one(a), within.hash_one(zero));
        assert_eq!(within.hash_one(b), within.hash_one(zero));
        assert_ne!(shard.hash_one(b), shard.hash_one(zero));
        assert_eq!(shard.hash_one(a), shard.hash_one(zero));
        let (other, _) = DigestHashing::pair();
        assert_ne!(
            other.hash_one(zero),
            within.hash_one(zero),
            "seeded per map"
        );
    }

    #[test]
    fn random_digests_spread_over_shards_and_buckets() {
        let (within, shard) = DigestHashing::pair();
        let random = RandomSource::new();
        let mut shards = [0u32; 16];
        let mut buckets = [0u32; 64];
        for _ in 0..16_000 {
            let mut digest = [0u8; 32];
            random.fill(&mut digest).unwrap();
            let key = SecretHash(digest);
            let s = (shard.hash_one(key) % 16) as usize;
            shards[s] += 1;
            if s == 0 {
                // Within one shard, the low bits still spread evenly.
                buckets[(within.hash_one(key) % 64) as usize] += 1;
            }
        }
        assert!(shards.iter().all(|n| (800..1200).contains(n)), "{shards:?}");
        assert!(
            buckets.iter().all(|n| (0..40).contains(n) && *n > 2),
            "{buckets:?}"
        );
    }

    #[test]
    fn other_keys_are_mixed_whole() {
        let (within, _) = DigestHashing::pair();
        assert_ne!(within.hash_one("a"), within.hash_one("b"));
        assert_ne!(within.hash_one(1u64), within.hash_one(2u64));
    }
}
