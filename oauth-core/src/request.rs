//! Plain inputs: form or query pairs and the `Authorization` header, parsed into values
//! the endpoints can trust.
//!
//! An adapter hands the engine the raw query string or form body (`application/x-www-form-urlencoded`)
//! and the `Authorization` header value as they came. Parsing here decodes exactly once,
//! refuses invalid UTF-8 and control characters, notes repeated parameters (RFC 6749 §3.1:
//! parameters must not be included more than once), drops empty values (treated as
//! absent) and enforces size limits before any large allocation.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::OAuthError;

/// Largest query string or form body accepted, in bytes.
pub const MAX_PARAMS_BYTES: usize = 32 * 1024;
/// Most parameters accepted in one request.
pub const MAX_PARAM_COUNT: usize = 32;
/// Longest parameter value accepted (after decoding), in bytes.
pub const MAX_PARAM_LEN: usize = 8192;
/// Longest `Authorization` header value accepted, in bytes.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// The parameters of one request, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` string (a query string without `?`,
    /// or a form body): `+` is a space, `%XX` a byte, decoded once.
    pub fn parse(encoded: &str) -> Result<Self, OAuthError> {
        if encoded.len() > MAX_PARAMS_BYTES {
            return Err(OAuthError::invalid_request("the request is too large"));
        }
        let mut pairs = Vec::new();
        for piece in encoded.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() >= MAX_PARAM_COUNT {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            pairs.push((form_decode(name)?, form_decode(value)?));
        }
        Self::from_pairs(pairs)
    }

    /// Parses a POST body as the token, introspection and revocation endpoints take it
    /// (RFC 6749 §3.2): the `Content-Type` must be `application/x-www-form-urlencoded`
    /// (parameters such as `charset` allowed) and the bytes UTF-8; anything else is
    /// `invalid_request`.
    pub fn parse_form_body(content_type: Option<&str>, body: &[u8]) -> Result<Self, OAuthError> {
        let is_form = content_type
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| {
                media
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        if body.len() > MAX_PARAMS_BYTES {
            return Err(OAuthError::invalid_request("the request is too large"));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| OAuthError::invalid_request("the body is not UTF-8 text"))?;
        Self::parse(text)
    }

    /// Builds parameters from pairs a framework already decoded. The same checks apply.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, OAuthError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut params = Params::default();
        for (count, (name, value)) in pairs.into_iter().enumerate() {
            if count >= MAX_PARAM_COUNT {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            let (name, value) = (name.into(), value.into());
            if name.len() > MAX_PARAM_LEN || value.len() > MAX_PARAM_LEN {
                return Err(OAuthError::invalid_request("a parameter is too long"));
            }
            if name.chars().chain(value.chars()).any(char::is_control) {
                return Err(OAuthError::invalid_request(
                    "a parameter contains a control character",
                ));
            }
            if value.is_empty() {
                continue;
            }
            if params.values.contains_key(&name) {
                if !params.repeated.contains(&name) {
                    params.repeated.push(name);
                }
                continue;
            }
            params.values.insert(name, value);
        }
        Ok(params)
    }

    /// The value of `name`, or `None` when absent or empty. A repeated parameter answers
    /// its first value here; endpoints check [`Params::is_repeated`] first.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether `name` appeared more than once (with a non-empty value).
    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// The names that appeared more than once.
    pub fn repeated(&self) -> &[String] {
        &self.repeated
    }

    /// The value of `name`, refusing it when repeated.
    pub fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        if self.is_repeated(name) {
            return Err(OAuthError::invalid_request(format!(
                "the {} parameter is repeated",
                printable(name)
            )));
        }
        Ok(self.get(name))
    }

    /// The value of `name`, refusing it when absent or repeated.
    pub fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.single(name)?.ok_or_else(|| {
            OAuthError::invalid_request(format!("the {} parameter is missing", printable(name)))
        })
    }
}

/// Keeps a parameter name quotable in an error description (only known names are passed,
/// but the guard keeps it so).
fn printable(name: &str) -> &str {
    if name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        name
    } else {
        "a"
    }
}

/// Decodes one form-urlencoded component: `+` becomes a space, `%XX` a byte; the result
/// must be UTF-8.
pub fn form_decode(component: &str) -> Result<String, OAuthError> {
    let bytes = component.as_bytes();
    if bytes.len() > MAX_PARAMS_BYTES {
        return Err(OAuthError::invalid_request("a parameter is too long"));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(OAuthError::invalid_request("malformed percent-encoding")),
                }
                i += 3;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| OAuthError::invalid_request("a parameter is not UTF-8"))
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Client credentials from an `Authorization: Basic` header (RFC 6749 §2.3.1, RFC 7617).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The client identifier.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// What an `Authorization` header held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// `Basic` client credentials.
    Basic(BasicCredentials),
    /// Some other scheme (for example `Bearer`); the token endpoint ignores it.
    Other,
}

