//! The demo server on actix-web: the [`Demo`]'s pages and API on `oauth-actix`.

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{HeaderName, CONTENT_TYPE, COOKIE};
use actix_web::{web, App, HttpRequest, HttpServer};
use oauth_actix::{caller_key, Bearer, MachineEndpoints, OAuthResponse, PublicBase, ServerLimits};
use oauth_core::{BearerGuard, TrustedProxies};

use crate::demo::{self, api, Demo, ReadPayments, ReadUsers, WriteUsers};

/// A server with every route of the demo (the authorization endpoint's pages, the
/// engine's machine endpoints ([`MachineEndpoints`]), the protected API, `GET /metrics`,
/// a JSON 404 for anything else) on `listener`, with `workers` worker threads, under
/// [`ServerLimits::default`]; the login form's body is read within the same limits.
/// `HEAD` is answered wherever `GET` is, and every answer carries
/// `X-Content-Type-Options: nosniff`. It installs no signal handlers: stop it through
/// its handle (`server.handle().stop(true)`).
pub fn server(
    listener: std::net::TcpListener,
    demo: Arc<Demo>,
    workers: usize,
) -> std::io::Result<Server> {
    let limits = ServerLimits::default();
    let authorization = demo.engine().config().served_paths().authorization;
    let machine = MachineEndpoints::new(web::Data::from(demo.engine().clone())).limits(limits);
    let guard: web::Data<dyn BearerGuard> = web::Data::from(demo.guard());
    // What DPoP proofs at the API name: the issuer's origin, never the `Host` header.
    let api_base = PublicBase::new(&demo.api_base()).map_err(std::io::Error::other)?;
    let demo = web::Data::from(demo);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(guard.clone())
            .app_data(api_base.clone())
            .app_data(demo.clone())
            .app_data(web::Data::new(limits))
            // For actix-web's own answers (405); an OAuthResponse already has it.
            .wrap(oauth_actix::hardening())
            .configure(|config| machine.configure(config))
            .service(
                web::resource(authorization.as_str())
                    .get(authorize_page)
                    .head(authorize_page)
                    .post(authorize_submit),
            )
            .service(
                web::resource("/api/users")
                    .get(list_users)
                    .head(list_users)
                    .post(create_user),
            )
            .service(
                web::resource("/api/payments")
                    .get(list_payments)
                    .head(list_payments),
            )
            .service(web::resource("/metrics").get(metrics).head(metrics))
            .default_service(web::to(|| async { OAuthResponse(demo::not_found()) }))
    });
    let server = limits.apply(server).workers(workers).disable_signals();
    Ok(server.shutdown_timeout(5).listen(listener)?.run())
}

fn header(request: &HttpRequest, name: HeaderName) -> Option<String> {
    let value = request.headers().get(name)?;
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

async fn authorize_page(demo: web::Data<Demo>, request: HttpRequest) -> OAuthResponse {
    let cookie = header(&request, COOKIE);
    let query = request.query_string();
    OAuthResponse(demo.authorize_page(query, cookie.as_deref()).await)
}

async fn authorize_submit(
    demo: web::Data<Demo>,
    limits: web::Data<ServerLimits>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<OAuthResponse, OAuthResponse> {
    let body = limits.read_body(&request, payload).await?;
    let content_type = header(&request, CONTENT_TYPE);
    let cookie = header(&request, COOKIE);
    // The demo runs behind no proxy: the peer is the caller.
    let caller = caller_key(&request, &TrustedProxies::none());
    let answer = demo.authorize_submit(
        content_type.as_deref(),
        &body,
        cookie.as_deref(),
        caller.as_ref(),
    );
    Ok(OAuthResponse(answer.await))
}

async fn metrics(demo: web::Data<Demo>) -> OAuthResponse {
    OAuthResponse(demo.metrics_page())
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
