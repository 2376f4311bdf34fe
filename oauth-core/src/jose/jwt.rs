//! JWT access tokens (RFC 9068): minting, and verification that trusts nothing in the
//! token until its signature is checked with a key the verifier chose.
//!
//! The verifier finds the key by `kid` (an exact lookup, never a path or query), and the
//! key fixes the algorithm: a header naming another `alg` is refused, so an RSA or EC
//! public key can never be used as an HMAC secret (RFC 8725 §2.1, §3.1). Header keys that
//! point at other keys (`jwk`, `jku`, `x5u`, `x5c`) are ignored. `typ` must be `at+jwt`
//! (RFC 9068 §4), and any `crit` extension is refused, since finrift understands none.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::claims::{Claim, ClaimSet, Claims};
use super::header::TokenType;
use super::jws::{self, JwsError};
use super::keys::{SigningKey, VerificationKeys};
use super::strict_json::Field;
use crate::error::Fault;
use crate::scope::ScopeSet;

/// The claims of an access token to mint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessClaims<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub audience: &'a str,
    pub client_id: &'a str,
    pub scope: &'a ScopeSet,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub jti: &'a str,
    pub auth_time: Option<OffsetDateTime>,
    /// The thumbprint of the DPoP key the token is bound to (`cnf.jkt`, RFC 9449 §6.1).
    pub jkt: Option<&'a str>,
}

/// Mints a signed `at+jwt` access token.
pub(crate) fn mint(claims: &AccessClaims<'_>, key: &SigningKey) -> Result<String, Fault> {
    let header = MintedHeader {
        alg: key.algorithm().as_str(),
        kid: key.kid(),
        typ: "at+jwt",
    };
    let payload = MintedClaims {
        aud: claims.audience,
        auth_time: claims.auth_time.map(OffsetDateTime::unix_timestamp),
        client_id: claims.client_id,
        cnf: claims.jkt.map(|jkt| Confirmation { jkt }),
        exp: claims.expires_at.unix_timestamp(),
        iat: claims.issued_at.unix_timestamp(),
        iss: claims.issuer,
        jti: claims.jti,
        scope: DisplayAsString(claims.scope),
        sub: claims.subject,
    };
    let payload = serde_json::to_vec(&payload).map_err(|e| Fault::Encoding(e.to_string()))?;
    jws::sign(&header, &payload, key)
}

/// The header of a minted token. Serialized straight from borrowed fields (no map is
/// built on the way), members in alphabetical order.
#[derive(Serialize)]
struct MintedHeader<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

/// The claims of a minted token (RFC 9068 §2.2), members in alphabetical order.
#[derive(Serialize)]
struct MintedClaims<'a> {
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
    exp: i64,
    iat: i64,
    iss: &'a str,
    jti: &'a str,
    scope: DisplayAsString<'a, ScopeSet>,
    sub: &'a str,
}

/// The `cnf` claim of a DPoP-bound token (RFC 9449 §6.1).
#[derive(Serialize)]
struct Confirmation<'a> {
    jkt: &'a str,
}

/// Serializes a value as the JSON string of its `Display` form, without an intermediate
/// `String`.
struct DisplayAsString<'a, T>(&'a T);

