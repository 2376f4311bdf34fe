//! ID tokens (OpenID Connect Core 1.0 §2): minting with `at_hash` (§3.1.3.6), and a strict
//! verifier for the tokens this issuer signed.
//!
//! An ID token is a JWT with `typ: JWT` for one audience, the client. Its `at_hash` binds
//! it to the access token of the same response: the left half of the hash of the access
//! token's ASCII, under the hash of the ID token's own algorithm (SHA-256 for RS256 and
//! ES256, SHA-512 for EdDSA with Ed25519, as the OpenID Connect errata set 2 says).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::algorithm::Algorithm;
use super::claims::Claims;
use super::header::TokenType;
use super::jws;
use super::jwt::JwtError;
use super::keys::{SigningKey, VerificationKeys};
use super::strict_json;
use crate::error::Fault;

/// The claims of an ID token to mint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdTokenClaims<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    /// The client: the one audience, and the authorized party.
    pub client_id: &'a str,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub auth_time: Option<OffsetDateTime>,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub nonce: Option<&'a str>,
    /// The access token issued beside the ID token, for `at_hash`.
    pub access_token: &'a str,
}

/// The header of a minted ID token, members in alphabetical order.
#[derive(Serialize)]
struct MintedHeader<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

/// The claims of a minted ID token, members in alphabetical order. `azp` is always
/// present: Core §2 allows it beside a single audience, and a relying party that checks
/// it then never meets its absence.
#[derive(Serialize)]
struct MintedClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    amr: &'a [String],
    at_hash: String,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    azp: &'a str,
    exp: i64,
    iat: i64,
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    sub: &'a str,
}

/// The `at_hash` of `access_token` for an ID token signed with `alg`: base64url of the
/// left half of its hash.
pub(crate) fn at_hash(alg: Algorithm, access_token: &str) -> String {
    let hash = match alg {
        Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 | Algorithm::Hs256 => {
            &digest::SHA256
        }
        Algorithm::EdDsa => &digest::SHA512,
    };
    let digest = digest::digest(hash, access_token.as_bytes());
    let bytes = digest.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// Mints an ID token signed by `key`. An HMAC key is refused: its secret would have to be
/// shared with every client that verifies (and Core §10.1 ties it to the client secret).
pub(crate) fn mint_id_token(claims: &IdTokenClaims<'_>, key: &SigningKey) -> Result<String, Fault> {
    let alg = key.algorithm();
    if alg == Algorithm::Hs256 {
        return Err(Fault::Config("HS256 keys do not sign ID tokens".into()));
    }
    let header = MintedHeader {
        alg: alg.as_str(),
        kid: key.kid(),
        typ: "JWT",
    };
    let payload = MintedClaims {
        acr: claims.acr,
        amr: claims.amr,
        at_hash: at_hash(alg, claims.access_token),
        aud: claims.client_id,
        auth_time: claims.auth_time.map(OffsetDateTime::unix_timestamp),
        azp: claims.client_id,
        exp: claims.expires_at.unix_timestamp(),
        iat: claims.issued_at.unix_timestamp(),
        iss: claims.issuer,
        nonce: claims.nonce,
        sub: claims.subject,
    };
    let payload = serde_json::to_vec(&payload).map_err(|e| Fault::Encoding(e.to_string()))?;
    jws::sign(&header, &payload, key)
}

/// What a verified ID token says.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedIdToken {
    /// `sub`: the user.
    pub subject: String,
    /// `exp`.
    pub expires_at: OffsetDateTime,
    /// Every claim (`nonce`, `auth_time`, `at_hash`, ...).
    pub claims: Claims,
}

