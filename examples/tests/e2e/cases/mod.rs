//! The cases, each a function of the demo's base URL.

use examples::demo::{FAILURE_BUDGET, FAILURE_COOL_DOWN};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use reqwest::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE,
};
use reqwest::StatusCode;
use serde_json::Value;

const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";

type Spa = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;
type Service =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointSet>;

/// A client that never follows redirects: the tests read every `Location` themselves.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn spa(base: &str) -> Spa {
    BasicClient::new(ClientId::new("demo-spa".into()))
        .set_auth_uri(AuthUrl::new(format!("{base}/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
}

fn service(base: &str) -> Service {
    BasicClient::new(ClientId::new("demo-service".into()))
        .set_client_secret(ClientSecret::new("demo-service-secret".into()))
        .set_token_uri(TokenUrl::new(format!("{base}/token")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(format!("{base}/introspect")).unwrap())
}

/// The login page of one authorization request, as a browser holds it.
struct LoginPage {
    pending: String,
    csrf: String,
    cookie: String,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

fn query_param(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Opens the authorization URL (code + PKCE S256 + state, built by `oauth2`) like a
/// browser and reads the login form.
async fn open_login(base: &str, scopes: &str) -> LoginPage {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = spa(base);
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in scopes.split(' ') {
        request = request.add_scope(Scope::new(scope.into()));
    }
    let (url, state) = request.url();
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .expect("a CSRF cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    LoginPage {
        pending: hidden(&html, "pending"),
        csrf: hidden(&html, "csrf"),
        cookie,
        state,
        verifier,
    }
}

/// Submits the login form as a browser would.
async fn submit(base: &str, cookie: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(format!("{base}/authorize"))
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn approve(base: &str, page: &LoginPage, user: &str, password: &str) -> reqwest::Response {
    submit(
        base,
        &page.cookie,
        &[
            ("pending", &page.pending),
            ("csrf", &page.csrf),
            ("username", user),
            ("password", password),
            ("decision", "approve"),
        ],
    )
    .await
}

/// Opens the authorization `url` like a browser, logs alice in on its login page and
/// approves; checks the `303` and answers where it goes.
async fn approve_as_alice(base: &str, url: url::Url) -> String {
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the login page");
    let cookie = response.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    let answer = submit(
        base,
        &cookie,
        &[
            ("pending", &hidden(&html, "pending")),
            ("csrf", &hidden(&html, "csrf")),
            ("username", "alice"),
            ("password", "alice-password"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    answer.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Logs `user` in, approves, and checks the 303 back to the client: its code.
async fn authorize(base: &str, user: &str, password: &str, scopes: &str) -> (String, LoginPage) {
    let page = open_login(base, scopes).await;
    let response = approve(base, &page, user, password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(page.state.secret().as_str())
    );
    assert_eq!(query_param(&location, "iss").as_deref(), Some(base));
    (query_param(&location, "code").expect("a code"), page)
}

type Tokens = oauth2::basic::BasicTokenResponse;

async fn redeem(base: &str, code: &str, verifier: &PkceCodeVerifier) -> Tokens {
    spa(base)
        .exchange_code(AuthorizationCode::new(code.into()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&http())
        .await
        .unwrap()
}

/// A whole login as alice: tokens for `scopes`.
async fn alice_tokens(base: &str, scopes: &str) -> Tokens {
    let (code, page) = authorize(base, "alice", "alice-password", scopes).await;
    redeem(base, &code, &page.verifier).await
}

async fn refresh(base: &str, token: &RefreshToken) -> Result<Tokens, BasicErrorResponseType> {
    spa(base)
        .exchange_refresh_token(token)
        .request_async(&http())
        .await
        .map_err(|error| match error {
            RequestTokenError::ServerResponse(response) => response.error().clone(),
            other => panic!("unexpected failure: {other:?}"),
        })
}

async fn api(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = http().request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn get_api(base: &str, path: &str, token: &str) -> StatusCode {
    api(base, reqwest::Method::GET, path, Some(token))
        .await
        .status()
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn revoke(
    base: &str,
    token: &str,
    client: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> StatusCode {
    let mut fields = vec![("token", token)];
    fields.extend_from_slice(client);
    let mut request = http().post(format!("{base}/revoke")).form(&fields);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap().status()
}

async fn introspect_active(base: &str, token: &str) -> bool {
    service(base)
        .introspect(&AccessToken::new(token.into()))
        .request_async(&http())
        .await
        .unwrap()
        .active()
}

async fn service_tokens(base: &str) -> Tokens {
    service(base)
        .exchange_client_credentials()
        .add_scope(Scope::new("read:payments".into()))
        .request_async(&http())
        .await
        .unwrap()
}

mod browser;
mod headers;
pub mod instances;
mod limits;
mod metrics;
mod openid;
mod pushed_dpop;
mod tokens;

pub use browser::*;
pub use headers::*;
pub use limits::*;
pub use metrics::*;
pub use openid::*;
pub use pushed_dpop::*;
pub use tokens::*;
