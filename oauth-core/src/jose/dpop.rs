//! DPoP proofs (RFC 9449 §4): one proof JWT checked against the request it came with.
//!
//! A proof names its own key (the `jwk` header member), so unlike an access token its
//! header is read before the signature is checked; what keeps that safe is that the key
//! only ever proves possession of itself. Its thumbprint (RFC 7638) is what a bound token
//! carries as `cnf.jkt`, and what the replay mark is keyed by. The check here is pure: the
//! one-time use of the proof's `jti` is the caller's, through the store, so that it holds
//! across every instance sharing it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use url::Url;

use super::algorithm::Algorithm;
use super::jws::{self, JwsError};
use super::keys::VerificationKey;
use super::strict_json;

/// The algorithms a DPoP proof may be signed with: asymmetric ones only (RFC 9449 §4.2),
/// advertised as `dpop_signing_alg_values_supported`.
pub const DPOP_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::Es256,
    Algorithm::EdDsa,
    Algorithm::Ps256,
    Algorithm::Rs256,
];

/// Longest `jti` a proof may carry: it is kept (hashed) until the proof expires, and a
/// client needs no more than a random 128-bit value in any encoding.
pub const MAX_DPOP_JTI_LEN: usize = 128;

/// JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a DPoP proof was refused. Each reason is a fixed phrase, safe to send to the client
/// as the error description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DpopError {
    /// No `DPoP` header, where a proof is needed.
    #[error("the request carries no DPoP proof")]
    Missing,
    /// More than one `DPoP` header (RFC 9449 §4.3 point 1).
    #[error("the request carries more than one DPoP proof")]
    SeveralProofs,
    /// Not a well-formed compact JWS.
    #[error("the DPoP proof is not a well-formed JWS")]
    Malformed(JwsError),
    /// `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ is not dpop+jwt")]
    WrongType,
    /// `alg` missing, `none`, symmetric, or not supported.
    #[error("the DPoP proof's algorithm is not supported")]
    UnsupportedAlgorithm,
    /// A `crit` header member, which no extension finrift knows can satisfy.
    #[error("the DPoP proof uses a critical extension")]
    UnknownCritical,
    /// `jwk` missing, malformed, or not a key for `alg`.
    #[error("the DPoP proof's jwk is missing or not a public key for its algorithm")]
    BadKey,
    /// `jwk` holds private or symmetric key material.
    #[error("the DPoP proof's jwk holds a private key")]
    PrivateKey,
    /// The signature does not verify with the header's key.
    #[error("the DPoP proof's signature does not verify")]
    BadSignature,
    /// The claims are not a JSON object, or repeat a key.
    #[error("the DPoP proof's claims are not a valid JSON object")]
    MalformedClaims,
    /// A claim is missing or of the wrong shape.
    #[error("the DPoP proof's {0} claim is missing or invalid")]
    InvalidClaim(&'static str),
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another HTTP method")]
    WrongMethod,
    /// `htu` is not the request's URL.
    #[error("the DPoP proof is for another URL")]
    WrongUrl,
    /// `iat` is too far in the past or the future.
    #[error("the DPoP proof was not issued within the accepted window")]
    OutsideWindow,
    /// `ath` is not the hash of the access token presented.
    #[error("the DPoP proof's ath is not the hash of the access token")]
    WrongTokenHash,
    /// `nonce` is missing or not the one the server expects.
    #[error("the DPoP proof lacks the nonce the server requires")]
    WrongNonce,
    /// The proof's `jti` was used before with the same key.
    #[error("the DPoP proof was used before")]
    Replayed,
    /// The proof's key is not the one the access token is bound to.
    #[error("the DPoP proof's key is not the one the access token is bound to")]
    KeyMismatch,
}

/// What a proof must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProofExpectations<'a> {
    /// The request's HTTP method.
    pub method: &'a str,
    /// The request's URL, as the caller gave it (normalised here).
    pub url: &'a str,
    /// The access token presented with the proof (at a resource server): `ath` must be
    /// its hash.
    pub access_token: Option<&'a str>,
    /// The nonces the server accepts, if it requires one (empty: no nonce required).
    pub nonces: &'a [&'a str],
    pub now: OffsetDateTime,
    /// How far `iat` may be from `now`, either way.
    pub window: Duration,
}

/// A proof that passed every check but the replay mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedProof {
    /// The thumbprint of the proof's key (RFC 7638).
    pub jkt: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `iat`.
    pub issued_at: OffsetDateTime,
    /// The algorithm it was signed with.
    pub alg: Algorithm,
}

