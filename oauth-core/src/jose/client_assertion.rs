//! Client assertions (RFC 7523 §2.2 and §3, OpenID Connect Core §9 `private_key_jwt`):
//! a JWT a client signs with its own key to authenticate itself.
//!
//! As for access tokens, nothing in the assertion is trusted before its signature is
//! checked with a key the client registered: the `kid` names the key, and the key fixes
//! the algorithm (`none` and HMAC never verify, so a public key cannot serve as an HMAC
//! secret). Then `iss` and `sub` must both be the client, `aud` must name this server,
//! and the assertion must be short-lived: an assertion is a credential, replayable by
//! whoever sees it until it expires, so `exp` is required and at most
//! [`MAX_ASSERTION_LIFETIME`] ahead. Its single use (by `jti`) is the caller's to record.

use time::{Duration, OffsetDateTime};

use super::claims::{Claim, ClaimSet};
use super::jws;
use super::keys::VerificationKeys;
use super::strict_json::Field;
use super::Algorithm;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest an assertion may still be valid when it arrives: its `exp` may be at most this
/// far ahead of the server's clock.
pub const MAX_ASSERTION_LIFETIME: Duration = Duration::minutes(5);

/// Clock difference tolerated between a client and this server, on `exp`, `nbf` and `iat`.
pub(crate) const ASSERTION_LEEWAY: Duration = Duration::seconds(30);

/// What a client assertion is checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AssertionExpectations<'a> {
    /// The keys the client registered.
    pub keys: &'a VerificationKeys,
    /// The client: both `iss` and `sub`.
    pub client_id: &'a str,
    /// The values of which `aud` must contain one.
    pub audiences: &'a [&'a str],
    /// Whether `aud` must be one string (FAPI 2.0 §5.3.2.1), not an array holding one of
    /// the audiences among others.
    pub single_audience: bool,
    pub now: OffsetDateTime,
}

/// What a verified assertion says that the caller acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedAssertion {
    /// `jti`, to be used once.
    pub jti: String,
    /// Until when the `jti` must be remembered: `exp` plus the leeway, the last instant
    /// at which the assertion is accepted.
    pub remember_until: OffsetDateTime,
    /// The algorithm it was signed with (the registered key's).
    pub alg: Algorithm,
}

/// Why an assertion was refused. The client is only told `invalid_client`; the reason
/// goes to audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssertionError {
    /// Not a well-formed compact JWS, or its claims are not a JSON object.
    Malformed,
    /// `alg` missing, `none`, or unknown.
    UnsupportedAlgorithm,
    /// `kid` missing or none of the client's keys.
    UnknownKey,
    /// `alg` is not the named key's algorithm.
    AlgorithmMismatch,
    /// The signature does not verify.
    BadSignature,
    /// A `crit` header parameter was present.
    UnknownCritical,
    /// `iss` is not the client.
    WrongIssuer,
    /// `sub` is not the client.
    WrongSubject,
    /// `aud` names neither the issuer nor the token endpoint.
    WrongAudience,
    /// `exp` missing or not an integer NumericDate.
    MissingExpiry,
    /// `exp` has passed.
    Expired,
    /// `exp` is more than [`MAX_ASSERTION_LIFETIME`] ahead.
    TooLongLived,
    /// `nbf` is still ahead, or `iat` is in the future, or either is malformed.
    BadTimes,
    /// `jti` missing or empty.
    MissingJti,
}

impl AssertionError {
    /// The reason, as a fixed phrase for audit events.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "the client assertion is malformed",
            Self::UnsupportedAlgorithm => "the client assertion's algorithm is not accepted",
            Self::UnknownKey => "the client assertion names no registered key",
            Self::AlgorithmMismatch => "the client assertion's algorithm is not its key's",
            Self::BadSignature => "the client assertion's signature does not verify",
            Self::UnknownCritical => "the client assertion has a critical header",
            Self::WrongIssuer => "the client assertion's iss is not the client",
            Self::WrongSubject => "the client assertion's sub is not the client",
            Self::WrongAudience => "the client assertion is meant for another audience",
            Self::MissingExpiry => "the client assertion has no valid exp",
            Self::Expired => "the client assertion expired",
            Self::TooLongLived => "the client assertion is valid for too long",
            Self::BadTimes => "the client assertion's nbf or iat is not acceptable",
            Self::MissingJti => "the client assertion has no jti",
        }
    }
}

