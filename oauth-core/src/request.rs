//! Plain inputs: form or query pairs and the `Authorization` header, parsed into values
//! the endpoints can trust.
//!
//! An adapter hands the engine the raw query string or form body (`application/x-www-form-urlencoded`)
//! and the `Authorization` header value as they came. Parsing here decodes exactly once,
//! refuses invalid UTF-8 and control characters, notes repeated parameters (RFC 6749 §3.1:
//! parameters must not be included more than once), drops empty values (treated as
//! absent) and enforces size limits before any large allocation.

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
///
/// Names and values are decoded into one buffer and found by a short scan (a request has
/// at most [`MAX_PARAM_COUNT`] of them): parsing allocates twice, not twice per parameter.
#[derive(Clone, Default)]
pub struct Params {
    /// Every kept name and value, decoded, back to back.
    text: String,
    /// Each kept parameter, in request order: where its name and value are in `text`.
    kept: Vec<Kept>,
    /// Names that appeared more than once with a value.
    repeated: Vec<String>,
}

/// Where one kept parameter's name and value are in [`Params::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kept {
    name: (usize, usize),
    value: (usize, usize),
}

/// Parameters whose values are secrets: [`Params`]' `Debug` output shows them redacted.
const SECRET_PARAMS: [&str; 7] = [
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "access_token",
    "password",
];

/// The bytes the scan of a piece stops at: `&` ends the piece, its first `=` ends the
/// name, and `+` or `%` mean it has something to decode.
const SCAN_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    stops[b'&' as usize] = true;
    stops[b'=' as usize] = true;
    stops[b'+' as usize] = true;
    stops[b'%' as usize] = true;
    stops
};

impl Params {
    /// Parses an `application/x-www-form-urlencoded` string (a query string without `?`,
    /// or a form body): `+` is a space, `%XX` a byte, decoded once.
    pub fn parse(encoded: &str) -> Result<Self, OAuthError> {
        if encoded.len() > MAX_PARAMS_BYTES {
            return Err(OAuthError::invalid_request("the request is too large"));
        }
        let mut params = Params {
            text: String::with_capacity(encoded.len()),
            kept: Vec::with_capacity(8),
            repeated: Vec::new(),
        };
        // One pass over the bytes finds each `&`-separated piece, its first `=`, and
        // whether it has anything to decode ([`SCAN_STOPS`]). The four are ASCII, so every
        // slice taken at their positions falls on a character boundary.
        let bytes = encoded.as_bytes();
        let mut count = 0;
        let mut at = 0;
        while at < bytes.len() {
            let start = at;
            let mut equals = None;
            let mut escaped = false;
            loop {
                // Most bytes are none of the four: one table lookup each passes over them.
                while bytes.get(at).is_some_and(|&b| !SCAN_STOPS[usize::from(b)]) {
                    at += 1;
                }
                match bytes.get(at) {
                    None | Some(b'&') => break,
                    Some(b'=') => {
                        equals = equals.or(Some(at));
                    }
                    Some(_) => escaped = true,
                }
                at += 1;
            }
            let end = at;
            at += 1;
            if start == end {
                continue;
            }
            if count >= MAX_PARAM_COUNT {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            count += 1;
            let (name_end, value_start) = equals.map_or((end, end), |e| (e, e + 1));
            let name = encoded.get(start..name_end).unwrap_or_default();
            let value = encoded.get(value_start..end).unwrap_or_default();
            let text_start = params.text.len();
            if escaped {
                decode_escaped(name, &mut params.text)?;
            } else {
                params.text.push_str(name);
            }
            let middle = params.text.len();
            if escaped {
                decode_escaped(value, &mut params.text)?;
            } else {
                params.text.push_str(value);
            }
            params.keep_last(text_start, middle)?;
        }
        Ok(params)
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
            let (name, value): (String, String) = (name.into(), value.into());
            // Checked before the copy, so an oversized value is refused without one.
            if name.len() > MAX_PARAM_LEN || value.len() > MAX_PARAM_LEN {
                return Err(OAuthError::invalid_request("a parameter is too long"));
            }
            let start = params.text.len();
            params.text.push_str(&name);
            let middle = params.text.len();
            params.text.push_str(&value);
            params.keep_last(start, middle)?;
        }
        Ok(params)
    }

