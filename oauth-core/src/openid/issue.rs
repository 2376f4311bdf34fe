//! ID tokens at the token endpoint (Core §3.1.3.3, §12.2), their verification, and the
//! rotation of their keys.

use time::OffsetDateTime;

use crate::client::{Client, ClientId};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::Fault;
use crate::jose::{self, IdTokenClaims, JwtError, KeySet, VerifiedIdToken};
use crate::storage::{GrantRecord, SignIn, Storage};

/// The scope that makes a grant an OpenID Connect one (Core §3.1.2.1).
pub(crate) const OPENID_SCOPE: &str = "openid";

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The ID token to answer beside `access_token` for `grant`, or `None` when the engine
    /// is no OpenID provider or the grant's scope lacks `openid`. `sign_in` gives
    /// `auth_time`, `acr` and `amr` (none of them when it is absent); `nonce` is echoed
    /// as it is: the code's, never a refresh token's. A client whose algorithm has no key
    /// is a [`Fault::Config`] (answered `server_error`), never a token signed otherwise.
    pub(crate) fn id_token_for(
        &self,
        client: &Client,
        grant: &GrantRecord,
        sign_in: Option<&SignIn>,
        nonce: Option<&str>,
        access_token: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, Fault> {
        let Some(openid) = &self.openid else {
            return Ok(None);
        };
        let Some(subject) = grant.subject.as_deref() else {
            return Ok(None);
        };
        if !grant.scope.contains(OPENID_SCOPE) {
            return Ok(None);
        }
        let claims = IdTokenClaims {
            issuer: self.config.issuer(),
            subject,
            client_id: client.id().as_str(),
            issued_at: now,
            expires_at: now + openid.id_token_lifetime,
            auth_time: sign_in.map(|s| s.auth_time),
            acr: sign_in.and_then(|s| s.acr.as_deref()),
            amr: sign_in.map_or(&[], |s| s.amr.as_slice()),
            nonce,
            access_token,
        };
        let alg = client.id_token_signed_response_alg();
        match openid
            .keys
            .with_key(alg, |key| jose::mint_id_token(&claims, key))
        {
            Some(token) => token.map(Some),
            None => Err(Fault::Config(format!(
                "the client {} asks for {alg} ID tokens and no key signs with it",
                client.id()
            ))),
        }
    }

    /// Verifies an ID token this engine issued to `client`: signed by one of its ID-token
    /// keys (with the algorithm of that key), `typ: JWT`, `iss` this issuer, `aud` the
    /// client, not expired by the engine's clock. Refused with [`JwtError::UnknownKey`]
    /// by an engine that is no OpenID provider.
    pub fn verify_id_token(
        &self,
        token: &str,
        client: &ClientId,
    ) -> Result<VerifiedIdToken, JwtError> {
        let keys = match &self.openid {
            Some(openid) => openid.keys.verification_keys(),
            None => return Err(JwtError::UnknownKey),
        };
        jose::verify_id_token(
            token,
            &keys,
            self.config.issuer(),
            client.as_str(),
            self.clock.now(),
        )
    }

    /// Replaces the ID-token key set of the algorithm `keys` signs with (after its
    /// rotation: publish the next key, wait, activate, retire, as
    /// [`KeySet`](crate::jose::KeySet) describes). [`Fault::Config`] when the engine is
    /// no OpenID provider or has no set of that algorithm: the algorithms offered are
    /// fixed when the engine is built, as discovery advertises them.
    pub fn replace_id_token_keys(&self, keys: KeySet) -> Result<(), Fault> {
        match &self.openid {
            Some(openid) => openid.keys.replace(keys),
            None => Err(Fault::Config("the engine is no OpenID provider".into())),
        }
    }
}
