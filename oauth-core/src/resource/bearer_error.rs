//! A refusal at a protected resource: its kind, status and `WWW-Authenticate` challenge
//! (RFC 6750 §3, RFC 9449 §7.1).

use std::fmt;

use crate::error::ErrorCode;
use crate::jose::DPOP_ALGORITHMS;
use crate::response::Response;
use crate::scope::ScopeSet;

/// What kind of bearer failure this is (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerErrorKind {
    /// No credentials: a bare challenge, no error code (RFC 6750 §3.1).
    Missing,
    /// `invalid_request` (400).
    InvalidRequest,
    /// `invalid_token` (401).
    InvalidToken,
    /// `insufficient_scope` (403).
    InsufficientScope,
    /// `invalid_dpop_proof` (401, RFC 9449 §7.1): the DPoP proof of a bound token is
    /// missing, invalid, replayed, or made with another key.
    InvalidDpopProof,
}

/// A refusal at a protected resource, with its status and `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerError {
    kind: BearerErrorKind,
    pub(super) description: &'static str,
    required_scope: Option<String>,
    reason: Option<String>,
}

impl BearerError {
    pub(super) fn missing() -> Self {
        Self {
            kind: BearerErrorKind::Missing,
            description: "",
            required_scope: None,
            reason: None,
        }
    }

    pub(super) fn invalid_request(description: &'static str) -> Self {
        Self {
            kind: BearerErrorKind::InvalidRequest,
            description,
            required_scope: None,
            reason: None,
        }
    }

    /// `invalid_token`; `reason` is for logs only.
    pub(super) fn invalid_token(reason: impl fmt::Display) -> Self {
        Self {
            kind: BearerErrorKind::InvalidToken,
            description: "the access token is invalid or expired",
            required_scope: None,
            reason: Some(reason.to_string()),
        }
    }

    /// `invalid_dpop_proof`; `reason` is for logs only.
    pub(super) fn invalid_dpop_proof(reason: impl fmt::Display) -> Self {
        Self {
            kind: BearerErrorKind::InvalidDpopProof,
            description: "the DPoP proof is missing or invalid",
            required_scope: None,
            reason: Some(reason.to_string()),
        }
    }

    pub(super) fn insufficient_scope(required: &ScopeSet) -> Self {
        Self {
            kind: BearerErrorKind::InsufficientScope,
            description: "the access token lacks a required scope",
            required_scope: Some(required.to_string()),
            reason: None,
        }
    }

    /// The kind.
    pub fn kind(&self) -> BearerErrorKind {
        self.kind
    }

    /// The RFC error code (none for missing credentials).
    pub fn code(&self) -> Option<ErrorCode> {
        match self.kind {
            BearerErrorKind::Missing => None,
            BearerErrorKind::InvalidRequest => Some(ErrorCode::InvalidRequest),
            BearerErrorKind::InvalidToken => Some(ErrorCode::InvalidToken),
            BearerErrorKind::InsufficientScope => Some(ErrorCode::InsufficientScope),
            BearerErrorKind::InvalidDpopProof => Some(ErrorCode::InvalidDpopProof),
        }
    }

    /// The HTTP status: 401, 400, 401, 403 or 401.
    pub fn status(&self) -> u16 {
        match self.kind {
            BearerErrorKind::Missing
            | BearerErrorKind::InvalidToken
            | BearerErrorKind::InvalidDpopProof => 401,
            BearerErrorKind::InvalidRequest => 400,
            BearerErrorKind::InsufficientScope => 403,
        }
    }

    /// Why the token was refused, for logs (never sent to the client).
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The `WWW-Authenticate` value of RFC 6750 §3; for `invalid_dpop_proof`, the `DPoP`
    /// challenge of RFC 9449 §7.1 with the algorithms a proof may use.
    pub fn www_authenticate(&self) -> String {
        let Some(code) = self.code() else {
            return "Bearer".to_owned();
        };
        if self.kind == BearerErrorKind::InvalidDpopProof {
            let algs: Vec<&str> = DPOP_ALGORITHMS.iter().map(|alg| alg.as_str()).collect();
            return format!(
                "DPoP error=\"{}\", error_description=\"{}\", algs=\"{}\"",
                code.as_str(),
                self.description,
                algs.join(" ")
            );
        }
        let mut value = format!(
            "Bearer error=\"{}\", error_description=\"{}\"",
            code.as_str(),
            self.description
        );
        if let Some(scope) = &self.required_scope {
            value.push_str(&format!(", scope=\"{scope}\""));
        }
        value
    }

    /// As a response: the status, the challenge, and an empty body.
    pub fn to_response(&self) -> Response {
        Response {
            status: self.status(),
            headers: vec![
                ("WWW-Authenticate", self.www_authenticate()),
                ("Cache-Control", "no-store".to_owned()),
            ],
            body: String::new(),
        }
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code() {
            Some(code) => write!(f, "{code}: {}", self.description),
            None => f.write_str("no bearer credentials"),
        }
    }
}

impl std::error::Error for BearerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn challenges_follow_rfc6750() {
        let error = BearerError::insufficient_scope(&ScopeSet::parse("read:users").unwrap());
        assert_eq!(error.status(), 403);
        assert_eq!(
            error.www_authenticate(),
            "Bearer error=\"insufficient_scope\", error_description=\"the access token lacks a required scope\", scope=\"read:users\""
        );
        let error = BearerError::invalid_token("secret detail");
        assert!(!error.www_authenticate().contains("secret detail"));
        assert_eq!(error.to_response().status, 401);
    }
}
