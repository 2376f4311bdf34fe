//! A client's DPoP key for tests: a P-256 key pair that builds its own proofs (RFC 9449
//! §4.2) with `ring` and `serde_json` directly, not with the engine's JWS code, so that
//! the proofs a test sends are not checked by the code that made them.

use std::cell::Cell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

/// A client's DPoP key (ES256), and the proofs it signs.
///
/// ```
/// use oauth_core::testing::DpopKey;
///
/// let key = DpopKey::new();
/// let proof = key.proof("POST", "https://auth.example/token", None, 1_893_456_000, "j-1");
/// assert_eq!(proof.split('.').count(), 3);
/// assert_eq!(key.thumbprint().len(), 43);
/// ```
#[derive(Debug)]
pub struct DpopKey {
    pair: EcdsaKeyPair,
    issued: Cell<u32>,
}

impl Default for DpopKey {
    fn default() -> Self {
        Self::new()
    }
}

impl DpopKey {
    /// A new random key. Panics if the system has no randomness (a test cannot go on).
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).and_then(
            |pkcs8| {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .map_err(|_| ring::error::Unspecified)
            },
        );
        match pair {
            Ok(pair) => Self {
                pair,
                issued: Cell::new(0),
            },
            Err(error) => panic!("no P-256 key for the DPoP test key: {error}"),
        }
    }

    /// The public key as a JWK (what a proof's header carries).
    pub fn jwk(&self) -> Value {
        // An uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        })
    }

    /// The RFC 7638 thumbprint (`cnf.jkt` of the tokens bound to this key): the JWK's
    /// required members in lexicographic order, SHA-256, base64url.
    pub fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
            jwk["x"], jwk["y"]
        );
        URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            members.as_bytes(),
        ))
    }

    /// A compact JWS of `claims` under `header`, signed with this key: for proofs a test
    /// shapes itself (a wrong `typ`, a private member in the JWK, a missing claim).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        match self.pair.sign(&SystemRandom::new(), input.as_bytes()) {
            Ok(signature) => format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())),
            Err(error) => panic!("the DPoP test key could not sign: {error}"),
        }
    }

    /// A proof for `method` and `url`, issued at `iat` (unix seconds) with `jti`, and
    /// bound to `access_token` (`ath`) when one is given.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        iat: i64,
        jti: &str,
    ) -> String {
        let mut claims = json!({"htm": method, "htu": url, "iat": iat, "jti": jti});
        if let Some(token) = access_token {
            let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            claims["ath"] = URL_SAFE_NO_PAD.encode(hash).into();
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        self.sign(&header, &claims)
    }

    /// [`DpopKey::proof`] with a `jti` this key has not used before.
    pub fn next_proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        iat: i64,
    ) -> String {
        self.issued.set(self.issued.get() + 1);
        let jti = format!("jti-{}", self.issued.get());
        self.proof(method, url, access_token, iat, &jti)
    }
}