/// Checks one DPoP proof (RFC 9449 §4.3, points 2 to 11; the replay mark of point 12 is
/// the caller's).
pub(crate) fn verify_proof(
    proof: &str,
    expect: &ProofExpectations<'_>,
) -> Result<VerifiedProof, DpopError> {
    let mut buffers = jws::Buffers::new();
    let jws = jws::split(proof, &mut buffers).map_err(DpopError::Malformed)?;
    let header =
        strict_json::parse(jws.header_json).map_err(|_| DpopError::Malformed(JwsError::Header))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(DpopError::WrongType);
    }
    let alg = jws
        .header
        .alg
        .filter(|alg| DPOP_ALGORITHMS.contains(alg))
        .ok_or(DpopError::UnsupportedAlgorithm)?;
    if jws.header.crit {
        return Err(DpopError::UnknownCritical);
    }
    let jwk = header
        .get("jwk")
        .filter(|jwk| jwk.is_object())
        .ok_or(DpopError::BadKey)?;
    if PRIVATE_MEMBERS
        .iter()
        .any(|member| jwk.get(member).is_some())
    {
        return Err(DpopError::PrivateKey);
    }
    let key = VerificationKey::from_proof_jwk(alg, jwk).map_err(|_| DpopError::BadKey)?;
    if !key.verify(jws.signing_input.as_bytes(), jws.signature) {
        return Err(DpopError::BadSignature);
    }

    let claims = strict_json::parse(&jws.payload).map_err(|_| DpopError::MalformedClaims)?;
    if !claims.is_object() {
        return Err(DpopError::MalformedClaims);
    }
    let string = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or(DpopError::InvalidClaim(name))
    };
    // Methods are case-sensitive (RFC 9110 §9.1).
    if string("htm")? != expect.method {
        return Err(DpopError::WrongMethod);
    }
    let htu = normalised_url(string("htu")?).ok_or(DpopError::InvalidClaim("htu"))?;
    if Some(htu) != normalised_url(expect.url) {
        return Err(DpopError::WrongUrl);
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .and_then(|iat| OffsetDateTime::from_unix_timestamp(iat).ok())
        .ok_or(DpopError::InvalidClaim("iat"))?;
    if (iat - expect.now).abs() > expect.window {
        return Err(DpopError::OutsideWindow);
    }
    let jti = string("jti")?;
    if jti.is_empty() || jti.len() > MAX_DPOP_JTI_LEN {
        return Err(DpopError::InvalidClaim("jti"));
    }
    if let Some(token) = expect.access_token {
        let ath = string("ath")?;
        if ath != access_token_hash(token) {
            return Err(DpopError::WrongTokenHash);
        }
    }
    if !expect.nonces.is_empty() {
        let sent = claims.get("nonce").and_then(Value::as_str);
        if !sent.is_some_and(|sent| expect.nonces.contains(&sent)) {
            return Err(DpopError::WrongNonce);
        }
    }
    Ok(VerifiedProof {
        jkt: key.kid().to_owned(),
        jti: jti.to_owned(),
        issued_at: iat,
        alg,
    })
}

/// `ath`: base64url of the SHA-256 of the access token's ASCII (RFC 9449 §4.2).
pub(crate) fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// A URL as `htu` compares (RFC 9449 §4.3 point 9): parsed and normalised as RFC 3986 §6
/// says (scheme and host in lower case, the default port dropped, dot segments removed),
/// without its query and fragment. Only `http` and `https` URLs with a host compare.
fn normalised_url(text: &str) -> Option<String> {
    let mut url = Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(url.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn dp01_htu_compares_normalised() {
        let base = normalised_url("https://as.example/token").unwrap();
        for same in [
            "HTTPS://AS.Example/token",
            "https://as.example:443/token",
            "https://as.example/token?x=1",
            "https://as.example/token#f",
            "https://as.example/./token",
        ] {
            assert_eq!(normalised_url(same).as_deref(), Some(&*base), "{same}");
        }
        for other in [
            "https://as.example/Token",
            "https://as.example:8443/token",
            "http://as.example/token",
            "https://as.example/token/",
        ] {
            assert_ne!(normalised_url(other).as_deref(), Some(&*base), "{other}");
        }
        assert_eq!(normalised_url("urn:x:y"), None);
        assert_eq!(normalised_url("not a url"), None);
    }

    #[test]
    fn ath_is_the_rfc_9449_example() {
        // RFC 9449 §7.1: the access token `Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU`.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
