//! Server nonces for DPoP proofs (RFC 9449 §8), without stored state.
//!
//! A nonce names a window of time (as long as the DPoP proof window) and carries a MAC of
//! it under the engine's sealing key and issuer:
//!
//! ```text
//! base64url(window (8 bytes, big-endian) | HMAC-SHA256(sealing key, label | issuer | window)[..16])
//! ```
//!
//! The label (it starts with a byte no sealed body has, 0xFF) keeps these MACs apart from
//! the engine's other uses of the sealing key. The current window's nonce and the one
//! before it are accepted, so a client that fetched a nonce at the end of a window is not
//! refused at once. A nonce says nothing of the client; it only keeps a proof from being
//! made far ahead of its use.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::storage::Storage;

/// What the MAC of a nonce starts with.
const LABEL: &[u8] = b"\xffdpop-nonce\0";
/// How much of the MAC a nonce keeps: 128 bits.
const TAG_LEN: usize = 16;

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The index of the nonce window `at` falls in.
    fn nonce_window(&self, at: OffsetDateTime) -> i64 {
        let length = self.config.dpop_proof_window().whole_seconds().max(1);
        at.unix_timestamp().div_euclid(length)
    }

    fn nonce_of_window(&self, window: i64) -> String {
        let mut context = hmac::Context::with_key(&self.sealing_key);
        context.update(LABEL);
        context.update(self.config.issuer().as_bytes());
        context.update(b"\0");
        context.update(&window.to_be_bytes());
        let tag = context.sign();
        let mut nonce = window.to_be_bytes().to_vec();
        nonce.extend_from_slice(&tag.as_ref()[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(nonce)
    }

    /// The nonce a DPoP proof made at `now` should carry.
    pub(crate) fn dpop_nonce(&self, now: OffsetDateTime) -> String {
        self.nonce_of_window(self.nonce_window(now))
    }

    /// The nonces accepted at `now`: this window's and the one before.
    pub(crate) fn accepted_dpop_nonces(&self, now: OffsetDateTime) -> [String; 2] {
        let window = self.nonce_window(now);
        [
            self.nonce_of_window(window),
            self.nonce_of_window(window.saturating_sub(1)),
        ]
    }
}
