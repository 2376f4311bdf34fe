//! Plain outputs: what an adapter copies into its framework's response.

use serde_json::Value;

use crate::error::{Fault, OAuthError};

/// An HTTP response as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON for the token endpoint; empty for redirects).
    pub body: String,
}

impl Response {
    /// A JSON response that must not be cached (RFC 6749 §5.1).
    pub fn json_no_store(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![
                ("Content-Type", "application/json".to_owned()),
                ("Cache-Control", "no-store".to_owned()),
                ("Pragma", "no-cache".to_owned()),
            ],
            body: body.to_string(),
        }
    }

    /// The token-endpoint form of an OAuth error: its status, a JSON body,
    /// `Cache-Control: no-store`, and `WWW-Authenticate`, `Retry-After` and `DPoP-Nonce`
    /// when it has them.
    pub fn from_error(error: &OAuthError) -> Self {
        let mut response = Self::json_no_store(error.status(), &error.to_json());
        if let Some(challenge) = error.www_authenticate() {
            response
                .headers
                .push(("WWW-Authenticate", challenge.to_owned()));
        }
        if let Some(seconds) = error.retry_after() {
            response.headers.push(("Retry-After", seconds.to_string()));
        }
        if let Some(nonce) = error.dpop_nonce() {
            response.headers.push(("DPoP-Nonce", nonce.to_owned()));
        }
        response
    }

    /// The answer to a fault: `server_error` (or `temporarily_unavailable` when storage is
    /// busy), saying nothing of the cause. Log the fault itself.
    pub fn from_fault(fault: &Fault) -> Self {
        let mut response = Self::from_error(&fault.to_oauth_error());
        if fault.to_oauth_error().status() == 503 {
            response.headers.push(("Retry-After", "1".to_owned()));
        }
        response
    }

    /// A `303 See Other` redirect to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 303,
            headers: vec![
                ("Location", location.to_owned()),
                ("Cache-Control", "no-store".to_owned()),
                ("Referrer-Policy", "no-referrer".to_owned()),
            ],
            body: String::new(),
        }
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
