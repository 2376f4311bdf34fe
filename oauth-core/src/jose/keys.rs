//! Signing and verification keys, and JWKS export and import.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey,
};
use ring::{hmac, rsa};
use serde_json::{json, Value};

use super::algorithm::Algorithm;
use super::key_error::KeyError;
use crate::error::Fault;

/// Shortest HMAC secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_HMAC_SECRET_LEN: usize = 32;
/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Longest `kid` accepted.
pub const MAX_KID_LEN: usize = 128;

/// Whether `kid` may name a key: 1 to [`MAX_KID_LEN`] printable ASCII characters. Every
/// key is checked so when it is made, so a token's `kid` that fails it names no key.
pub(crate) fn is_valid_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= MAX_KID_LEN && kid.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    if is_valid_kid(kid) {
        Ok(())
    } else {
        Err(KeyError::InvalidKid)
    }
}

enum SecretMaterial {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    /// RS256 or PS256: the same key pair, signing with the padding of `alg`.
    Rsa(RsaKeyPair, Algorithm),
    Hs256(hmac::Key),
}

/// A private key that signs access tokens, with its `kid` and algorithm.
pub struct SigningKey {
    kid: String,
    material: SecretMaterial,
    verification: VerificationKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a new key for `alg` (ES256, EdDSA or HS256; RSA keys must be loaded),
    /// returning the key and its PKCS#8 document (for HS256, the raw secret) to store.
    pub fn generate(alg: Algorithm, kid: &str) -> Result<(Self, Vec<u8>), KeyError> {
        let rng = SystemRandom::new();
        let secret = match alg {
            Algorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| KeyError::Random)?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KeyError::Random)?
                .as_ref()
                .to_vec(),
            Algorithm::Hs256 => {
                let mut secret = vec![0u8; MIN_HMAC_SECRET_LEN];
                ring::rand::SecureRandom::fill(&rng, &mut secret).map_err(|_| KeyError::Random)?;
                return Ok((Self::hmac(kid, &secret)?, secret));
            }
            Algorithm::Rs256 | Algorithm::Ps256 => return Err(KeyError::CannotGenerate(alg)),
        };
        Ok((Self::from_pkcs8(alg, kid, &secret)?, secret))
    }

    /// Loads a private key from a PKCS#8 v1 or v2 DER document (ES256: P-256; EdDSA:
    /// Ed25519; RS256 and PS256: RSA of 2048 bits or more).
    pub fn from_pkcs8(alg: Algorithm, kid: &str, pkcs8: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid)?;
        let (material, public) = match alg {
            Algorithm::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(|_| KeyError::Invalid(alg))?;
                let public = PublicMaterial::Es256(pair.public_key().as_ref().to_vec());
                (SecretMaterial::Es256(pair), public)
            }
            Algorithm::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                    .map_err(|_| KeyError::Invalid(alg))?;
                let public = PublicMaterial::EdDsa(pair.public_key().as_ref().to_vec());
                (SecretMaterial::EdDsa(pair), public)
            }
            Algorithm::Rs256 | Algorithm::Ps256 => {
                let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::Invalid(alg))?;
                Self::rsa_parts(pair, alg)?
            }
            Algorithm::Hs256 => return Err(KeyError::Invalid(alg)),
        };
        Ok(Self::assemble(kid, material, public))
    }

    /// An RS256 key from its components (big-endian bytes), as a JWK carries them.
    pub fn rsa_from_components(
        kid: &str,
        components: &rsa::KeyPairComponents<&[u8]>,
    ) -> Result<Self, KeyError> {
        check_kid(kid)?;
        let pair = RsaKeyPair::from_components(components)
            .map_err(|_| KeyError::Invalid(Algorithm::Rs256))?;
        let (material, public) = Self::rsa_parts(pair, Algorithm::Rs256)?;
        Ok(Self::assemble(kid, material, public))
    }

    /// An Ed25519 key from its 32-byte seed and public key (the JWK `d` and `x`).
    pub fn ed25519_from_seed(kid: &str, seed: &[u8], public_key: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid)?;
        let pair = Ed25519KeyPair::from_seed_and_public_key(seed, public_key)
            .map_err(|_| KeyError::Invalid(Algorithm::EdDsa))?;
        let public = PublicMaterial::EdDsa(pair.public_key().as_ref().to_vec());
        Ok(Self::assemble(kid, SecretMaterial::EdDsa(pair), public))
    }

    /// An HS256 key from a shared secret of at least [`MIN_HMAC_SECRET_LEN`] bytes.
    pub fn hmac(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid)?;
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(KeyError::TooShort(Algorithm::Hs256));
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let public = PublicMaterial::Hs256(key.clone());
        Ok(Self::assemble(kid, SecretMaterial::Hs256(key), public))
    }

    /// The parts of an RSA key that signs with `alg` (RS256 or PS256).
    fn rsa_parts(
        pair: RsaKeyPair,
        alg: Algorithm,
    ) -> Result<(SecretMaterial, PublicMaterial), KeyError> {
        if pair.public().modulus_len() * 8 < MIN_RSA_BITS {
            return Err(KeyError::TooShort(alg));
        }
        let components = rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        let public = PublicMaterial::Rsa {
            n: components.n,
            e: components.e,
            alg,
        };
        Ok((SecretMaterial::Rsa(pair, alg), public))
    }

    fn assemble(kid: &str, material: SecretMaterial, public: PublicMaterial) -> Self {
        Self {
            kid: kid.to_owned(),
            material,
            verification: VerificationKey {
                kid: kid.to_owned(),
                material: Arc::new(public),
            },
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.verification.algorithm()
    }

    /// The key that verifies this key's signatures (for HS256, the same secret).
    pub fn verification_key(&self) -> &VerificationKey {
        &self.verification
    }

    /// Signs `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Fault> {
        let rng = SystemRandom::new();
        match &self.material {
            SecretMaterial::Es256(pair) => pair
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Fault::Random),
            SecretMaterial::EdDsa(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            SecretMaterial::Rsa(pair, alg) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    Algorithm::Ps256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0u8; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut out)
                    .map_err(|_| Fault::Encoding("RSA signing failed".into()))?;
                Ok(out)
            }
            SecretMaterial::Hs256(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
        }
    }
}

