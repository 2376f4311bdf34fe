//! The demo server on actix-web: the [`Demo`]'s pages and API behind the actix adapter.

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{CONTENT_TYPE, COOKIE};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use oauth_core::{Storage, SystemClock};

use crate::actix_adapter::{self, to_actix, Bearer};
use crate::demo::{api, Demo, ReadPayments, ReadUsers, WriteUsers};
use crate::plain;
use oauth_core::BearerGuard;

/// A server with every route of the demo (the authorization endpoint's pages, the
/// engine's machine endpoints, the protected API, `GET /metrics`, a JSON 404 for
/// anything else) on `listener`, with `workers` worker threads. It installs no signal
/// handlers: stop it through its handle (`server.handle().stop(true)`). The body limit
/// ([`crate::plain::MAX_BODY_BYTES`]) set by the adapter's configuration applies to every
/// route, the login form's included.
pub fn server(
    listener: std::net::TcpListener,
    demo: Arc<Demo>,
    workers: usize,
) -> std::io::Result<Server> {
    let endpoints = demo.engine().config().endpoints().clone();
    let engine = web::Data::from(demo.engine().clone());
    let guard: web::Data<dyn BearerGuard> = web::Data::from(demo.guard());
    let demo = web::Data::from(demo);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(engine.clone())
            .app_data(guard.clone())
            .app_data(demo.clone())
            .configure(actix_adapter::configure_authorization_server::<
                Arc<dyn Storage>,
                SystemClock,
            >(&endpoints))
            .service(
                web::resource(endpoints.authorization.as_str())
                    .route(web::get().to(authorize_page))
                    .route(web::post().to(authorize_submit)),
            )
            .service(
                web::resource("/api/users")
                    .route(web::get().to(list_users))
                    .route(web::post().to(create_user)),
            )
            .service(web::resource("/api/payments").route(web::get().to(list_payments)))
            .service(web::resource("/metrics").route(web::get().to(metrics)))
            .default_service(web::to(actix_adapter::not_found))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}

fn header(request: &HttpRequest, name: actix_web::http::header::HeaderName) -> Option<String> {
    request
        .headers()
        .get(name)
        .map(|v| plain::header_text(v.as_bytes()))
}

async fn authorize_page(demo: web::Data<Demo>, request: HttpRequest) -> HttpResponse {
    let cookie = header(&request, COOKIE);
    to_actix(
        &demo
            .authorize_page(request.query_string(), cookie.as_deref())
            .await,
    )
}

async fn authorize_submit(
    demo: web::Data<Demo>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let content_type = header(&request, CONTENT_TYPE);
    let cookie = header(&request, COOKIE);
    let peer = request.peer_addr().map(|addr| addr.ip());
    to_actix(
        &demo
            .authorize_submit(content_type.as_deref(), &body, cookie.as_deref(), peer)
            .await,
    )
}

async fn metrics(demo: web::Data<Demo>) -> HttpResponse {
    to_actix(&demo.metrics_page())
}

async fn list_users(bearer: Bearer<ReadUsers>) -> HttpResponse {
    to_actix(&api::list_users(&bearer.principal))
}

async fn create_user(bearer: Bearer<WriteUsers>) -> HttpResponse {
    to_actix(&api::create_user(&bearer.principal))
}

async fn list_payments(bearer: Bearer<ReadPayments>) -> HttpResponse {
    to_actix(&api::list_payments(&bearer.principal))
}
