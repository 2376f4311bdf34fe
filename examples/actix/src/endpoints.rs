//! The authorization server's machine endpoints, mounted as one `ServiceConfig` function.

use std::sync::Arc;

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{web, HttpRequest, Resource};
use oauth_core::openid::UserInfoRequest;
use oauth_core::{
    CallerKey, Clock, Engine, Fault, FormRequest, OAuthError, Response, Storage, TrustedProxies,
};

use crate::request::{caller_key, header_text, header_values, DPOP};
use crate::{OAuthResponse, ServerLimits};

/// Where the metadata document is served for an issuer without a path (RFC 8414 §3); an
/// issuer with one serves it at `METADATA_PATH` followed by that path.
pub const METADATA_PATH: &str = oauth_core::METADATA_WELL_KNOWN;

/// The token, introspection, revocation and pushed authorization request endpoints
/// (`POST`), the JWKS and the metadata
/// document (`GET` and `HEAD`), and for an OpenID provider UserInfo (`GET`, `POST`) and
/// the discovery document (`GET`, `HEAD`), at the paths of
/// `engine.config().served_paths()`; an endpoint configured `None` is not mounted. Any
/// other method gets `405` with `Allow`.
///
/// The token, pushed request and revocation endpoints pass each `DPoP` header (RFC 9449) to the
/// engine, with the endpoint's URL as the metadata advertises it (the issuer's origin and
/// the endpoint's path), never one built from the request's `Host` header.
///
/// ```no_run
/// # use actix_web::{web, App};
/// # fn app<S: oauth_core::Storage + 'static, C: oauth_core::Clock + 'static>(
/// #     engine: web::Data<oauth_core::Engine<S, C>>,
/// # ) -> Result<(), oauth_core::Fault> {
/// use oauth_actix::{MachineEndpoints, ServerLimits};
/// use oauth_core::TrustedProxies;
///
/// let machine = MachineEndpoints::new(engine)
///     .trusted_proxies(TrustedProxies::new(["10.0.0.0/8"])?)
///     .limits(ServerLimits::default());
/// let app = App::new().configure(|config| machine.configure(config));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
pub struct MachineEndpoints<S, C> {
    engine: web::Data<Engine<S, C>>,
    proxies: Arc<TrustedProxies>,
    limits: ServerLimits,
    /// The token endpoint's absolute URL, which a DPoP proof's `htu` must name.
    token_url: Arc<str>,
    /// The pushed request endpoint's absolute URL, likewise (empty when not served).
    pushed_request_url: Arc<str>,
    /// The revocation endpoint's absolute URL, likewise (empty when not served).
    revocation_url: Arc<str>,
}