impl<T: std::fmt::Display> Serialize for DisplayAsString<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// Why a JWT was refused. The reason goes to logs and audit events; the bearer of the
/// token is only told `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a well-formed compact JWS.
    #[error("malformed token: {0}")]
    Malformed(#[from] JwsError),
    /// `alg` missing, `none`, or not one finrift knows.
    #[error("the token's algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// `kid` missing or not one of the trusted keys.
    #[error("the token names no trusted key")]
    UnknownKey,
    /// The header's `alg` is not the named key's algorithm.
    #[error("the token's algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// `typ` is not `at+jwt`.
    #[error("the token is not an access token (typ)")]
    WrongType,
    /// A `crit` header parameter was present.
    #[error("the token uses a critical extension finrift does not understand")]
    UnknownCritical,
    /// The claims are not a JSON object, or repeat a key.
    #[error("the token's claims are not a valid JSON object")]
    MalformedClaims,
    /// A required claim is missing or has the wrong type.
    #[error("the claim {0} is missing or invalid")]
    InvalidClaim(&'static str),
    /// `exp` has passed (with leeway).
    #[error("the token expired")]
    Expired,
    /// `nbf` is still ahead (with leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not include the expected audience.
    #[error("the token is meant for another audience")]
    WrongAudience,
}

/// What a verified access token says.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    /// `sub`: the user, or the client acting for itself.
    pub subject: String,
    /// `client_id`.
    pub client_id: String,
    /// `scope` (empty if absent).
    pub scope: ScopeSet,
    /// `exp`.
    pub expires_at: OffsetDateTime,
    /// `jti`.
    pub jti: String,
    /// `cnf.jkt`: the thumbprint of the DPoP key the token is bound to (RFC 9449 §6.1),
    /// `None` for a bearer token.
    pub jkt: Option<String>,
    /// Every claim, for application-specific ones.
    pub claims: Claims,
}

/// What a verifier expects of a token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expectations<'a> {
    pub keys: &'a VerificationKeys,
    pub issuer: &'a str,
    /// `None` skips the audience check (the issuer reading its own tokens).
    pub audience: Option<&'a str>,
    pub now: OffsetDateTime,
    pub leeway: Duration,
}