enum PublicMaterial {
    /// Uncompressed P-256 point: 0x04 || x || y.
    Es256(Vec<u8>),
    /// 32-byte Ed25519 public key.
    EdDsa(Vec<u8>),
    /// Modulus and exponent, big-endian, and the algorithm (RS256 or PS256) they verify.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        alg: Algorithm,
    },
    /// The shared secret: never exported.
    Hs256(hmac::Key),
}

/// A key that verifies signatures: a public key, or for HS256 the shared secret. Its
/// algorithm is part of it; a token cannot choose another.
#[derive(Clone)]
pub struct VerificationKey {
    kid: String,
    material: Arc<PublicMaterial>,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match &*self.material {
            PublicMaterial::Es256(_) => Algorithm::Es256,
            PublicMaterial::EdDsa(_) => Algorithm::EdDsa,
            PublicMaterial::Rsa { alg, .. } => *alg,
            PublicMaterial::Hs256(_) => Algorithm::Hs256,
        }
    }

    /// An HS256 verification key from the shared secret (for a resource server that
    /// shares the issuer's secret).
    pub fn hmac(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        Ok(SigningKey::hmac(kid, secret)?.verification)
    }

    /// Checks `signature` over `message`. Wrong lengths, zero signatures and anything
    /// malformed simply fail.
    pub fn verify(&self, message: &[u8], signature_bytes: &[u8]) -> bool {
        match &*self.material {
            PublicMaterial::Es256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature_bytes)
                    .is_ok()
            }
            PublicMaterial::EdDsa(key) => UnparsedPublicKey::new(&signature::ED25519, key)
                .verify(message, signature_bytes)
                .is_ok(),
            PublicMaterial::Rsa { n, e, alg } => {
                let parameters = match alg {
                    Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA256,
                };
                rsa::PublicKeyComponents { n, e }
                    .verify(parameters, message, signature_bytes)
                    .is_ok()
            }
            PublicMaterial::Hs256(key) => hmac::verify(key, message, signature_bytes).is_ok(),
        }
    }

    /// The public JWK (RFC 7517), or `None` for an HMAC secret, which is never published.
    pub fn to_jwk(&self) -> Option<Value> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &*self.material {
            PublicMaterial::Es256(point) => {
                let (x, y) = point.get(1..)?.split_at(32);
                json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)})
            }
            PublicMaterial::EdDsa(key) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key)}),
            PublicMaterial::Rsa { n, e, .. } => json!({"kty": "RSA", "n": b64(n), "e": b64(e)}),
            PublicMaterial::Hs256(_) => return None,
        };
        let object = jwk.as_object_mut()?;
        object.insert("kid".into(), self.kid.clone().into());
        object.insert("alg".into(), self.algorithm().as_str().into());
        object.insert("use".into(), "sig".into());
        Some(jwk)
    }

    /// Reads a public JWK. The key must name its `alg` (one of ES256, EdDSA, PS256, RS256) and
    /// `kid`, and the `kty`/`crv` must agree with it. Symmetric (`oct`) keys are refused:
    /// load an HMAC secret with [`VerificationKey::hmac`].
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let kid = jwk
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(KeyError::MalformedJwk("kid"))?;
        check_kid(kid)?;
        let alg = jwk
            .get("alg")
            .and_then(Value::as_str)
            .and_then(Algorithm::parse)
            .ok_or(KeyError::MalformedJwk("alg"))?;
        Ok(Self {
            kid: kid.to_owned(),
            material: Arc::new(public_material(alg, jwk)?),
        })
    }

    /// Reads the public JWK a DPoP proof carries in its header (RFC 9449 §4.2), for the
    /// proof's `alg`. Such a key names no `kid`, so its thumbprint stands in for one; an
    /// `alg` it does name must be the proof's. Private members are the caller's check.
    pub(crate) fn from_proof_jwk(alg: Algorithm, jwk: &Value) -> Result<Self, KeyError> {
        if jwk.get("alg").is_some_and(|named| named != alg.as_str()) {
            return Err(KeyError::MalformedJwk("alg"));
        }
        let material = Arc::new(public_material(alg, jwk)?);
        let mut key = Self {
            kid: String::new(),
            material,
        };
        key.kid = key.thumbprint().ok_or(KeyError::Invalid(alg))?;
        Ok(key)
    }

    /// The JWK SHA-256 thumbprint (RFC 7638), base64url: the digest of the key's required
    /// members in lexicographic order, without whitespace. It is the key's identity in a
    /// DPoP binding (`cnf.jkt`, RFC 9449 §6.1). `None` for an HMAC secret.
    pub fn thumbprint(&self) -> Option<String> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        // Every value is base64url or a fixed name, so none needs JSON escaping.
        let members = match &*self.material {
            PublicMaterial::Es256(point) => {
                let (x, y) = point.get(1..)?.split_at(32);
                format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    b64(x),
                    b64(y)
                )
            }
            PublicMaterial::EdDsa(key) => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(key))
            }
            PublicMaterial::Rsa { n, e, .. } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
            }
            PublicMaterial::Hs256(_) => return None,
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, members.as_bytes());
        Some(b64(digest.as_ref()))
    }
}

