//! The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5).
//!
//! The code is consumed in one atomic storage call before anything else is checked, so
//! two racing redemptions can never both succeed. A replay (a code consumed before) that
//! carries the right client and proof revokes everything issued from the code: the
//! legitimate client or the attacker got those tokens, and the server cannot tell which
//! (RFC 6749 §4.1.2, RFC 9700 §4.5). A replay that fails its own checks revokes nothing,
//! so a stranger holding only a leaked code cannot end a victim's session.

use super::{refuse_on_error, token_secrets, Binding, TokenOutcome};
use crate::client::{Client, GrantType};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::secret::SecretHash;
use crate::storage::{CodeConsumption, CodeRecord, Issuance, Storage};

impl<S: Storage, C: Clock> Engine<S, C> {
    pub(super) async fn exchange_code(
        &self,
        client: &Client,
        params: &crate::request::Params,
        jkt: Option<&str>,
    ) -> Result<TokenOutcome, Fault> {
        let code = refuse_on_error!(params.required("code"));
        let redirect_uri = params.get("redirect_uri");
        let verifier = params.get("code_verifier");
        let now = self.clock.now();

        let mut record = match self.storage.consume_code(&SecretHash::of(code)).await? {
            // Another issuer's code (a tenant sharing the store) is unknown here, and its
            // replay revokes nothing of that issuer's.
            CodeConsumption::Consumed(record) | CodeConsumption::AlreadyConsumed(record)
                if !self.owns_grant(&record.grant_id) =>
            {
                return Ok(
                    OAuthError::invalid_grant("the code is invalid, expired or used").into(),
                );
            }
            CodeConsumption::Consumed(record) => record,
            CodeConsumption::AlreadyConsumed(record) => {
                // Expiry is not checked: a replay after the code expired is still a replay.
                if check_redemption(&record, client, redirect_uri, verifier, jkt).is_ok() {
                    let revoked_tokens = self.storage.revoke_grant(&record.grant_id).await?;
                    self.emit(|| EventKind::CodeReplayDetected {
                        client_id: client.id().as_str().to_owned(),
                        grant_id: record.grant_id.as_str().to_owned(),
                        revoked_tokens,
                    });
                }
                return Ok(
                    OAuthError::invalid_grant("the code is invalid, expired or used").into(),
                );
            }
            CodeConsumption::NotFound => {
                return Ok(OAuthError::invalid_grant("the code is invalid, expired or used").into())
            }
        };
        refuse_on_error!(check_redemption(
            &record,
            client,
            redirect_uri,
            verifier,
            jkt
        ));
        if now >= record.expires_at {
            return Ok(OAuthError::invalid_grant("the code is invalid, expired or used").into());
        }

        // The consumed record is ours: its strings move into the grant, not copied.
        let sign_in = record.sign_in.take();
        let sign_in = sign_in.as_ref();
        let grant = record.into_grant();
        let with_refresh = client.allows_grant(GrantType::RefreshToken);
        let binding = Binding::for_client(client, jkt);
        // The tokens from one draw, a temporary: its bytes are not kept in this future.
        let mut minted = self.mint_tokens(
            &mut self.random.draw(token_secrets(with_refresh), 0)?,
            &grant,
            grant.scope.clone(),
            with_refresh,
            sign_in,
            binding,
            now,
        )?;
        // The first ID token of the grant: the only one that echoes the request's nonce.
        minted.issued.id_token = self.id_token_for(
            client,
            &grant,
            sign_in,
            sign_in.and_then(|s| s.nonce.as_deref()),
            &minted.issued.access_token,
            now,
        )?;
        match self.storage.issue(&grant, &minted.records).await? {
            Issuance::Issued => {
                self.report_issued(
                    GrantType::AuthorizationCode,
                    &grant,
                    &minted.issued,
                    minted.token_id,
                );
                Ok(TokenOutcome::Issued(minted.issued))
            }
            Issuance::GrantRevoked => {
                Ok(OAuthError::invalid_grant("the code is invalid, expired or used").into())
            }
        }
    }
}

/// The checks a redemption must pass, whether first or replayed: same client, same
/// redirect URI as the authorization request, the PKCE proof, and for a code bound to a
/// DPoP key (`dpop_jkt`, RFC 9449 §10) a proof of that key (`jkt`, the thumbprint of the
/// request's checked proof). A replay without the key revokes nothing.
fn check_redemption(
    record: &CodeRecord,
    client: &Client,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    jkt: Option<&str>,
) -> Result<(), OAuthError> {
    if record.client_id != *client.id() {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if let Some(bound) = record.dpop_jkt.as_deref() {
        if jkt != Some(bound) {
            return Err(OAuthError::new(
                ErrorCode::InvalidDpopProof,
                "the code is bound to another DPoP key",
            ));
        }
    }
    match (&record.redirect_uri, redirect_uri) {
        (Some(expected), Some(sent)) if expected == sent => {}
        (None, None) => {}
        // Not sent at authorization (one URI registered): a value sent now must be that one.
        (None, Some(sent)) if client.redirect_uris().iter().any(|r| r.as_str() == sent) => {}
        _ => {
            return Err(OAuthError::invalid_grant(
                "the redirect_uri does not match the authorization request",
            ))
        }
    }
    match (&record.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => challenge
            .verify(verifier)
            .map_err(|e| OAuthError::invalid_grant(e.to_string())),
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "the code_verifier parameter is missing",
        )),
        // OAuth 2.1 §4.1.3: a verifier for a code issued without a challenge is refused,
        // so a downgrade cannot pass unnoticed.
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_verifier sent for a code issued without code_challenge",
        )),
        (None, None) => Ok(()),
    }
}