impl Authorization {
    /// Parses an `Authorization` header value. The scheme is case-insensitive; the
    /// credentials are base64 (with padding) of `form-urlencoded(id) ":" form-urlencoded(secret)`,
    /// and both parts are decoded as RFC 6749 §2.3.1 requires.
    pub fn parse(header: &str) -> Result<Self, OAuthError> {
        if header.len() > MAX_AUTHORIZATION_LEN {
            return Err(OAuthError::invalid_request(
                "the Authorization header is too long",
            ));
        }
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(Authorization::Other);
        }
        let malformed = || OAuthError::invalid_request("malformed Basic credentials");
        let encoded = rest.trim_start_matches(' ');
        let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
        let text = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
        let client_id = form_decode(id).map_err(|_| malformed())?;
        let client_secret = form_decode(secret).map_err(|_| malformed())?;
        if client_id.is_empty()
            || client_id
                .chars()
                .chain(client_secret.chars())
                .any(char::is_control)
        {
            return Err(malformed());
        }
        Ok(Authorization::Basic(BasicCredentials {
            client_id,
            client_secret,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn fz04_plus_is_space_and_decoding_happens_once() {
        let params = Params::parse("a=x+y&b=x%20y&c=%2541&d=%2B").unwrap();
        assert_eq!(params.get("a"), Some("x y"));
        assert_eq!(params.get("b"), Some("x y"));
        assert_eq!(params.get("c"), Some("%41"));
        assert_eq!(params.get("d"), Some("+"));
    }

    #[test]
    fn fz03_nul_crlf_and_invalid_utf8_are_invalid_request() {
        for bad in [
            "state=a%00b",
            "state=a%0D%0Ab",
            "state=%FF",
            "state=%E2%82",
            "state=%G1",
            "state=%4",
        ] {
            let error = Params::parse(bad).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn az08_repeated_parameters_are_noted_and_empty_ones_dropped() {
        let params = Params::parse("a=1&a=2&b=&c=3").unwrap();
        assert!(params.is_repeated("a"));
        assert!(!params.is_repeated("c"));
        assert_eq!(params.get("b"), None);
        assert_eq!(
            params.single("a").unwrap_err().code(),
            ErrorCode::InvalidRequest
        );
        // A repeat with an empty value counts as absent, not as a repeat.
        assert!(!Params::parse("c=3&c=").unwrap().is_repeated("c"));
    }

    #[test]
    fn tk10_non_form_bodies_are_invalid_request() {
        let form = Some("application/x-www-form-urlencoded; charset=UTF-8");
        assert_eq!(
            Params::parse_form_body(form, b"a=1").unwrap().get("a"),
            Some("1")
        );
        for (content_type, body) in [
            (Some("application/json"), &b"{\"a\":1}"[..]),
            (None, &b"a=1"[..]),
            (Some("text/plain"), &b"a=1"[..]),
            (form, &b"a=\xff"[..]),
        ] {
            let error = Params::parse_form_body(content_type, body).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidRequest, "{content_type:?}");
        }
    }

    #[test]
    fn fz02_limits_hold_before_decoding() {
        let too_many = (0..=MAX_PARAM_COUNT)
            .map(|i| format!("p{i}=1"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(Params::parse(&too_many).is_err());
        assert!(Params::parse(&"a".repeat(MAX_PARAMS_BYTES + 1)).is_err());
        assert!(Params::parse(&format!("a={}", "b".repeat(MAX_PARAM_LEN + 1))).is_err());
    }

    #[test]
    fn tk08_basic_credentials_are_form_urlencoded_before_base64() {
        // id "my client", secret "p@ss:w+rd%" -> "my+client:p%40ss%3Aw%2Brd%25"
        let header = format!("Basic {}", STANDARD.encode("my+client:p%40ss%3Aw%2Brd%25"));
        let Authorization::Basic(creds) = Authorization::parse(&header).unwrap() else {
            panic!("expected Basic");
        };
        assert_eq!(creds.client_id, "my client");
        assert_eq!(creds.client_secret, "p@ss:w+rd%");
        assert!(!format!("{creds:?}").contains("p@ss"));
    }

    #[test]
    fn tk08_malformed_basic_is_refused() {
        for bad in [
            "Basic",
            "Basic !!!",
            "Basic bm9jb2xvbg==", // "nocolon"
            &format!("Basic {}", STANDARD.encode(":secret")),
            &format!("Basic {}", STANDARD.encode([0xffu8, b':', b'a'])),
            &format!("Basic {}", STANDARD.encode("a%zz:b")),
        ] {
            assert!(Authorization::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Authorization::parse("Bearer abc").unwrap(),
            Authorization::Other
        );
        assert!(matches!(
            Authorization::parse(&format!("bAsIc {}", STANDARD.encode("a:b"))).unwrap(),
            Authorization::Basic(_)
        ));
    }
}
