//! The resource-server guard: one object-safe face of "is this request's bearer token
//! live, and does it hold these scopes?", so that a framework adapter's extractor or
//! middleware can hold it as `Arc<dyn BearerGuard>` without naming the engine's storage
//! and clock types.

use async_trait::async_trait;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::Fault;
use crate::resource::{BearerOutcome, BearerRequest, TokenVerifier};
use crate::scope::ScopeSet;
use crate::storage::Storage;

/// Checks bearer tokens at protected routes (RFC 6750).
#[async_trait]
pub trait BearerGuard: Send + Sync {
    /// Authenticates `request` and requires every scope of `required`. `Err` only for a
    /// fault of the server (the store is down); a refusal is [`BearerOutcome::Refused`],
    /// carrying the status and `WWW-Authenticate` challenge to answer with.
    async fn check(
        &self,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<BearerOutcome, Fault>;
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Authenticates a request at a protected resource of this engine's deployment and
    /// requires `required`: the bearer token is taken from `request`, a JWT verified
    /// against the engine's keys and audience (and refused if revoked), an opaque token
    /// looked up in the store. Refusals are reported as events.
    pub async fn verify_bearer(
        &self,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<BearerOutcome, Fault> {
        self.token_verifier()
            .verify_with_store(&self.storage, request, required)
            .await
    }
}

#[async_trait]
impl<S: Storage, C: Clock> BearerGuard for Engine<S, C> {
    async fn check(
        &self,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<BearerOutcome, Fault> {
        self.verify_bearer(request, required).await
    }
}

/// A resource server apart from the authorization server: JWTs verified locally against
/// the issuer's keys, never a call to the store.
#[async_trait]
impl<C: Clock> BearerGuard for TokenVerifier<C> {
    async fn check(
        &self,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<BearerOutcome, Fault> {
        Ok(match self.verify(request, required) {
            Ok(principal) => BearerOutcome::Admitted(principal),
            Err(error) => BearerOutcome::Refused(error),
        })
    }
}

/// The scopes a protected route requires, as a marker type for the adapters' typed
/// extractors (`Bearer<ReadUsers>`).
///
/// ```
/// use oauth_core::RequiredScope;
///
/// /// `GET /api/users` needs `read:users`.
/// struct ReadUsers;
/// impl RequiredScope for ReadUsers {
///     const SCOPE: &'static str = "read:users";
/// }
/// ```
pub trait RequiredScope: Send + Sync + 'static {
    /// Space-separated scopes, every one of which the access token must hold.
    const SCOPE: &'static str;
}
