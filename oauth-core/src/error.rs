//! Errors as data.
//!
//! An OAuth error (`invalid_grant`, `invalid_client`, ...) is a normal outcome of a request:
//! [`OAuthError`] carries the RFC error code, a public description, the HTTP status and the
//! headers that go with it. [`Fault`] is reserved for failures of the server itself
//! (storage down, bad configuration, no randomness), and keeps its source.

use std::borrow::Cow;
use std::fmt;

use crate::openid::claims_error::ClaimsError;
use crate::storage::error::StorageError;

/// The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1 for bearer tokens,
/// OpenID Connect Core 1.0 §3.1.2.6 for the authorization endpoint, RFC 9126 for pushed
/// requests, and RFC 9449 for DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is missing a parameter, repeats one, or is otherwise malformed.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// The code or refresh token is invalid, expired, revoked, or was issued to another client.
    InvalidGrant,
    /// The client may not use this grant type or response type.
    UnauthorizedClient,
    /// The grant type is not supported by this server.
    UnsupportedGrantType,
    /// The response type is not supported by this server.
    UnsupportedResponseType,
    /// The requested scope is invalid, unknown, malformed, or wider than allowed.
    InvalidScope,
    /// The resource owner or the server denied the request.
    AccessDenied,
    /// The server met an unexpected condition.
    ServerError,
    /// The server is overloaded or a resource it needs is busy; the client may retry.
    TemporarilyUnavailable,
    /// The access token is expired, revoked, malformed or invalid (RFC 6750).
    InvalidToken,
    /// The access token lacks a scope the resource requires (RFC 6750).
    InsufficientScope,
    /// `prompt=none`, and the user is not signed in well enough (OpenID Connect Core
    /// 1.0 §3.1.2.6).
    LoginRequired,
    /// `prompt=none`, and the user has not consented.
    ConsentRequired,
    /// `prompt=none`, and the request needs some other page the user would see.
    InteractionRequired,
    /// The request carried a `request` object, which this server does not take.
    RequestNotSupported,
    /// The request carried a `request_uri` this server did not hand out: only the
    /// `request_uri` of a pushed authorization request is taken.
    RequestUriNotSupported,
    /// The `request_uri` is unknown, expired, used before, or another client's (RFC 9126
    /// §4, OpenID Connect Core 1.0 §3.1.2.6).
    InvalidRequestUri,
    /// The request carried a `registration` parameter, which this server does not take.
    RegistrationNotSupported,
    /// The DPoP proof is missing where one is needed, or invalid (RFC 9449 §5, §7.1).
    InvalidDpopProof,
    /// The DPoP proof lacks the nonce the server requires (RFC 9449 §8).
    UseDpopNonce,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::RegistrationNotSupported => "registration_not_supported",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// The HTTP status this code is answered with at the token endpoint.
    pub fn default_status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope | Self::AccessDenied => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error response: what the client is told, and how.
///
/// The description is public (it reaches the client), so it never holds a secret and is
/// limited to the characters RFC 6749 §5.2 allows (`%x20-21 / %x23-5B / %x5D-7E`); other
/// characters are replaced when the error is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    code: ErrorCode,
    description: Cow<'static, str>,
    status: u16,
    www_authenticate: Option<String>,
    retry_after: Option<u64>,
    dpop_nonce: Option<String>,
}

impl OAuthError {
    /// An error with `code`, a public `description`, and the code's usual status.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: sanitize_description(description.into()),
            status: code.default_status(),
            www_authenticate: None,
            retry_after: None,
            dpop_nonce: None,
        }
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_grant` with a description.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope` with a description.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `invalid_client` (401) with a `WWW-Authenticate: Basic` challenge, as RFC 6749 §5.2
    /// asks when client authentication fails.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
            .with_www_authenticate("Basic realm=\"token\", charset=\"UTF-8\"")
    }

    /// `429 Too Many Requests` with `Retry-After`: the caller failed too often and must
    /// wait `retry_after_seconds`. RFC 6749 has no code for it; `temporarily_unavailable`
    /// is the one that tells a client to retry later.
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        let mut error = Self::new(
            ErrorCode::TemporarilyUnavailable,
            "too many failed attempts, retry later",
        )
        .with_status(429);
        error.retry_after = Some(retry_after_seconds.max(1));
        error
    }

    /// Seconds to wait before retrying, sent as `Retry-After`, when set.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// Replaces the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Sets the `WWW-Authenticate` header value sent with this error.
    pub fn with_www_authenticate(mut self, value: impl Into<String>) -> Self {
        self.www_authenticate = Some(value.into());
        self
    }

    /// Sets the server nonce a DPoP proof must carry (the `DPoP-Nonce` header sent with
    /// `use_dpop_nonce`, RFC 9449 §8).
    pub fn with_dpop_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.dpop_nonce = Some(nonce.into());
        self
    }

    /// The `DPoP-Nonce` header value, when the error asks for a nonce.
    pub fn dpop_nonce(&self) -> Option<&str> {
        self.dpop_nonce.as_deref()
    }

    /// The RFC error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The public, human-readable description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `WWW-Authenticate` header value, when the error has one.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }

    /// The JSON body of RFC 6749 §5.2: `{"error": ..., "error_description": ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        })
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

/// Keeps only the characters RFC 6749 §5.2 allows in `error_description`.
fn sanitize_description(text: Cow<'static, str>) -> Cow<'static, str> {
    let allowed = |c: char| matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e');
    if text.chars().all(allowed) {
        text
    } else {
        Cow::Owned(
            text.chars()
                .map(|c| if allowed(c) { c } else { '?' })
                .collect(),
        )
    }
}

/// A failure of the server, not of the request: the engine could not do its work.
///
/// An adapter answers it with [`Fault::to_oauth_error`] (`server_error` 500, or
/// `temporarily_unavailable` 503 when storage is busy) and logs the fault itself, whose
/// `Display` and source say what broke. Nothing in a fault holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// The storage backend failed.
    #[error("storage failed")]
    Storage(#[from] StorageError),
    /// The engine or a registration is configured wrongly.
    #[error("configuration error: {0}")]
    Config(String),
    /// The system's secure random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A value could not be encoded.
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// Too much slow work (password-style secret checks) is waiting; answered with
    /// `temporarily_unavailable` (503, `Retry-After`).
    #[error("too many credential checks are waiting")]
    Busy,
    /// The embedder's [`ClaimsSource`](crate::openid::ClaimsSource) failed to answer for
    /// the UserInfo endpoint; answered with `server_error`, no claim sent.
    #[error("the claims source failed")]
    Claims(#[source] ClaimsError),
}

impl Fault {
    /// The OAuth error a client is shown for this fault; it says nothing of the cause.
    pub fn to_oauth_error(&self) -> OAuthError {
        match self {
            Fault::Storage(e) if e.is_transient() => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the server is busy, retry later",
            ),
            Fault::Busy => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the server is busy, retry later",
            ),
            _ => OAuthError::new(ErrorCode::ServerError, "the server met an unexpected error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tk11_error_description_only_uses_rfc6749_characters() {
        let error = OAuthError::invalid_request("bad \"value\" \\ é\n");
        assert_eq!(error.description(), "bad ?value? ? ??");
        for c in error.description().chars() {
            assert!(matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'));
        }
    }

    #[test]
    fn invalid_client_carries_basic_challenge_and_401() {
        let error = OAuthError::invalid_client("no");
        assert_eq!(error.status(), 401);
        assert!(error.www_authenticate().unwrap().starts_with("Basic"));
    }
}
