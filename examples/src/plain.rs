//! What the axum and actix-web adapters share: framework-free helpers that turn raw
//! request pieces into the engine's plain inputs, and the resource-server guard.
//!
//! Nothing here decides anything about OAuth: the engine does. The one HTTP-level check is
//! the form body's framing (its content type and encoding), which RFC 6749 §3.2 fixes for
//! every endpoint that takes a form, so it is written once here instead of in each adapter.

use async_trait::async_trait;
use oauth_core::{
    BearerError, BearerRequest, Clock, Engine, Fault, OAuthError, Principal, Response, ScopeSet,
    Storage,
};

/// Largest request body the adapters accept, in bytes; beyond it they answer 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of a form POST as the engine takes it, or the `invalid_request` answer for a
/// body that is not `application/x-www-form-urlencoded` text (TK-10).
pub fn form_body<'a>(content_type: Option<&str>, body: &'a [u8]) -> Result<&'a str, Response> {
    let is_form = content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(Response::from_error(&OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )));
    }
    std::str::from_utf8(body).map_err(|_| {
        Response::from_error(&OAuthError::invalid_request("the body is not UTF-8 text"))
    })
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

/// The scopes a protected route requires, as a marker type for the `Bearer<R>`
/// extractors of both adapters.
pub trait RequiredScope: Send + Sync + 'static {
    /// Space-separated scopes, every one of which the access token must hold.
    const SCOPE: &'static str;
}

/// Checks bearer tokens for a protected route: an object-safe face of the engine's
/// verifier, so that framework extractors can find it in their state without naming the
/// engine's storage and clock types.
#[async_trait]
pub trait ResourceGuard: Send + Sync {
    /// Verifies the `Authorization` header value and requires `required`. A revoked JWT
    /// is refused (the store's deny-list is consulted).
    async fn verify_bearer(
        &self,
        authorization: Option<&str>,
        required: &ScopeSet,
    ) -> Result<Result<Principal, BearerError>, Fault>;
}

#[async_trait]
impl<S: Storage, C: Clock> ResourceGuard for Engine<S, C> {
    async fn verify_bearer(
        &self,
        authorization: Option<&str>,
        required: &ScopeSet,
    ) -> Result<Result<Principal, BearerError>, Fault> {
        self.token_verifier()
            .verify_with_store(
                self.storage(),
                &BearerRequest::new(authorization, None),
                required,
            )
            .await
    }
}

/// Runs `guard` for a route requiring `R::SCOPE`: the principal, or the response to send
/// (401/400/403 with the RFC 6750 challenge, or a fault's 500).
pub async fn check_bearer<R: RequiredScope>(
    guard: &dyn ResourceGuard,
    authorization: Option<&str>,
) -> Result<Principal, Response> {
    let required = ScopeSet::parse(R::SCOPE).map_err(|error| {
        fault_response(&Fault::Config(format!(
            "a route requires an invalid scope: {error}"
        )))
    })?;
    match guard.verify_bearer(authorization, &required).await {
        Ok(Ok(principal)) => Ok(principal),
        Ok(Err(refusal)) => {
            // The reason is for logs only; it never holds the token.
            tracing::info!(refusal = %refusal, reason = refusal.reason(), "bearer refused");
            Err(refusal.to_response())
        }
        Err(fault) => Err(fault_response(&fault)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tk10_form_body_refuses_other_content_types_and_non_utf8() {
        assert_eq!(
            form_body(Some("application/x-www-form-urlencoded"), b"a=b"),
            Ok("a=b")
        );
        assert_eq!(
            form_body(
                Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
                b"a=b"
            ),
            Ok("a=b")
        );
        for content_type in [None, Some("application/json"), Some("text/plain")] {
            let refused = form_body(content_type, b"a=b").unwrap_err();
            assert_eq!(refused.status, 400);
            assert!(refused.body.contains("invalid_request"));
        }
        let refused = form_body(Some("application/x-www-form-urlencoded"), b"a=\xff").unwrap_err();
        assert_eq!(refused.status, 400);
    }
}
