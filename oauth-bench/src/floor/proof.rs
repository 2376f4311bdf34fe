//! The floor of a DPoP proof's check (RFC 9449 §4.3): what `ring` and a typed parse must
//! do for any verifier, with none of the engine's strictness beyond it (no duplicate-key
//! scan, no URL normalisation, no replay mark).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::{digest, signature};
use serde::Deserialize;

/// What a DPoP proof must be for: the request's method and URL, the access token it
/// comes with (at a resource server), and the verifier's clock.
#[derive(Debug, Clone, Copy)]
pub struct ProofTarget<'a> {
    /// `htm`.
    pub method: &'a str,
    /// `htu`, compared as a string (the engine also normalises it).
    pub url: &'a str,
    /// The token `ath` must hash.
    pub access_token: Option<&'a str>,
    /// Unix seconds; `iat` may be 60 s either side.
    pub now: i64,
}

#[derive(Deserialize)]
struct ProofHeader<'a> {
    typ: &'a str,
    alg: &'a str,
    #[serde(borrow)]
    jwk: ProofJwk<'a>,
}

#[derive(Deserialize)]
struct ProofJwk<'a> {
    kty: &'a str,
    crv: &'a str,
    x: &'a str,
    y: &'a str,
}

#[derive(Deserialize)]
struct ProofClaims<'a> {
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    jti: &'a str,
    ath: Option<&'a str>,
}

/// A bare check of an ES256 DPoP proof: split it, decode and parse its header (with the
/// key's JWK) and its claims into typed structs, rebuild the P-256 point from `x` and `y`,
/// verify the signature with `ring`, check `htm`, `htu`, `iat` and `jti`, and `ath` (one
/// SHA-256 of the token) when a token comes with it. Returns the key's RFC 7638 thumbprint
/// (one more SHA-256), or `None` when the proof is not valid for `target`.
pub fn verify_proof(proof: &str, target: &ProofTarget<'_>) -> Option<String> {
    let mut parts = proof.splitn(3, '.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    let header_bytes = URL_SAFE_NO_PAD.decode(h).ok()?;
    let header = serde_json::from_slice::<ProofHeader<'_>>(&header_bytes).ok()?;
    let jwk = &header.jwk;
    if header.typ != "dpop+jwt" || header.alg != "ES256" || jwk.kty != "EC" || jwk.crv != "P-256" {
        return None;
    }
    let mut point = Vec::with_capacity(65);
    point.push(4);
    point.extend(URL_SAFE_NO_PAD.decode(jwk.x).ok()?);
    point.extend(URL_SAFE_NO_PAD.decode(jwk.y).ok()?);
    let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
        .verify(&proof.as_bytes()[..h.len() + 1 + p.len()], &sig)
        .ok()?;
    let payload = URL_SAFE_NO_PAD.decode(p).ok()?;
    let claims = serde_json::from_slice::<ProofClaims<'_>>(&payload).ok()?;
    let ath_matches = match (target.access_token, claims.ath) {
        (None, _) => true,
        (Some(token), Some(ath)) => {
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes())) == ath
        }
        (Some(_), None) => false,
    };
    let valid = claims.htm == target.method
        && claims.htu == target.url
        && (claims.iat - target.now).abs() <= 60
        && !claims.jti.is_empty()
        && ath_matches;
    valid.then(|| {
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk.x, jwk.y
        );
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, members.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::testing::DpopKey;

    #[test]
    fn the_bare_proof_check_refuses_what_the_engine_refuses_for_the_request() {
        let key = DpopKey::new();
        let target = ProofTarget {
            method: "GET",
            url: "https://api.example/users",
            access_token: Some("token"),
            now: 1_000,
        };
        let proof = key.proof("GET", target.url, Some("token"), 1_000, "j-1");
        assert_eq!(verify_proof(&proof, &target), Some(key.thumbprint()));
        let wrong = [
            key.proof("POST", target.url, Some("token"), 1_000, "j-2"),
            key.proof(
                "GET",
                "https://api.example/other",
                Some("token"),
                1_000,
                "j-3",
            ),
            key.proof("GET", target.url, Some("another"), 1_000, "j-4"),
            key.proof("GET", target.url, None, 1_000, "j-5"),
            key.proof("GET", target.url, Some("token"), 1_061, "j-6"),
            key.proof("GET", target.url, Some("token"), 1_000, ""),
        ];
        for proof in wrong {
            assert_eq!(verify_proof(&proof, &target), None, "{proof}");
        }
        let mut forged = proof.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert_eq!(verify_proof(&forged, &target), None);
    }
}