/// The `sub` an assertion claims, unverified: which client's keys to verify it with when
/// the request does not name the client.
pub(crate) fn claimed_subject(assertion: &str) -> Option<String> {
    let mut buffers = jws::Buffers::new();
    let jws = jws::split(assertion, &mut buffers).ok()?;
    let claims = ClaimSet::read(&jws.payload).ok()?;
    claims.str(Claim::Subject).map(str::to_owned)
}

/// Verifies a client assertion: signature first, then the claims.
pub(crate) fn verify_assertion(
    assertion: &str,
    expect: &AssertionExpectations<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let mut buffers = jws::Buffers::new();
    let jws = jws::split(assertion, &mut buffers).map_err(|_| AssertionError::Malformed)?;
    let header = &jws.header;
    let alg = header.alg.ok_or(AssertionError::UnsupportedAlgorithm)?;
    let kid = header.kid.as_deref().ok_or(AssertionError::UnknownKey)?;
    let key = expect.keys.get(kid).ok_or(AssertionError::UnknownKey)?;
    if key.algorithm() != alg {
        return Err(AssertionError::AlgorithmMismatch);
    }
    if !key.verify(jws.signing_input.as_bytes(), jws.signature) {
        return Err(AssertionError::BadSignature);
    }
    // Only now is the header trusted.
    if header.crit {
        return Err(AssertionError::UnknownCritical);
    }
    let claims = ClaimSet::read(&jws.payload).map_err(|_| AssertionError::Malformed)?;
    if claims.str(Claim::Issuer) != Some(expect.client_id) {
        return Err(AssertionError::WrongIssuer);
    }
    if claims.str(Claim::Subject) != Some(expect.client_id) {
        return Err(AssertionError::WrongSubject);
    }
    let audience_matches = match claims.get(Claim::Audience) {
        Some(Field::Str(aud)) => expect.audiences.contains(&aud.as_ref()),
        Some(Field::Strings(auds)) if !expect.single_audience => auds
            .iter()
            .any(|aud| expect.audiences.contains(&aud.as_ref())),
        _ => false,
    };
    if !audience_matches {
        return Err(AssertionError::WrongAudience);
    }
    let expires_at = check_times(&claims, expect.now)?;
    let jti = claims
        .str(Claim::TokenId)
        .filter(|jti| !jti.is_empty())
        .ok_or(AssertionError::MissingJti)?
        .to_owned();
    Ok(VerifiedAssertion {
        jti,
        remember_until: expires_at.saturating_add(ASSERTION_LEEWAY),
        alg,
    })
}

/// `exp` required, not past and not too far ahead; `nbf` and `iat` optional, and not in
/// the future. Each within [`ASSERTION_LEEWAY`].
fn check_times(
    claims: &ClaimSet<'_>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, AssertionError> {
    let date = |claim: Claim| match claims.get(claim) {
        None => Ok(None),
        Some(Field::Int(value)) => OffsetDateTime::from_unix_timestamp(*value)
            .map(Some)
            .map_err(|_| AssertionError::BadTimes),
        Some(_) => Err(AssertionError::BadTimes),
    };
    let expires_at = date(Claim::Expiry)
        .map_err(|_| AssertionError::MissingExpiry)?
        .ok_or(AssertionError::MissingExpiry)?;
    // Checked arithmetic: a date at the end of time is refused, never an overflow.
    let latest = now.checked_add(MAX_ASSERTION_LIFETIME + ASSERTION_LEEWAY);
    if latest.is_none_or(|latest| expires_at > latest) {
        return Err(AssertionError::TooLongLived);
    }
    let deadline = expires_at.checked_add(ASSERTION_LEEWAY);
    if deadline.is_none_or(|deadline| now >= deadline) {
        return Err(AssertionError::Expired);
    }
    for claim in [Claim::NotBefore, Claim::IssuedAt] {
        if let Some(at) = date(claim)? {
            if at.checked_sub(ASSERTION_LEEWAY).is_none_or(|at| at > now) {
                return Err(AssertionError::BadTimes);
            }
        }
    }
    Ok(expires_at)
}
