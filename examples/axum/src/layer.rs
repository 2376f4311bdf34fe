//! The bearer guard as a tower layer, for a whole group of routes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use oauth_core::{BearerGuard, Fault, ScopeSet};
use tower::{Layer, Service};

use crate::bearer::{check, Seen};
use crate::response::OAuthResponse;

/// Refuses every request without a live access token holding the required scopes, before
/// the handler runs, with the RFC 6750 challenge (401, 400 or 403). An admitted request
/// carries the token's [`Principal`](oauth_core::Principal) in its extensions: take it
/// with `Extension<Principal>`. A token bound to a DPoP key is admitted only where the
/// routes carry a [`PublicBase`](crate::PublicBase), which the proof's URL is checked
/// against.
///
/// ```
/// # fn routes(guard: std::sync::Arc<dyn oauth_core::BearerGuard>) -> Result<axum::Router, oauth_core::Fault> {
/// use axum::{routing::get, Extension, Router};
/// use oauth_axum::RequireScope;
/// use oauth_core::Principal;
///
/// async fn list_users(Extension(principal): Extension<Principal>) -> String {
///     format!("hello {}", principal.subject)
/// }
///
/// let api = Router::new()
///     .route("/api/users", get(list_users))
///     .route_layer(RequireScope::new(guard, "read:users")?);
/// # Ok(api)
/// # }
/// ```
#[derive(Clone)]
pub struct RequireScope {
    guard: Arc<dyn BearerGuard>,
    required: Arc<ScopeSet>,
}

impl std::fmt::Debug for RequireScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireScope")
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl RequireScope {
    /// Requires every one of the space-separated `scopes`, checked by `guard`. A scope
    /// that does not parse is [`Fault::Config`], found when the routes are built.
    pub fn new(guard: Arc<dyn BearerGuard>, scopes: &str) -> Result<Self, Fault> {
        let required = ScopeSet::parse(scopes).map_err(|error| {
            Fault::Config(format!("invalid required scope {scopes:?}: {error}"))
        })?;
        Ok(Self {
            guard,
            required: Arc::new(required),
        })
    }
}

impl<I> Layer<I> for RequireScope {
    type Service = RequireScopeService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        RequireScopeService {
            guard: self.clone(),
            inner,
        }
    }
}

/// The service [`RequireScope`] wraps around the routes.
#[derive(Debug, Clone)]
pub struct RequireScopeService<I> {
    guard: RequireScope,
    inner: I,
}

impl<I> Service<Request> for RequireScopeService<I>
where
    I: Service<Request, Response = Response> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Response;
    type Error = I::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, I::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The service that was polled ready handles this request; its clone is left for
        // the next one (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let RequireScope { guard, required } = self.guard.clone();
        Box::pin(async move {
            let seen = Seen {
                headers: request.headers(),
                method: request.method(),
                uri: request.uri(),
                extensions: request.extensions(),
            };
            match check(guard.as_ref(), seen, &required).await {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(refusal) => Ok(OAuthResponse(refusal).into_response()),
            }
        })
    }
}
