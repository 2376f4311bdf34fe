//! JOSE, owned: compact JWS on `ring`, JWT access tokens (RFC 9068), ID tokens (OpenID
//! Connect Core 1.0 §2), DPoP proofs (RFC 9449), keys and JWKS.
//!
//! No third-party JOSE crate is involved; this module is small on purpose, strict in what
//! it accepts, and tested against the RFC 7515 and RFC 8037 examples.

mod algorithm;
mod claims;
pub(crate) mod client_assertion;
mod client_jwks;
mod dpop;
mod header;
mod id_token;
pub(crate) mod id_token_hint;
mod jws;
mod jwt;
mod key_directory;
mod key_error;
mod key_files;
mod key_manifest;
mod key_seal;
mod key_set;
mod key_vault;
mod keys;
mod pem;
mod rotation;
mod sealed_key_set;
mod strict_json;

pub use algorithm::Algorithm;
pub use claims::Claims;
pub use client_assertion::{CLIENT_ASSERTION_TYPE, MAX_ASSERTION_LIFETIME};
pub use client_jwks::{ClientJwks, MAX_CLIENT_KEYS};
pub use dpop::{DPOP_ALGORITHMS, MAX_DPOP_JTI_LEN};
pub use id_token::VerifiedIdToken;
pub use jws::{JwsError, MAX_TOKEN_LEN};
pub use jwt::{JwtError, VerifiedJwt};
pub use key_directory::{KeyDirectory, MANIFEST_FILE};
pub use key_error::KeyError;
pub use key_manifest::{KeyEntry, KeyRole};
pub use key_seal::{KeyEncryptionKey, KEY_ENCRYPTION_KEY_LEN, MAX_SEALED_KEY_SET_LEN};
pub use key_set::KeySet;
pub use key_vault::KeyVault;
pub use keys::{
    SigningKey, VerificationKey, VerificationKeys, MAX_JWKS_KEYS, MAX_KID_LEN, MIN_HMAC_SECRET_LEN,
    MIN_RSA_BITS,
};
pub use pem::{kid_for_pkcs8, pkcs8_from_file_bytes, pkcs8_from_pem, pkcs8_to_pem, MAX_PEM_LEN};
pub use rotation::{RotationSchedule, RotationStep};

pub(crate) use dpop::{verify_proof, DpopError, ProofExpectations, VerifiedProof};
pub(crate) use id_token::{mint_id_token, verify_id_token, IdTokenClaims};
pub(crate) use jwt::{mint, verify, AccessClaims, Expectations};

#[cfg(test)]
mod dpop_tests;
#[cfg(test)]
mod key_directory_tests;
#[cfg(test)]
mod key_vault_tests;
#[cfg(test)]
mod rfc_vectors;
#[cfg(test)]
mod verify_tests;