    /// Checks the parameter just appended to `text` (its name from `start`, its value
    /// from `middle`) and keeps it, or takes it out again when its value is empty or its
    /// name was seen before.
    fn keep_last(&mut self, start: usize, middle: usize) -> Result<(), OAuthError> {
        let end = self.text.len();
        let (name, value) = (&self.text[start..middle], &self.text[middle..end]);
        if name.len() > MAX_PARAM_LEN || value.len() > MAX_PARAM_LEN {
            return Err(OAuthError::invalid_request("a parameter is too long"));
        }
        if has_control(&self.text.as_bytes()[start..end]) {
            return Err(OAuthError::invalid_request(
                "a parameter contains a control character",
            ));
        }
        let seen = !value.is_empty() && self.position(name).is_some();
        if seen && !self.repeated.iter().any(|r| r == name) {
            self.repeated.push(name.to_owned());
        }
        if value.is_empty() || seen {
            self.text.truncate(start);
        } else {
            self.kept.push(Kept {
                name: (start, middle),
                value: (middle, end),
            });
        }
        Ok(())
    }

    /// The index in `kept` of the parameter `name`. Names are compared as bytes, and only
    /// the value found is sliced: endpoints look a dozen names up per request.
    fn position(&self, name: &str) -> Option<usize> {
        let text = self.text.as_bytes();
        // The length first: most names looked up are absent, or differ in length from
        // those present, and are passed over without touching the text.
        self.kept.iter().position(
            |&Kept {
                 name: (start, end), ..
             }| {
                end - start == name.len() && text.get(start..end) == Some(name.as_bytes())
            },
        )
    }

    fn slice(&self, (start, end): (usize, usize)) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// The kept parameters, in request order.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kept
            .iter()
            .map(|kept| (self.slice(kept.name), self.slice(kept.value)))
    }

    /// The value of `name`, or `None` when absent or empty. A repeated parameter answers
    /// its first value here; endpoints check [`Params::is_repeated`] first.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name)
            .and_then(|index| self.kept.get(index))
            .map(|kept| self.slice(kept.value))
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

/// Two sets of parameters are equal when they hold the same values and repeats, in
/// whatever order they came.
impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.kept.len() == other.kept.len()
            && self
                .pairs()
                .all(|(name, value)| other.get(name) == Some(value))
            && self.repeated.len() == other.repeated.len()
            && self.repeated.iter().all(|name| other.is_repeated(name))
    }
}

impl Eq for Params {}

/// Shows names and values, except the values of secret parameters, so that a request
/// can be logged while it is debugged.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.pairs() {
            if SECRET_PARAMS.contains(&name) {
                map.entry(&name, &"<redacted>");
            } else {
                map.entry(&name, &value);
            }
        }
        map.finish()?;
        if !self.repeated.is_empty() {
            write!(f, " repeated: {:?}", self.repeated)?;
        }
        Ok(())
    }
}

/// Whether `bytes` (UTF-8) hold a control character (`char::is_control`: U+0000–001F and
/// U+007F–009F), checked on bytes: U+0080–009F are encoded as `C2 80` to `C2 9F`.
fn has_control(bytes: &[u8]) -> bool {
    // Every parameter passes through here: a branch-free pass (which the compiler
    // vectorizes) finds whether any byte could start a control character, and only then
    // is the exact check made.
    let suspect = bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
    });
    suspect
        && bytes.iter().enumerate().any(|(i, &b)| {
            b < 0x20
                || b == 0x7f
                || (b == 0xc2
                    && bytes
                        .get(i + 1)
                        .is_some_and(|next| (0x80..=0x9f).contains(next)))
        })
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
    if component.len() > MAX_PARAMS_BYTES {
        return Err(OAuthError::invalid_request("a parameter is too long"));
    }
    let mut out = String::with_capacity(component.len());
    decode_into(component, &mut out)?;
    Ok(out)
}

/// Appends the decoding of one form-urlencoded component to `out` (see [`form_decode`]).
/// On an error, `out` may hold part of the component; the caller drops it.
fn decode_into(component: &str, out: &mut String) -> Result<(), OAuthError> {
    // Most components have nothing to decode: copy them whole; they are UTF-8 already.
    if needs_decoding(component.as_bytes()) {
        decode_escaped(component, out)
    } else {
        out.push_str(component);
        Ok(())
    }
}

/// Whether `bytes` hold a `+` or a `%` (a branch-free pass, as in `has_control`).
fn needs_decoding(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |any, &b| any | (b == b'+') | (b == b'%'))
}

