//! The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5).
//!
//! The code is read, the redemption checked against it, and the code then redeemed in one
//! atomic storage call that consumes it and stores the tokens together
//! ([`TokenStore::redeem_code`](crate::storage::TokenStore::redeem_code)): two racing
//! redemptions can never both succeed, and no failure can burn a code without issuing its
//! tokens. A redemption that fails its checks burns the code all the same, so a stolen code
//! gets one try. A replay (a code consumed before) that carries the right client and proof
//! revokes everything issued from the code: the legitimate client or the attacker got
//! those tokens, and the server cannot tell which (RFC 6749 §4.1.2, RFC 9700 §4.5). A
//! replay that fails its own checks revokes nothing, so a stranger holding only a leaked
//! code cannot end a victim's session.

use super::{refuse_on_error, token_secrets, Binding, TokenOutcome};
use crate::client::{Client, GrantType};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::secret::SecretHash;
use crate::storage::{CodeConsumption, CodeLookup, CodeRecord, GrantId, Redemption, Storage};

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
        let hash = SecretHash::of(code);

        let mut record = match self.storage.get_code(&hash).await? {
            // Another issuer's code (a tenant sharing the store) is unknown here: it is
            // neither burned nor its replay answered.
            CodeLookup::Unused(record) | CodeLookup::Consumed(record)
                if !self.owns_grant(&record.grant_id) =>
            {
                return Ok(invalid_code().into());
            }
            CodeLookup::Unused(record) => record,
            CodeLookup::Consumed(record) => {
                // Expiry is not checked: a replay after the code expired is still a replay.
                if check_redemption(&record, client, redirect_uri, verifier, jkt).is_ok() {
                    self.revoke_replayed(client, &record.grant_id).await?;
                }
                return Ok(invalid_code().into());
            }
            CodeLookup::NotFound => return Ok(invalid_code().into()),
        };
        // A refusal after the checks passed (the code expired) still answers a racing
        // replay below; one that failed them does not, as the code's record is the same.
        let (refusal, checks_passed) =
            match check_redemption(&record, client, redirect_uri, verifier, jkt) {
                Err(error) => (Some(error), false),
                Ok(()) if now >= record.expires_at => (Some(invalid_code()), true),
                Ok(()) => (None, true),
            };
        if let Some(error) = refusal {
            // Burned as a redemption would have consumed it: whoever holds a code gets one
            // try at its proof.
            let burned = self.storage.consume_code(&hash).await?;
            if checks_passed && matches!(burned, CodeConsumption::AlreadyConsumed(_)) {
                // A racing redemption consumed it after it was read here: this is a replay,
                // answered as one (a code that expired meanwhile is still replayed).
                self.revoke_replayed(client, &record.grant_id).await?;
            }
            return Ok(error.into());
        }

        // The record read is ours: its strings move into the grant, not copied.
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
        match self
            .storage
            .redeem_code(&hash, &grant, &minted.records)
            .await?
        {
            Redemption::Issued => {
                self.report_issued(
                    GrantType::AuthorizationCode,
                    &grant,
                    &minted.issued,
                    minted.token_id,
                );
                Ok(TokenOutcome::Issued(minted.issued))
            }
            Redemption::AlreadyConsumed => {
                // A racing redemption consumed the code after it was read here: a replay,
                // and this one passed every check.
                self.revoke_replayed(client, &grant.id).await?;
                Ok(invalid_code().into())
            }
            Redemption::GrantRevoked => {
                // Its grant can never issue: the code is spent, so a later attempt costs no
                // minting either.
                self.storage.consume_code(&hash).await?;
                Ok(invalid_code().into())
            }
            Redemption::NotFound => Ok(invalid_code().into()),
        }
    }

    /// Answers a replay that passed the checks: the grant and every token of it revoked.
    async fn revoke_replayed(&self, client: &Client, grant_id: &GrantId) -> Result<(), Fault> {
        let revoked_tokens = self.storage.revoke_grant(grant_id).await?;
        self.emit(|| EventKind::CodeReplayDetected {
            client_id: client.id().as_str().to_owned(),
            grant_id: grant_id.as_str().to_owned(),
            revoked_tokens,
        });
        Ok(())
    }
}

/// The one refusal for a code that cannot be redeemed, whatever the reason (unknown,
/// another issuer's, expired, used, its grant revoked): a caller learns nothing more.
fn invalid_code() -> OAuthError {
    OAuthError::invalid_grant("the code is invalid, expired or used")
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
