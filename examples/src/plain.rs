//! What the axum and actix-web adapters share: framework-free helpers that turn raw
//! request pieces into the engine's plain inputs, and the resource-server guard.
//!
//! Nothing here decides anything about OAuth: the engine does, the form body's framing
//! (RFC 6749 §3.2: content type and encoding) included.

use oauth_core::{BearerGuard, FormRequest};
use std::net::IpAddr;

use oauth_core::{
    BearerOutcome, BearerRequest, Clock, Engine, Fault, Params, Principal, Response, ScopeSet,
    Storage,
};

/// Largest request body the adapters accept, in bytes; beyond it they answer 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of a form POST as the engine's parameters, or the `invalid_request` answer
/// for a body that is not `application/x-www-form-urlencoded` UTF-8 text (TK-10): the
/// framing is the core's ([`Params::parse_form_body`]); this only turns its refusal into
/// the response.
pub fn form_params(content_type: Option<&str>, body: &[u8]) -> Result<Params, Response> {
    Params::parse_form_body(content_type, body).map_err(|error| Response::from_error(&error))
}

/// The endpoints that take a client-authenticated form POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormEndpoint {
    /// `POST /token` (RFC 6749 §3.2).
    Token,
    /// `POST /introspect` (RFC 7662).
    Introspection,
    /// `POST /revoke` (RFC 7009).
    Revocation,
}

/// The whole answer of a form endpoint, from the raw pieces of the request: the body's
/// framing checked (TK-10), the engine asked, a fault logged and answered.
pub async fn answer_form<S: Storage, C: Clock>(
    engine: &Engine<S, C>,
    endpoint: FormEndpoint,
    content_type: Option<&str>,
    body: &[u8],
    authorization: Option<&str>,
    caller: Option<&str>,
) -> Response {
    let params = match form_params(content_type, body) {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    let answered = match endpoint {
        FormEndpoint::Token => engine
            .token(
                &FormRequest::from_params(&params)
                    .with_authorization(authorization)
                    .with_caller(caller),
            )
            .await
            .map(|outcome| outcome.to_response()),
        FormEndpoint::Introspection => engine
            .introspect(
                &FormRequest::from_params(&params)
                    .with_authorization(authorization)
                    .with_caller(caller),
            )
            .await
            .map(|outcome| outcome.to_response()),
        FormEndpoint::Revocation => engine
            .revoke(
                &FormRequest::from_params(&params)
                    .with_authorization(authorization)
                    .with_caller(caller),
            )
            .await
            .map(|outcome| outcome.to_response()),
    };
    answered.unwrap_or_else(|fault| fault_response(&fault))
}

/// The caller key the engine's limiter counts failed authentications under: the peer's IP
/// address (an IPv4 address in its plain form even when it arrived on an IPv6 socket). The
/// port is left out, since every new connection gets a new one. `None` when the framework
/// did not say who the peer is; then only the per-client budget applies.
pub fn caller_key(peer: Option<IpAddr>) -> Option<String> {
    peer.map(|ip| ip.to_canonical().to_string())
}

/// A header value as text for the engine. Bytes outside visible ASCII become U+FFFD, so
/// that the engine sees (and refuses) a malformed credential instead of none at all.
pub fn header_text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// The answer to a fault of the server: logged here (a fault holds no secret), and
/// answered with `server_error` or `temporarily_unavailable`, saying nothing of the cause.
pub fn fault_response(fault: &Fault) -> Response {
    tracing::error!(error = %fault, source = ?std::error::Error::source(fault), "engine fault");
    Response::from_fault(fault)
}

/// A 404 for any route the server does not have, as JSON.
pub fn not_found() -> Response {
    Response {
        status: 404,
        headers: vec![("Content-Type", "application/json".to_owned())],
        body: serde_json::json!({"error": "not_found"}).to_string(),
    }
}

pub use oauth_core::RequiredScope;

/// Runs `guard` for a route requiring `R::SCOPE`: the principal, or the response to send
/// (401/400/403 with the RFC 6750 challenge, or a fault's 500).
pub async fn check_bearer<R: RequiredScope>(
    guard: &dyn BearerGuard,
    authorization: Option<&str>,
) -> Result<Principal, Response> {
    let required = ScopeSet::parse(R::SCOPE).map_err(|error| {
        fault_response(&Fault::Config(format!(
            "a route requires an invalid scope: {error}"
        )))
    })?;
    match guard
        .check(&BearerRequest::new(authorization, None), &required)
        .await
    {
        Ok(BearerOutcome::Admitted(principal)) => Ok(principal),
        // The engine reports the refusal and its reason as an audit event (`BearerRefused`).
        Ok(BearerOutcome::Refused(refusal)) => Err(refusal.to_response()),
        Ok(_) => Err(fault_response(&Fault::Config(
            "an unknown bearer outcome".into(),
        ))),
        Err(fault) => Err(fault_response(&fault)),
    }
}

#[cfg(test)]
mod tests {
    // Tests: a failed step should stop the test with its message.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn tk10_a_body_that_is_not_a_form_is_answered_invalid_request() {
        assert_eq!(
            form_params(Some("application/x-www-form-urlencoded"), b"a=b")
                .unwrap()
                .get("a"),
            Some("b")
        );
        for (content_type, body) in [
            (None, &b"a=b"[..]),
            (Some("application/json"), b"a=b"),
            (Some("application/x-www-form-urlencoded"), b"a=\xff"),
        ] {
            let refused = form_params(content_type, body).unwrap_err();
            assert_eq!(refused.status, 400);
            assert!(refused.body.contains("invalid_request"));
        }
    }

    #[test]
    fn the_caller_key_is_the_peer_ip_without_port_in_plain_form() {
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(caller_key(Some(mapped)).as_deref(), Some("192.0.2.7"));
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(caller_key(Some(v6)).as_deref(), Some("2001:db8::1"));
        assert_eq!(caller_key(None), None);
    }
}
