//! Sealing a key set for the store: AES-256-GCM under the deployment's key-encryption
//! key, so that a copy of the database alone reveals no private key.
//!
//! A sealed key set is
//!
//! ```text
//! "FRKS" | format (1 byte, 1) | key check (8 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//! ```
//!
//! The AES key and the key check are both derived from the key-encryption key with HKDF-
//! SHA256 (each its own `info`), so the check, which tells a wrong key from damaged
//! bytes, says nothing about the AES key. The additional authenticated data is the
//! header (label, format, key check) followed by the store version the bytes are written
//! at, as 8 bytes big-endian: sealed bytes moved to another version, or a header
//! altered, fail authentication. The nonce is random (96 bits from the system
//! generator) for every seal; a key set is sealed once per rotation step, far below the
//! 2^32 messages after which random nonces under one key become a risk.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom as _, SystemRandom};

use super::key_error::KeyError;

/// Length of a key-encryption key, in bytes (AES-256).
pub const KEY_ENCRYPTION_KEY_LEN: usize = 32;

/// Largest sealed key set written or read, in bytes. [`MAX_JWKS_KEYS`](super::MAX_JWKS_KEYS)
/// RSA keys of 8192 bits, the largest a set may hold, take under 256 KiB.
pub const MAX_SEALED_KEY_SET_LEN: usize = 512 * 1024;

/// What every sealed key set starts with.
const LABEL: &[u8; 4] = b"FRKS";
/// The sealed format this code writes and reads.
const FORMAT: u8 = 1;
const CHECK_LEN: usize = 8;
const HEADER_LEN: usize = LABEL.len() + 1 + CHECK_LEN;
const TAG_LEN: usize = 16;
/// HKDF salt: fixed, naming what the derived keys are for.
const HKDF_SALT: &[u8] = b"finrift key set sealing v1";

/// The deployment's key-encryption key: 32 random bytes that seal the signing keys kept
/// in a [`KeySetStore`](crate::storage::KeySetStore), given to every instance by its
/// configuration (an environment variable or a secret file), never stored beside them.
///
/// `Debug` shows nothing of it. It is not `Clone`: build one per vault from the
/// configuration.
pub struct KeyEncryptionKey {
    aead: LessSafeKey,
    check: [u8; CHECK_LEN],
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEncryptionKey").finish_non_exhaustive()
    }
}

/// How many bytes an HKDF output is, for `ring::hkdf`.
struct Length(usize);

impl hkdf::KeyType for Length {
    fn len(&self) -> usize {
        self.0
    }
}

impl KeyEncryptionKey {
    /// The key from its 32 raw bytes. Refused: another length, and 32 equal bytes (a
    /// placeholder, not a random key).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != KEY_ENCRYPTION_KEY_LEN {
            return Err(KeyError::InvalidEncryptionKey(
                "it must be exactly 32 bytes",
            ));
        }
        if bytes.iter().all(|b| *b == bytes[0]) {
            return Err(KeyError::InvalidEncryptionKey(
                "its bytes are all equal: it is a placeholder, not a random key",
            ));
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(bytes);
        let derivation_failed = |_| KeyError::InvalidEncryptionKey("key derivation failed");
        let aes = prk
            .expand(&[b"aes-256-gcm"], &aead::AES_256_GCM)
            .map_err(derivation_failed)?;
        let aead = LessSafeKey::new(UnboundKey::from(aes));
        let mut check = [0u8; CHECK_LEN];
        prk.expand(&[b"key check"], Length(CHECK_LEN))
            .and_then(|okm| okm.fill(&mut check))
            .map_err(derivation_failed)?;
        Ok(Self { aead, check })
    }

    /// The key from its base64url text (RFC 4648 §5, padding optional, whitespace around
    /// it ignored), as an operator puts it in an environment variable or a secret file.
    /// [`KeyEncryptionKey::generate_text`] makes one. The error never repeats the text.
    pub fn from_base64url(text: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(trimmed)
            .map_err(|_| KeyError::InvalidEncryptionKey("it is not base64url text"))?;
        Self::from_bytes(&bytes)
    }

    /// A new random key as base64url text (43 characters), for an operator to put in
    /// the configuration of every instance.
    pub fn generate_text() -> Result<String, KeyError> {
        let mut bytes = [0u8; KEY_ENCRYPTION_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| KeyError::Random)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[..LABEL.len()].copy_from_slice(LABEL);
        header[LABEL.len()] = FORMAT;
        header[LABEL.len() + 1..].copy_from_slice(&self.check);
        header
    }

    /// `plaintext` sealed, to be stored at store version `version`.
    pub(super) fn seal(&self, version: u64, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let header = self.header();
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyError::Random)?;
        let mut sealed = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
        sealed.extend_from_slice(&header);
        sealed.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(&header, version)),
                &mut body,
            )
            .map_err(|_| KeyError::UnreadableKeySet("sealing failed"))?;
        sealed.extend_from_slice(&body);
        if sealed.len() > MAX_SEALED_KEY_SET_LEN {
            return Err(KeyError::UnreadableKeySet(
                "sealed, it would be larger than MAX_SEALED_KEY_SET_LEN",
            ));
        }
        Ok(sealed)
    }

    /// The plaintext of `sealed`, read from store version `version`.
    pub(super) fn open(&self, version: u64, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() > MAX_SEALED_KEY_SET_LEN {
            return Err(KeyError::UnreadableKeySet(
                "it is larger than MAX_SEALED_KEY_SET_LEN",
            ));
        }
        if sealed.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
            return Err(KeyError::UnreadableKeySet("it is too short to be sealed"));
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        if &header[..LABEL.len()] != LABEL {
            return Err(KeyError::UnreadableKeySet("it is not a sealed key set"));
        }
        if header[LABEL.len()] != FORMAT {
            return Err(KeyError::UnreadableKeySet(
                "it is sealed in a format this finrift does not read (a newer one?)",
            ));
        }
        // Not secret (derived apart from the AES key), so a plain comparison will do.
        if header[LABEL.len() + 1..] != self.check {
            return Err(KeyError::WrongEncryptionKey);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyError::UnreadableKeySet("its nonce is malformed"))?;
        let mut body = body.to_vec();
        let plaintext_len = self
            .aead
            .open_in_place(nonce, Aad::from(aad(header, version)), &mut body)
            .map_err(|_| {
                KeyError::UnreadableKeySet(
                    "its authentication failed: the bytes were altered, or moved from \
                     another version",
                )
            })?
            .len();
        body.truncate(plaintext_len);
        Ok(body)
    }
}

