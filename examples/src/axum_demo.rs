//! The demo server on axum: the [`Demo`]'s pages and API on `oauth-axum`.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::header::{HeaderName, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Extension, Router};
use oauth_axum::{
    Bearer, Caller, MachineEndpoints, OAuthResponse, PublicBase, ServerLimits, MAX_BODY_BYTES,
};
use oauth_core::{BearerGuard, TrustedProxies};

use crate::demo::{self, api, Demo, ReadPayments, ReadUsers, WriteUsers};

/// The router's state.
#[derive(Clone)]
struct AppState {
    demo: Arc<Demo>,
    guard: Arc<dyn BearerGuard>,
}

impl FromRef<AppState> for Arc<dyn BearerGuard> {
    fn from_ref(state: &AppState) -> Self {
        state.guard.clone()
    }
}

/// The demo runs behind no proxy: the peer is the caller.
impl FromRef<AppState> for TrustedProxies {
    fn from_ref(_state: &AppState) -> Self {
        TrustedProxies::none()
    }
}

/// Every route of the demo: the authorization endpoint's pages, the engine's machine
/// endpoints ([`MachineEndpoints`]), the protected API, `GET /metrics`, and a JSON 404
/// for anything else. `HEAD` is answered wherever `GET` is, and every answer, axum's own
/// (405, 413) included, carries `X-Content-Type-Options: nosniff`.
pub fn app(demo: Arc<Demo>) -> Router {
    let engine = demo.engine().clone();
    let authorization = engine.config().served_paths().authorization;
    let mut api = Router::new()
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/payments", get(list_payments));
    // The issuer was checked as an http(s) URL, so its origin is a valid base; without
    // one the API would still admit bearer tokens and refuse DPoP-bound ones.
    match PublicBase::new(&demo.api_base()) {
        Ok(base) => api = api.layer(Extension(base)),
        Err(fault) => tracing::error!("the API checks no DPoP proof: {fault}"),
    }
    let state = AppState {
        guard: demo.guard(),
        demo,
    };
    Router::new()
        .route(&authorization, get(authorize_page).post(authorize_submit))
        .merge(api)
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .merge(MachineEndpoints::new(engine).router())
        .fallback(|| async { OAuthResponse(demo::not_found()) })
        .layer(axum::middleware::map_response(oauth_axum::harden_response))
}

/// Serves [`app`] on `listener` with `oauth_axum::serve` and [`ServerLimits::default`]
/// (header, body and idle timeouts, a connection cap) until `shutdown` resolves, then
/// finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    demo: Arc<Demo>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    oauth_axum::serve(listener, app(demo), ServerLimits::default(), shutdown).await;
}

fn header(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    let value = headers.get(name)?;
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

async fn authorize_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> OAuthResponse {
    let query = uri.query().unwrap_or_default();
    let cookie = header(&headers, COOKIE);
    OAuthResponse(state.demo.authorize_page(query, cookie.as_deref()).await)
}

async fn authorize_submit(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> OAuthResponse {
    let content_type = header(&headers, CONTENT_TYPE);
    let cookie = header(&headers, COOKIE);
    let answer = state.demo.authorize_submit(
        content_type.as_deref(),
        &body,
        cookie.as_deref(),
        caller.as_ref(),
    );
    OAuthResponse(answer.await)
}

async fn metrics(State(state): State<AppState>) -> OAuthResponse {
    OAuthResponse(state.demo.metrics_page())
}

async fn list_users(bearer: Bearer<ReadUsers>) -> OAuthResponse {
    OAuthResponse(api::list_users(&bearer.principal))
}

async fn create_user(bearer: Bearer<WriteUsers>) -> OAuthResponse {
    OAuthResponse(api::create_user(&bearer.principal))
}

async fn list_payments(bearer: Bearer<ReadPayments>) -> OAuthResponse {
    OAuthResponse(api::list_payments(&bearer.principal))
}
