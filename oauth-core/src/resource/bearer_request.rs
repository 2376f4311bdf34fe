//! Where an access token came from: the `Authorization` header or the form's
//! `access_token` (RFC 6750 §2), or a DPoP-bound token with its proof (RFC 9449 §7).

use std::fmt;

use crate::dpop::DpopContext;
use crate::jose::MAX_TOKEN_LEN;

use super::BearerError;

/// Where an access token came from, as an adapter found it: a bearer token (RFC 6750), or
/// a DPoP-bound one with its proof (RFC 9449 §7).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BearerRequest<'a> {
    authorization: Option<&'a str>,
    form_token: Option<&'a str>,
    pub(super) dpop: Option<DpopContext<'a>>,
}

/// The scheme an access token was presented under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    /// `Authorization: Bearer`, or the form parameter.
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1).
    DPoP,
}

impl fmt::Debug for BearerRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerRequest")
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .field("form_token", &self.form_token.map(|_| "<redacted>"))
            .field("dpop", &self.dpop)
            .finish()
    }
}

impl<'a> BearerRequest<'a> {
    /// The `Authorization` header value, and the `access_token` form parameter of an
    /// `application/x-www-form-urlencoded` body (RFC 6750 §2.2), if the route accepts it.
    pub fn new(authorization: Option<&'a str>, form_token: Option<&'a str>) -> Self {
        Self {
            authorization,
            form_token,
            dpop: None,
        }
    }

    /// The request's `DPoP` header values (RFC 9449 §7), each as it came, with the
    /// request's HTTP method and the full URL it was sent to (as the client addressed
    /// it: behind a proxy, the public URL). A token presented as `Authorization: DPoP`
    /// needs them; no value leaves the request without a proof, and more than one is
    /// refused with `invalid_dpop_proof`.
    ///
    /// ```
    /// use oauth_core::BearerRequest;
    ///
    /// # let (authorization, proof) = ("DPoP eyJ.eyJ.c2ln", "eyJ.eyJ.c2ln");
    /// let request = BearerRequest::new(Some(authorization), None)
    ///     .with_dpop([proof], "GET", "https://api.example/users");
    /// # let _ = request;
    /// ```
    pub fn with_dpop(
        mut self,
        headers: impl IntoIterator<Item = &'a str>,
        method: &'a str,
        url: &'a str,
    ) -> Self {
        self.dpop = DpopContext::new(headers, method, url);
        self
    }

    /// The token, or the bearer error for a missing, doubled or malformed one. A token
    /// presented as `Authorization: DPoP` is returned too; its proof is checked only by
    /// [`TokenVerifier::verify_with_store`](super::TokenVerifier::verify_with_store).
    pub fn token(&self) -> Result<&'a str, BearerError> {
        self.credential().map(|(_, token)| token)
    }

    /// The token and the scheme it came under.
    pub(super) fn credential(&self) -> Result<(Scheme, &'a str), BearerError> {
        let header_token = match self.authorization {
            None => None,
            Some(value) => {
                let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
                let token = rest.trim_start_matches(' ');
                if scheme.eq_ignore_ascii_case("bearer") {
                    Some((Scheme::Bearer, token))
                } else if scheme.eq_ignore_ascii_case("dpop") {
                    Some((Scheme::DPoP, token))
                } else {
                    // Another scheme is no access-token credential; treat it as absent.
                    None
                }
            }
        };
        let (scheme, token) = match (header_token, self.form_token) {
            (Some(_), Some(_)) => {
                return Err(BearerError::invalid_request(
                    "the token was sent in more than one way",
                ))
            }
            (Some(credential), None) => credential,
            (None, Some(token)) => (Scheme::Bearer, token),
            (None, None) => return Err(BearerError::missing()),
        };
        if token.is_empty() || token.len() > MAX_TOKEN_LEN || !all_b64token(token.as_bytes()) {
            return Err(BearerError::invalid_request(
                "the bearer token is malformed",
            ));
        }
        Ok((scheme, token))
    }
}

/// Whether every byte of `token` is allowed by RFC 6750 §2.1 `b64token`:
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, and `=`.
///
/// Every request's token passes through here, so the test is written without branches
/// (`&` and `|`, not `&&` and `||`) and over the whole token, which the compiler turns into
/// vector instructions; a token is at most [`MAX_TOKEN_LEN`] bytes.
fn all_b64token(token: &[u8]) -> bool {
    token.iter().fold(true, |all, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        let mark = (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/')
            | (b == b'=');
        all & (letter | digit | mark)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::resource::BearerErrorKind;

    #[test]
    fn jw11_b64token_accepts_exactly_its_alphabet() {
        for b in 0..=255u8 {
            let allowed = b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
            assert_eq!(all_b64token(&[b]), allowed, "byte {b:#04x}");
            assert_eq!(all_b64token(&[b'a', b, b'Z']), allowed, "byte {b:#04x}");
        }
        let long = "aZ0-._~+/=".repeat(100);
        assert!(all_b64token(long.as_bytes()));
        assert!(!all_b64token(format!("{long}!{long}").as_bytes()));
    }

    #[test]
    fn jw11_bearer_extraction() {
        assert_eq!(
            BearerRequest::new(Some("bearer abc"), None)
                .token()
                .unwrap(),
            "abc"
        );
        assert_eq!(
            BearerRequest::new(Some("Bearer abc"), None)
                .token()
                .unwrap(),
            "abc"
        );
        assert_eq!(
            BearerRequest::new(None, Some("abc")).token().unwrap(),
            "abc"
        );
        let both = BearerRequest::new(Some("Bearer abc"), Some("abc"))
            .token()
            .unwrap_err();
        assert_eq!(both.status(), 400);
        assert_eq!(both.code(), Some(ErrorCode::InvalidRequest));
        let none = BearerRequest::new(None, None).token().unwrap_err();
        assert_eq!(none.status(), 401);
        assert_eq!(none.www_authenticate(), "Bearer");
        let basic = BearerRequest::new(Some("Basic abc"), None)
            .token()
            .unwrap_err();
        assert_eq!(basic.kind(), BearerErrorKind::Missing);
        for bad in ["Bearer", "Bearer a b", "Bearer a\"b", "Bearer \u{e9}"] {
            let error = BearerRequest::new(Some(bad), None).token().unwrap_err();
            assert_eq!(error.status(), 400, "{bad}");
        }
    }
}
