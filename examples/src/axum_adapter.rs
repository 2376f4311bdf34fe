//! The axum adapter: copies requests into the engine's plain values and its plain
//! [`Response`]s back, serves the authorization server's machine endpoints, and guards
//! protected routes with the [`Bearer`] extractor.
//!
//! The authorization endpoint is not here: what it shows the user (login, consent) is the
//! embedder's, see [`crate::axum_demo`].

use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Once};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use oauth_core::{Clock, Engine, Principal, Response, Storage};

use crate::plain::{self, FormEndpoint, RequiredScope, MAX_BODY_BYTES};
use oauth_core::BearerGuard;

/// The engine as axum state.
pub type SharedEngine<S, C> = Arc<Engine<S, C>>;

/// Copies a plain response into an axum response.
pub fn to_axum(response: Response) -> axum::response::Response {
    let mut builder = axum::http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(*name, value);
    }
    builder
        .body(Body::from(response.body))
        .unwrap_or_else(|error| {
            // Only a header value the engine should never produce (a control character) gets here.
            tracing::error!(%error, "response could not be built");
            let mut fallback = axum::response::Response::new(Body::empty());
            *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}

fn header(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<String> {
    headers.get(name).map(|v| plain::header_text(v.as_bytes()))
}

/// The routes of the authorization server's machine endpoints, at the paths the engine's
/// configuration advertises in its metadata: token, introspection and revocation (POST
/// only: other methods get 405), the JWKS and the metadata document. Bodies are limited to
/// [`MAX_BODY_BYTES`] (413 beyond). Serve them with
/// `into_make_service_with_connect_info::<SocketAddr>()`, so that the engine's limiter
/// also counts failed client authentications per peer address (see [`Peer`]).
pub fn authorization_server_routes<S, C>(engine: SharedEngine<S, C>) -> Router
where
    S: Storage + 'static,
    C: Clock + 'static,
{
    let endpoints = engine.config().endpoints().clone();
    let mut router = Router::new()
        .route(&endpoints.token, post(token::<S, C>))
        .route(&endpoints.jwks, get(jwks::<S, C>));
    if let Some(path) = &endpoints.introspection {
        router = router.route(path, post(introspect::<S, C>));
    }
    if let Some(path) = &endpoints.revocation {
        router = router.route(path, post(revoke::<S, C>));
    }
    router
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::<S, C>),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(engine)
}

/// The peer's IP address, from the [`ConnectInfo`] that
/// `Router::into_make_service_with_connect_info::<SocketAddr>()` records; `None` (and a
/// warning, once) for a router served without it, where only the per-client budget of
/// the engine's limiter applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub Option<IpAddr>);

impl<St: Send + Sync> FromRequestParts<St> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if peer.is_none() {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "no peer address: serve the router with \
                     into_make_service_with_connect_info::<SocketAddr>() so that failed \
                     authentications are limited per caller too"
                );
            });
        }
        Ok(Self(peer))
    }
}

/// Answers one of the form endpoints for an axum request.
async fn post_form<S: Storage, C: Clock>(
    engine: &Engine<S, C>,
    endpoint: FormEndpoint,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> axum::response::Response {
    let content_type = header(headers, CONTENT_TYPE);
    let authorization = header(headers, AUTHORIZATION);
    let caller = plain::caller_key(peer);
    to_axum(
        plain::answer_form(
            engine,
            endpoint,
            content_type.as_deref(),
            body,
            authorization.as_deref(),
            caller.as_deref(),
        )
        .await,
    )
}

/// `POST /token`.
pub async fn token<S: Storage, C: Clock>(
    State(engine): State<SharedEngine<S, C>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    post_form(&engine, FormEndpoint::Token, peer, &headers, &body).await
}

/// `POST /introspect`.
pub async fn introspect<S: Storage, C: Clock>(
    State(engine): State<SharedEngine<S, C>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    post_form(&engine, FormEndpoint::Introspection, peer, &headers, &body).await
}

/// `POST /revoke`.
pub async fn revoke<S: Storage, C: Clock>(
    State(engine): State<SharedEngine<S, C>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    post_form(&engine, FormEndpoint::Revocation, peer, &headers, &body).await
}

/// `GET /jwks.json`.
pub async fn jwks<S: Storage, C: Clock>(
    State(engine): State<SharedEngine<S, C>>,
) -> axum::response::Response {
    to_axum(engine.jwks_response())
}

/// `GET /.well-known/oauth-authorization-server`.
pub async fn metadata<S: Storage, C: Clock>(
    State(engine): State<SharedEngine<S, C>>,
) -> axum::response::Response {
    to_axum(engine.metadata().to_response())
}

/// A 404 with a JSON body, for [`Router::fallback`].
pub async fn not_found() -> axum::response::Response {
    to_axum(plain::not_found())
}

/// An extractor that admits a request only with a live access token holding the scopes
/// of `R` (see [`RequiredScope`]); otherwise it answers 401, 400 or 403 with the RFC 6750
/// `WWW-Authenticate` challenge. It finds the guard as `Arc<dyn BearerGuard>` in the
/// router's state (through [`FromRef`]).
#[derive(Debug)]
pub struct Bearer<R> {
    /// Who the token speaks for.
    pub principal: Principal,
    route: PhantomData<R>,
}

impl<St, R> FromRequestParts<St> for Bearer<R>
where
    St: Send + Sync,
    Arc<dyn BearerGuard>: FromRef<St>,
    R: RequiredScope,
{
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let guard = Arc::<dyn BearerGuard>::from_ref(state);
        let authorization = header(&parts.headers, AUTHORIZATION);
        match plain::check_bearer::<R>(guard.as_ref(), authorization.as_deref()).await {
            Ok(principal) => Ok(Self {
                principal,
                route: PhantomData,
            }),
            Err(refusal) => Err(to_axum(refusal)),
        }
    }
}
