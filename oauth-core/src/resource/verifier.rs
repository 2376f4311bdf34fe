//! The resource server's check of an access token: a JWT against the issuer's keys in
//! process, an opaque token (and a JWT's revocation) through the store, a DPoP binding
//! against its proof, and the scopes a request needs.

use std::fmt;
use std::sync::Arc;

use time::Duration;

use crate::clock::Clock;
use crate::dpop::{DpopContext, DEFAULT_DPOP_PROOF_WINDOW};
use crate::error::{ErrorCode, Fault};
use crate::events::{Event, EventKind, EventSink};
use crate::issuer_binding::{belongs_to, issuer_tag, IssuerTag};
use crate::jose::{self, Claims, DpopError, JwtError, VerificationKeys};
use crate::scope::ScopeSet;
use crate::secret::SecretHash;
use crate::storage::{CodeStore, TokenKind, TokenStore};

use super::bearer_request::Scheme;
use super::{BearerError, BearerOutcome, BearerRequest, Principal};

/// Most clock leeway a verifier accepts.
pub const MAX_LEEWAY: Duration = Duration::minutes(5);

/// Verifies access tokens for a resource server.
#[derive(Clone)]
pub struct TokenVerifier<C> {
    issuer: String,
    audience: String,
    keys: VerificationKeys,
    clock: C,
    leeway: Duration,
    dpop_window: Duration,
    events: Option<Arc<dyn EventSink>>,
    /// Opaque tokens of other issuers sharing the store are not this verifier's.
    issuer_tag: IssuerTag,
}

