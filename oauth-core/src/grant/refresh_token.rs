//! The refresh token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2).
//!
//! Every use returns a new refresh token and retires the old one in one atomic storage
//! call. A retired token presented again means two parties hold it, so the whole grant
//! (its live refresh token and access tokens) is revoked.

use super::{refuse_on_error, token_secrets, Binding, TokenOutcome};
use crate::client::{Client, GrantType};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::request::Params;
use crate::scope::ScopeSet;
use crate::secret::SecretHash;
use crate::storage::{GrantId, GrantRecord, Rotation, Storage, TokenKind};

impl<S: Storage, C: Clock> Engine<S, C> {
    pub(super) async fn refresh(
        &self,
        client: &Client,
        params: &Params,
        jkt: Option<&str>,
    ) -> Result<TokenOutcome, Fault> {
        let presented = refuse_on_error!(params.required("refresh_token"));
        let hash = SecretHash::of(presented);
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let now = self.clock.now();

        let Some(record) = self.storage.get_token(&hash).await? else {
            return Ok(invalid().into());
        };
        if record.kind != TokenKind::Refresh
            || record.client_id != *client.id()
            || !self.owns_grant(&record.grant_id)
        {
            return Ok(invalid().into());
        }
        if record.revoked || now >= record.expires_at {
            return Ok(invalid().into());
        }
        // A bound refresh token (a public client's, RFC 9449 §5) is used only with a
        // proof of its key; checked before the reuse test, so that a thief without the
        // key cannot revoke the victim's grant by replaying a rotated token.
        if let Some(bound) = record.dpop_jkt.as_deref() {
            if jkt != Some(bound) {
                return Ok(OAuthError::new(
                    ErrorCode::InvalidDpopProof,
                    "the refresh token is bound to another DPoP key",
                )
                .into());
            }
        }
        if record.rotated {
            self.report_reuse(&record.grant_id, client).await?;
            return Ok(invalid().into());
        }
        // What the grant may still hold: its scope as the client's registration and the
        // scope policy for the subject allow it today (RF-06). A demoted user or a
        // narrowed client keeps nothing it lost, and the new refresh token carries the
        // narrowed scope, so it is dropped from the grant too.
        let still_allowed = record.scope.intersection(client.allowed_scopes());
        let grant_scope = self
            .scope_policy
            .permitted(client, record.subject.as_deref(), &still_allowed)
            .await
            .intersection(&still_allowed);
        if grant_scope.is_empty() {
            return Ok(OAuthError::invalid_grant("the grant no longer allows any scope").into());
        }
        let access_scope = match params.get("scope") {
            None => grant_scope.clone(),
            Some(text) => {
                let asked = refuse_on_error!(
                    ScopeSet::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))
                );
                if !asked.is_subset(&record.scope) {
                    return Ok(
                        OAuthError::invalid_scope("the scope is wider than the grant's").into(),
                    );
                }
                let kept = asked.intersection(&grant_scope);
                if kept.is_empty() {
                    return Ok(OAuthError::invalid_scope(
                        "none of the requested scopes is allowed any more",
                    )
                    .into());
                }
                kept
            }
        };

        let grant = GrantRecord::new(
            record.grant_id.clone(),
            record.client_id.clone(),
            record.subject.clone(),
            grant_scope,
            record.issued_at,
            record.grant_expires_at,
        );
        // The refresh token carries the sign-in onward (without nonce), and so does every
        // rotation after it.
        let sign_in = record.sign_in.as_ref();
        let binding = Binding::for_client(client, jkt);
        // The tokens from one draw, a temporary: its bytes are not kept in this future.
        let mut minted = self.mint_tokens(
            &mut self.random.draw(token_secrets(true), 0)?,
            &grant,
            access_scope,
            true,
            sign_in,
            binding,
            now,
        )?;
        // A refreshed ID token never carries a nonce (Core §12.2), whatever was stored.
        minted.issued.id_token = self.id_token_for(
            client,
            &grant,
            sign_in,
            None,
            &minted.issued.access_token,
            now,
        )?;
        match self.storage.rotate_refresh(&hash, &minted.records).await? {
            Rotation::Rotated => {
                self.report_issued(
                    GrantType::RefreshToken,
                    &grant,
                    &minted.issued,
                    minted.token_id,
                );
                Ok(TokenOutcome::Issued(minted.issued))
            }
            Rotation::AlreadyRotated => {
                // Another request rotated it between our read and our rotation: a reuse.
                self.report_reuse(&record.grant_id, client).await?;
                Ok(invalid().into())
            }
            Rotation::Revoked | Rotation::NotFound => Ok(invalid().into()),
        }
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Revokes the grant of a reused refresh token and reports it.
    async fn report_reuse(&self, grant_id: &GrantId, client: &Client) -> Result<(), Fault> {
        let revoked_tokens = self.storage.revoke_grant(grant_id).await?;
        self.emit(|| EventKind::RefreshReuseDetected {
            client_id: client.id().as_str().to_owned(),
            grant_id: grant_id.as_str().to_owned(),
            revoked_tokens,
        });
        Ok(())
    }
}