/// The public key material of a JWK for `alg`: the `kty` and `crv` must be `alg`'s, and
/// `use`, when present, `sig`.
fn public_material(alg: Algorithm, jwk: &Value) -> Result<PublicMaterial, KeyError> {
    let field = |name: &'static str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or(KeyError::MalformedJwk(name))
    };
    let bytes = |name: &'static str| -> Result<Vec<u8>, KeyError> {
        URL_SAFE_NO_PAD
            .decode(field(name)?)
            .map_err(|_| KeyError::MalformedJwk(name))
    };
    if jwk.get("use").is_some_and(|u| u != "sig") {
        return Err(KeyError::MalformedJwk("use"));
    }
    Ok(match (alg, field("kty")?) {
        (Algorithm::Es256, "EC") => {
            if field("crv")? != "P-256" {
                return Err(KeyError::MalformedJwk("crv"));
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(KeyError::Invalid(alg));
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            PublicMaterial::Es256(point)
        }
        (Algorithm::EdDsa, "OKP") => {
            if field("crv")? != "Ed25519" {
                return Err(KeyError::MalformedJwk("crv"));
            }
            let x = bytes("x")?;
            if x.len() != 32 {
                return Err(KeyError::Invalid(alg));
            }
            PublicMaterial::EdDsa(x)
        }
        (Algorithm::Rs256 | Algorithm::Ps256, "RSA") => {
            let (n, e) = (bytes("n")?, bytes("e")?);
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant * 8 < MIN_RSA_BITS {
                return Err(KeyError::TooShort(alg));
            }
            PublicMaterial::Rsa { n, e, alg }
        }
        _ => return Err(KeyError::MalformedJwk("kty")),
    })
}

/// The keys a verifier trusts, looked up by `kid`.
#[derive(Debug, Clone, Default)]
pub struct VerificationKeys {
    keys: Vec<VerificationKey>,
}

/// Most keys a JWKS may hold.
pub const MAX_JWKS_KEYS: usize = 32;

impl VerificationKeys {
    /// A set of the given keys.
    pub fn new(keys: impl IntoIterator<Item = VerificationKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// Reads a JWKS document (`{"keys": [...]}`), such as the issuer's `jwks_uri` serves.
    /// Keys that finrift cannot use (other algorithms, encryption keys) are skipped; a
    /// document with no usable key, or a malformed one, is an error.
    pub fn from_jwks(document: &str) -> Result<Self, KeyError> {
        let value = super::strict_json::parse(document.as_bytes())
            .map_err(|_| KeyError::MalformedJwk("keys"))?;
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeyError::MalformedJwk("keys"))?;
        if keys.len() > MAX_JWKS_KEYS {
            return Err(KeyError::MalformedJwk("keys"));
        }
        let usable: Vec<VerificationKey> = keys
            .iter()
            .filter_map(|k| VerificationKey::from_jwk(k).ok())
            .collect();
        if usable.is_empty() {
            return Err(KeyError::MalformedJwk("keys"));
        }
        Ok(Self { keys: usable })
    }

    /// The key with `kid`, compared exactly.
    pub fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The JWKS document of the public keys (HMAC secrets are left out).
    pub fn to_jwks(&self) -> Value {
        json!({"keys": self.keys.iter().filter_map(VerificationKey::to_jwk).collect::<Vec<_>>()})
    }

    /// The keys.
    pub fn iter(&self) -> impl Iterator<Item = &VerificationKey> {
        self.keys.iter()
    }
}
