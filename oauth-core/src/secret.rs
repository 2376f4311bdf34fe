//! Secret values: random generation, hashing for storage, constant-time comparison.
//!
//! Codes, tokens and client secrets are high-entropy random values (256 bits), so a
//! single SHA-256 is the right hash for them: there is nothing to brute-force, and a
//! lookup by hash stays one cheap index probe. Stores only ever see [`SecretHash`].

pub(crate) mod base64url;
mod draw;

use std::fmt;

use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::Fault;

pub(crate) use draw::Draw;

/// Number of random bytes in every code, token and generated secret (256 bits).
pub const SECRET_BYTES: usize = 32;

/// Number of random bytes in every generated id (128 bits).
const ID_BYTES: usize = 16;

/// The SHA-256 hash of a code, token or client secret: what storage keeps instead of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// Hashes a secret value as presented on the wire.
    pub fn of(secret: &str) -> Self {
        let digest = digest::digest(&digest::SHA256, secret.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }

    /// Compares two hashes in constant time.
    pub fn ct_eq(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, for storage backends that keep text.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to tell hashes apart in logs.
        write!(f, "SecretHash({}…)", &self.to_hex()[..12])
    }
}

/// The engine's source of secure randomness (ring's `SystemRandom`).
///
/// A request that needs several values draws them all in one call (a crate-private
/// `Draw`); [`secret`](Self::secret) and [`id`](Self::id) are single draws.
#[derive(Debug, Clone)]
pub struct RandomSource {
    rng: SystemRandom,
}

impl Default for RandomSource {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomSource {
    /// The operating system's secure generator.
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
        }
    }

    /// Fills `out` with random bytes.
    pub fn fill(&self, out: &mut [u8]) -> Result<(), Fault> {
        self.rng.fill(out).map_err(|_| Fault::Random)
    }

    /// A new 256-bit secret, base64url without padding (43 characters).
    pub fn secret(&self) -> Result<String, Fault> {
        self.draw(1, 0)?.secret()
    }

    /// A new random identifier (128 bits, base64url), for grants and pending requests.
    pub fn id(&self) -> Result<String, Fault> {
        self.draw(0, 1)?.id()
    }
}

/// Compares two byte strings in constant time (for equal lengths).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;

    #[test]
    fn secrets_are_43_base64url_characters_and_distinct() {
        let random = RandomSource::new();
        let a = random.secret().unwrap();
        let b = random.secret().unwrap();
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn tk12_one_million_secrets_are_distinct_256_bit_values() {
        let random = RandomSource::new();
        let mut seen = std::collections::HashSet::with_capacity(1_000_000);
        for _ in 0..1_000_000 {
            let secret = random.secret().unwrap();
            let bytes = URL_SAFE_NO_PAD.decode(&secret).unwrap();
            assert_eq!(bytes.len(), SECRET_BYTES, "256 random bits each");
            assert!(seen.insert(bytes), "a secret repeated");
        }
    }

    #[test]
    fn hash_is_sha256() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            SecretHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let text = format!("{:?}", SecretHash::of("abc"));
        assert_eq!(text, "SecretHash(ba7816bf8f01…)");
    }
}