fn aad(header: &[u8], version: u64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + 8);
    aad.extend_from_slice(header);
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(fill: u8) -> KeyEncryptionKey {
        let mut bytes = [fill; KEY_ENCRYPTION_KEY_LEN];
        bytes[0] ^= 0x5a;
        KeyEncryptionKey::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn sealed_bytes_open_under_the_same_key_and_version_only() {
        let key = kek(1);
        let sealed = key.seal(7, b"the key set").unwrap();
        assert_eq!(key.open(7, &sealed).unwrap(), b"the key set");
        assert!(!sealed.windows(11).any(|w| w == b"the key set"));
        assert_eq!(kek(2).open(7, &sealed), Err(KeyError::WrongEncryptionKey));
        assert!(matches!(
            key.open(8, &sealed),
            Err(KeyError::UnreadableKeySet(_))
        ));
        // Two seals of one plaintext differ: the nonce is fresh each time.
        assert_ne!(key.seal(7, b"the key set").unwrap(), sealed);
    }

    #[test]
    fn every_altered_byte_is_refused() {
        let key = kek(3);
        let sealed = key.seal(1, b"{\"format\":1,\"keys\":[]}").unwrap();
        for i in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 0x01;
            assert!(
                key.open(1, &altered).is_err(),
                "byte {i} altered was accepted"
            );
        }
        for len in 0..sealed.len() {
            assert!(key.open(1, &sealed[..len]).is_err(), "truncated to {len}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(key.open(1, &longer).is_err());
        let huge = vec![0u8; MAX_SEALED_KEY_SET_LEN + 1];
        assert!(matches!(
            key.open(1, &huge),
            Err(KeyError::UnreadableKeySet(_))
        ));
    }

    #[test]
    fn key_encryption_keys_from_text_and_their_refusals() {
        let text = KeyEncryptionKey::generate_text().unwrap();
        assert_eq!(text.len(), 43);
        let a = KeyEncryptionKey::from_base64url(&text).unwrap();
        let b = KeyEncryptionKey::from_base64url(&format!(" {text}=\n")).unwrap();
        let sealed = a.seal(1, b"x").unwrap();
        assert_eq!(b.open(1, &sealed).unwrap(), b"x");
        for bad in [
            "",
            "not base64!",
            &text[..42],
            &format!("{text}AA"),
            &"A".repeat(43),
        ] {
            let error = KeyEncryptionKey::from_base64url(bad).unwrap_err();
            assert!(
                matches!(error, KeyError::InvalidEncryptionKey(_)),
                "{bad:?}: {error:?}"
            );
            if bad.len() > 4 {
                assert!(
                    !error.to_string().contains(bad),
                    "the error repeats the text"
                );
            }
        }
        assert!(KeyEncryptionKey::from_bytes(&[0u8; 32]).is_err());
        assert!(KeyEncryptionKey::from_bytes(&[1u8; 31]).is_err());
        // Debug shows nothing of the key.
        let shown = format!("{a:?}");
        assert_eq!(shown, "KeyEncryptionKey { .. }");
    }
}
