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
        // Any character outside the alphabet sets this bit ([`INVALID`]).
        let mut invalid = 0u8;
        // The big-endian stream of six-bit values, four characters (24 bits) to three
        // bytes; the last three characters fill two bytes and the top two bits of a third.
        for (characters, bytes) in text.chunks(4).zip(packed.chunks_mut(3)) {
            let mut stream = 0u32;
            for (index, &character) in characters.iter().enumerate() {
                let value = SEXTETS[usize::from(character)];
                invalid |= value;
                stream |= u32::from(value & 0x3f) << (18 - 6 * index);
            }
            for (byte, value) in bytes.iter_mut().zip(&stream.to_be_bytes()[1..]) {
                *byte = *value;
            }
        }
        (invalid & INVALID == 0).then_some(Self(packed))
    }

    /// The challenge.
    pub(crate) fn get(&self) -> Result<CodeChallenge, StorageError> {
        CodeChallenge::try_from(self.text()).map_err(|e| {
            StorageError::with_source(StorageErrorKind::Corrupt, "a packed code challenge", e)
        })
    }

    /// The 43 characters, as [`PackedChallenge::pack`] took them.
    pub(crate) fn text(&self) -> String {
        // Three bytes to four characters; the last group's fourth character is made of
        // padding bits only, and is left out.
        let mut characters = [0u8; PACKED / 3 * 4];
        for (bytes, out) in self.0.chunks(3).zip(characters.chunks_mut(4)) {
            let stream = bytes
                .iter()
                .fold(0u32, |stream, &byte| stream << 8 | u32::from(byte));
            for (index, character) in out.iter_mut().enumerate() {
                *character = ALPHABET[((stream >> (18 - 6 * index)) & 0x3f) as usize];
            }
        }
        // The alphabet is ASCII, so the check cannot fail; if it did, the empty string
        // would be refused as a challenge (Corrupt), not trusted.
        std::str::from_utf8(&characters[..LEN])
            .unwrap_or_default()
            .to_owned()
    }
}

/// Set in a [`SEXTETS`] entry for a byte outside the alphabet.
const INVALID: u8 = 0x80;

/// The six-bit value of each base64url character, [`INVALID`] for every other byte.
const SEXTETS: [u8; 256] = {
    let mut values = [INVALID; 256];
    let mut value = 0;
    while value < ALPHABET.len() {
        values[ALPHABET[value] as usize] = value as u8;
        value += 1;
    }
    values
};

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
    fn only_43_characters_of_the_alphabet_are_packed() {
        let base = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(PackedChallenge::pack(base).unwrap().text(), base);
        for position in 0..LEN {
            for outside in [b'+', b'/', b'=', b'.', b' ', 0, 0x7f, 0xc3] {
                let mut text = base.as_bytes().to_vec();
                text[position] = outside;
                let text = String::from_utf8_lossy(&text);
                assert_eq!(PackedChallenge::pack(&text), None, "{text:?}");
            }
        }
        assert_eq!(PackedChallenge::pack(&base[1..]), None);
        assert_eq!(PackedChallenge::pack(&format!("{base}A")), None);
    }

    #[test]
    fn is_thirty_three_bytes() {
        assert_eq!(std::mem::size_of::<PackedChallenge>(), 33);
        assert_eq!(std::mem::size_of::<Option<PackedChallenge>>(), 34);
    }
}
