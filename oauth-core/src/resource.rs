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

use std::fmt;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::dpop::{DpopContext, DEFAULT_DPOP_PROOF_WINDOW};
use crate::error::{ErrorCode, Fault};
use crate::events::{Event, EventKind, EventSink};
use crate::issuer_binding::{belongs_to, issuer_tag, IssuerTag};
use crate::jose::{
    self, Claims, DpopError, JwtError, VerificationKeys, DPOP_ALGORITHMS, MAX_TOKEN_LEN,
};
use crate::response::Response;
use crate::scope::ScopeSet;
use crate::secret::SecretHash;
use crate::storage::{CodeStore, TokenKind, TokenStore};

/// Most clock leeway a verifier accepts.
pub const MAX_LEEWAY: Duration = Duration::minutes(5);

/// Where an access token came from, as an adapter found it: a bearer token (RFC 6750), or
/// a DPoP-bound one with its proof (RFC 9449 §7).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BearerRequest<'a> {
    authorization: Option<&'a str>,
    form_token: Option<&'a str>,
    dpop: Option<DpopContext<'a>>,
}

/// The scheme an access token was presented under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// `Authorization: Bearer`, or the form parameter.
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1).
    DPoP,
}

impl fmt::Debug for BearerRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerRequest")
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .field("form_token", &self.form_token.map(|_| "<redacted>"))
            .field("dpop", &self.dpop)
            .finish()
    }
}

impl<'a> BearerRequest<'a> {
    /// The `Authorization` header value, and the `access_token` form parameter of an
    /// `application/x-www-form-urlencoded` body (RFC 6750 §2.2), if the route accepts it.
    pub fn new(authorization: Option<&'a str>, form_token: Option<&'a str>) -> Self {
        Self {
            authorization,
            form_token,
            dpop: None,
        }
    }

    /// The request's `DPoP` header values (RFC 9449 §7), each as it came, with the
    /// request's HTTP method and the full URL it was sent to (as the client addressed
    /// it: behind a proxy, the public URL). A token presented as `Authorization: DPoP`
    /// needs them; no value leaves the request without a proof, and more than one is
    /// refused with `invalid_dpop_proof`.
    ///
    /// ```
    /// use oauth_core::BearerRequest;
    ///
    /// # let (authorization, proof) = ("DPoP eyJ.eyJ.c2ln", "eyJ.eyJ.c2ln");
    /// let request = BearerRequest::new(Some(authorization), None)
    ///     .with_dpop([proof], "GET", "https://api.example/users");
    /// # let _ = request;
    /// ```
    pub fn with_dpop(
        mut self,
        headers: impl IntoIterator<Item = &'a str>,
        method: &'a str,
        url: &'a str,
    ) -> Self {
        self.dpop = DpopContext::new(headers, method, url);
        self
    }

    /// The token, or the bearer error for a missing, doubled or malformed one. A token
    /// presented as `Authorization: DPoP` is returned too; its proof is checked only by
    /// [`TokenVerifier::verify_with_store`].
    pub fn token(&self) -> Result<&'a str, BearerError> {
        self.credential().map(|(_, token)| token)
    }

    /// The token and the scheme it came under.
    fn credential(&self) -> Result<(Scheme, &'a str), BearerError> {
        let header_token = match self.authorization {
            None => None,
            Some(value) => {
                let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
                let token = rest.trim_start_matches(' ');
                if scheme.eq_ignore_ascii_case("bearer") {
                    Some((Scheme::Bearer, token))
                } else if scheme.eq_ignore_ascii_case("dpop") {
                    Some((Scheme::DPoP, token))
                } else {
                    // Another scheme is no access-token credential; treat it as absent.
                    None
                }
            }
        };
        let (scheme, token) = match (header_token, self.form_token) {
            (Some(_), Some(_)) => {
                return Err(BearerError::invalid_request(
                    "the token was sent in more than one way",
                ))
            }
            (Some(credential), None) => credential,
            (None, Some(token)) => (Scheme::Bearer, token),
            (None, None) => return Err(BearerError::missing()),
        };
        if token.is_empty() || token.len() > MAX_TOKEN_LEN || !all_b64token(token.as_bytes()) {
            return Err(BearerError::invalid_request(
                "the bearer token is malformed",
            ));
        }
        Ok((scheme, token))
    }
}

