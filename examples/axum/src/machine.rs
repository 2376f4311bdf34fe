//! The authorization server's machine endpoints as one axum router.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method};
use axum::routing::{get, post};
use axum::Router;
use oauth_core::openid::UserInfoRequest;
use oauth_core::{Clock, Engine, FormRequest, OAuthError, Response, Storage, TrustedProxies};

use crate::bearer::{header_values, DPOP};
use crate::caller::Caller;
use crate::response::{fault_response, harden_response, OAuthResponse};

/// Largest request body the machine endpoints read, in bytes (64 KiB); a larger one is
/// answered 413 before the engine sees it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the engine's metadata document is served for an issuer without a path (RFC 8414
/// §3); an issuer with one serves it at `METADATA_PATH` followed by that path.
pub const METADATA_PATH: &str = oauth_core::METADATA_WELL_KNOWN;

/// The machine endpoints of an engine, and the proxies trusted to name the caller.
///
/// [`router`](Self::router) mounts, at `engine.config().served_paths()` (the issuer's own
/// path, if it has one, then each configured endpoint path): the
/// token endpoint, introspection, revocation and pushed authorization requests when
/// configured (POST only; any other
/// method gets 405), the JWKS, and the metadata at [`METADATA_PATH`] (GET, and HEAD);
/// for an OpenID provider also UserInfo (GET and POST) and the discovery document (GET).
/// Bodies beyond [`MAX_BODY_BYTES`] get 413.
///
/// The token, pushed request and revocation endpoints pass each `DPoP` header (RFC 9449) to the
/// engine, with the endpoint's URL as the metadata advertises it (the issuer's origin and
/// the endpoint's path), never one built from the request's `Host` header.
///
/// ```
/// # fn routes<S: oauth_core::Storage + 'static, C: oauth_core::Clock + 'static>(
/// #     engine: std::sync::Arc<oauth_core::Engine<S, C>>,
/// # ) -> Result<axum::Router, oauth_core::Fault> {
/// use oauth_axum::MachineEndpoints;
/// use oauth_core::TrustedProxies;
///
/// let router = MachineEndpoints::new(engine)
///     .trusted_proxies(TrustedProxies::new(["10.0.0.0/8"])?)
///     .router();
/// # Ok(router)
/// # }
/// ```
#[derive(Debug)]
pub struct MachineEndpoints<S, C> {
    engine: Arc<Engine<S, C>>,
    proxies: TrustedProxies,
}

impl<S: Storage + 'static, C: Clock + 'static> MachineEndpoints<S, C> {
    /// The endpoints of `engine`, trusting no proxy: the peer address is the caller.
    pub fn new(engine: Arc<Engine<S, C>>) -> Self {
        Self {
            engine,
            proxies: TrustedProxies::none(),
        }
    }

    /// Believe `X-Forwarded-For` from these peers (see [`Caller`]).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The router. Serve it with connect info ([`serve`](crate::serve) does), so the
    /// engine's limiter counts failed client authentications per caller.
    pub fn router(self) -> Router {
        let endpoints = self.engine.config().served_paths();
        let advertised = self.engine.metadata();
        let mut router = Router::new()
            .route(&endpoints.token, post(form::<S, C, TOKEN>))
            .route(&endpoints.jwks, get(jwks::<S, C>))
            .route(&endpoints.metadata, get(metadata::<S, C>));
        if let Some(path) = &endpoints.introspection {
            router = router.route(path, post(form::<S, C, INTROSPECTION>));
        }
        if let Some(path) = &endpoints.revocation {
            router = router.route(path, post(form::<S, C, REVOCATION>));
        }
        if let Some(path) = &endpoints.pushed_authorization_request {
            router = router.route(path, post(form::<S, C, PUSHED_REQUEST>));
        }
        if let Some(path) = &endpoints.userinfo {
            router = router.route(path, get(userinfo::<S, C>).post(userinfo::<S, C>));
        }
        if let Some(path) = &endpoints.openid_configuration {
            router = router.route(path, get(openid_configuration::<S, C>));
        }
        router
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(axum::middleware::map_response(harden_response))
            .with_state(Machine {
                token_url: Arc::from(advertised.token_endpoint),
                pushed_request_url: Arc::from(
                    advertised
                        .pushed_authorization_request_endpoint
                        .unwrap_or_default(),
                ),
                revocation_url: Arc::from(advertised.revocation_endpoint.unwrap_or_default()),
                engine: self.engine,
                proxies: Arc::new(self.proxies),
            })
    }
}

/// The router's state.
struct Machine<S, C> {
    engine: Arc<Engine<S, C>>,
    proxies: Arc<TrustedProxies>,
    /// The token endpoint's absolute URL, which a DPoP proof's `htu` must name.
    token_url: Arc<str>,
    /// The pushed request endpoint's absolute URL, likewise (empty when not served).
    pushed_request_url: Arc<str>,
    /// The revocation endpoint's absolute URL, likewise (empty when not served).
    revocation_url: Arc<str>,
}

