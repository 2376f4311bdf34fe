//! The bearer guard as middleware: `.wrap(RequireScope::new(guard, "read:users"))` on a
//! scope or resource refuses before any handler runs.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::HttpMessage;
use oauth_core::{BearerGuard, ScopeSet};

use crate::bearer::{admit, required_scope, Seen};
use crate::OAuthResponse;

/// Middleware that admits a request only with a live access token holding every scope
/// of its `scope`; otherwise it answers `401`, `400` or `403` with the RFC 6750 challenge
/// and the handler is not run. The admitted [`Principal`](oauth_core::Principal) is put
/// in the request extensions: a handler takes it as `web::ReqData<Principal>`. A token
/// bound to a DPoP key is admitted only where a [`PublicBase`](crate::PublicBase) is in
/// the app data, which the proof's URL is checked against.
///
/// ```
/// use std::sync::Arc;
///
/// use actix_web::{web, App};
/// use oauth_actix::RequireScope;
/// use oauth_core::{BearerGuard, Principal};
///
/// async fn list_users(principal: web::ReqData<Principal>) -> String {
///     format!("hello {}", principal.subject)
/// }
///
/// fn app(guard: Arc<dyn BearerGuard>) {
///     let _app = App::new().service(
///         web::scope("/api")
///             .wrap(RequireScope::new(guard, "read:users"))
///             .route("/users", web::get().to(list_users)),
///     );
/// }
/// ```
#[derive(Clone)]
pub struct RequireScope {
    guard: Arc<dyn BearerGuard>,
    required: Result<Arc<ScopeSet>, OAuthResponse>,
}

impl RequireScope {
    /// Requires the space-separated `scope`, checked by `guard`. A malformed `scope` is
    /// logged as a configuration fault now, and every request it guards gets `500`.
    pub fn new(guard: Arc<dyn BearerGuard>, scope: &str) -> Self {
        Self {
            guard,
            required: required_scope(scope).map(Arc::new),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireScope
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Transform = RequireScopeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireScopeService {
            service: Rc::new(service),
            rule: self.clone(),
        }))
    }
}

/// The service [`RequireScope`] wraps around a route; actix-web makes it.
pub struct RequireScopeService<S> {
    service: Rc<S>,
    rule: RequireScope,
}

impl<S, B> Service<ServiceRequest> for RequireScopeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let rule = self.rule.clone();
        Box::pin(async move {
            let seen = Seen::of(request.request());
            let admitted = match &rule.required {
                Ok(required) => admit(rule.guard.as_ref(), &seen, required).await,
                Err(misconfigured) => Err(misconfigured.clone()),
            };
            match admitted {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    Ok(service.call(request).await?.map_into_left_body())
                }
                Err(refusal) => Ok(request
                    .into_response(refusal.to_http_response())
                    .map_into_right_body()),
            }
        })
    }
}
