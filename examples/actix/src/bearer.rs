//! The typed bearer extractor for resource routes, and the check it shares with the
//! [`RequireScope`](crate::RequireScope) middleware.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use oauth_core::{
    BearerGuard, BearerOutcome, BearerRequest, Fault, Principal, RequiredScope, ScopeSet,
};

use crate::request::{header_text, header_values, DPOP};
use crate::{OAuthResponse, PublicBase};

/// Admits a request only with a live access token holding every scope of `R`; otherwise
/// the handler is not run and the answer is `401`, `400` or `403` with the RFC 6750
/// `WWW-Authenticate` challenge.
///
/// The guard is found in the app data as `web::Data<dyn BearerGuard>`, registered with
/// `app_data(web::Data::from(guard))` where `guard: Arc<dyn BearerGuard>` (an `Engine` or
/// a `TokenVerifier`). Without it every request gets `500` and the configuration fault is
/// logged. A token bound to a DPoP key is admitted only where a [`PublicBase`] is in
/// the app data too, which the proof's URL is checked against.
///
/// ```
/// use oauth_actix::Bearer;
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
pub struct Bearer<R> {
    /// Who the token speaks for.
    pub principal: Principal,
    scope: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for Bearer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer")
            .field("principal", &self.principal)
            .finish()
    }
}

impl<R: RequiredScope> FromRequest for Bearer<R> {
    type Error = OAuthResponse;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthResponse>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let guard = request
            .app_data::<web::Data<dyn BearerGuard>>()
            .map(|data| data.clone().into_inner());
        let seen = Seen::of(request);
        Box::pin(async move {
            let Some(guard) = guard else {
                return Err(OAuthResponse::from_fault(&Fault::Config(
                    "Bearer<_> found no web::Data<dyn BearerGuard> in the app data".into(),
                )));
            };
            let required = required_scope(R::SCOPE)?;
            let principal = admit(guard.as_ref(), &seen, &required).await?;
            Ok(Self {
                principal,
                scope: PhantomData,
            })
        })
    }
}

/// The scopes a route requires; a malformed one is the server's configuration fault.
pub(crate) fn required_scope(scope: &str) -> Result<ScopeSet, OAuthResponse> {
    ScopeSet::parse(scope).map_err(|error| {
        OAuthResponse::from_fault(&Fault::Config(format!(
            "a route requires the invalid scope {scope:?}: {error}"
        )))
    })
}

/// What the bearer check reads of a request, copied out so the check's future does not
/// hold the request.
pub(crate) struct Seen {
    authorization: Option<String>,
    proofs: Vec<String>,
    method: String,
    /// The URL a DPoP proof must name: `None` without a [`PublicBase`], since the
    /// request's own `Host` is the sender's choice.
    url: Option<String>,
}

impl Seen {
    pub(crate) fn of(request: &HttpRequest) -> Self {
        Self {
            authorization: header_text(request, &AUTHORIZATION),
            proofs: header_values(request, &DPOP),
            method: request.method().as_str().to_owned(),
            url: request
                .app_data::<PublicBase>()
                .map(|base| base.join(request.path())),
        }
    }
}

/// Asks `guard` about the `Authorization` and `DPoP` headers: the principal, or the
/// answer to send.
pub(crate) async fn admit(
    guard: &dyn BearerGuard,
    seen: &Seen,
    required: &ScopeSet,
) -> Result<Principal, OAuthResponse> {
    let mut request = BearerRequest::new(seen.authorization.as_deref(), None);
    // Without a URL no proof is passed, and the engine refuses a DPoP-bound token.
    if let Some(url) = &seen.url {
        request = request.with_dpop(seen.proofs.iter().map(String::as_str), &seen.method, url);
    }
    match guard.check(&request, required).await {
        Ok(BearerOutcome::Admitted(principal)) => Ok(principal),
        Ok(BearerOutcome::Refused(error)) => Err(OAuthResponse(error.to_response())),
        // An outcome this adapter does not know admits nobody.
        Ok(_) => Err(OAuthResponse::from_fault(&Fault::Config(
            "the bearer guard answered an unknown outcome".into(),
        ))),
        Err(fault) => Err(OAuthResponse::from_fault(&fault)),
    }
}
