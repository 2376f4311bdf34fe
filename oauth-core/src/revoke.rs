//! Token revocation (RFC 7009), without HTTP.
//!
//! The client authenticates as at the token endpoint (public clients with their
//! `client_id`). Revoking a refresh token revokes its whole grant: the refresh token and
//! every access token issued under it (RFC 7009 §2.1). Revoking an access token revokes
//! that token alone.
//!
//! **JWT access tokens.** A self-contained JWT stays valid to a verifier that only checks
//! signatures, until it expires. Revoking one marks the record kept under the hash of its
//! `jti`: a deny-list entry, kept until the token expires and then purged with it.
//! Introspection and [`TokenVerifier::verify_with_store`](crate::TokenVerifier::verify_with_store)
//! refuse it at once; a resource server that verifies locally without the store accepts it
//! until `exp`, which is why JWT access tokens should be short-lived.
//!
//! Every answer to a well-formed, authenticated request is `200` with an empty body,
//! whether the token was found, was another client's (left untouched), or was garbage.
//!
//! **DPoP.** A refresh token bound to a DPoP key (a public client's) is revoked only by a
//! request with a proof of that key (RFC 9449 §4, `htu` the revocation endpoint's URL):
//! revoking it ends the grant, and a thief holding the token without the key must not be
//! able to do that to its owner.

use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{Fault, OAuthError};
use crate::events::EventKind;
use crate::form_request::FormRequest;
use crate::response::Response;
use crate::storage::{Storage, TokenKind};

/// What the revocation endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationOutcome {
    /// `200`, empty body: the token, if it was the caller's, is revoked.
    Done,
    /// The request was refused.
    Refused(OAuthError),
}

impl RevocationOutcome {
    /// As an HTTP response.
    pub fn to_response(&self) -> Response {
        match self {
            Self::Done => Response {
                status: 200,
                headers: vec![("Cache-Control", "no-store".to_owned())],
                body: String::new(),
            },
            Self::Refused(error) => Response::from_error(error),
        }
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Answers a revocation request (RFC 7009 §2.1).
    pub async fn revoke(&self, request: &FormRequest<'_>) -> Result<RevocationOutcome, Fault> {
        let params = match request.params() {
            Ok(params) => params,
            Err(error) => return Ok(RevocationOutcome::Refused(error)),
        };
        let params = &*params;
        let (authorization, caller) = (request.authorization(), request.caller());
        if !params.repeated().is_empty() {
            return Ok(RevocationOutcome::Refused(OAuthError::invalid_request(
                "a parameter is repeated",
            )));
        }
        let client = match self.authenticate(params, authorization, caller).await? {
            Ok(client) => client,
            Err(error) => return Ok(RevocationOutcome::Refused(error)),
        };
        let token = match params.required("token") {
            Ok(token) => token,
            Err(error) => return Ok(RevocationOutcome::Refused(error)),
        };
        let Some(record) = self.find_token(token).await? else {
            return Ok(RevocationOutcome::Done);
        };
        if record.client_id != *client.id() {
            // Another client's token: left alone, and the answer does not say so.
            return Ok(RevocationOutcome::Done);
        }
        let whole_grant = record.kind == TokenKind::Refresh;
        // A refresh token bound to a DPoP key (a public client's) ends its grant only for
        // whoever holds the key: a thief with the token and the public client id alone
        // must not be able to end the victim's session. Without a proof of that key the
        // answer is the same `200`, and nothing is revoked.
        if let (true, Some(bound)) = (whole_grant, record.dpop_jkt.as_deref()) {
            let proved = match request.dpop() {
                Some(dpop) => self
                    .check_request_proof(dpop)
                    .await?
                    .is_ok_and(|proof| proof.jkt == bound),
                None => false,
            };
            if !proved {
                return Ok(RevocationOutcome::Done);
            }
        }
        if whole_grant {
            self.storage.revoke_grant(&record.grant_id).await?;
        } else {
            self.storage.revoke_token(&record.hash).await?;
        }
        self.emit(|| EventKind::TokenRevoked {
            client_id: client.id().as_str().to_owned(),
            grant_id: record.grant_id.as_str().to_owned(),
            whole_grant,
        });
        Ok(RevocationOutcome::Done)
    }
}
