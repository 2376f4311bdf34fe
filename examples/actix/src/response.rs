//! The engine's plain [`Response`] as an actix-web response.

use std::fmt;

use actix_web::body::BoxBody;
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use oauth_core::{Fault, Response};

/// An engine [`Response`] as actix-web sends it: return it from a handler (it is a
/// [`Responder`]) or as an error (it is a [`ResponseError`]).
///
/// The engine's headers are copied as they are, except that `Content-Type` and
/// `X-Content-Type-Options` are each sent exactly once: `Content-Type` is the engine's
/// (`text/plain; charset=utf-8` when it set none), and `X-Content-Type-Options: nosniff`
/// is always there, so no browser guesses a JSON body into a script. A `Connection: close`
/// header closes the connection after the answer (actix-web writes that header itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthResponse(pub Response);

impl OAuthResponse {
    /// The answer to a fault of the server: logged here (a fault holds no secret) and
    /// answered with `server_error` or `temporarily_unavailable`, saying nothing of the cause.
    pub fn from_fault(fault: &Fault) -> Self {
        tracing::error!(error = %fault, source = ?std::error::Error::source(fault), "finrift fault");
        Self(Response::from_fault(fault))
    }

    /// The actix-web response.
    pub fn to_http_response(&self) -> HttpResponse {
        build(&self.0).unwrap_or_else(|problem| {
            // The engine never makes such a response; an embedder's own one might.
            tracing::error!(problem, "a response could not be sent as built");
            let mut fallback = HttpResponse::InternalServerError();
            fallback.insert_header((CONTENT_TYPE, "application/json"));
            fallback.insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"));
            fallback.body(r#"{"error":"server_error"}"#)
        })
    }
}

fn build(response: &Response) -> Result<HttpResponse, &'static str> {
    let status = StatusCode::from_u16(response.status).map_err(|_| "invalid status")?;
    let mut http = HttpResponse::with_body(status, BoxBody::new(response.body.clone()));
    for (name, value) in &response.headers {
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                http.head_mut().set_connection_type(ConnectionType::Close);
            }
            continue;
        }
        let headers = http.headers_mut();
        let name = HeaderName::try_from(*name).map_err(|_| "invalid header name")?;
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| "invalid header value")?;
        if name == CONTENT_TYPE || name == X_CONTENT_TYPE_OPTIONS {
            // Sent once: a second value would leave the browser to pick one.
            headers.insert(name, value);
        } else {
            // Appended: two `Set-Cookie` headers are two cookies.
            headers.append(name, value);
        }
    }
    let headers = http.headers_mut();
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(http)
}

/// Logs the fault and answers it, as [`OAuthResponse::from_fault`]: a handler that returns
/// `Result<OAuthResponse, OAuthResponse>` can use `?` on the engine's calls.
impl From<Fault> for OAuthResponse {
    fn from(fault: Fault) -> Self {
        Self::from_fault(&fault)
    }
}

impl From<Response> for OAuthResponse {
    fn from(response: Response) -> Self {
        Self(response)
    }
}

impl Responder for OAuthResponse {
    type Body = BoxBody;

    fn respond_to(self, _request: &HttpRequest) -> HttpResponse {
        self.to_http_response()
    }
}

impl fmt::Display for OAuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "answered with status {}", self.0.status)
    }
}

impl ResponseError for OAuthResponse {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.to_http_response()
    }
}
/// The middleware that gives every answer of an app `X-Content-Type-Options: nosniff`
/// (never a second one), actix-web's own included (its 404s and 405s): wrap the whole app
/// in it, `App::new().wrap(oauth_actix::hardening())`. The answers this crate builds
/// carry the header already.
pub fn hardening() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new().add((X_CONTENT_TYPE_OPTIONS, "nosniff"))
}