/// Whether every byte of `token` is allowed by RFC 6750 §2.1 `b64token`:
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, and `=`.
///
/// Every request's token passes through here, so the test is written without branches
/// (`&` and `|`, not `&&` and `||`) and over the whole token, which the compiler turns into
/// vector instructions; a token is at most [`MAX_TOKEN_LEN`] bytes.
fn all_b64token(token: &[u8]) -> bool {
    token.iter().fold(true, |all, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        let mark = (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/')
            | (b == b'=');
        all & (letter | digit | mark)
    })
}

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
    description: &'static str,
    required_scope: Option<String>,
    reason: Option<String>,
}

impl BearerError {
    fn missing() -> Self {
        Self {
            kind: BearerErrorKind::Missing,
            description: "",
            required_scope: None,
            reason: None,
        }
    }

    fn invalid_request(description: &'static str) -> Self {
        Self {
            kind: BearerErrorKind::InvalidRequest,
            description,
            required_scope: None,
            reason: None,
        }
    }

    /// `invalid_token`; `reason` is for logs only.
    fn invalid_token(reason: impl fmt::Display) -> Self {
        Self {
            kind: BearerErrorKind::InvalidToken,
            description: "the access token is invalid or expired",
            required_scope: None,
            reason: Some(reason.to_string()),
        }
    }

    /// `invalid_dpop_proof`; `reason` is for logs only.
    fn invalid_dpop_proof(reason: impl fmt::Display) -> Self {
        Self {
            kind: BearerErrorKind::InvalidDpopProof,
            description: "the DPoP proof is missing or invalid",
            required_scope: None,
            reason: Some(reason.to_string()),
        }
    }

    fn insufficient_scope(required: &ScopeSet) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jw11_b64token_accepts_exactly_its_alphabet() {
        for b in 0..=255u8 {
            let allowed = b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
            assert_eq!(all_b64token(&[b]), allowed, "byte {b:#04x}");
            assert_eq!(all_b64token(&[b'a', b, b'Z']), allowed, "byte {b:#04x}");
        }
        let long = "aZ0-._~+/=".repeat(100);
        assert!(all_b64token(long.as_bytes()));
        assert!(!all_b64token(format!("{long}!{long}").as_bytes()));
    }

    #[test]
    fn jw11_bearer_extraction() {
        assert_eq!(
            BearerRequest::new(Some("bearer abc"), None)
                .token()
                .unwrap(),
            "abc"
        );
        assert_eq!(
            BearerRequest::new(Some("Bearer abc"), None)
                .token()
                .unwrap(),
            "abc"
        );
        assert_eq!(
            BearerRequest::new(None, Some("abc")).token().unwrap(),
            "abc"
        );
        let both = BearerRequest::new(Some("Bearer abc"), Some("abc"))
            .token()
            .unwrap_err();
        assert_eq!(both.status(), 400);
        assert_eq!(both.code(), Some(ErrorCode::InvalidRequest));
        let none = BearerRequest::new(None, None).token().unwrap_err();
        assert_eq!(none.status(), 401);
        assert_eq!(none.www_authenticate(), "Bearer");
        let basic = BearerRequest::new(Some("Basic abc"), None)
            .token()
            .unwrap_err();
        assert_eq!(basic.kind(), BearerErrorKind::Missing);
        for bad in ["Bearer", "Bearer a b", "Bearer a\"b", "Bearer \u{e9}"] {
            let error = BearerRequest::new(Some(bad), None).token().unwrap_err();
            assert_eq!(error.status(), 400, "{bad}");
        }
    }

    #[test]
    fn challenges_follow_rfc6750() {
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
