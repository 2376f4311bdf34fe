//! finrift embedded in axum: an authorization server with a login-and-consent page, and
//! one protected API. Run with `cargo run -p oauth-axum --example embed`.
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{HeaderName, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, Uri};
use axum::{body::Bytes, routing::get, Extension, Router};
use oauth_axum::{serve, MachineEndpoints, OAuthResponse, RequireScope, ServerLimits};
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::{AuthorizationResponse, AuthorizeOutcome, BearerGuard, Client, Config, Engine};
use oauth_core::{Fault, JwtAccessTokens, Params, Principal, Response, ScopeSet, SystemClock};
use oauth_core::{CSRF_FIELD, SEALED_REQUEST_FIELD};
use subtle::ConstantTimeEq;

/// The engine every route shares.
pub type Auth = Arc<Engine<oauth_store_memory::MemoryStore, SystemClock>>;
/// The one user and password (a real application asks its user store).
pub const USER: (&str, &str) = ("alice", "correct horse battery staple");
/// The one client, public (it proves itself with PKCE), and where it wants its answer.
pub const CLIENT: (&str, &str) = ("app", "http://127.0.0.1:3000/callback");
type Answer = Result<OAuthResponse, OAuthResponse>;
/// Pages are never cached, and never framed by another site (clickjacking).
const PAGE_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
];

/// An engine for `issuer` signing ES256 JWT access tokens, with the client registered.
pub async fn engine(issuer: &str) -> Result<Auth, Box<dyn std::error::Error>> {
    let (key, _pkcs8) = SigningKey::generate(Algorithm::Es256, "key-1")?;
    let config = Config::builder(issuer).build()?;
    let engine = Engine::builder(oauth_store_memory::MemoryStore::new(), SystemClock, config)
        .jwt_access_tokens(JwtAccessTokens::new(KeySet::new(key), issuer))
        .build()?;
    let client = Client::public(CLIENT.0)?.redirect_uri(CLIENT.1)?;
    let client = client
        .allowed_scopes(ScopeSet::parse("read:users")?)
        .build()?;
    engine.register_client(client).await?;
    Ok(Arc::new(engine))
}

/// The whole application: the consent page, the machine endpoints and the API.
pub fn app(engine: Auth) -> Result<Router, Fault> {
    let guard: Arc<dyn BearerGuard> = engine.clone();
    let api = Router::new().route("/api/users", get(users));
    let authorize = engine.config().served_paths().authorization;
    Ok(Router::new()
        .route(&authorize, get(consent_page).post(consent_submit))
        .layer(DefaultBodyLimit::max(oauth_axum::MAX_BODY_BYTES))
        .with_state(engine.clone())
        .merge(api.route_layer(RequireScope::new(guard, "read:users")?))
        .merge(MachineEndpoints::new(engine).router())
        .layer(axum::middleware::map_response(oauth_axum::harden_response)))
}

async fn users(Extension(principal): Extension<Principal>) -> OAuthResponse {
    let body = serde_json::json!({ "users": [USER.0], "asked_by": principal.subject });
    OAuthResponse(Response::json_no_store(200, &body))
}

async fn consent_page(State(engine): State<Auth>, uri: Uri, headers: HeaderMap) -> Answer {
    let query = uri.query().unwrap_or_default();
    let pending = match engine.authorize_query(query).await.map_err(failed)? {
        AuthorizeOutcome::Pending(pending) => pending,
        AuthorizeOutcome::Redirect(redirect) => return Ok(OAuthResponse(redirect.to_response())),
        AuthorizeOutcome::ErrorPage(error) => return Err(page(400, error.description(), None)),
        _ => return Err(page(500, "Something went wrong.", None)),
    };
    let form = engine.consent_form(&pending, header(&headers, COOKIE));
    let form = form.map_err(failed)?;
    let (sealed, csrf) = (escape(&form.sealed_request), escape(&form.csrf_token));
    let (client, scope) = (pending.client_id(), pending.scope());
    let asks = escape(&format!("{client} asks for: {scope}"));
    let html = format!(
        r#"<form method="post"><p>{asks}</p><input name="username"><input name="password" type="password">
<input type="hidden" name="{SEALED_REQUEST_FIELD}" value="{sealed}"><input type="hidden" name="{CSRF_FIELD}" value="{csrf}">
<button name="decision" value="approve">Allow</button><button name="decision" value="deny">Deny</button></form>"#
    );
    Ok(page(200, &html, Some(form.set_cookie)))
}

async fn consent_submit(State(engine): State<Auth>, headers: HeaderMap, body: Bytes) -> Answer {
    let form = Params::parse_form_body(header(&headers, CONTENT_TYPE), &body)
        .map_err(|error| page(400, error.description(), None))?;
    let pending = engine
        .open_consent(&form, header(&headers, COOKIE))
        .map_err(|refusal| page(refusal.status(), refusal.description(), None))?;
    let approve = form.get("decision") == Some("approve");
    // Constant time: how long the comparison takes says nothing about the password.
    let password = form.get("password").unwrap_or_default().as_bytes();
    let password_ok = bool::from(password.ct_eq(USER.1.as_bytes()));
    if approve && !(form.get("username") == Some(USER.0) && password_ok) {
        return Err(page(401, "Wrong user name or password.", None));
    }
    let answer = match approve {
        true => engine.approve(&pending, USER.0, pending.scope()).await,
        false => engine.deny(&pending).await,
    };
    match answer.map_err(failed)? {
        AuthorizationResponse::Redirect(redirect) => Ok(OAuthResponse(redirect.to_response())),
        AuthorizationResponse::ErrorPage(error) => Err(page(400, error.description(), None)),
        _ => Err(page(500, "Something went wrong.", None)),
    }
}

fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// An HTML page: `text` as it is for the form, escaped for anything else.
fn page(status: u16, text: &str, set_cookie: Option<String>) -> OAuthResponse {
    let body = match set_cookie {
        Some(_) => text.to_owned(),
        None => format!("<p>{}</p>", escape(text)),
    };
    let cookie = set_cookie.map(|cookie| ("Set-Cookie", cookie));
    let headers = PAGE_HEADERS.map(|(name, value)| (name, value.to_owned()));
    let headers = headers.into_iter().chain(cookie).collect();
    OAuthResponse(Response {
        status,
        headers,
        body,
    })
}

fn failed(fault: Fault) -> OAuthResponse {
    tracing::error!(error = %fault, "engine fault");
    page(500, "Something went wrong.", None)
}

fn escape(text: &str) -> String {
    let text = text.replace('&', "&amp;").replace('<', "&lt;");
    text.replace('>', "&gt;").replace('"', "&quot;")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let app = app(engine("http://127.0.0.1:3000").await?)?;
    let stop = async { drop(tokio::signal::ctrl_c().await) };
    serve(listener, app, ServerLimits::default(), stop).await;
    Ok(())
}
