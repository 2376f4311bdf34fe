//! The engine's plain [`Response`] as an axum response, with the headers every answer of
//! this crate carries exactly once.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use oauth_core::{Fault, Response};

/// An engine [`Response`] that axum can send: `OAuthResponse(response).into_response()`,
/// or return it from a handler.
///
/// Each header is sent once: the first value the engine gave wins, except `Set-Cookie`,
/// which may rightly appear several times. `X-Content-Type-Options: nosniff` is added, and
/// `Content-Type: text/plain; charset=utf-8` when the engine set none, so that no answer
/// leaves the browser to guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthResponse(pub Response);

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> axum::response::Response {
        let Response {
            status,
            headers,
            body,
        } = self.0;
        let mut response = axum::response::Response::new(Body::from(body));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let map = response.headers_mut();
        for (name, value) in headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) else {
                // Only a value the engine never produces (a control character) gets here;
                // sending part of the headers could drop a security header, so send none.
                tracing::error!(header = name, "a response header could not be encoded");
                return server_error();
            };
            if name == SET_COOKIE {
                map.append(name, value);
            } else if !map.contains_key(&name) {
                map.insert(name, value);
            }
        }
        harden(map);
        response
    }
}

/// Adds `X-Content-Type-Options: nosniff`, and a plain-text `Content-Type` when there is
/// none; a header already there is left as it is, so neither is ever doubled.
pub(crate) fn harden(headers: &mut HeaderMap) {
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(CONTENT_TYPE)
        .or_insert(HeaderValue::from_static("text/plain; charset=utf-8"));
}

/// A server fault, logged (it holds no secret) and answered without its cause.
pub(crate) fn fault_response(fault: &Fault) -> Response {
    tracing::error!(error = %fault, "engine fault");
    Response::from_fault(fault)
}

/// A bare 500, for the one case where the engine's answer cannot be copied.
fn server_error() -> axum::response::Response {
    let mut response = axum::response::Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    harden(response.headers_mut());
    response
}

/// Gives any response `X-Content-Type-Options: nosniff` (never a second one) and a
/// `Content-Type` when it has none. Every router this crate builds applies it, axum's own
/// answers (405, 413) included; apply it to your own routes too:
/// `router.layer(axum::middleware::map_response(oauth_axum::harden_response))`.
pub async fn harden_response(mut response: axum::response::Response) -> axum::response::Response {
    harden(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn plain(headers: Vec<(&'static str, String)>) -> axum::response::Response {
        OAuthResponse(Response {
            status: 200,
            headers,
            body: "{}".into(),
        })
        .into_response()
    }

    #[test]
    fn headers_the_engine_set_are_not_doubled() {
        let response = plain(vec![
            ("Content-Type", "application/json".into()),
            ("Cache-Control", "no-store".into()),
            ("X-Content-Type-Options", "nosniff".into()),
            ("Cache-Control", "no-cache".into()),
        ]);
        let headers = response.headers();
        assert_eq!(headers.get_all(CONTENT_TYPE).iter().count(), 1);
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(headers.get_all(X_CONTENT_TYPE_OPTIONS).iter().count(), 1);
        assert_eq!(headers.get_all("cache-control").iter().count(), 1);
        assert_eq!(headers["cache-control"], "no-store");
    }

    #[test]
    fn nosniff_and_a_content_type_are_always_there() {
        let response = plain(vec![
            ("Set-Cookie", "a=1".into()),
            ("Set-Cookie", "b=2".into()),
        ]);
        let headers = response.headers();
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(headers.get_all(SET_COOKIE).iter().count(), 2);
    }

    #[test]
    fn a_header_that_cannot_be_encoded_gives_a_bare_500() {
        let response = plain(vec![("Location", "https://a.example/\r\nX: y".into())]);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get("location").is_none());
        assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
