//! Token introspection (RFC 7662), without HTTP.
//!
//! Only an authenticated confidential client may introspect. It sees its own tokens, and
//! a client named in [`Config::with_introspector`](crate::Config::with_introspector) (a
//! resource server) sees every token. Anything else (garbage, expired, revoked, rotated,
//! another client's token) is `{"active": false}` and nothing more, so the answer never
//! tells an unknown token from a dead one.

use serde_json::{json, Value};

use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{Fault, OAuthError};
use crate::events::EventKind;
use crate::form_request::FormRequest;
use crate::request::{Authorization, Params};
use crate::response::Response;
use crate::storage::{Storage, TokenKind};

/// What the introspection endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntrospectionOutcome {
    /// The token is active; the JSON members of RFC 7662 §2.2.
    Active(Value),
    /// The token is not active (or not the caller's to see): `{"active": false}`.
    Inactive,
    /// The request was refused (client authentication, missing `token`).
    Refused(OAuthError),
}

impl IntrospectionOutcome {
    /// As an HTTP response (always `Cache-Control: no-store`).
    pub fn to_response(&self) -> Response {
        match self {
            Self::Active(body) => Response::json_no_store(200, body),
            Self::Inactive => Response::json_no_store(200, &json!({"active": false})),
            Self::Refused(error) => Response::from_error(error),
        }
    }

    /// Whether the token is active.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active(_))
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Answers an introspection request (RFC 7662 §2.1): only an authenticated
    /// confidential client may ask.
    pub async fn introspect(
        &self,
        request: &FormRequest<'_>,
    ) -> Result<IntrospectionOutcome, Fault> {
        let params = match request.params() {
            Ok(params) => params,
            Err(error) => return Ok(IntrospectionOutcome::Refused(error)),
        };
        let params = &*params;
        let (authorization, caller) = (request.authorization(), request.caller());
        let outcome = self
            .introspect_unreported(params, authorization, caller)
            .await?;
        if let IntrospectionOutcome::Active(_) | IntrospectionOutcome::Inactive = &outcome {
            // The caller authenticated, so the id it claimed is its own.
            let client_id = params
                .get("client_id")
                .map(str::to_owned)
                .or_else(|| basic_id(authorization))
                .unwrap_or_default();
            self.emit(|| EventKind::Introspection {
                client_id,
                active: outcome.is_active(),
            });
        }
        Ok(outcome)
    }

    async fn introspect_unreported(
        &self,
        params: &Params,
        authorization: Option<&str>,
        caller: Option<&str>,
    ) -> Result<IntrospectionOutcome, Fault> {
        if !params.repeated().is_empty() {
            return Ok(IntrospectionOutcome::Refused(OAuthError::invalid_request(
                "a parameter is repeated",
            )));
        }
        let client = match self.authenticate(params, authorization, caller).await? {
            Ok(client) if client.is_confidential() => client,
            Ok(_) => {
                return Ok(IntrospectionOutcome::Refused(OAuthError::invalid_client(
                    "introspection requires client authentication",
                )))
            }
            Err(error) => return Ok(IntrospectionOutcome::Refused(error)),
        };
        let token = match params.required("token") {
            Ok(token) => token,
            Err(error) => return Ok(IntrospectionOutcome::Refused(error)),
        };
        let Some(record) = self.find_token(token).await? else {
            return Ok(IntrospectionOutcome::Inactive);
        };
        let now = self.clock.now();
        let visible = record.client_id == *client.id() || self.config.is_introspector(client.id());
        if !visible || !record.is_active(now) {
            return Ok(IntrospectionOutcome::Inactive);
        }
        let mut body = json!({
            "active": true,
            "scope": record.scope.to_string(),
            "client_id": record.client_id.as_str(),
            "sub": record.subject.as_deref().unwrap_or(record.client_id.as_str()),
            "iat": record.issued_at.unix_timestamp(),
            "exp": record.expires_at.unix_timestamp(),
            "iss": self.config.issuer(),
        });
        if let Some(object) = body.as_object_mut() {
            // RFC 9449 §6.2: a bound token says so, and names its key.
            let token_type = match record.dpop_jkt {
                Some(_) => "DPoP",
                None => "Bearer",
            };
            match record.kind {
                TokenKind::Access | TokenKind::JwtAccess => {
                    object.insert("token_type".into(), token_type.into());
                }
                TokenKind::Refresh => {}
            }
            if let Some(jkt) = &record.dpop_jkt {
                object.insert("cnf".into(), json!({ "jkt": jkt }));
            }
            if let (TokenKind::JwtAccess, Some(jwt)) = (record.kind, &self.jwt) {
                object.insert("aud".into(), jwt.audience().into());
            }
        }
        Ok(IntrospectionOutcome::Active(body))
    }
}

/// The client id of a Basic header (the caller was authenticated by then).
fn basic_id(authorization: Option<&str>) -> Option<String> {
    match authorization.map(Authorization::parse) {
        Some(Ok(Authorization::Basic(credentials))) => Some(credentials.client_id),
        _ => None,
    }
}
