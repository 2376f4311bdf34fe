//! PKCE (RFC 7636) with the `S256` method only.
//!
//! `plain` protects nothing against an attacker who can read the authorization request,
//! so finrift does not offer it. A challenge is the base64url (no padding) SHA-256 of the
//! verifier: exactly 43 characters.

use ring::digest;
use serde::{Deserialize, Serialize};

use crate::secret::base64url;
use crate::secret::ct_eq;

/// Length of an `S256` code challenge: base64url of 32 bytes, without padding.
pub const CHALLENGE_LEN: usize = 43;
/// Shortest code verifier RFC 7636 §4.1 allows.
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest code verifier RFC 7636 §4.1 allows.
pub const MAX_VERIFIER_LEN: usize = 128;

/// A validated `S256` code challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodeChallenge(String);

/// Why a PKCE parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkceError {
    /// `code_challenge_method` was not `S256`.
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    /// The challenge is not 43 base64url characters.
    #[error("code_challenge must be 43 base64url characters")]
    MalformedChallenge,
    /// The verifier is not 43 to 128 unreserved characters.
    #[error("code_verifier must be 43 to 128 unreserved characters")]
    MalformedVerifier,
    /// The verifier does not match the challenge.
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

impl CodeChallenge {
    /// Checks an `S256` challenge from an authorization request. `method` is the
    /// `code_challenge_method` parameter; it must be present and equal to `S256`.
    pub fn s256(challenge: &str, method: Option<&str>) -> Result<Self, PkceError> {
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        Self::parse(challenge)
    }

    fn parse(challenge: &str) -> Result<Self, PkceError> {
        if is_well_formed(challenge) {
            Ok(Self(challenge.to_owned()))
        } else {
            Err(PkceError::MalformedChallenge)
        }
    }

    /// The challenge for `verifier` (for clients and tests).
    pub fn from_verifier(verifier: &str) -> Self {
        Self(s256(verifier).into_iter().map(char::from).collect())
    }

    /// Checks `verifier` against this challenge, in constant time.
    pub fn verify(&self, verifier: &str) -> Result<(), PkceError> {
        check_verifier_syntax(verifier)?;
        if ct_eq(&s256(verifier), self.0.as_bytes()) {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }

    /// The challenge text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CodeChallenge {
    type Error = PkceError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        // The string is checked and kept, not copied: a store reads a challenge back for
        // every code it answers.
        if is_well_formed(&value) {
            Ok(Self(value))
        } else {
            Err(PkceError::MalformedChallenge)
        }
    }
}

impl From<CodeChallenge> for String {
    fn from(challenge: CodeChallenge) -> Self {
        challenge.0
    }
}

/// Whether `challenge` is an `S256` challenge: 43 base64url characters, the last one's
/// padding bits zero.
fn is_well_formed(challenge: &str) -> bool {
    challenge.len() == CHALLENGE_LEN
        && challenge
            .bytes()
            .fold(true, |ok, b| ok & BASE64URL[usize::from(b)])
        // The last character carries 4 bits of the digest and 2 padding bits, which must
        // be zero (as a strict base64 decoder demands): its 6-bit value is a multiple of 4.
        && challenge
            .bytes()
            .last()
            .is_some_and(|b| b"AEIMQUYcgkosw048".contains(&b))
}

/// The `S256` challenge of `verifier`, encoded on the stack: checking a verifier at every
/// code exchange allocates nothing.
fn s256(verifier: &str) -> [u8; CHALLENGE_LEN] {
    let digest = digest::digest(&digest::SHA256, verifier.as_bytes());
    let mut challenge = [0u8; CHALLENGE_LEN];
    // A SHA-256 digest is exactly `CHALLENGE_LEN` characters, so this cannot fail; if it
    // did, the zeros left would match no challenge (they are not base64url).
    let _ = base64url::encode_into(digest.as_ref(), &mut challenge);
    challenge
}

/// Whether each byte may be in a challenge: the base64url alphabet.
const BASE64URL: [bool; 256] = byte_set(b"-_");

/// Whether each byte may be in a verifier: RFC 7636's unreserved characters.
const UNRESERVED: [bool; 256] = byte_set(b"-._~");

