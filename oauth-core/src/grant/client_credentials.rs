//! The client credentials grant (RFC 6749 §4.4): a confidential client acting for itself.
//! It never issues a refresh token (RFC 6749 §4.4.3).

use super::{refuse_on_error, token_secrets, Binding, TokenOutcome};
use crate::client::{Client, GrantType};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::request::Params;
use crate::scope_resolution::resolve_requested;
use crate::storage::{GrantRecord, Issuance, Storage};

impl<S: Storage, C: Clock> Engine<S, C> {
    pub(super) async fn client_credentials(
        &self,
        client: &Client,
        params: &Params,
        jkt: Option<&str>,
    ) -> Result<TokenOutcome, Fault> {
        if !client.is_confidential() {
            return Ok(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "only confidential clients may use client_credentials",
            )
            .into());
        }
        let asked = refuse_on_error!(resolve_requested(client, params.get("scope")));
        // `openid` asks for a user's sign-in, and a client acting for itself has none: a
        // token holding it would open the UserInfo endpoint with the client as the user.
        if self.openid.is_some() && asked.contains(crate::openid::OPENID_SCOPE) {
            return Ok(OAuthError::invalid_scope(
                "the openid scope needs a user: use the authorization code grant",
            )
            .into());
        }
        let scope = self
            .scope_policy
            .permitted(client, None, &asked)
            .await
            .intersection(&asked);
        if scope.is_empty() {
            return Ok(
                OAuthError::invalid_scope("none of the requested scopes may be granted").into(),
            );
        }
        let now = self.clock.now();
        // The grant id and the access token in one draw: one call to the generator. The
        // draw ends with this block, so its bytes are not kept in this future across the
        // await below.
        let (grant, minted) = {
            let mut draw = self.random.draw(token_secrets(false), 1)?;
            let grant = GrantRecord::new(
                self.new_grant_id(&mut draw)?,
                client.id().clone(),
                None,
                scope.clone(),
                now,
                now + self.config.access_token_lifetime(),
            );
            let binding = Binding::for_client(client, jkt);
            let minted = self.mint_tokens(&mut draw, &grant, scope, false, None, binding, now)?;
            (grant, minted)
        };
        match self.storage.issue(&grant, &minted.records).await? {
            Issuance::Issued => {
                self.report_issued(
                    GrantType::ClientCredentials,
                    &grant,
                    &minted.issued,
                    minted.token_id,
                );
                Ok(TokenOutcome::Issued(minted.issued))
            }
            // A fresh random grant id cannot have been revoked; a store that says so is broken.
            Issuance::GrantRevoked => Err(Fault::Config(
                "the store reported a new grant as revoked".into(),
            )),
        }
    }
}