impl<S, C> Clone for MachineEndpoints<S, C> {
    fn clone(&self) -> Self {
        Self {
            engine: self.engine.clone(),
            proxies: self.proxies.clone(),
            limits: self.limits,
            token_url: self.token_url.clone(),
            pushed_request_url: self.pushed_request_url.clone(),
            revocation_url: self.revocation_url.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum FormEndpoint {
    Token,
    Introspection,
    Revocation,
    PushedRequest,
}

impl<S: Storage + 'static, C: Clock + 'static> MachineEndpoints<S, C> {
    /// The endpoints of `engine`, with no trusted proxy and [`ServerLimits::default`].
    pub fn new(engine: web::Data<Engine<S, C>>) -> Self {
        let metadata = engine.metadata();
        Self {
            token_url: Arc::from(metadata.token_endpoint),
            pushed_request_url: Arc::from(
                metadata
                    .pushed_authorization_request_endpoint
                    .unwrap_or_default(),
            ),
            revocation_url: Arc::from(metadata.revocation_endpoint.unwrap_or_default()),
            engine,
            proxies: Arc::new(TrustedProxies::none()),
            limits: ServerLimits::default(),
        }
    }

    /// The reverse proxies whose `X-Forwarded-For` names the caller for the engine's
    /// failure limiter (see [`caller_key`](crate::caller_key)). None by default.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }

    /// The body size and read timeout of the form endpoints (`max_body_bytes`,
    /// `body_timeout`); give the server the same value with [`ServerLimits::apply`].
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Mounts the endpoints: `App::new().configure(|config| machine.configure(config))`.
    pub fn configure(&self, config: &mut web::ServiceConfig) {
        // The issuer's own path, if any, then each endpoint's (and the metadata per RFC
        // 8414 §3).
        let endpoints = self.engine.config().served_paths();
        config.service(self.form(&endpoints.token, FormEndpoint::Token));
        if let Some(path) = &endpoints.introspection {
            config.service(self.form(path, FormEndpoint::Introspection));
        }
        if let Some(path) = &endpoints.revocation {
            config.service(self.form(path, FormEndpoint::Revocation));
        }
        if let Some(path) = &endpoints.pushed_authorization_request {
            config.service(self.form(path, FormEndpoint::PushedRequest));
        }
        let engine = self.engine.clone();
        config.service(document(&endpoints.jwks, move || engine.jwks_response()));
        let engine = self.engine.clone();
        config.service(document(&endpoints.metadata, move || {
            engine.metadata().to_response()
        }));
        if let Some(path) = &endpoints.userinfo {
            config.service(self.userinfo(path));
        }
        if let Some(path) = &endpoints.openid_configuration {
            let engine = self.engine.clone();
            config.service(document(path, move || {
                match engine.openid_configuration() {
                    Some(document) => document.to_response(),
                    // Mounted only for an OpenID provider, whose document is always there.
                    None => Response::from_fault(&Fault::Config(
                        "the discovery document is served by an OpenID provider only".into(),
                    )),
                }
            }));
        }
    }

    /// UserInfo (OpenID Connect Core 1.0 §5.3), `GET` and `POST`: the method, the
    /// `Authorization` header and the body as they came; the engine picks where the token
    /// is and checks the rest.
    fn userinfo(&self, path: &str) -> Resource {
        let this = self.clone();
        let answer = move |request: HttpRequest, payload: web::Payload| {
            let this = this.clone();
            async move {
                let body = match this.limits.read_body(&request, payload).await {
                    Ok(body) => body,
                    Err(refused) => return refused,
                };
                let content_type = header_text(&request, &CONTENT_TYPE);
                let authorization = header_text(&request, &AUTHORIZATION);
                let mut userinfo =
                    UserInfoRequest::new(request.method().as_str(), authorization.as_deref());
                if !body.is_empty() {
                    userinfo = userinfo.with_body(content_type.as_deref(), &body);
                }
                this.engine
                    .userinfo(&userinfo)
                    .await
                    .map_or_else(|fault| OAuthResponse::from_fault(&fault), OAuthResponse)
            }
        };
        web::resource(path)
            .route(web::get().to(answer.clone()))
            .route(web::post().to(answer))
            .default_service(web::to(|| async { method_not_allowed("GET, POST") }))
    }

    fn form(&self, path: &str, endpoint: FormEndpoint) -> Resource {
        let this = self.clone();
        let answer = move |request: HttpRequest, payload: web::Payload| {
            let this = this.clone();
            async move { this.answer(endpoint, &request, payload).await }
        };
        web::resource(path)
            .route(web::post().to(answer))
            .default_service(web::to(|| async { method_not_allowed("POST") }))
    }

    async fn answer(
        &self,
        endpoint: FormEndpoint,
        request: &HttpRequest,
        payload: web::Payload,
    ) -> OAuthResponse {
        let body = match self.limits.read_body(request, payload).await {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        let content_type = header_text(request, &CONTENT_TYPE);
        let authorization = header_text(request, &AUTHORIZATION);
        let caller = caller_key(request, &self.proxies);
        let proofs = header_values(request, &DPOP);
        let mut form = FormRequest::new(content_type.as_deref(), &body)
            .with_authorization(authorization.as_deref())
            .with_caller(caller.as_ref().map(CallerKey::as_str));
        // The token endpoint binds tokens and the pushed request endpoint codes to a
        // proof's key, and revoking a bound refresh token takes one; the form endpoints
        // are always POST.
        let bound_at = match endpoint {
            FormEndpoint::Token => Some(&self.token_url),
            FormEndpoint::PushedRequest => Some(&self.pushed_request_url),
            FormEndpoint::Revocation => Some(&self.revocation_url),
            FormEndpoint::Introspection => None,
        };
        if let Some(url) = bound_at {
            form = form.with_dpop(proofs.iter().map(String::as_str), "POST", url);
        }
        let engine = &self.engine;
        let answered = match endpoint {
            FormEndpoint::Token => engine.token(&form).await.map(|o| o.to_response()),
            FormEndpoint::Introspection => engine.introspect(&form).await.map(|o| o.to_response()),
            FormEndpoint::Revocation => engine.revoke(&form).await.map(|o| o.to_response()),
            FormEndpoint::PushedRequest => engine
                .push_authorization_request(&form)
                .await
                .map(|o| o.to_response()),
        };
        answered.map_or_else(|fault| OAuthResponse::from_fault(&fault), OAuthResponse)
    }
}

/// A public document at `path`, for `GET` and `HEAD` (actix-web does not answer `HEAD`
/// by itself; it sends the headers of the `GET` answer without its body).
fn document<F>(path: &str, make: F) -> Resource
where
    F: Fn() -> Response + Clone + 'static,
{
    let answer = move || {
        let response = make();
        async move { OAuthResponse(response) }
    };
    web::resource(path)
        .route(web::get().to(answer.clone()))
        .route(web::head().to(answer))
        .default_service(web::to(|| async { method_not_allowed("GET, HEAD") }))
}

fn method_not_allowed(allow: &'static str) -> OAuthResponse {
    let error = OAuthError::invalid_request("this method is not allowed here").with_status(405);
    let mut response = Response::from_error(&error);
    response.headers.push(("Allow", allow.to_owned()));
    OAuthResponse(response)
}
