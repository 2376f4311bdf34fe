//! Client-side PKCE values and `state`, as a real client would make them.

use crate::pkce::CodeChallenge;
use crate::secret::RandomSource;

/// A PKCE code verifier (43 characters, 256 random bits) and its `S256` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkcePair {
    /// The verifier, sent at the token endpoint.
    pub verifier: String,
    /// The challenge, sent at the authorization endpoint.
    pub challenge: String,
}

impl PkcePair {
    /// A fresh random pair.
    pub fn new() -> Self {
        let verifier = match RandomSource::new().secret() {
            Ok(secret) => secret,
            Err(fault) => panic!("the system random generator failed: {fault}"),
        };
        Self::from_verifier(&verifier)
    }

    /// The pair for a given verifier (for fixed test vectors).
    pub fn from_verifier(verifier: &str) -> Self {
        Self {
            verifier: verifier.to_owned(),
            challenge: CodeChallenge::from_verifier(verifier).as_str().to_owned(),
        }
    }
}

impl Default for PkcePair {
    fn default() -> Self {
        Self::new()
    }
}

/// A random `state` value (128 bits, base64url).
pub fn random_state() -> String {
    match RandomSource::new().id() {
        Ok(id) => id,
        Err(fault) => panic!("the system random generator failed: {fault}"),
    }
}
