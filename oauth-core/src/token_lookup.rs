//! Finding the stored record of a token presented to introspection or revocation.

use time::Duration;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::Fault;
use crate::jose::{self, MAX_TOKEN_LEN};
use crate::secret::SecretHash;
use crate::storage::{Storage, TokenKind, TokenRecord};

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The record of `token`, whatever its state: an opaque access or refresh token by
    /// the hash of its value; a JWT access token of this engine (signature checked, so a
    /// forged `jti` finds nothing) by the hash of its `jti`. `token_type_hint` is not
    /// needed: every kind is found the same way.
    pub(crate) async fn find_token(&self, token: &str) -> Result<Option<TokenRecord>, Fault> {
        // Another issuer's token (a tenant sharing the store) is unknown here.
        Ok(self
            .find_any_token(token)
            .await?
            .filter(|record| self.owns_grant(&record.grant_id)))
    }

    async fn find_any_token(&self, token: &str) -> Result<Option<TokenRecord>, Fault> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        if !token.contains('.') {
            let record = self.storage.get_token(&SecretHash::of(token)).await?;
            // A JWT's record is reached only through the verified JWT, never by a raw jti.
            return Ok(record.filter(|r| r.kind != TokenKind::JwtAccess));
        }
        let Some(jwt) = &self.jwt else {
            return Ok(None);
        };
        let keys = jwt.verification_keys();
        let expectations = jose::Expectations {
            keys: &keys,
            issuer: self.config.issuer(),
            audience: None,
            now: self.clock.now(),
            leeway: Duration::ZERO,
        };
        let Ok(verified) = jose::verify(token, &expectations) else {
            return Ok(None);
        };
        let record = self
            .storage
            .get_token(&SecretHash::of(&verified.jti))
            .await?;
        Ok(record.filter(|r| r.kind == TokenKind::JwtAccess))
    }
}
