//! The resource-server side: bearer token extraction (RFC 6750), token verification, and
//! scope checks, with errors that carry the exact `WWW-Authenticate` challenge.
//!
//! A [`TokenVerifier`] checks JWT access tokens locally against the issuer's keys (no call
//! to the authorization server), and, given the store, opaque tokens and the revocation
//! of JWTs too.
//!
//! ```
//! use oauth_core::jose::{Algorithm, KeySet, SigningKey};
//! use oauth_core::{BearerRequest, ManualClock, ScopeSet, TokenVerifier};
//! use time::OffsetDateTime;
//!
//! let (key, _pkcs8) = SigningKey::generate(Algorithm::Es256, "k1").unwrap();
//! let keys = KeySet::new(key).verification_keys(); // or VerificationKeys::from_jwks(json)
//! let verifier = TokenVerifier::new(
//!     "https://auth.example",
//!     "https://api.example",
//!     keys,
//!     ManualClock::new(OffsetDateTime::UNIX_EPOCH),
//! );
//! let request = BearerRequest::new(None, None); // no credentials at all
//! let error = verifier
//!     .verify(&request, &ScopeSet::parse("read:users").unwrap())
//!     .unwrap_err();
//! assert_eq!(error.status(), 401);
//! assert_eq!(error.www_authenticate(), "Bearer");
//! ```

mod bearer_error;
mod bearer_request;
mod verifier;

use time::OffsetDateTime;

use crate::jose::Claims;
use crate::scope::ScopeSet;

pub use bearer_error::{BearerError, BearerErrorKind};
pub use bearer_request::BearerRequest;
pub use verifier::{TokenVerifier, MAX_LEEWAY};

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Principal {
    /// The user, or the client acting for itself.
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The token's scopes.
    pub scope: ScopeSet,
    /// When the token expires.
    pub expires_at: OffsetDateTime,
    /// The JWT's `jti` (for JWT access tokens).
    pub token_id: Option<String>,
    /// The thumbprint of the DPoP key the access token is bound to (a JWT's `cnf.jkt`,
    /// RFC 9449 §6.1, or an opaque token's stored binding); `None` for a bearer token.
    pub jkt: Option<String>,
    /// Every claim of a JWT access token (empty for opaque tokens).
    pub claims: Claims,
}

/// What a check of a bearer token at a protected resource answers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BearerOutcome {
    /// The token is live and holds the required scopes.
    Admitted(Principal),
    /// Refused: answer with [`BearerError::to_response`] (401, 400 or 403 and the RFC 6750
    /// challenge).
    Refused(BearerError),
}

impl BearerOutcome {
    /// Who the token speaks for, when admitted.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::Admitted(principal) => Some(principal),
            Self::Refused(_) => None,
        }
    }

    /// The refusal, when refused.
    pub fn refusal(&self) -> Option<&BearerError> {
        match self {
            Self::Admitted(_) => None,
            Self::Refused(error) => Some(error),
        }
    }

    /// As a `Result`, for `?` in a handler.
    pub fn into_result(self) -> Result<Principal, BearerError> {
        match self {
            Self::Admitted(principal) => Ok(principal),
            Self::Refused(error) => Err(error),
        }
    }
}
