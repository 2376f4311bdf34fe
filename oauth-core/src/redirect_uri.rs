//! Redirect URIs: what may be registered, and how a request's URI is matched.
//!
//! Matching is exact string comparison with the registered value, as RFC 9700 §4.1.3
//! requires. The one exception is RFC 8252 §7.3: for a loopback IP redirect
//! (`http://127.0.0.1`, `http://[::1]`) the port may differ, because native apps bind an
//! ephemeral port; everything else in the URI must still be byte-identical.

use serde::{Deserialize, Serialize};
use url::Url;

/// Longest redirect URI accepted, in bytes.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

/// A registered redirect URI, validated at registration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectUriError {
    /// Not an absolute URI.
    #[error("the redirect URI is not an absolute URI")]
    NotAbsolute,
    /// It has a fragment (RFC 6749 §3.1.2).
    #[error("the redirect URI has a fragment")]
    Fragment,
    /// `http` on a host other than a loopback IP literal.
    #[error("http redirect URIs are allowed only for loopback IP addresses")]
    InsecureHttp,
    /// A scheme that can run code or has no place in a redirect (`javascript:`, `data:`, ...).
    #[error("the redirect URI scheme is not allowed")]
    ForbiddenScheme,
    /// User information (`user@host`) in the authority.
    #[error("the redirect URI has user information")]
    UserInfo,
    /// Too long, or holds whitespace or control characters.
    #[error("the redirect URI is too long or holds forbidden characters")]
    Malformed,
}

impl RedirectUri {
    /// Validates a redirect URI for registration: `https`; `http` only on a loopback IP
    /// literal; or a private-use scheme in reverse-domain form (RFC 8252 §7.1, such as
    /// `com.example.app:/callback`). No fragment, no user information.
    pub fn new(uri: impl Into<String>) -> Result<Self, RedirectUriError> {
        let uri = uri.into();
        if uri.len() > MAX_REDIRECT_URI_LEN
            || uri.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(RedirectUriError::Malformed);
        }
        let parsed = Url::parse(&uri).map_err(|_| RedirectUriError::NotAbsolute)?;
        if parsed.fragment().is_some() || uri.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(RedirectUriError::UserInfo);
        }
        match parsed.scheme() {
            "https" => {
                if parsed.host_str().is_none_or(str::is_empty) {
                    return Err(RedirectUriError::NotAbsolute);
                }
            }
            "http" => {
                if split_loopback(&uri).is_none() {
                    return Err(RedirectUriError::InsecureHttp);
                }
            }
            scheme if scheme.contains('.') => {}
            _ => return Err(RedirectUriError::ForbiddenScheme),
        }
        Ok(Self(uri))
    }

    /// The URI as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `requested` (the `redirect_uri` parameter as sent) matches this
    /// registration: byte for byte, or, for a loopback IP registration, byte for byte but
    /// for the port.
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        match (split_loopback(&self.0), split_loopback(requested)) {
            (Some(registered), Some(asked)) => {
                registered.host == asked.host && registered.rest == asked.rest
            }
            _ => false,
        }
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = RedirectUriError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> Self {
        uri.0
    }
}

struct LoopbackParts<'a> {
    host: &'a str,
    rest: &'a str,
}

/// Splits `http://127.0.0.1[:port]rest` or `http://[::1][:port]rest` textually, so that
/// the rest can be compared byte for byte. `rest` must be empty or start with `/` or `?`.
fn split_loopback(uri: &str) -> Option<LoopbackParts<'_>> {
    let after_scheme = uri.strip_prefix("http://")?;
    let host = ["127.0.0.1", "[::1]"]
        .into_iter()
        .find(|h| after_scheme.starts_with(h))?;
    let mut rest = &after_scheme[host.len()..];
    if let Some(port_and_rest) = rest.strip_prefix(':') {
        let digits = port_and_rest.bytes().take_while(u8::is_ascii_digit).count();
        let port = &port_and_rest[..digits];
        if port.is_empty() || port.len() > 5 || port.parse::<u16>().is_err() {
            return None;
        }
        rest = &port_and_rest[digits..];
    }
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
        return None;
    }
    Some(LoopbackParts { host, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az03_registration_refuses_fragment_http_and_dangerous_schemes() {
        let cases = [
            ("https://app.example/cb#frag", RedirectUriError::Fragment),
            ("https://app.example/cb#", RedirectUriError::Fragment),
            ("http://app.example/cb", RedirectUriError::InsecureHttp),
            ("http://localhost/cb", RedirectUriError::InsecureHttp),
            (
                "http://127.0.0.1.evil.example/cb",
                RedirectUriError::InsecureHttp,
            ),
            ("javascript:alert(1)", RedirectUriError::ForbiddenScheme),
            ("data:text/html,hi", RedirectUriError::ForbiddenScheme),
            ("file:///etc/passwd", RedirectUriError::ForbiddenScheme),
            ("https://user@app.example/cb", RedirectUriError::UserInfo),
            ("/relative", RedirectUriError::NotAbsolute),
            ("https://app.example/c b", RedirectUriError::Malformed),
        ];
        for (uri, expected) in cases {
            assert_eq!(RedirectUri::new(uri), Err(expected), "{uri}");
        }
        for good in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::new(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn az01_only_exact_matches_are_accepted() {
        let registered = RedirectUri::new("https://app.example/cb").unwrap();
        assert!(registered.matches("https://app.example/cb"));
        for attack in [
            "https://app.example/cb/",
            "https://APP.example/cb",
            "https://app.example/cb?x=1",
            "https://app.example/cb/../cb",
            "https://app.example/%63b",
            "https://app.example@evil.example/cb",
            "https://app.example.evil.example/cb",
            "https://evilapp.example/cb",
            "http://app.example/cb",
            "https://app.example:444/cb",
            "https://app.example:443/cb",
            "https://app.example/cb#x",
            "https://app.example/CB",
        ] {
            assert!(!registered.matches(attack), "{attack}");
        }
    }

    #[test]
    fn az02_loopback_port_may_differ_and_nothing_else() {
        let v4 = RedirectUri::new("http://127.0.0.1/cb").unwrap();
        assert!(v4.matches("http://127.0.0.1:51004/cb"));
        assert!(v4.matches("http://127.0.0.1/cb"));
        let v6 = RedirectUri::new("http://[::1]:8080/cb").unwrap();
        assert!(v6.matches("http://[::1]:9/cb"));
        for attack in [
            "http://127.0.0.1:51004/cb/",
            "http://127.0.0.1:51004/other",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.2:8080/cb",
            "http://[::1]:8080/cb",
            "https://127.0.0.1:8080/cb",
            "http://127.0.0.1:8080@evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://localhost:8080/cb",
        ] {
            assert!(!v4.matches(attack), "{attack}");
        }
        assert!(!v6.matches("http://127.0.0.1:8080/cb"));
    }
}
