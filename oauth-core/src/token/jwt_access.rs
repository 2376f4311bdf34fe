//! Minting JWT access tokens (RFC 9068) for the engine, and the keys it signs with.

use std::sync::{RwLock, RwLockReadGuard};

use time::{Duration, OffsetDateTime};

use super::Minted;
use crate::error::Fault;
use crate::jose::{self, AccessClaims, KeySet, SigningKey, VerificationKeys};
use crate::scope::ScopeSet;
use crate::secret::{Draw, SecretHash};
use crate::storage::{GrantRecord, TokenKind, TokenRecord};

/// How an engine issues JWT access tokens.
#[derive(Debug)]
pub(crate) struct JwtIssuer {
    keys: RwLock<KeySet>,
    audience: String,
    with_auth_time: bool,
}

impl JwtIssuer {
    pub(crate) fn new(keys: KeySet, audience: String, with_auth_time: bool) -> Self {
        Self {
            keys: RwLock::new(keys),
            audience,
            with_auth_time,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, KeySet> {
        // Rotation replaces the key set in one assignment; a poisoned lock holds a whole set.
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn audience(&self) -> &str {
        &self.audience
    }

    pub(crate) fn verification_keys(&self) -> VerificationKeys {
        self.read().verification_keys()
    }

    pub(crate) fn rotate(&self, next: SigningKey) {
        self.keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .rotate(next);
    }

    /// Replaces the whole key set, as after loading it again from a key directory: one
    /// assignment under the write lock, so a token is minted by the old set or the new,
    /// never by a mix.
    pub(crate) fn replace(&self, keys: KeySet) {
        *self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = keys;
    }

    pub(crate) fn retire(&self, kid: &str) {
        self.keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retire(kid);
    }

    /// Mints a JWT access token for `grant`, bound to the DPoP key `jkt` when given
    /// (`cnf.jkt`, RFC 9449 §6.1); the record stored for it is keyed by the hash
    /// of its `jti`, so that introspection and revocation can reach it. The `jti` is
    /// taken from the request's `draw`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mint(
        &self,
        draw: &mut Draw,
        issuer: &str,
        grant: &GrantRecord,
        scope: ScopeSet,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        grant_lifetime: Duration,
        jkt: Option<&str>,
    ) -> Result<Minted, Fault> {
        let jti = draw.secret()?;
        let subject = grant.subject.as_deref().unwrap_or(grant.client_id.as_str());
        // The grant started (the user approved) one grant lifetime before it ends.
        let auth_time = (self.with_auth_time && grant.subject.is_some())
            .then(|| grant.expires_at - grant_lifetime);
        let claims = AccessClaims {
            issuer,
            subject,
            audience: &self.audience,
            client_id: grant.client_id.as_str(),
            scope: &scope,
            issued_at,
            expires_at,
            jti: &jti,
            auth_time,
            jkt,
        };
        let value = jose::mint(&claims, self.read().active())?;
        let record = TokenRecord::new(
            SecretHash::of(&jti),
            TokenKind::JwtAccess,
            grant.clone(),
            scope,
            issued_at,
            expires_at,
        );
        Ok(Minted {
            value,
            record,
            token_id: Some(jti),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::Algorithm;

    fn key(kid: &str) -> SigningKey {
        SigningKey::generate(Algorithm::EdDsa, kid).unwrap().0
    }

    #[test]
    fn replace_swaps_the_whole_key_set() {
        let issuer = JwtIssuer::new(KeySet::new(key("a")), "api".into(), false);
        let mut next = KeySet::new(key("b"));
        next.publish_next(key("c"));
        issuer.replace(next);
        let kids: Vec<String> = issuer
            .verification_keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        assert_eq!(kids, ["b", "c"]);
        assert_eq!(issuer.read().active().kid(), "b");
    }
}