/// Verifies an ID token of `issuer` for `client_id` at `now`: the signature with the key
/// its `kid` names among `keys` (whose algorithm the header must name), `typ: JWT`, no
/// `crit`, `iss`, `aud`, `sub`, and `exp` and `iat` as integers with `iat` not ahead of
/// `now` and `exp` after it.
pub(crate) fn verify_id_token(
    token: &str,
    keys: &VerificationKeys,
    issuer: &str,
    client_id: &str,
    now: OffsetDateTime,
) -> Result<VerifiedIdToken, JwtError> {
    let mut buffers = jws::Buffers::new();
    let jws = jws::split(token, &mut buffers)?;
    let header = &jws.header;
    let alg = header.alg.ok_or(JwtError::UnsupportedAlgorithm)?;
    let kid = header.kid.as_deref().ok_or(JwtError::UnknownKey)?;
    let key = keys.get(kid).ok_or(JwtError::UnknownKey)?;
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
    if header.typ != TokenType::Jwt {
        return Err(JwtError::WrongType);
    }
    let Ok(Value::Object(claims)) = strict_json::parse(&jws.payload) else {
        return Err(JwtError::MalformedClaims);
    };
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(JwtError::WrongIssuer);
    }
    let for_client = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_client {
        return Err(JwtError::WrongAudience);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(JwtError::InvalidClaim("exp"))?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp(exp).map_err(|_| JwtError::InvalidClaim("exp"))?;
    if now >= expires_at {
        return Err(JwtError::Expired);
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(JwtError::InvalidClaim("iat"))?;
    if iat > now.unix_timestamp() {
        return Err(JwtError::InvalidClaim("iat"));
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|sub| !sub.is_empty())
        .ok_or(JwtError::InvalidClaim("sub"))?
        .to_owned();
    Ok(VerifiedIdToken {
        subject,
        expires_at,
        claims: Claims::verified(jws.payload),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::KeySet;

    const ACCESS: &str = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";

    fn claims<'a>(now: OffsetDateTime, nonce: Option<&'a str>) -> IdTokenClaims<'a> {
        IdTokenClaims {
            issuer: "https://auth.example",
            subject: "alice",
            client_id: "rp",
            issued_at: now,
            expires_at: now + time::Duration::minutes(5),
            auth_time: Some(now - time::Duration::minutes(1)),
            acr: None,
            amr: &[],
            nonce,
            access_token: ACCESS,
        }
    }

    #[test]
    fn oi01_at_hash_is_the_left_half_of_the_algorithms_hash() {
        // The example of OpenID Connect Core 1.0 §A.3/A.4 style: SHA-256, left 128 bits.
        let sha256 = digest::digest(&digest::SHA256, ACCESS.as_bytes());
        let expected = URL_SAFE_NO_PAD.encode(&sha256.as_ref()[..16]);
        assert_eq!(at_hash(Algorithm::Rs256, ACCESS), expected);
        assert_eq!(at_hash(Algorithm::Es256, ACCESS), expected);
        let sha512 = digest::digest(&digest::SHA512, ACCESS.as_bytes());
        assert_eq!(
            at_hash(Algorithm::EdDsa, ACCESS),
            URL_SAFE_NO_PAD.encode(&sha512.as_ref()[..32])
        );
        assert_eq!(at_hash(Algorithm::Rs256, ACCESS).len(), 22);
    }

    #[test]
    fn oi01_minted_id_tokens_verify_and_carry_their_claims() {
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let (key, _) = SigningKey::generate(Algorithm::Es256, "k1").unwrap();
        let keys = KeySet::new(key);
        let token = mint_id_token(&claims(now, Some("n-0S6_WzA2Mj")), keys.active()).unwrap();
        let verified = verify_id_token(
            &token,
            &keys.verification_keys(),
            "https://auth.example",
            "rp",
            now,
        )
        .unwrap();
        assert_eq!(verified.subject, "alice");
        let map = verified.claims.to_map();
        assert_eq!(map["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(map["azp"], "rp");
        assert_eq!(map["aud"], "rp");
        assert_eq!(map["at_hash"], at_hash(Algorithm::Es256, ACCESS));
        assert!(!map.contains_key("acr") && !map.contains_key("amr"));

        let without = mint_id_token(&claims(now, None), keys.active()).unwrap();
        let verified = verify_id_token(
            &without,
            &keys.verification_keys(),
            "https://auth.example",
            "rp",
            now,
        )
        .unwrap();
        assert!(!verified.claims.to_map().contains_key("nonce"));
    }

    #[test]
    fn id_tokens_for_others_expired_or_hmac_signed_are_refused() {
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let (key, _) = SigningKey::generate(Algorithm::EdDsa, "k1").unwrap();
        let keys = KeySet::new(key);
        let token = mint_id_token(&claims(now, None), keys.active()).unwrap();
        let verify = |issuer, client, at| {
            verify_id_token(&token, &keys.verification_keys(), issuer, client, at)
        };
        assert_eq!(
            verify("https://auth.example/", "rp", now).unwrap_err(),
            JwtError::WrongIssuer
        );
        assert_eq!(
            verify("https://auth.example", "other", now).unwrap_err(),
            JwtError::WrongAudience
        );
        assert_eq!(
            verify(
                "https://auth.example",
                "rp",
                now + time::Duration::minutes(5)
            )
            .unwrap_err(),
            JwtError::Expired
        );
        let hmac = SigningKey::hmac("h", &[7u8; 32]).unwrap();
        assert!(mint_id_token(&claims(now, None), &hmac).is_err());
    }
}
