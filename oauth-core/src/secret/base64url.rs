//! Base64url without padding (RFC 4648 §5) of the short values every request makes:
//! secrets (32 bytes), ids (16 bytes) and PKCE challenges (a 32-byte digest).
//!
//! The `base64` crate's engine is built for input of any length and configuration; for
//! values this short its setup costs as much as the encoding, which a plain loop of three
//! bytes to four characters does in a fraction of the instructions. The tests hold it to
//! that crate's output on every length up to 96 bytes.

use crate::error::Fault;

/// The base64url alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The length of the encoding of `len` bytes, without padding.
pub(crate) const fn encoded_len(len: usize) -> usize {
    (len * 4).div_ceil(3)
}

/// Writes the encoding of `bytes` into the front of `out`; `false` (and nothing written)
/// when `out` is shorter than [`encoded_len`] of `bytes`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut [u8]) -> bool {
    let Some(out) = out.get_mut(..encoded_len(bytes.len())) else {
        return false;
    };
    // Each group of three bytes, as a 24-bit big-endian number, gives four characters,
    // six bits each; a last group of two bytes gives three, of one byte two.
    let mut groups = bytes.chunks_exact(3);
    let mut characters = out.chunks_exact_mut(4);
    for (group, out) in (&mut groups).zip(&mut characters) {
        let stream = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        out[0] = character(stream >> 18);
        out[1] = character(stream >> 12);
        out[2] = character(stream >> 6);
        out[3] = character(stream);
    }
    let out = characters.into_remainder();
    match (groups.remainder(), out) {
        ([first], [a, b]) => {
            let stream = u32::from(*first) << 16;
            (*a, *b) = (character(stream >> 18), character(stream >> 12));
        }
        ([first, second], [a, b, c]) => {
            let stream = u32::from(*first) << 16 | u32::from(*second) << 8;
            (*a, *b, *c) = (
                character(stream >> 18),
                character(stream >> 12),
                character(stream >> 6),
            );
        }
        // Nothing left (the lengths match, as `encoded_len` made them).
        _ => {}
    }
    true
}

/// The character of the low six bits of `bits`.
fn character(bits: u32) -> u8 {
    ALPHABET[(bits & 0x3f) as usize]
}

/// The encoding of `bytes` (at most 96), as a string.
pub(crate) fn encode(bytes: &[u8]) -> Result<String, Fault> {
    let mut out = [0u8; encoded_len(96)];
    let len = encoded_len(bytes.len());
    if !encode_into(bytes, &mut out) {
        return Err(Fault::Random);
    }
    // The alphabet is ASCII, so this never fails.
    std::str::from_utf8(&out[..len])
        .map(str::to_owned)
        .map_err(|_| Fault::Random)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;
    use crate::RandomSource;

    #[test]
    fn agrees_with_the_base64_crate_on_every_length() {
        let random = RandomSource::new();
        for len in 0..=96 {
            for _ in 0..50 {
                let mut bytes = vec![0u8; len];
                random.fill(&mut bytes).unwrap();
                let expected = URL_SAFE_NO_PAD.encode(&bytes);
                assert_eq!(encoded_len(len), expected.len());
                assert_eq!(encode(&bytes).unwrap(), expected, "{bytes:?}");
            }
        }
        // Every byte value at every position of a group.
        for byte in 0..=255u8 {
            for at in 0..3 {
                let mut bytes = [0u8; 3];
                bytes[at] = byte;
                assert_eq!(encode(&bytes).unwrap(), URL_SAFE_NO_PAD.encode(bytes));
            }
        }
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let mut out = [b'x'; 42];
        assert!(!encode_into(&[7u8; 32], &mut out));
        assert_eq!(out, [b'x'; 42], "nothing written");
        let mut out = [b'x'; 44];
        assert!(encode_into(&[0u8; 32], &mut out));
        assert_eq!(&out[..43], [b'A'; 43].as_slice());
        assert_eq!(out[43], b'x', "only the encoding's length written");
        assert!(encode(&[0u8; 97]).is_err());
    }
}
