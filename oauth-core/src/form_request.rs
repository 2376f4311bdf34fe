//! One request value for the engine's client-authenticated form endpoints: token (RFC 6749
//! §3.2), introspection (RFC 7662) and revocation (RFC 7009).
//!
//! An adapter copies what it received into a [`FormRequest`]: the body as bytes with its
//! `Content-Type`, the `Authorization` header, and who the caller is (for the failure
//! limiter). The engine checks the body's framing itself, so there is one path to each
//! endpoint and it is the checked one: a JSON body is answered with an `invalid_request`
//! naming the media type expected, not with "grant_type is missing".

use std::borrow::Cow;

use crate::dpop::DpopContext;
use crate::error::OAuthError;
use crate::request::Params;

/// The media type the form endpoints take (RFC 6749 §3.2).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A POST to the token, introspection or revocation endpoint, as plain values.
///
/// ```
/// use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
///
/// let request = FormRequest::new(Some(FORM_CONTENT_TYPE), b"grant_type=client_credentials")
///     .with_authorization(Some("Basic c2VydmljZTpzZWNyZXQ="))
///     .with_caller(Some("192.0.2.7"));
/// assert_eq!(request.caller(), Some("192.0.2.7"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FormRequest<'a> {
    body: Body<'a>,
    authorization: Option<&'a str>,
    caller: Option<&'a str>,
    dpop: Option<DpopContext<'a>>,
}

#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    /// As it came over the wire: checked for its media type, size and encoding.
    Raw {
        content_type: Option<&'a str>,
        bytes: &'a [u8],
    },
    /// Already parsed by [`Params::parse_form_body`] or built by [`Params::from_pairs`].
    Parsed(&'a Params),
}

impl<'a> FormRequest<'a> {
    /// A request whose body is `body`, sent with the `Content-Type` header `content_type`.
    /// Anything but `application/x-www-form-urlencoded` UTF-8 text within
    /// [`MAX_PARAMS_BYTES`](crate::MAX_PARAMS_BYTES) is refused with `invalid_request`.
    pub fn new(content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        Self {
            body: Body::Raw {
                content_type,
                bytes: body,
            },
            authorization: None,
            caller: None,
            dpop: None,
        }
    }

    /// A request whose parameters were already parsed (by [`Params::parse_form_body`],
    /// or built by [`Params::from_pairs`] from a framework's own decoding).
    pub fn from_params(params: &'a Params) -> Self {
        Self {
            body: Body::Parsed(params),
            authorization: None,
            caller: None,
            dpop: None,
        }
    }

    /// The `Authorization` header value as it came (HTTP Basic client authentication).
    pub fn with_authorization(mut self, authorization: Option<&'a str>) -> Self {
        self.authorization = authorization;
        self
    }

    /// The caller's key for the failure limiter, for example [`CallerKey`](crate::CallerKey)
    /// of the peer address. Without one, failures are charged only to the pair of client and
    /// caller the engine can tell, which is none: give one wherever the peer is known.
    pub fn with_caller(mut self, caller: Option<&'a str>) -> Self {
        self.caller = caller;
        self
    }

    /// The request's `DPoP` header values (RFC 9449 §4), each as it came, with the
    /// request's HTTP method and the full URL it was sent to (scheme, host, port and
    /// path, as the client addressed it: behind a proxy, the public URL). No value leaves
    /// the request a bearer one; more than one is refused with `invalid_dpop_proof`. At
    /// the token endpoint, a valid proof binds the access token to its key.
    ///
    /// ```
    /// use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
    ///
    /// # let proof = "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln";
    /// let request = FormRequest::new(Some(FORM_CONTENT_TYPE), b"grant_type=client_credentials")
    ///     .with_dpop([proof], "POST", "https://auth.example/token");
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

    /// The `Authorization` header value.
    pub fn authorization(&self) -> Option<&'a str> {
        self.authorization
    }

    /// The caller's key.
    pub fn caller(&self) -> Option<&'a str> {
        self.caller
    }

    /// The DPoP proof and what it must be for, when the request carries one.
    pub(crate) fn dpop(&self) -> Option<&DpopContext<'a>> {
        self.dpop.as_ref()
    }

    /// The parameters, parsed once; the framing errors of RFC 6749 §3.2 as `invalid_request`.
    pub(crate) fn params(&self) -> Result<Cow<'a, Params>, OAuthError> {
        match self.body {
            Body::Raw {
                content_type,
                bytes,
            } => Params::parse_form_body(content_type, bytes).map(Cow::Owned),
            Body::Parsed(params) => Ok(Cow::Borrowed(params)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn tk10_a_body_that_is_not_a_form_is_refused_with_the_media_type_expected() {
        let ok = FormRequest::new(Some(FORM_CONTENT_TYPE), b"a=b");
        assert_eq!(ok.params().unwrap().get("a"), Some("b"));
        let charset = FormRequest::new(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            b"a=b",
        );
        assert!(charset.params().is_ok());
        for (content_type, body) in [
            (None, &b"a=b"[..]),
            (
                Some("application/json"),
                br#"{"grant_type":"client_credentials"}"#,
            ),
            (Some(FORM_CONTENT_TYPE), b"a=\xff"),
        ] {
            let error = FormRequest::new(content_type, body).params().unwrap_err();
            assert_eq!(error.code(), crate::ErrorCode::InvalidRequest);
            if content_type != Some(FORM_CONTENT_TYPE) {
                assert!(
                    error.description().contains(FORM_CONTENT_TYPE),
                    "{}",
                    error.description()
                );
            }
        }
    }

    #[test]
    fn parsed_parameters_are_borrowed_not_parsed_again() {
        let params = Params::parse("a=b").unwrap();
        let request = FormRequest::from_params(&params);
        assert!(matches!(request.params().unwrap(), Cow::Borrowed(_)));
    }
}