/// The ASCII letters and digits, and `others`. Every byte of a value is looked up without
/// a branch, so the check costs the same whatever the value holds.
const fn byte_set(others: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        set[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let mut other = 0;
    while other < others.len() {
        set[others[other] as usize] = true;
        other += 1;
    }
    set
}

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
fn check_verifier_syntax(verifier: &str) -> Result<(), PkceError> {
    let len_ok = (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&verifier.len());
    let chars_ok = verifier
        .bytes()
        .fold(true, |ok, b| ok & UNRESERVED[usize::from(b)]);
    if len_ok && chars_ok {
        Ok(())
    } else {
        Err(PkceError::MalformedVerifier)
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;

    // RFC 7636 Appendix B.
    const RFC7636_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC7636_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn az05_challenge_syntax_is_what_a_strict_decoder_accepts() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for &last in alphabet.iter().chain(b"=+/.~ ".iter()) {
            let mut challenge = RFC7636_CHALLENGE.as_bytes()[..42].to_vec();
            challenge.push(last);
            let challenge = String::from_utf8(challenge).unwrap();
            let strict = URL_SAFE_NO_PAD
                .decode(&challenge)
                .is_ok_and(|digest| digest.len() == 32);
            assert_eq!(
                CodeChallenge::s256(&challenge, Some("S256")).is_ok(),
                strict,
                "{challenge}"
            );
        }
    }

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            CodeChallenge::from_verifier(RFC7636_VERIFIER).as_str(),
            RFC7636_CHALLENGE
        );
        let challenge = CodeChallenge::s256(RFC7636_CHALLENGE, Some("S256")).unwrap();
        assert_eq!(challenge.verify(RFC7636_VERIFIER), Ok(()));
    }

    #[test]
    fn az05_plain_or_missing_method_is_refused() {
        assert_eq!(
            CodeChallenge::s256(RFC7636_CHALLENGE, Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::s256(RFC7636_CHALLENGE, None),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::s256(RFC7636_CHALLENGE, Some("s256")),
            Err(PkceError::UnsupportedMethod)
        );
    }

    #[test]
    fn az05_challenge_must_be_43_base64url_characters() {
        for bad in [
            &RFC7636_CHALLENGE[..42],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMA",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=",
            "",
        ] {
            assert_eq!(
                CodeChallenge::s256(bad, Some("S256")),
                Err(PkceError::MalformedChallenge),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tk04_wrong_or_malformed_verifier_is_refused() {
        let challenge = CodeChallenge::from_verifier(RFC7636_VERIFIER);
        let mut wrong = RFC7636_VERIFIER.to_owned();
        wrong.replace_range(0..1, "e");
        assert_eq!(challenge.verify(&wrong), Err(PkceError::Mismatch));
        assert_eq!(
            challenge.verify(&RFC7636_VERIFIER[..42]),
            Err(PkceError::MalformedVerifier)
        );
        assert_eq!(
            challenge.verify(&"a".repeat(129)),
            Err(PkceError::MalformedVerifier)
        );
        let with_space = format!("{} ", &RFC7636_VERIFIER[..43]);
        assert_eq!(
            challenge.verify(&with_space),
            Err(PkceError::MalformedVerifier)
        );
        // The verifier's syntax is checked even when its hash would match.
        let odd = "a+".repeat(22);
        let odd_challenge = CodeChallenge::from_verifier(&odd);
        assert_eq!(
            odd_challenge.verify(&odd),
            Err(PkceError::MalformedVerifier)
        );
    }

    #[test]
    fn az05_each_byte_is_allowed_where_rfc_7636_allows_it() {
        for byte in 0..=255u8 {
            // One byte changed in a valid value, at the front and at the back.
            let unreserved = byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
            let base64url = byte.is_ascii_alphanumeric() || b"-_".contains(&byte);
            for at in [0, 42] {
                let mut verifier = RFC7636_VERIFIER.as_bytes().to_vec();
                verifier[at] = byte;
                let verifier = String::from_utf8_lossy(&verifier).into_owned();
                let challenge = CodeChallenge::from_verifier(&verifier);
                assert_eq!(
                    challenge.verify(&verifier).is_ok(),
                    unreserved,
                    "verifier byte {byte:#04x}"
                );
            }
            let mut challenge = RFC7636_CHALLENGE.as_bytes().to_vec();
            challenge[0] = byte;
            let challenge = String::from_utf8_lossy(&challenge).into_owned();
            assert_eq!(
                CodeChallenge::s256(&challenge, Some("S256")).is_ok(),
                base64url,
                "challenge byte {byte:#04x}"
            );
        }
        // A character past ASCII in place of two, at the length the checks want: refused by
        // the character checks themselves, not by the length.
        let verifier = format!("\u{e9}{}", &RFC7636_VERIFIER[2..]);
        assert_eq!(verifier.len(), RFC7636_VERIFIER.len());
        let challenge = CodeChallenge::from_verifier(&verifier);
        assert_eq!(
            challenge.verify(&verifier),
            Err(PkceError::MalformedVerifier)
        );
        let challenge = format!("\u{e9}{}", &RFC7636_CHALLENGE[2..]);
        assert_eq!(challenge.len(), CHALLENGE_LEN);
        assert_eq!(
            CodeChallenge::s256(&challenge, Some("S256")),
            Err(PkceError::MalformedChallenge)
        );
    }
}
