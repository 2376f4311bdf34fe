//! The claim set of a JWT access token: the registered claims a verifier checks, read
//! without building a map, and [`Claims`], every claim kept for the application.

use serde_json::{Map, Value};

use super::strict_json::{self, Field};

/// The claims a verifier checks, in the order of [`Claim`].
const NAMES: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "client_id",
    "scope",
    "exp",
    "nbf",
    "iat",
    "jti",
    "cnf",
];

/// The index of a registered claim's name in [`NAMES`]. A `match` on constants, because
/// it runs for every member of every verified token.
fn wanted(name: &str) -> Option<usize> {
    let claim = match name {
        "iss" => Claim::Issuer,
        "sub" => Claim::Subject,
        "aud" => Claim::Audience,
        "client_id" => Claim::ClientId,
        "scope" => Claim::Scope,
        "exp" => Claim::Expiry,
        "nbf" => Claim::NotBefore,
        "iat" => Claim::IssuedAt,
        "jti" => Claim::TokenId,
        "cnf" => Claim::Confirmation,
        _ => return None,
    };
    Some(claim as usize)
}

/// A registered claim of an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// `iss`.
    Issuer = 0,
    /// `sub`.
    Subject = 1,
    /// `aud`.
    Audience = 2,
    /// `client_id` (RFC 9068 §2.2).
    ClientId = 3,
    /// `scope` (RFC 9068 §2.2.3).
    Scope = 4,
    /// `exp`.
    Expiry = 5,
    /// `nbf`.
    NotBefore = 6,
    /// `iat`.
    IssuedAt = 7,
    /// `jti`.
    TokenId = 8,
    /// `cnf`: the key the token is bound to (RFC 7800, RFC 9449 §6).
    Confirmation = 9,
}

impl Claim {
    /// The claim's name.
    pub(crate) fn name(self) -> &'static str {
        NAMES[self as usize]
    }
}

/// The registered claims of a decoded claim set, borrowed from its bytes where possible.
#[derive(Debug)]
pub(crate) struct ClaimSet<'a> {
    fields: [Option<Field<'a>>; 10],
}

impl<'a> ClaimSet<'a> {
    /// Reads a decoded claim set. It must be one JSON object with no repeated key at any
    /// depth (RFC 7519 §4, RFC 8725 §3.11); claims other than the registered ones are
    /// checked and left in the bytes.
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        let mut fields: [Option<Field<'a>>; 10] = Default::default();
        strict_json::read_object(bytes, wanted, &mut |index, field| {
            if let Some(slot) = fields.get_mut(index) {
                *slot = Some(field);
            }
        })?;
        Ok(Self { fields })
    }

    /// The claim, if present, whatever its shape.
    pub(crate) fn get(&self, claim: Claim) -> Option<&Field<'a>> {
        self.fields[claim as usize].as_ref()
    }

    /// The claim if it is a string.
    pub(crate) fn str(&self, claim: Claim) -> Option<&str> {
        self.get(claim).and_then(Field::as_str)
    }
}

/// Every claim of a verified JWT access token, for claims an application defines.
///
/// The verifier keeps the verified claim set as its JSON text and parses it again only
/// when asked: checking a token never builds a map of its claims, and most requests never
/// read one. The text is the signed payload exactly, and it parsed strictly (no repeated
/// key) when the token was verified. Empty for an opaque token.
///
/// Two `Claims` are equal when their texts are: the same claims signed in another order
/// or spacing compare unequal (compare [`Claims::to_map`] for meaning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// The payload's bytes. They parsed as JSON, so they are UTF-8; they are kept as bytes
    /// so that verification does not pay for checking that again.
    json: Option<Vec<u8>>,
}

impl Claims {
    /// No claims (an opaque token's).
    pub fn none() -> Self {
        Self::default()
    }

    /// Claims from a verified claim set's bytes.
    pub(crate) fn verified(json: Vec<u8>) -> Self {
        // Kept as decoded, spare capacity and all: shrinking would copy.
        Self { json: Some(json) }
    }

    /// Whether there are no claims (the token was opaque).
    pub fn is_empty(&self) -> bool {
        self.json.is_none()
    }

    /// The claim set's JSON text, as signed (`{}` for an opaque token).
    pub fn json(&self) -> &str {
        // The bytes parsed as JSON when the token was verified, which only UTF-8 does.
        self.json
            .as_deref()
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or("{}")
    }

    /// Every claim, as a map.
    pub fn to_map(&self) -> Map<String, Value> {
        // The text parsed strictly as an object when the token was verified, so this
        // parse succeeds; an empty map stands in for the impossible failure.
        match strict_json::parse(self.json().as_bytes()) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// One claim by name.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.to_map().remove(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn registered_claims_are_borrowed_and_others_kept_in_the_text() {
        let bytes =
            br#"{"iss":"https://as","aud":["a","b",3],"exp":10,"nbf":1.5,"tenant":{"id":"t"}}"#;
        let set = ClaimSet::read(bytes).unwrap();
        assert_eq!(set.str(Claim::Issuer), Some("https://as"));
        assert!(matches!(
            set.get(Claim::Issuer),
            Some(Field::Str(Cow::Borrowed(_)))
        ));
        assert_eq!(
            set.get(Claim::Audience),
            Some(&Field::Strings(vec!["a".into(), "b".into()]))
        );
        assert_eq!(set.get(Claim::Expiry), Some(&Field::Int(10)));
        assert_eq!(set.get(Claim::NotBefore), Some(&Field::Other));
        assert_eq!(set.get(Claim::Subject), None);
        let claims = Claims::verified(bytes.to_vec());
        assert_eq!(claims.json().as_bytes(), &bytes[..]);
        assert_eq!(claims.get("tenant"), Some(serde_json::json!({"id": "t"})));
        assert_eq!(claims.to_map().len(), 5);
    }

    #[test]
    fn numbers_outside_i64_are_not_integers() {
        let set = ClaimSet::read(br#"{"exp":18446744073709551615,"iat":-5}"#).unwrap();
        assert_eq!(set.get(Claim::Expiry), Some(&Field::Other));
        assert_eq!(set.get(Claim::IssuedAt), Some(&Field::Int(-5)));
    }

    #[test]
    fn jw09_a_repeated_claim_is_refused_at_any_depth() {
        assert!(ClaimSet::read(br#"{"sub":"a","sub":"b"}"#).is_err());
        assert!(ClaimSet::read(br#"{"x":1,"\u0078":2}"#).is_err());
        assert!(ClaimSet::read(br#"{"x":{"y":[{"z":1,"z":2}]}}"#).is_err());
        assert!(ClaimSet::read(br#"{"aud":[{"z":1,"z":2}]}"#).is_err());
        assert!(ClaimSet::read(br#"{"a":{"b":1},"c":{"b":2}}"#).is_ok());
    }

    #[test]
    fn opaque_tokens_have_no_claims() {
        let claims = Claims::none();
        assert!(claims.is_empty());
        assert_eq!(claims.json(), "{}");
        assert!(claims.to_map().is_empty());
    }
}
