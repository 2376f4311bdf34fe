//! The bearer guard as an extractor: `Bearer<ReadUsers>` in a handler's arguments.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderName, Method, Uri};
use oauth_core::{
    BearerGuard, BearerOutcome, BearerRequest, Fault, Principal, RequiredScope, Response, ScopeSet,
};

use crate::public_base::PublicBase;
use crate::response::{fault_response, OAuthResponse};

/// The request header carrying a DPoP proof (RFC 9449 §4.1).
pub(crate) const DPOP: HeaderName = HeaderName::from_static("dpop");

/// Admits a request only with a live access token holding every scope of `R`; otherwise
/// the handler is not run and the answer is 401, 400 or 403 with the RFC 6750
/// `WWW-Authenticate` challenge. The guard is found in the router's state as
/// `Arc<dyn BearerGuard>` through [`FromRef`] (an `Arc<Engine>`, or a
/// [`TokenVerifier`](oauth_core::TokenVerifier) on a resource server apart). A token
/// bound to a DPoP key is admitted only where the routes carry a [`PublicBase`], which
/// the proof's URL is checked against.
///
/// ```
/// use oauth_axum::Bearer;
/// use oauth_core::RequiredScope;
///
/// struct ReadUsers;
/// impl RequiredScope for ReadUsers {
///     const SCOPE: &'static str = "read:users";
/// }
///
/// async fn list_users(bearer: Bearer<ReadUsers>) -> String {
///     format!("hello {}", bearer.principal.subject)
/// }
/// ```
#[derive(Debug)]
pub struct Bearer<R> {
    /// Who the token speaks for.
    pub principal: Principal,
    required: PhantomData<fn() -> R>,
}

impl<St, R> FromRequestParts<St> for Bearer<R>
where
    St: Send + Sync,
    Arc<dyn BearerGuard>: FromRef<St>,
    R: RequiredScope,
{
    type Rejection = OAuthResponse;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let guard = Arc::<dyn BearerGuard>::from_ref(state);
        let required = required_scope(R::SCOPE).map_err(OAuthResponse)?;
        let principal = check(guard.as_ref(), Seen::of_parts(parts), &required)
            .await
            .map_err(OAuthResponse)?;
        Ok(Self {
            principal,
            required: PhantomData,
        })
    }
}

/// `scope` parsed; a scope that does not parse is the server's configuration fault.
pub(crate) fn required_scope(scope: &str) -> Result<ScopeSet, Response> {
    ScopeSet::parse(scope).map_err(|error| {
        fault_response(&Fault::Config(format!(
            "a route requires the invalid scope {scope:?}: {error}"
        )))
    })
}

/// What the bearer check reads of a request.
pub(crate) struct Seen<'r> {
    pub(crate) headers: &'r HeaderMap,
    pub(crate) method: &'r Method,
    pub(crate) uri: &'r Uri,
    pub(crate) extensions: &'r Extensions,
}

impl<'r> Seen<'r> {
    fn of_parts(parts: &'r Parts) -> Self {
        Self {
            headers: &parts.headers,
            method: &parts.method,
            uri: &parts.uri,
            extensions: &parts.extensions,
        }
    }
}

/// Every value of the `name` header, each as text; a value that is not text is passed on
/// garbled, so the engine refuses it as malformed instead of seeing no value.
pub(crate) fn header_values(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect()
}

/// Asks `guard` about the request's `Authorization` and `DPoP` headers: the principal, or
/// the answer to send (the RFC 6750 refusal, or a fault's 500/503).
pub(crate) async fn check(
    guard: &dyn BearerGuard,
    seen: Seen<'_>,
    required: &ScopeSet,
) -> Result<Principal, Response> {
    // A value that is not text is passed on garbled, so the engine refuses it as
    // malformed instead of treating the request as carrying no token.
    let authorization = seen
        .headers
        .get(AUTHORIZATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let proofs = header_values(seen.headers, &DPOP);
    // Without a configured base there is no trustworthy URL to check a proof against,
    // so none is passed and the engine refuses a DPoP-bound token.
    let url = seen
        .extensions
        .get::<PublicBase>()
        .map(|base| base.join(seen.uri.path()));
    let mut request = BearerRequest::new(authorization.as_deref(), None);
    if let Some(url) = &url {
        request = request.with_dpop(proofs.iter().map(String::as_str), seen.method.as_str(), url);
    }
    match guard.check(&request, required).await {
        Ok(BearerOutcome::Admitted(principal)) => Ok(principal),
        Ok(BearerOutcome::Refused(refusal)) => Err(refusal.to_response()),
        // A later kind of outcome this crate does not know: refusing is the safe answer.
        Ok(_) => Err(fault_response(&Fault::Config(
            "the bearer guard answered an unknown outcome".into(),
        ))),
        Err(fault) => Err(fault_response(&fault)),
    }
}
