//! Sealing a pending authorization so it can travel through the browser untampered.
//!
//! Between `authorize` and `approve` the embedder shows a login and consent page. If the
//! pending request rides along in that page (a hidden field) instead of a server-side
//! session, [`Engine::seal_pending`] turns it into an opaque string authenticated with
//! HMAC-SHA256 under the engine's sealing key, and [`Engine::open_pending`] refuses any
//! string the engine did not seal. Approval still re-checks the client, the redirect URI
//! and the expiry. The value is signed, not encrypted: it holds nothing secret (client id,
//! redirect URI, scope, state, PKCE challenge).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use subtle::ConstantTimeEq;

use crate::authorization::PendingAuthorization;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{Fault, OAuthError};
use crate::storage::Storage;

/// Longest sealed value accepted, in bytes.
pub const MAX_SEALED_LEN: usize = 8192;

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The MAC of a sealed body, bound to this engine's issuer: tenants that share a
    /// sealing key still cannot open each other's requests.
    fn seal_tag(&self, body: &[u8]) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.sealing_key);
        context.update(self.config.issuer().as_bytes());
        context.update(b"\0");
        context.update(body);
        context.sign()
    }

    /// Seals `pending` for a round trip through the user agent.
    pub fn seal_pending(&self, pending: &PendingAuthorization) -> Result<String, Fault> {
        let json = serde_json::to_vec(pending).map_err(|e| Fault::Encoding(e.to_string()))?;
        let mut sealed = URL_SAFE_NO_PAD.encode(json);
        let tag = self.seal_tag(sealed.as_bytes());
        sealed.push('.');
        sealed.push_str(&URL_SAFE_NO_PAD.encode(tag.as_ref()));
        Ok(sealed)
    }

    /// Opens a value made by [`Engine::seal_pending`] (with the same sealing key). Anything
    /// else, including a value with one byte changed, is `invalid_request`. Expiry and the
    /// client are checked by `approve` and `deny`.
    pub fn open_pending(&self, sealed: &str) -> Result<PendingAuthorization, OAuthError> {
        let refused =
            || OAuthError::invalid_request("the authorization request is invalid or was altered");
        if sealed.len() > MAX_SEALED_LEN {
            return Err(refused());
        }
        let (body, tag) = sealed.split_once('.').ok_or_else(refused)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
        // ring's verify compares in constant time.
        let expected = self.seal_tag(body.as_bytes());
        // subtle's comparison runs in constant time.
        if !bool::from(expected.as_ref().ct_eq(tag.as_slice())) {
            return Err(refused());
        }
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| refused())?;
        serde_json::from_slice(&json).map_err(|_| refused())
    }
}
