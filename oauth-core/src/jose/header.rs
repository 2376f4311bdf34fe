//! The protected header of a compact JWS, read into the few members finrift acts on.
//!
//! Reading is as strict as parsing the whole header (a repeated key at any depth, or
//! anything but an object, is refused), but only `alg`, `kid`, `typ` and the presence of
//! `crit` are kept. Members that point at other keys (`jwk`, `jku`, `x5u`, `x5c`) are
//! checked and ignored, never followed.

use super::algorithm::Algorithm;
use std::borrow::Cow;

use super::keys::is_valid_kid;
use super::strict_json::{self, Field};

/// What `typ` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenType {
    /// `at+jwt` or `application/at+jwt`, in any case (RFC 9068 §2.1, RFC 7515 §4.1.9).
    AccessToken,
    /// `JWT` or `application/jwt`, in any case: what an ID token says (RFC 7519 §5.1).
    Jwt,
    /// Anything else, or no `typ` at all.
    Other,
}

/// The header members a verifier needs. Nothing here is trusted before the signature
/// has been checked with the key the verifier chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoseHeader<'a> {
    /// `alg`, if it names an algorithm finrift knows (never `none`).
    pub alg: Option<Algorithm>,
    /// `kid`, if it is a string that could name a key ([`is_valid_kid`]), borrowed from
    /// the decoded header.
    pub kid: Option<Cow<'a, str>>,
    /// What `typ` says.
    pub typ: TokenType,
    /// Whether a `crit` member is present.
    pub crit: bool,
}

/// The index of each member kept, for [`strict_json::read_object`].
fn wanted(name: &str) -> Option<usize> {
    match name {
        "alg" => Some(0),
        "kid" => Some(1),
        "typ" => Some(2),
        "crit" => Some(3),
        _ => None,
    }
}

impl<'a> JoseHeader<'a> {
    /// Reads a decoded header.
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        let mut header = Self {
            alg: None,
            kid: None,
            typ: TokenType::Other,
            crit: false,
        };
        strict_json::read_object(bytes, wanted, &mut |index, field| match index {
            0 => header.alg = field.as_str().and_then(Algorithm::parse),
            1 => {
                header.kid = match field {
                    Field::Str(kid) if is_valid_kid(&kid) => Some(kid),
                    _ => None,
                }
            }
            2 => header.typ = field.as_str().map_or(TokenType::Other, type_of),
            _ => header.crit = true,
        })?;
        Ok(header)
    }
}

fn type_of(typ: &str) -> TokenType {
    // RFC 7515 §4.1.9: the `application/` prefix may be left out, and media types compare
    // without regard to case.
    let typ = typ
        .get(..12)
        .filter(|prefix| prefix.eq_ignore_ascii_case("application/"))
        .map_or(typ, |_| &typ[12..]);
    if typ.eq_ignore_ascii_case("at+jwt") {
        TokenType::AccessToken
    } else if typ.eq_ignore_ascii_case("jwt") {
        TokenType::Jwt
    } else {
        TokenType::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::MAX_KID_LEN;

    #[test]
    fn members_are_read_and_others_ignored() {
        let header = JoseHeader::read(
            br#"{"alg":"ES256","kid":"k\u0031","typ":"Application/AT+JWT","jwk":{"kty":"EC"},"x5c":["a"]}"#,
        )
        .unwrap();
        assert_eq!(header.alg, Some(Algorithm::Es256));
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(header.typ, TokenType::AccessToken);
        assert!(!header.crit);
    }

    #[test]
    fn a_kid_no_key_can_have_names_none() {
        let long = format!(r#"{{"kid":"{}"}}"#, "k".repeat(MAX_KID_LEN + 1));
        assert_eq!(JoseHeader::read(long.as_bytes()).unwrap().kid, None);
        let longest = format!(r#"{{"kid":"{}"}}"#, "k".repeat(MAX_KID_LEN));
        let kid = JoseHeader::read(longest.as_bytes()).unwrap().kid.unwrap();
        assert_eq!(kid.len(), MAX_KID_LEN);
        for bad in [r#"{"kid":""}"#, r#"{"kid":"a b"}"#, r#"{"kid":"café"}"#] {
            assert_eq!(JoseHeader::read(bad.as_bytes()).unwrap().kid, None, "{bad}");
        }
    }

    #[test]
    fn wrong_shapes_are_not_taken_for_members() {
        let header = JoseHeader::read(br#"{"alg":"none","kid":7,"typ":"JWT","crit":[]}"#).unwrap();
        assert_eq!(header.alg, None);
        assert_eq!(header.kid, None);
        assert_eq!(header.typ, TokenType::Jwt);
        assert!(header.crit);
        let header = JoseHeader::read(br#"{"alg":["ES256"],"typ":{"at+jwt":1}}"#).unwrap();
        assert_eq!(header.alg, None);
        assert_eq!(header.typ, TokenType::Other);
    }

    #[test]
    fn jw09_a_repeated_member_is_refused_at_any_depth() {
        assert!(JoseHeader::read(br#"{"alg":"ES256","alg":"none"}"#).is_err());
        assert!(JoseHeader::read(br#"{"alg":"ES256","a\u006cg":"none"}"#).is_err());
        assert!(JoseHeader::read(br#"{"alg":"ES256","jwk":{"x":1,"x":2}}"#).is_err());
        assert!(JoseHeader::read(br#"{"alg":"ES256","x5c":[{"a":1,"a":1}]}"#).is_err());
        assert!(JoseHeader::read(br#"{"x":1,"x":1}"#).is_err());
    }

    #[test]
    fn non_objects_trailing_data_and_deep_nesting_are_refused() {
        for bad in [
            &b"null"[..],
            b"[]",
            b"\"ES256\"",
            b"1",
            b"{",
            br#"{"alg":"ES256"} x"#,
        ] {
            assert!(
                JoseHeader::read(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(40), "]".repeat(40));
        assert!(JoseHeader::read(deep.as_bytes()).is_err());
        let deep_wanted = format!(r#"{{"alg":{}{}}}"#, "[".repeat(40), "]".repeat(40));
        assert!(JoseHeader::read(deep_wanted.as_bytes()).is_err());
        let fine = format!(r#"{{"x":{}{}}}"#, "[".repeat(10), "]".repeat(10));
        assert!(JoseHeader::read(fine.as_bytes()).is_ok());
    }
}
