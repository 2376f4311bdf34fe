//! PKCE challenges (and DPoP key thumbprints, the same 43 characters) packed six bits a
//! character.

use oauth_core::{CodeChallenge, StorageError, StorageErrorKind, CHALLENGE_LEN as LEN};
/// Bytes that hold [`LEN`] six-bit characters (258 bits).
const PACKED: usize = (LEN * 6).div_ceil(8);

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A code's PKCE challenge, its 43 base64url characters packed in 33 bytes, kept inline
/// instead of as a 43-byte string on the heap behind a 24-byte `String`. The packing is of
/// the characters, not a base64 decoding, so any string of the alphabet round-trips: a
/// DPoP key's thumbprint (also a SHA-256 digest in base64url) is packed the same way
/// ([`crate::bound_key::BoundKey`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackedChallenge([u8; PACKED]);

impl PackedChallenge {
    /// Packs `challenge`. `CodeChallenge` only ever holds 43 base64url characters, so the
    /// error is for a future core that allowed other challenges.
    pub(crate) fn new(challenge: &CodeChallenge) -> Result<Self, StorageError> {
        Self::pack(challenge.as_str()).ok_or_else(|| {
            StorageError::new(
                StorageErrorKind::Backend,
                "a code challenge that is not 43 base64url characters",
            )
        })
    }

    /// Packs `text` if it is 43 base64url characters, any of them (`None` otherwise).
    pub(crate) fn pack(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != LEN {
            return None;
        }
        let mut packed = [0u8; PACKED];
        for (index, &character) in text.iter().enumerate() {
            let value = sextet(character)?;
            // Bits [6·index, 6·index + 6) of the big-endian stream, which span at most two
            // bytes: shifted into place within a 16-bit window over those bytes.
            let bit = index * 6;
            let window = u16::from(value) << (10 - bit % 8);
            let [high, low] = window.to_be_bytes();
            packed[bit / 8] |= high;
            if low != 0 {
                packed[bit / 8 + 1] |= low;
            }
        }
        Some(Self(packed))
    }

    /// The challenge.
    pub(crate) fn get(&self) -> Result<CodeChallenge, StorageError> {
        CodeChallenge::try_from(self.text()).map_err(|e| {
            StorageError::with_source(StorageErrorKind::Corrupt, "a packed code challenge", e)
        })
    }

    /// The 43 characters, as [`PackedChallenge::pack`] took them.
    pub(crate) fn text(&self) -> String {
        let mut text = String::with_capacity(LEN);
        for index in 0..LEN {
            let bit = index * 6;
            let next = self.0.get(bit / 8 + 1).copied().unwrap_or(0);
            let window = u16::from_be_bytes([self.0[bit / 8], next]);
            let value = (window >> (10 - bit % 8)) & 0x3f;
            text.push(char::from(ALPHABET[usize::from(value)]));
        }
        text
    }
}

/// The six-bit value of a base64url character.
fn sextet(character: u8) -> Option<u8> {
    match character {
        b'A'..=b'Z' => Some(character - b'A'),
        b'a'..=b'z' => Some(character - b'a' + 26),
        b'0'..=b'9' => Some(character - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_round_trip() {
        for verifier in [
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "-._~-._~-._~-._~-._~-._~-._~-._~-._~-._~-._~",
        ] {
            let challenge = CodeChallenge::from_verifier(verifier);
            let packed = PackedChallenge::new(&challenge).unwrap();
            assert_eq!(packed.get().unwrap(), challenge);
        }
    }

    #[test]
    fn every_character_survives_at_every_position() {
        // RFC 7636 Appendix B's challenge, with each position set to each character; the
        // last position carries padding bits that CodeChallenge checks, so it is kept.
        let base = CodeChallenge::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        for position in 0..LEN - 1 {
            for &character in ALPHABET {
                let mut text = base.as_str().as_bytes().to_vec();
                text[position] = character;
                let challenge =
                    CodeChallenge::s256(std::str::from_utf8(&text).unwrap(), Some("S256")).unwrap();
                let packed = PackedChallenge::new(&challenge).unwrap();
                assert_eq!(packed.get().unwrap(), challenge);
            }
        }
    }

    #[test]
    fn is_thirty_three_bytes() {
        assert_eq!(std::mem::size_of::<PackedChallenge>(), 33);
        assert_eq!(std::mem::size_of::<Option<PackedChallenge>>(), 34);
    }
}