/// Verifies an access token: signature first, then type, then claims.
pub(crate) fn verify(token: &str, expect: &Expectations<'_>) -> Result<VerifiedJwt, JwtError> {
    let mut buffers = jws::Buffers::new();
    let jws = jws::split(token, &mut buffers)?;
    let header = &jws.header;
    let alg = header.alg.ok_or(JwtError::UnsupportedAlgorithm)?;
    let kid = header.kid.as_deref().ok_or(JwtError::UnknownKey)?;
    let key = expect.keys.get(kid).ok_or(JwtError::UnknownKey)?;
    if key.algorithm() != alg {
        return Err(JwtError::AlgorithmMismatch);
    }
    if !key.verify(jws.signing_input.as_bytes(), jws.signature) {
        return Err(JwtError::BadSignature);
    }
    // Only now is the header trusted.
    if header.crit {
        return Err(JwtError::UnknownCritical);
    }
    if header.typ != TokenType::AccessToken {
        return Err(JwtError::WrongType);
    }

    let claims = ClaimSet::read(&jws.payload).map_err(|_| JwtError::MalformedClaims)?;
    check_times(&claims, expect)?;
    if claims.str(Claim::Issuer) != Some(expect.issuer) {
        return Err(JwtError::WrongIssuer);
    }
    if let Some(audience) = expect.audience {
        let matches = match claims.get(Claim::Audience) {
            Some(Field::Str(aud)) => aud == audience,
            Some(Field::Strings(auds)) => auds.iter().any(|aud| aud == audience),
            _ => false,
        };
        if !matches {
            return Err(JwtError::WrongAudience);
        }
    }
    let string = |claim: Claim| {
        claims
            .str(claim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(JwtError::InvalidClaim(claim.name()))
    };
    let scope = match claims.get(Claim::Scope) {
        None => ScopeSet::empty(),
        Some(Field::Str(s)) if s.is_empty() => ScopeSet::empty(),
        Some(Field::Str(s)) => ScopeSet::parse(s).map_err(|_| JwtError::InvalidClaim("scope"))?,
        Some(_) => return Err(JwtError::InvalidClaim("scope")),
    };
    let expires_at = numeric_date(&claims, Claim::Expiry)?
        .and_then(|exp| OffsetDateTime::from_unix_timestamp(exp).ok())
        .ok_or(JwtError::InvalidClaim("exp"))?;
    let subject = string(Claim::Subject)?;
    let client_id = string(Claim::ClientId)?;
    let jti = string(Claim::TokenId)?;
    let bound = claims.get(Claim::Confirmation).is_some();
    let claims = Claims::verified(jws.payload);
    // Only a bound token pays for reading its claims again. A `cnf` without a `jkt` is
    // bound some other way (a certificate, RFC 8705) that this verifier cannot check, so
    // it is refused rather than taken for a bearer token.
    let jkt = if bound {
        let jkt = claims
            .get("cnf")
            .and_then(|cnf| cnf.get("jkt")?.as_str().map(str::to_owned))
            .filter(|jkt| !jkt.is_empty())
            .ok_or(JwtError::InvalidClaim("cnf"))?;
        Some(jkt)
    } else {
        None
    };
    Ok(VerifiedJwt {
        subject,
        client_id,
        scope,
        expires_at,
        jti,
        jkt,
        claims,
    })
}

/// `exp` and `iat` are required (RFC 9068 §2.2), `nbf` optional; each must be an integer
/// NumericDate, and `iat` not in the future beyond the leeway.
fn check_times(claims: &ClaimSet<'_>, expect: &Expectations<'_>) -> Result<(), JwtError> {
    let now = expect.now.unix_timestamp();
    let leeway = expect.leeway.whole_seconds();
    let exp = numeric_date(claims, Claim::Expiry)?.ok_or(JwtError::InvalidClaim("exp"))?;
    // exp + leeway without overflow: a huge exp is refused as invalid, not wrapped.
    let deadline = exp
        .checked_add(leeway)
        .ok_or(JwtError::InvalidClaim("exp"))?;
    if OffsetDateTime::from_unix_timestamp(exp).is_err() {
        return Err(JwtError::InvalidClaim("exp"));
    }
    if now >= deadline {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = numeric_date(claims, Claim::NotBefore)? {
        if nbf.saturating_sub(leeway) > now {
            return Err(JwtError::NotYetValid);
        }
    }
    let iat = numeric_date(claims, Claim::IssuedAt)?.ok_or(JwtError::InvalidClaim("iat"))?;
    if iat.saturating_sub(leeway) > now {
        return Err(JwtError::InvalidClaim("iat"));
    }
    Ok(())
}

/// An integer NumericDate claim: absent is `None`; a string, a fraction, or a number
/// outside `i64` is invalid.
fn numeric_date(claims: &ClaimSet<'_>, claim: Claim) -> Result<Option<i64>, JwtError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(Field::Int(value)) => Ok(Some(*value)),
        Some(_) => Err(JwtError::InvalidClaim(claim.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::json;

    #[test]
    fn minted_header_and_claims_are_sorted_json_objects() {
        let key = SigningKey::hmac("k1", &[7u8; 32]).unwrap();
        let scope = ScopeSet::parse("write:users read:users").unwrap();
        let at = |s| OffsetDateTime::from_unix_timestamp(s).unwrap();
        for auth_time in [None, Some(at(5))] {
            let claims = AccessClaims {
                issuer: "https://as",
                subject: "alice \"a\"",
                audience: "https://api",
                client_id: "app",
                scope: &scope,
                issued_at: at(10),
                expires_at: at(70),
                jti: "j1",
                auth_time,
                jkt: None,
            };
            let token = mint(&claims, &key).unwrap();
            let mut parts = token.split('.');
            let header = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
            let payload = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
            assert_eq!(
                header,
                serde_json::to_vec(&json!({"typ": "at+jwt", "alg": "HS256", "kid": "k1"})).unwrap()
            );
            let mut expected = json!({
                "iss": "https://as", "sub": "alice \"a\"", "aud": "https://api",
                "client_id": "app", "scope": "read:users write:users",
                "iat": 10, "exp": 70, "jti": "j1",
            });
            if let Some(t) = auth_time {
                expected["auth_time"] = t.unix_timestamp().into();
            }
            // serde_json's map is sorted: the typed claims must serialize identically.
            assert_eq!(payload, serde_json::to_vec(&expected).unwrap());
        }
    }
}