// By hand: a derive would require `S: Clone` and `C: Clone`.
impl<S, C> Clone for Machine<S, C> {
    fn clone(&self) -> Self {
        Self {
            engine: self.engine.clone(),
            proxies: self.proxies.clone(),
            token_url: self.token_url.clone(),
            pushed_request_url: self.pushed_request_url.clone(),
            revocation_url: self.revocation_url.clone(),
        }
    }
}

impl<S, C> FromRef<Machine<S, C>> for TrustedProxies {
    fn from_ref(state: &Machine<S, C>) -> Self {
        state.proxies.as_ref().clone()
    }
}

/// The four client-authenticated form endpoints, as a handler's const parameter.
const TOKEN: u8 = 0;
const INTROSPECTION: u8 = 1;
const REVOCATION: u8 = 2;
const PUSHED_REQUEST: u8 = 3;

/// Copies the request into a [`FormRequest`] and the engine's answer back; the engine
/// checks the media type, the form and the client.
async fn answer<S: Storage, C: Clock>(
    machine: &Machine<S, C>,
    form: u8,
    Caller(caller): Caller,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> OAuthResponse {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return OAuthResponse(body_refused(&rejection)),
    };
    // A value that is not text is passed on garbled, so the engine refuses it.
    let text = |name| {
        headers.get(name).map(|value: &axum::http::HeaderValue| {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        })
    };
    let content_type = text(CONTENT_TYPE);
    let authorization = text(AUTHORIZATION);
    let mut request = FormRequest::new(content_type.as_deref(), &body)
        .with_authorization(authorization.as_deref())
        .with_caller(caller.as_ref().map(|key| key.as_str()));
    let proofs = header_values(headers, &DPOP);
    // The token endpoint binds tokens and the pushed request endpoint codes to a proof's
    // key, and revoking a bound refresh token takes one; the form endpoints are always
    // POST.
    let bound_at = match form {
        TOKEN => Some(&machine.token_url),
        PUSHED_REQUEST => Some(&machine.pushed_request_url),
        REVOCATION => Some(&machine.revocation_url),
        _ => None,
    };
    if let Some(url) = bound_at {
        request = request.with_dpop(proofs.iter().map(String::as_str), "POST", url);
    }
    let engine = &machine.engine;
    let answered = match form {
        TOKEN => engine.token(&request).await.map(|o| o.to_response()),
        INTROSPECTION => engine.introspect(&request).await.map(|o| o.to_response()),
        PUSHED_REQUEST => engine
            .push_authorization_request(&request)
            .await
            .map(|o| o.to_response()),
        _ => engine.revoke(&request).await.map(|o| o.to_response()),
    };
    OAuthResponse(answered.unwrap_or_else(|fault| fault_response(&fault)))
}

/// A body that could not be read: too large (413) or broken off (400), as an OAuth error.
fn body_refused(rejection: &BytesRejection) -> Response {
    let status = rejection.status();
    let description = if status.as_u16() == 413 {
        "the request body is larger than 65536 bytes"
    } else {
        "the request body could not be read"
    };
    Response::json_no_store(
        status.as_u16(),
        &OAuthError::invalid_request(description).to_json(),
    )
}

/// The handler of one form endpoint.
async fn form<S: Storage, C: Clock, const FORM: u8>(
    State(machine): State<Machine<S, C>>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> OAuthResponse {
    answer(&machine, FORM, caller, &headers, body).await
}

async fn jwks<S: Storage, C: Clock>(State(machine): State<Machine<S, C>>) -> OAuthResponse {
    OAuthResponse(machine.engine.jwks_response())
}

async fn metadata<S: Storage, C: Clock>(State(machine): State<Machine<S, C>>) -> OAuthResponse {
    OAuthResponse(machine.engine.metadata().to_response())
}

/// UserInfo (OpenID Connect Core 1.0 §5.3): the method, the `Authorization` header and
/// the body as they came; the engine picks where the token is and checks the rest.
async fn userinfo<S: Storage, C: Clock>(
    State(machine): State<Machine<S, C>>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> OAuthResponse {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return OAuthResponse(body_refused(&rejection)),
    };
    let text = |name| {
        headers.get(name).map(|value: &axum::http::HeaderValue| {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        })
    };
    let (content_type, authorization) = (text(CONTENT_TYPE), text(AUTHORIZATION));
    let mut request = UserInfoRequest::new(method.as_str(), authorization.as_deref());
    if !body.is_empty() {
        request = request.with_body(content_type.as_deref(), &body);
    }
    let answered = machine.engine.userinfo(&request).await;
    OAuthResponse(answered.unwrap_or_else(|fault| fault_response(&fault)))
}

/// The OpenID Connect discovery document.
async fn openid_configuration<S: Storage, C: Clock>(
    State(machine): State<Machine<S, C>>,
) -> OAuthResponse {
    // Mounted only for an OpenID provider, whose document is always there.
    match machine.engine.openid_configuration() {
        Some(document) => OAuthResponse(document.to_response()),
        None => OAuthResponse(fault_response(&oauth_core::Fault::Config(
            "the discovery document is served by an OpenID provider only".into(),
        ))),
    }
}
