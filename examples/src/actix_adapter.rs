//! The actix-web adapter: copies requests into the engine's plain values and its plain
//! [`Response`]s back, serves the authorization server's machine endpoints, and guards
//! protected routes with the [`Bearer`] extractor.
//!
//! The authorization endpoint is not here: what it shows the user (login, consent) is the
//! embedder's, see [`crate::actix_demo`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use oauth_core::{Clock, Engine, Principal, Response, Storage};

use crate::plain::{self, FormEndpoint, RequiredScope, MAX_BODY_BYTES};
use oauth_core::BearerGuard;

/// Copies a plain response into an actix-web response.
pub fn to_actix(response: &Response) -> HttpResponse {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    for (name, value) in &response.headers {
        builder.append_header((*name, value.as_str()));
    }
    builder.body(response.body.clone())
}

fn header(request: &HttpRequest, name: actix_web::http::header::HeaderName) -> Option<String> {
    request
        .headers()
        .get(name)
        .map(|v| plain::header_text(v.as_bytes()))
}

/// Registers the authorization server's machine endpoints at the paths the engine's
/// configuration advertises in its metadata: token, introspection and revocation (POST
/// only: other methods get 405), the JWKS and the metadata document. It also limits every
/// body the app reads to [`MAX_BODY_BYTES`] (413 beyond): the limit is app data, so it
/// covers the embedder's routes too. The engine must be in the app data as
/// `web::Data<Engine<S, C>>`. The peer's IP address (`HttpRequest::peer_addr`) is the
/// caller key under which the engine's limiter counts failed client authentications.
pub fn configure_authorization_server<S, C>(
    endpoints: &oauth_core::Endpoints,
) -> impl FnOnce(&mut web::ServiceConfig)
where
    S: Storage + 'static,
    C: Clock + 'static,
{
    let endpoints = endpoints.clone();
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .service(web::resource(endpoints.token).route(web::post().to(token::<S, C>)))
            .service(web::resource(endpoints.jwks).route(web::get().to(jwks::<S, C>)))
            .service(
                web::resource("/.well-known/oauth-authorization-server")
                    .route(web::get().to(metadata::<S, C>)),
            );
        if let Some(path) = endpoints.introspection {
            config.service(web::resource(path).route(web::post().to(introspect::<S, C>)));
        }
        if let Some(path) = endpoints.revocation {
            config.service(web::resource(path).route(web::post().to(revoke::<S, C>)));
        }
    }
}

/// The caller key of the peer (its IP address), for the engine's limiter.
fn caller_of(request: &HttpRequest) -> Option<String> {
    plain::caller_key(request.peer_addr().map(|addr| addr.ip()))
}

/// Answers one of the form endpoints for an actix request.
async fn post_form<S: Storage, C: Clock>(
    engine: &Engine<S, C>,
    endpoint: FormEndpoint,
    request: &HttpRequest,
    body: &[u8],
) -> HttpResponse {
    let content_type = header(request, CONTENT_TYPE);
    let authorization = header(request, AUTHORIZATION);
    let caller = caller_of(request);
    to_actix(
        &plain::answer_form(
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
    engine: web::Data<Engine<S, C>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    post_form(&engine, FormEndpoint::Token, &request, &body).await
}

/// `POST /introspect`.
pub async fn introspect<S: Storage, C: Clock>(
    engine: web::Data<Engine<S, C>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    post_form(&engine, FormEndpoint::Introspection, &request, &body).await
}

/// `POST /revoke`.
pub async fn revoke<S: Storage, C: Clock>(
    engine: web::Data<Engine<S, C>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    post_form(&engine, FormEndpoint::Revocation, &request, &body).await
}

/// `GET /jwks.json`.
pub async fn jwks<S: Storage, C: Clock>(engine: web::Data<Engine<S, C>>) -> HttpResponse {
    to_actix(&engine.jwks_response())
}

/// `GET /.well-known/oauth-authorization-server`.
pub async fn metadata<S: Storage, C: Clock>(engine: web::Data<Engine<S, C>>) -> HttpResponse {
    to_actix(&engine.metadata().to_response())
}

/// A 404 with a JSON body, for `App::default_service`.
pub async fn not_found() -> HttpResponse {
    to_actix(&plain::not_found())
}

/// A refusal carried as an actix error, answered with the plain response inside.
#[derive(Debug)]
pub struct Refusal(pub Response);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused with status {}", self.0.status)
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        to_actix(&self.0)
    }
}

/// An extractor that admits a request only with a live access token holding the scopes
/// of `R` (see [`RequiredScope`]); otherwise it answers 401, 400 or 403 with the RFC 6750
/// `WWW-Authenticate` challenge. It finds the guard in the app data as
/// `web::Data<dyn BearerGuard>` (`web::Data::from(Arc<dyn BearerGuard>)`).
#[derive(Debug)]
pub struct Bearer<R> {
    /// Who the token speaks for.
    pub principal: Principal,
    route: PhantomData<R>,
}

impl<R: RequiredScope> FromRequest for Bearer<R> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let guard: Option<Arc<dyn BearerGuard>> = request
            .app_data::<web::Data<dyn BearerGuard>>()
            .map(|data| data.clone().into_inner());
        let authorization = header(request, AUTHORIZATION);
        Box::pin(async move {
            let Some(guard) = guard else {
                let fault = oauth_core::Fault::Config("no BearerGuard in the app data".into());
                return Err(Refusal(plain::fault_response(&fault)).into());
            };
            match plain::check_bearer::<R>(guard.as_ref(), authorization.as_deref()).await {
                Ok(principal) => Ok(Self {
                    principal,
                    route: PhantomData,
                }),
                Err(refusal) => Err(Refusal(refusal).into()),
            }
        })
    }
}
