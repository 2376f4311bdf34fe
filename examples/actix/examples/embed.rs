//! An authorization server embedded in an actix-web application: the engine on the memory
//! store with an ES256 key, one public client, a login-and-consent page on the consent kit,
//! the machine endpoints, and `GET /api/users` for tokens holding `read:users`.
use std::{error::Error, net::TcpListener, sync::Arc};

use actix_web::http::header::{HeaderName, CONTENT_TYPE, COOKIE};
use actix_web::{dev::Server, web, App, HttpRequest, HttpServer};
use oauth_actix::{MachineEndpoints, OAuthResponse, RequireScope, ServerLimits};
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::{AuthorizationResponse as Answer, AuthorizeOutcome, BearerGuard, Client, Config};
use oauth_core::{Endpoints, Engine, JwtAccessTokens, Params, PendingAuthorization, Principal};
use oauth_core::{Response, ScopeSet, SystemClock, CSRF_FIELD, SEALED_REQUEST_FIELD};
use oauth_store_memory::MemoryStore;
use subtle::ConstantTimeEq;

type AppEngine = Engine<MemoryStore, SystemClock>;
type Page = Result<OAuthResponse, OAuthResponse>;
/// The one user is `alice`, with this password (a real application checks a slow hash).
pub const PASSWORD: &str = "correct horse battery staple";

/// The server on `listener`, whose address is the issuer. Introspection is not served.
pub async fn server(listener: TcpListener) -> Result<Server, Box<dyn Error>> {
    let issuer = format!("http://{}", listener.local_addr()?);
    let mut endpoints = Endpoints::default();
    endpoints.introspection = None;
    let config = Config::builder(issuer.as_str()).endpoints(endpoints);
    let (key, _pkcs8) = SigningKey::generate(Algorithm::Es256, "k1")?;
    let jwt = JwtAccessTokens::new(KeySet::new(key), format!("{issuer}/api"));
    let engine = Engine::builder(MemoryStore::new(), SystemClock, config.build()?);
    let engine = engine.jwt_access_tokens(jwt).build()?;
    let client = Client::public("app")?.redirect_uri("http://127.0.0.1:3000/callback")?;
    let client = client
        .allowed_scopes(ScopeSet::parse("read:users")?)
        .build()?;
    engine.register_client(client).await?;
    let engine = web::Data::new(engine);
    let guard: Arc<dyn BearerGuard> = engine.clone().into_inner();
    let limits = ServerLimits::default();
    let machine = MachineEndpoints::new(engine.clone()).limits(limits);
    let server = HttpServer::new(move || {
        let read_users = RequireScope::new(guard.clone(), "read:users");
        App::new()
            .wrap(oauth_actix::hardening())
            .app_data(engine.clone())
            .app_data(web::Data::new(limits))
            .configure(|config| machine.configure(config))
            .service(web::resource("/authorize").get(login).post(consent))
            .service(web::resource("/api/users").wrap(read_users).get(users))
    });
    Ok(limits.apply(server).listen(listener)?.run())
}

/// `GET /authorize`: the login-and-consent form for a valid request.
async fn login(engine: web::Data<AppEngine>, request: HttpRequest) -> Page {
    match engine.authorize_query(request.query_string()).await? {
        AuthorizeOutcome::Pending(pending) => page(&engine, &pending, header(&request, COOKIE)),
        AuthorizeOutcome::Redirect(redirect) => Ok(OAuthResponse(redirect.to_response())),
        AuthorizeOutcome::ErrorPage(error) => Err(error_page(400, error.description())),
        _ => Err(error_page(500, "unexpected answer")),
    }
}

/// `POST /authorize`: the submitted form, checked by the kit, then the password.
async fn consent(
    engine: web::Data<AppEngine>,
    limits: web::Data<ServerLimits>,
    request: HttpRequest,
    payload: web::Payload,
) -> Page {
    let body = limits.read_body(&request, payload).await?;
    let form = Params::parse_form_body(header(&request, CONTENT_TYPE), &body)
        .map_err(|error| error_page(400, error.description()))?;
    let pending = (engine.open_consent(&form, header(&request, COOKIE)))
        .map_err(|refusal| error_page(refusal.status(), refusal.description()))?;
    let answer = if form.get("decision") == Some("deny") {
        engine.deny(&pending).await?
    } else {
        let user = form.get("username").unwrap_or_default().as_bytes();
        let password = form.get("password").unwrap_or_default().as_bytes();
        if !bool::from(user.ct_eq(b"alice") & password.ct_eq(PASSWORD.as_bytes())) {
            return Err(error_page(401, "Wrong username or password: go back."));
        }
        engine.approve(&pending, "alice", pending.scope()).await?
    };
    match answer {
        Answer::Redirect(redirect) => Ok(OAuthResponse(redirect.to_response())),
        Answer::ErrorPage(error) => Err(error_page(400, error.description())),
        _ => Err(error_page(500, "unexpected answer")),
    }
}

fn page(engine: &AppEngine, pending: &PendingAuthorization, cookie: Option<&str>) -> Page {
    let form = engine.consent_form(pending, cookie)?;
    let body = format!(
        r#"<!doctype html><title>Sign in</title><p>{client} asks for {scope}.<form method="post">
<input type="hidden" name="{SEALED_REQUEST_FIELD}" value="{}"><input type="hidden" name="{CSRF_FIELD}" value="{}">
<input name="username"><input name="password" type="password">
<button name="decision" value="approve">Allow</button><button name="decision" value="deny">Deny</button></form>"#,
        form.sealed_request,
        form.csrf_token,
        client = escape(pending.client_id().as_str()),
        scope = escape(&pending.scope().to_string()),
    );
    Ok(html(200, body, Some(form.set_cookie)))
}

fn error_page(status: u16, text: &str) -> OAuthResponse {
    html(status, escape(text), None)
}

fn html(status: u16, body: String, set_cookie: Option<String>) -> OAuthResponse {
    // Never cached, never framed (no clickjacking of the Allow button), no scripts.
    let mut headers = vec![
        ("Content-Type", "text/html; charset=utf-8".into()),
        ("Cache-Control", "no-store".into()),
        (
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'".into(),
        ),
    ];
    headers.extend(set_cookie.map(|cookie| ("Set-Cookie", cookie)));
    OAuthResponse(Response {
        status,
        headers,
        body,
    })
}

/// `GET /api/users`, behind `RequireScope`: the admitted token's principal is at hand.
async fn users(principal: web::ReqData<Principal>) -> OAuthResponse {
    let body = serde_json::json!({ "users": ["alice"], "asked_by": principal.subject });
    OAuthResponse(Response::json_no_store(200, &body))
}

fn header(request: &HttpRequest, name: HeaderName) -> Option<&str> {
    request.headers().get(name)?.to_str().ok()
}

fn escape(text: &str) -> String {
    let text = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    text.replace('"', "&quot;").replace('\'', "&#39;")
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:8080")?;
    println!("listening on http://{}", listener.local_addr()?);
    Ok(server(listener).await?.await?)
}
