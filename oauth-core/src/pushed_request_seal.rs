//! The `request_uri` of a pushed authorization request: the pushed parameters themselves,
//! encrypted, so that every instance sharing the sealing key can redeem it and nothing is
//! stored until it is used.
//!
//! ```text
//! urn:ietf:params:oauth:request_uri:<base64url(nonce (12 bytes) | ciphertext | tag (16 bytes))>
//! ```
//!
//! AES-256-GCM under a key derived with HKDF-SHA256 from the engine's sealing key (salt
//! naming this use, so the key is no other seal's). The additional authenticated data is
//! the issuer: engines of other tenants that share a sealing key cannot redeem each
//! other's requests. Encrypted rather than signed because the point of pushing is that the
//! parameters (scope, login hint, `state`) do not travel through the browser readably
//! (RFC 9126 §1). The nonce is random for every seal; at most one seal per pushed request,
//! far below the 2^32 messages after which random 96-bit nonces under one key become a
//! risk for a deployment's lifetime of a sealing key.
//!
//! Single use is not the seal's: the engine marks a redeemed `request_uri` in the store
//! ([`CodeStore::use_once`](crate::storage::CodeStore::use_once)), across instances.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use ring::hkdf;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Fault;
use crate::secret::RandomSource;

/// What every `request_uri` this engine hands out starts with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Longest `request_uri` handed out or opened, in characters: a pushed request that would
/// seal to more is refused at the pushed request endpoint, so that the authorization URL
/// stays one that browsers and proxies carry.
pub const MAX_REQUEST_URI_LEN: usize = 6144;

/// HKDF salt: fixed, naming what the derived key is for.
const HKDF_SALT: &[u8] = b"finrift pushed authorization request sealing v1";
const TAG_LEN: usize = 16;

/// The key pushed requests are sealed under.
pub(crate) struct PushedRequestKey {
    aead: LessSafeKey,
}

impl std::fmt::Debug for PushedRequestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushedRequestKey").finish_non_exhaustive()
    }
}

/// What a `request_uri` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PushedRequest {
    /// The client that pushed it: only that client can redeem it.
    #[serde(rename = "c")]
    pub client_id: String,
    /// When the `request_uri` stops being redeemable.
    #[serde(rename = "e", with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
    /// The pushed authorization parameters, in order, without client authentication.
    #[serde(rename = "p")]
    pub params: Vec<(String, String)>,
}

impl PushedRequestKey {
    /// The key derived from the engine's sealing secret (at least 32 bytes).
    pub(crate) fn derive(sealing_secret: &[u8]) -> Result<Self, Fault> {
        let failed = || Fault::Config("the pushed request key could not be derived".into());
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(sealing_secret);
        let mut key = [0u8; 32];
        prk.expand(&[b"aes-256-gcm"], &aead::AES_256_GCM)
            .and_then(|okm| okm.fill(&mut key))
            .map_err(|_| failed())?;
        let unbound = UnboundKey::new(&aead::AES_256_GCM, &key).map_err(|_| failed())?;
        Ok(Self {
            aead: LessSafeKey::new(unbound),
        })
    }

    /// Seals `request` for `issuer` into a `request_uri`.
    pub(crate) fn seal(
        &self,
        random: &RandomSource,
        issuer: &str,
        request: &PushedRequest,
    ) -> Result<String, Fault> {
        let mut sealed = vec![0u8; NONCE_LEN];
        random.fill(&mut sealed)?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed);
        let mut body = serde_json::to_vec(request).map_err(|e| Fault::Encoding(e.to_string()))?;
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(issuer.as_bytes()),
                &mut body,
            )
            .map_err(|_| Fault::Encoding("a pushed request could not be sealed".into()))?;
        sealed.extend_from_slice(&body);
        Ok(format!(
            "{REQUEST_URI_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Opens a `request_uri` sealed for `issuer` under this key; `None` for anything else,
    /// one altered character included.
    pub(crate) fn open(&self, issuer: &str, request_uri: &str) -> Option<PushedRequest> {
        if request_uri.len() > MAX_REQUEST_URI_LEN {
            return None;
        }
        let encoded = request_uri.strip_prefix(REQUEST_URI_PREFIX)?;
        let mut sealed = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let mut body = sealed.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&sealed).ok()?;
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(issuer.as_bytes()), &mut body)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PushedRequest {
        PushedRequest {
            client_id: "spa".into(),
            expires_at: OffsetDateTime::from_unix_timestamp(1_700_000_060).unwrap(),
            params: vec![
                ("response_type".into(), "code".into()),
                ("login_hint".into(), "alice@example.com".into()),
            ],
        }
    }

    #[test]
    fn a_sealed_request_opens_under_the_same_key_and_issuer_only() {
        let key = PushedRequestKey::derive(&[7; 32]).unwrap();
        let random = RandomSource::new();
        let uri = key.seal(&random, "https://a.example", &request()).unwrap();
        assert!(uri.starts_with(REQUEST_URI_PREFIX));
        assert!(!uri.contains("alice"), "the parameters are not readable");
        assert_eq!(key.open("https://a.example", &uri), Some(request()));
        assert_eq!(key.open("https://b.example", &uri), None);
        let other = PushedRequestKey::derive(&[8; 32]).unwrap();
        assert_eq!(other.open("https://a.example", &uri), None);
        let again = key.seal(&random, "https://a.example", &request()).unwrap();
        assert_ne!(uri, again, "every seal has its own nonce");
    }

    #[test]
    fn dp04_an_altered_or_foreign_request_uri_does_not_open() {
        let key = PushedRequestKey::derive(&[7; 32]).unwrap();
        let uri = key
            .seal(&RandomSource::new(), "https://a.example", &request())
            .unwrap();
        let encoded = &uri[REQUEST_URI_PREFIX.len()..];
        for at in [0, encoded.len() / 2, encoded.len() - 1] {
            let mut altered = encoded.as_bytes().to_vec();
            altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
            let altered = format!(
                "{REQUEST_URI_PREFIX}{}",
                String::from_utf8(altered).unwrap()
            );
            assert_eq!(key.open("https://a.example", &altered), None, "at {at}");
        }
        for foreign in [
            "",
            REQUEST_URI_PREFIX,
            "urn:ietf:params:oauth:request_uri:AAAA",
            "https://a.example/request.jwt",
            &format!("{REQUEST_URI_PREFIX}{}", "A".repeat(MAX_REQUEST_URI_LEN)),
        ] {
            assert_eq!(
                key.open("https://a.example", foreign),
                None,
                "{foreign:.40}"
            );
        }
    }
}
