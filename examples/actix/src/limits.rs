//! The limits a server on the public internet needs: how long a client may take to send
//! its headers and its body, how long an idle connection stays, how many connections a
//! worker holds, and how large a body may be.

use std::fmt;
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::Request;
use actix_service::{IntoServiceFactory, Service, ServiceFactory};
use actix_web::dev::AppConfig;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{web, HttpRequest, HttpServer};
use oauth_core::{OAuthError, Response};

use crate::OAuthResponse;

/// Largest request body read by default, in bytes (64 KiB); beyond it the answer is `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Timeouts and sizes for a public server. [`ServerLimits::apply`] sets the connection
/// limits on an [`HttpServer`]; the body limits are kept by the handlers that read a body
/// ([`MachineEndpoints`](crate::MachineEndpoints) and, for an embedder's own form,
/// [`ServerLimits::read_body`]), since actix-web has no body read timeout of its own.
///
/// A zero duration turns the matching actix-web timeout off: do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Time from accepting a connection to having its request headers (default 10 s):
    /// otherwise `408` and the connection is closed.
    ///
    /// actix-web applies it to the first request of a connection only. A later request on
    /// a kept-alive connection is bounded by `idle_timeout` until its first byte, and not
    /// at all while its headers arrive: a client that starts a second request and never
    /// finishes it holds the connection. `max_connections` bounds how many it can hold;
    /// `server.keep_alive(KeepAlive::Disabled)` after [`ServerLimits::apply`] (one request
    /// per connection) closes the gap at the cost of a new connection per request.
    pub header_timeout: Duration,
    /// Time to receive a whole request body once the handler reads it (default 30 s):
    /// otherwise `408`.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may sit idle between requests (default 60 s).
    pub idle_timeout: Duration,
    /// Time a closing connection is given to finish (default 2 s): the answer is flushed
    /// and the socket shut down, or dropped when this passes. It is what ends a connection
    /// that keeps sending a body the server has already answered.
    pub disconnect_timeout: Duration,
    /// Most connections each worker holds at once (default 10,000); beyond it the
    /// listener stops accepting until one closes.
    pub max_connections: usize,
    /// Largest body read (default [`MAX_BODY_BYTES`]): `413` beyond.
    pub max_body_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            disconnect_timeout: Duration::from_secs(2),
            max_connections: 10_000,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

impl ServerLimits {
    /// `server` with these limits: `client_request_timeout`, `client_disconnect_timeout`,
    /// `keep_alive` and `max_connections`.
    pub fn apply<F, I, S, B>(&self, server: HttpServer<F, I, S, B>) -> HttpServer<F, I, S, B>
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<actix_web::Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<actix_web::dev::Response<B>> + 'static,
        <S::Service as Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        server
            .client_request_timeout(self.header_timeout)
            .client_disconnect_timeout(self.disconnect_timeout)
            .keep_alive(self.idle_timeout)
            .max_connections(self.max_connections)
    }

    /// The whole body of `request`, read within `body_timeout` and `max_body_bytes`;
    /// otherwise the answer to send: `413` (a declared or actual size over the limit),
    /// `408` (the body trickled past the timeout) or `400` (the connection broke).
    pub async fn read_body(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
    ) -> Result<web::Bytes, OAuthResponse> {
        let limit = u64::try_from(self.max_body_bytes).unwrap_or(u64::MAX);
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(self.too_large());
        }
        let read = payload.to_bytes_limited(self.max_body_bytes);
        match actix_web::rt::time::timeout(self.body_timeout, read).await {
            Ok(Ok(Ok(body))) => Ok(body),
            Ok(Ok(Err(_broken))) => Err(refusal(400, "the request body could not be read".into())),
            Ok(Err(_exceeded)) => Err(self.too_large()),
            Err(_elapsed) => Err(refusal(
                408,
                "the request body did not arrive in time".into(),
            )),
        }
    }

    fn too_large(&self) -> OAuthResponse {
        let description = format!(
            "the request body is larger than {} bytes",
            self.max_body_bytes
        );
        refusal(413, description)
    }
}

/// An `invalid_request` with `status`; the connection is closed after it, so the unread
/// rest of the body is never taken for a next request.
fn refusal(status: u16, description: String) -> OAuthResponse {
    let mut response =
        Response::from_error(&OAuthError::invalid_request(description).with_status(status));
    response.headers.push(("Connection", "close".to_owned()));
    OAuthResponse(response)
}