impl<C: fmt::Debug> fmt::Debug for TokenVerifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys", &self.keys)
            .field("clock", &self.clock)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl<C: Clock> TokenVerifier<C> {
    /// A verifier of tokens from `issuer` meant for `audience`, signed by one of `keys`,
    /// with no clock leeway.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: VerificationKeys,
        clock: C,
    ) -> Self {
        let issuer = issuer.into();
        let tag = issuer_tag(&issuer);
        Self::tagged(issuer, audience.into(), keys, clock, tag)
    }

    /// [`TokenVerifier::new`] with the issuer's tag already computed (the engine makes a
    /// verifier per request and keeps its tag).
    pub(crate) fn tagged(
        issuer: String,
        audience: String,
        keys: VerificationKeys,
        clock: C,
        issuer_tag: IssuerTag,
    ) -> Self {
        Self {
            issuer_tag,
            issuer,
            audience,
            keys,
            clock,
            leeway: Duration::ZERO,
            dpop_window: DEFAULT_DPOP_PROOF_WINDOW,
            events: None,
        }
    }

    /// Reports every refusal to `sink` as [`EventKind::BearerRefused`].
    pub fn with_event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    fn refused(&self, error: BearerError) -> BearerError {
        if let Some(sink) = &self.events {
            let name = error.code().map_or("missing", ErrorCode::as_str);
            sink.emit(&Event {
                at: self.clock.now(),
                kind: EventKind::BearerRefused {
                    error: name,
                    reason: error.reason().unwrap_or(error.description).to_owned(),
                },
            });
        }
        error
    }

    /// Allows `leeway` of clock difference on `exp` and `nbf` (at most [`MAX_LEEWAY`]).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.clamp(Duration::ZERO, MAX_LEEWAY);
        self
    }

    /// How far a DPoP proof's `iat` may be from this verifier's clock, either way (1 second
    /// to 5 minutes; default [`DEFAULT_DPOP_PROOF_WINDOW`]). A proof's replay mark is kept
    /// as long.
    pub fn with_dpop_proof_window(mut self, window: Duration) -> Self {
        self.dpop_window = window.clamp(Duration::seconds(1), Duration::minutes(5));
        self
    }

    /// Replaces the trusted keys (for example after fetching the JWKS again).
    pub fn set_keys(&mut self, keys: VerificationKeys) {
        self.keys = keys;
    }

    /// Verifies a JWT access token alone: signature, type, issuer, audience, times.
    pub fn verify_jwt(&self, token: &str) -> Result<Principal, JwtError> {
        let expectations = jose::Expectations {
            keys: &self.keys,
            issuer: &self.issuer,
            audience: Some(&self.audience),
            now: self.clock.now(),
            leeway: self.leeway,
        };
        let verified = jose::verify(token, &expectations)?;
        Ok(Principal {
            subject: verified.subject,
            client_id: verified.client_id,
            scope: verified.scope,
            expires_at: verified.expires_at,
            token_id: Some(verified.jti),
            jkt: verified.jkt,
            claims: verified.claims,
        })
    }

    /// Authenticates a request locally (JWT bearer tokens only) and requires `required`.
    ///
    /// A DPoP-bound token is refused here: its proof must be marked used in a store that
    /// every instance shares, or a proof seen by one instance could be replayed at
    /// another. Use [`TokenVerifier::verify_with_store`] for those.
    pub fn verify(
        &self,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<Principal, BearerError> {
        let (scheme, token) = request.credential()?;
        let principal = self.verify_jwt(token).map_err(BearerError::invalid_token)?;
        if binding(scheme, &principal, request)?.is_some() {
            return Err(BearerError::invalid_dpop_proof(
                "a DPoP proof is checked only with a store, for its replay mark",
            ));
        }
        require_scope(principal, required)
    }

    /// Authenticates a request with the store at hand: a JWT is verified locally and
    /// then refused if it was revoked (its `jti` record is marked revoked); an opaque
    /// token is looked up by hash and must be a live access token.
    ///
    /// A token bound to a DPoP key (a JWT's `cnf.jkt`, an opaque token's record) must come as `Authorization: DPoP` with a
    /// proof (see [`BearerRequest::with_dpop`]) made with that key, for this request's
    /// method and URL and for this token (`ath`), and not used before: the proof's `jti`
    /// is marked used in the store ([`CodeStore::use_once`]). A bound token presented as
    /// `Bearer` is refused as `invalid_token`; so is an unbound one presented as `DPoP`.
    pub async fn verify_with_store<S: TokenStore + CodeStore + ?Sized>(
        &self,
        store: &S,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<BearerOutcome, Fault> {
        Ok(
            match self
                .verify_with_store_unreported(store, request, required)
                .await?
            {
                Ok(principal) => BearerOutcome::Admitted(principal),
                Err(error) => BearerOutcome::Refused(self.refused(error)),
            },
        )
    }

    async fn verify_with_store_unreported<S: TokenStore + CodeStore + ?Sized>(
        &self,
        store: &S,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<Result<Principal, BearerError>, Fault> {
        let (scheme, token) = match request.credential() {
            Ok(credential) => credential,
            Err(error) => return Ok(Err(error)),
        };
        let principal = if token.contains('.') {
            let principal = match self.verify_jwt(token) {
                Ok(principal) => principal,
                Err(error) => return Ok(Err(BearerError::invalid_token(error))),
            };
            if let Some(jti) = &principal.token_id {
                let record = store.get_token(&SecretHash::of(jti)).await?;
                match record {
                    Some(r) if r.kind == TokenKind::JwtAccess && r.revoked => {
                        return Ok(Err(BearerError::invalid_token("the token was revoked")));
                    }
                    // Past `exp` the token is accepted only for the leeway, and a purge may
                    // already have removed its record and so its revocation: without the
                    // record there is no telling, so it is refused.
                    None if principal.expires_at <= self.clock.now() => {
                        return Ok(Err(BearerError::invalid_token("the token expired")));
                    }
                    _ => {}
                }
            }
            principal
        } else {
            let now = self.clock.now();
            match store.get_token(&SecretHash::of(token)).await? {
                Some(record)
                    if record.kind == TokenKind::Access
                        && record.is_active(now)
                        && belongs_to(&self.issuer_tag, &record.grant_id) =>
                {
                    Principal {
                        subject: record
                            .subject
                            .unwrap_or_else(|| record.client_id.as_str().to_owned()),
                        client_id: record.client_id.as_str().to_owned(),
                        scope: record.scope,
                        expires_at: record.expires_at,
                        token_id: None,
                        jkt: record.dpop_jkt,
                        claims: Claims::none(),
                    }
                }
                _ => {
                    return Ok(Err(BearerError::invalid_token(
                        "unknown, expired or revoked opaque token",
                    )))
                }
            }
        };
        // A bound token, JWT or opaque, comes with a fresh proof of its key.
        let dpop = match binding(scheme, &principal, request) {
            Ok(dpop) => dpop,
            Err(error) => return Ok(Err(error)),
        };
        if let (Some(dpop), Some(jkt)) = (dpop, principal.jkt.as_deref()) {
            let checked = dpop
                .check(
                    store,
                    Some((token, jkt)),
                    // A resource server here asks for no nonce (RFC 9449 §9 leaves it
                    // to the resource server).
                    &[],
                    self.clock.now(),
                    self.dpop_window,
                )
                .await?;
            if let Err(error) = checked {
                return Ok(Err(BearerError::invalid_dpop_proof(error)));
            }
        }
        Ok(require_scope(principal, required))
    }
}

/// How the token must be proved, by the scheme it came under and its binding: the DPoP
/// proof to check for a bound token, `None` for a bearer token.
fn binding<'r, 'a>(
    scheme: Scheme,
    principal: &Principal,
    request: &'r BearerRequest<'a>,
) -> Result<Option<&'r DpopContext<'a>>, BearerError> {
    match (scheme, &principal.jkt) {
        (Scheme::Bearer, None) => Ok(None),
        // RFC 9449 §7.2: a bound token is no bearer token, whoever holds it.
        (Scheme::Bearer, Some(_)) => Err(BearerError::invalid_token(
            "a DPoP-bound token was presented as a bearer token",
        )),
        (Scheme::DPoP, None) => Err(BearerError::invalid_token(
            "a token that is not DPoP-bound was presented as DPoP",
        )),
        (Scheme::DPoP, Some(_)) => request
            .dpop
            .as_ref()
            .map(Some)
            .ok_or_else(|| BearerError::invalid_dpop_proof(DpopError::Missing)),
    }
}

fn require_scope(principal: Principal, required: &ScopeSet) -> Result<Principal, BearerError> {
    if required.is_subset(&principal.scope) {
        Ok(principal)
    } else {
        Err(BearerError::insufficient_scope(required))
    }
}