/// [`decode_into`] for a component that may hold escapes.
fn decode_escaped(component: &str, out: &mut String) -> Result<(), OAuthError> {
    let bytes = component.as_bytes();
    // Literal runs are copied as they are (they start and end at ASCII bytes, so they are
    // whole UTF-8); a run of escapes that decodes to ASCII is pushed byte by byte, and
    // only one that holds other bytes is gathered and checked as UTF-8. A character cannot
    // straddle a literal run and an escaped one: every literal byte past ASCII belongs to
    // a whole character of the literal text.
    let mut at = 0;
    let mut literal = 0;
    let mut gathered = Vec::new();
    while let Some(&b) = bytes.get(at) {
        if b != b'+' && b != b'%' {
            at += 1;
            continue;
        }
        out.push_str(component.get(literal..at).unwrap_or_default());
        if b == b'+' {
            out.push(' ');
            at += 1;
        } else {
            gathered.clear();
            while bytes.get(at) == Some(&b'%') {
                let hi = bytes.get(at + 1).copied().and_then(hex_value);
                let lo = bytes.get(at + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(OAuthError::invalid_request("malformed percent-encoding"));
                };
                let byte = hi << 4 | lo;
                if byte.is_ascii() && gathered.is_empty() {
                    out.push(char::from(byte));
                } else {
                    gathered.push(byte);
                }
                at += 3;
            }
            if !gathered.is_empty() {
                let text = std::str::from_utf8(&gathered)
                    .map_err(|_| OAuthError::invalid_request("a parameter is not UTF-8"))?;
                out.push_str(text);
            }
        }
        literal = at;
    }
    out.push_str(component.get(literal..).unwrap_or_default());
    Ok(())
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

    /// The decoder that gathers every byte and checks UTF-8 once: what `decode_into`
    /// must agree with, on every input.
    fn reference_decode(component: &str) -> Option<String> {
        let bytes = component.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(&b) = bytes.get(at) {
            match b {
                b'+' => out.push(b' '),
                b'%' => {
                    let hi = bytes.get(at + 1).copied().and_then(hex_value)?;
                    let lo = bytes.get(at + 2).copied().and_then(hex_value)?;
                    out.push(hi << 4 | lo);
                    at += 2;
                }
                _ => out.push(b),
            }
            at += 1;
        }
        String::from_utf8(out).ok()
    }

    #[test]
    fn fz04_decoding_agrees_with_a_plain_decoder_on_every_mix() {
        let pieces = [
            "a",
            "+",
            "%20",
            "%2F",
            "%C3",
            "%A9",
            "%c3%a9",
            "\u{e9}",
            "%E2%82%AC",
            "%",
            "%4",
            "%zz",
            "%80",
            "%00",
            "\u{20ac}",
            "=",
            "%F0%9F%98",
        ];
        // Every sequence of up to four pieces.
        let mut cases = vec![String::new()];
        for _ in 0..4 {
            cases = cases
                .iter()
                .flat_map(|case| pieces.iter().map(move |p| format!("{case}{p}")))
                .chain(cases.iter().cloned())
                .collect();
        }
        cases.sort();
        cases.dedup();
        assert!(cases.len() > 80_000);
        for case in &cases {
            let mut out = String::new();
            let decoded = decode_into(case, &mut out).ok().map(|()| out);
            assert_eq!(decoded, reference_decode(case), "{case:?}");
        }
    }

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
    fn fz03_c1_controls_are_refused_and_other_non_ascii_kept() {
        for bad in ["state=%C2%80", "state=%C2%85", "state=%C2%9F", "a%C2%9Fb=1"] {
            assert!(Params::parse(bad).is_err(), "{bad}");
        }
        let params = Params::parse("state=%C2%A0%C3%A9&x=%E2%80%A8").unwrap();
        assert_eq!(params.get("state"), Some("\u{a0}é"));
        assert_eq!(params.get("x"), Some("\u{2028}"));
        assert!(Params::from_pairs([("state", "a\u{85}b")]).is_err());
    }

    #[test]
    fn parsed_and_given_pairs_compare_in_any_order() {
        let parsed = Params::parse("b=2&a=1&a=3&c=").unwrap();
        let given = Params::from_pairs([("a", "1"), ("b", "2"), ("a", "9")]).unwrap();
        assert_eq!(parsed, given);
        assert_ne!(
            parsed,
            Params::from_pairs([("a", "1"), ("b", "2")]).unwrap()
        );
        assert_ne!(
            parsed,
            Params::from_pairs([("a", "1"), ("b", "3"), ("a", "1")]).unwrap()
        );
    }

    #[test]
    fn debug_output_redacts_secret_values() {
        let params = Params::parse(
            "grant_type=authorization_code&code=c0de&client_secret=s3cret&code_verifier=v3r",
        )
        .unwrap();
        let shown = format!("{params:?}");
        assert!(shown.contains("authorization_code"), "{shown}");
        for secret in ["c0de", "s3cret", "v3r"] {
            assert!(!shown.contains(secret), "{shown}");
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
