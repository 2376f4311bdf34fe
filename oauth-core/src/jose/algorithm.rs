//! The JWS algorithms finrift signs and verifies with.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A JWS algorithm (RFC 7518 §3, RFC 8037 §3.1). Each key has exactly one; a token's
/// header must name the algorithm of the key it names, or it is refused. Serialized as
/// its `alg` value (a client's `id_token_signed_response_alg` is stored so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// EdDSA with Ed25519.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys or larger.
    #[serde(rename = "RS256")]
    Rs256,
    /// RSASSA-PSS with SHA-256 (MGF1 with SHA-256, a 32-byte salt), 2048-bit keys or
    /// larger: the RSA algorithm the FAPI 2.0 Security Profile allows.
    #[serde(rename = "PS256")]
    Ps256,
    /// HMAC with SHA-256: a shared secret, for a single service that both issues and checks.
    #[serde(rename = "HS256")]
    Hs256,
}

impl Algorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Hs256 => "HS256",
        }
    }

    /// Parses an `alg` value (case-sensitive, as RFC 7515 §4.1.1 requires).
    pub fn parse(alg: &str) -> Option<Self> {
        match alg {
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            "RS256" => Some(Self::Rs256),
            "PS256" => Some(Self::Ps256),
            "HS256" => Some(Self::Hs256),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
