//! The successful token response (RFC 6749 §5.1).

use std::fmt;

use crate::response::Response;
use crate::scope::ScopeSet;

/// How an access token is to be presented (RFC 6749 §7.1): its `token_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessTokenType {
    /// `Bearer` (RFC 6750): whoever holds the token may use it.
    Bearer,
    /// `DPoP` (RFC 9449 §5): bound to the client's DPoP key, presented with a proof of it.
    DPoP,
}

impl AccessTokenType {
    /// The `token_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
        }
    }
}

/// Tokens issued by the token endpoint.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedTokens {
    /// The access token.
    pub access_token: String,
    /// How the access token is to be presented: `DPoP` when it is bound to the key of the
    /// request's DPoP proof.
    pub token_type: AccessTokenType,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<String>,
    /// The access token's scope.
    pub scope: ScopeSet,
    /// The ID token (OpenID Connect Core 1.0 §3.1.3.3), for a grant with the `openid`
    /// scope on an engine that is an OpenID provider.
    pub id_token: Option<String>,
}

impl IssuedTokens {
    /// The JSON body: `access_token`, `token_type` (`Bearer` or `DPoP`), `expires_in`,
    /// `refresh_token` and `id_token` when issued, and `scope`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "access_token": self.access_token,
            "token_type": self.token_type.as_str(),
            "expires_in": self.expires_in,
            "scope": self.scope.to_string(),
        });
        if let Some(map) = body.as_object_mut() {
            if let Some(refresh) = &self.refresh_token {
                map.insert("refresh_token".into(), refresh.clone().into());
            }
            if let Some(id_token) = &self.id_token {
                map.insert("id_token".into(), id_token.clone().into());
            }
        }
        body
    }

    /// The 200 response, with `Cache-Control: no-store`.
    pub fn to_response(&self) -> Response {
        Response::json_no_store(200, &self.to_json())
    }
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tokens are bearer credentials: never in logs.
        f.debug_struct("IssuedTokens")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            // It says who the user is: not for logs either.
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
