//! The demo server on axum: the [`Demo`]'s pages and API behind the axum adapter.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::axum_adapter::{self, to_axum, Bearer, Peer};
use crate::demo::{api, Demo, ReadPayments, ReadUsers, WriteUsers};
use crate::plain::{self, MAX_BODY_BYTES};
use oauth_core::BearerGuard;

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

/// Every route of the demo: the authorization endpoint's pages, the engine's machine
/// endpoints, the protected API, `GET /metrics`, and a JSON 404 for anything else.
pub fn app(demo: Arc<Demo>) -> Router {
    let engine = demo.engine().clone();
    let authorization = engine.config().endpoints().authorization.clone();
    let state = AppState {
        guard: demo.guard(),
        demo,
    };
    Router::new()
        .route(&authorization, get(authorize_page).post(authorize_submit))
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/payments", get(list_payments))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .merge(axum_adapter::authorization_server_routes(engine))
        .fallback(axum_adapter::not_found)
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then finishes the requests in
/// flight. Each request knows its peer's address ([`Peer`]), which the engine's limiter
/// and the login form's limit count failures under.
pub async fn serve(
    listener: tokio::net::TcpListener,
    demo: Arc<Demo>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(demo).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get(COOKIE)
        .map(|v| plain::header_text(v.as_bytes()))
}

async fn authorize_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let query = uri.query().unwrap_or_default();
    to_axum(
        state
            .demo
            .authorize_page(query, cookie(&headers).as_deref())
            .await,
    )
}

async fn authorize_submit(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| plain::header_text(v.as_bytes()));
    to_axum(
        state
            .demo
            .authorize_submit(
                content_type.as_deref(),
                &body,
                cookie(&headers).as_deref(),
                peer,
            )
            .await,
    )
}

async fn metrics(State(state): State<AppState>) -> Response {
    to_axum(state.demo.metrics_page())
}

async fn list_users(bearer: Bearer<ReadUsers>) -> Response {
    to_axum(api::list_users(&bearer.principal))
}

async fn create_user(bearer: Bearer<WriteUsers>) -> Response {
    to_axum(api::create_user(&bearer.principal))
}

async fn list_payments(bearer: Bearer<ReadPayments>) -> Response {
    to_axum(api::list_payments(&bearer.principal))
}
