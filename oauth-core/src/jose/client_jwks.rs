//! The public keys a `private_key_jwt` client registers (RFC 7523 §2.2, OpenID Connect
//! Core §9), checked when registered and kept as a normalized JWKS document.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::key_error::KeyError;
use super::keys::{VerificationKey, VerificationKeys};

/// Most keys a client may register: enough for a rotation (the current key and the next)
/// with room to spare, and few enough that a registration stays small.
pub const MAX_CLIENT_KEYS: usize = 4;

/// JWK members that carry private or symmetric key material. A client registers only
/// what it may publish: a document with any of them was made carelessly, and is refused
/// rather than trimmed, so that the mistake is seen.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The public keys of a client that authenticates with signed assertions: 1 to
/// [`MAX_CLIENT_KEYS`] keys, each with a distinct `kid` and an asymmetric `alg` (ES256,
/// EdDSA or RS256). An assertion must name one of them in its `kid`, and be signed with
/// that key's algorithm.
///
/// Serialized as the JWKS document (`{"keys": [...]}`), normalized: each key with its
/// `kid`, `alg` and `use`.
#[derive(Clone)]
pub struct ClientJwks {
    keys: VerificationKeys,
    document: Value,
}

impl ClientJwks {
    /// Reads and checks a JWKS document. Unlike [`VerificationKeys::from_jwks`], which
    /// skips keys it cannot use, every key must be usable: a key with another algorithm,
    /// an HMAC (`oct`) key, a member of a private key, a missing or repeated `kid`, or
    /// more than [`MAX_CLIENT_KEYS`] keys refuse the whole document.
    pub fn parse(document: &str) -> Result<Self, KeyError> {
        let value = super::strict_json::parse(document.as_bytes())
            .map_err(|_| KeyError::MalformedJwk("keys"))?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Self, KeyError> {
        let jwks = value
            .get("keys")
            .and_then(Value::as_array)
            .filter(|keys| !keys.is_empty() && keys.len() <= MAX_CLIENT_KEYS)
            .ok_or(KeyError::MalformedJwk("keys"))?;
        let mut keys: Vec<VerificationKey> = Vec::with_capacity(jwks.len());
        for jwk in jwks {
            if PRIVATE_MEMBERS
                .iter()
                .any(|member| jwk.get(member).is_some())
            {
                return Err(KeyError::MalformedJwk("private key member"));
            }
            let key = VerificationKey::from_jwk(jwk)?;
            if keys.iter().any(|k| k.kid() == key.kid()) {
                return Err(KeyError::MalformedJwk("kid"));
            }
            keys.push(key);
        }
        let keys = VerificationKeys::new(keys);
        let document = keys.to_jwks();
        Ok(Self { keys, document })
    }

    /// The keys, looked up by `kid`.
    pub fn keys(&self) -> &VerificationKeys {
        &self.keys
    }

    /// The normalized JWKS document.
    pub fn to_jwks(&self) -> &Value {
        &self.document
    }
}

impl fmt::Debug for ClientJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| (k.kid(), k.algorithm())))
            .finish()
    }
}

// Two registrations are the same when their normalized documents are.
impl PartialEq for ClientJwks {
    fn eq(&self, other: &Self) -> bool {
        self.document == other.document
    }
}

impl Eq for ClientJwks {}

impl Serialize for ClientJwks {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.document.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClientJwks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A stored registration is checked again as it loads: a row edited by hand to
        // hold a symmetric or private key does not become a client.
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Algorithm, SigningKey};
    use serde_json::json;

    fn public_jwk(alg: Algorithm, kid: &str) -> Value {
        let (key, _) = SigningKey::generate(alg, kid).unwrap();
        key.verification_key().to_jwk().unwrap()
    }

    #[test]
    fn asymmetric_keys_with_distinct_kids_are_kept_and_round_trip() {
        let doc =
            json!({"keys": [public_jwk(Algorithm::Es256, "a"), public_jwk(Algorithm::EdDsa, "b")]});
        let jwks = ClientJwks::parse(&doc.to_string()).unwrap();
        assert_eq!(jwks.keys().get("a").unwrap().algorithm(), Algorithm::Es256);
        assert_eq!(jwks.keys().get("b").unwrap().algorithm(), Algorithm::EdDsa);
        let stored = serde_json::to_string(&jwks).unwrap();
        let back: ClientJwks = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, jwks);
    }

    #[test]
    fn dp05_symmetric_private_unnamed_repeated_or_too_many_keys_are_refused() {
        let es = public_jwk(Algorithm::Es256, "a");
        let mut private = es.clone();
        private["d"] = "AAAA".into();
        let mut unnamed = es.clone();
        unnamed.as_object_mut().unwrap().remove("kid");
        let hmac = json!({"kty": "oct", "kid": "h", "alg": "HS256", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"});
        let many: Vec<Value> = (0..=MAX_CLIENT_KEYS)
            .map(|i| public_jwk(Algorithm::Es256, &format!("k{i}")))
            .collect();
        for bad in [
            json!({"keys": []}),
            json!({"keys": [hmac]}),
            json!({"keys": [private]}),
            json!({"keys": [unnamed]}),
            json!({"keys": [es.clone(), es.clone()]}),
            json!({"keys": many}),
            json!([es]),
        ] {
            assert!(ClientJwks::parse(&bad.to_string()).is_err(), "{bad}");
        }
    }
}
