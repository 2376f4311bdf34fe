//! Random values and PKCE (RFC 7636): a fresh verifier and its S256 challenge per
//! authorization request, and a random `state`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

use crate::Error;

/// A PKCE pair: the verifier kept by the client and the challenge sent with the request.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// `code_verifier`: 32 random bytes, base64url (43 characters).
    pub verifier: String,
    /// `code_challenge`: base64url of the verifier's SHA-256 (method `S256`).
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair from `random`.
    pub fn new(random: &SystemRandom) -> Result<Self, Error> {
        let verifier = random_token(random)?;
        Ok(Self {
            challenge: s256(&verifier),
            verifier,
        })
    }
}

/// The S256 challenge of `verifier`: base64url of its SHA-256, without padding.
pub fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// 32 random bytes, base64url without padding: a `state` or a verifier.
pub fn random_token(random: &SystemRandom) -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    random
        .fill(&mut bytes)
        .map_err(|_| "the system random source failed")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636, Appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pair = Pkce::new(&SystemRandom::new()).unwrap();
        assert_eq!(pair.verifier.len(), 43);
        assert_eq!(pair.challenge.len(), 43);
    }
}
