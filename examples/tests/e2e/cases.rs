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

pub async fn az12_login_page_sends_anti_framing_headers(base: &str) {
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = spa(base)
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read:users".into()))
        .set_pkce_challenge(challenge)
        .url();
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let cookie = headers[SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("method=\"post\""));
    for name in ["username", "password", "pending", "csrf"] {
        assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(html.contains("name=\"decision\" value=\"approve\""));
    assert!(html.contains("name=\"decision\" value=\"deny\""));
}

pub async fn az12_approval_answers_303_with_code_state_and_iss(base: &str) {
    // `authorize` checks the 303, the redirect URI, state and iss.
    let (code, _) = authorize(base, "alice", "alice-password", "read:users").await;
    assert!(code.len() >= 43);
}

pub async fn code_flow_with_pkce_then_api_calls_and_refresh_rotation(base: &str) {
    let tokens = alice_tokens(base, "read:users write:users").await;
    let access = tokens.access_token().secret();
    assert_eq!(access.split('.').count(), 3, "a JWT access token");
    let mut scopes: Vec<_> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    scopes.sort();
    assert_eq!(scopes, ["read:users", "write:users"]);

    let users = api(base, reqwest::Method::GET, "/api/users", Some(access)).await;
    assert_eq!(users.status(), StatusCode::OK);
    let body: Value = serde_json::from_str(&users.text().await.unwrap()).unwrap();
    assert_eq!(body["caller"]["subject"], "alice");
    assert_eq!(body["caller"]["client_id"], "demo-spa");
    let created = api(base, reqwest::Method::POST, "/api/users", Some(access)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let payments = api(base, reqwest::Method::GET, "/api/payments", Some(access)).await;
    assert_eq!(payments.status(), StatusCode::FORBIDDEN);

    // Refresh rotates: a new refresh token, a new working access token.
    let first_refresh = tokens.refresh_token().unwrap();
    let refreshed = refresh(base, first_refresh).await.unwrap();
    let second_refresh = refreshed.refresh_token().unwrap();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    assert_ne!(refreshed.access_token().secret(), access);
    assert_eq!(
        get_api(base, "/api/users", refreshed.access_token().secret()).await,
        StatusCode::OK
    );
    // And again with the new one.
    let again = refresh(base, second_refresh).await.unwrap();
    assert_eq!(
        get_api(base, "/api/users", again.access_token().secret()).await,
        StatusCode::OK
    );
}

pub async fn bad_credentials_show_the_form_again_without_redirect(base: &str) {
    let page = open_login(base, "read:users").await;
    for (user, password) in [
        ("alice", "wrong"),
        ("mallory", "alice-password"),
        ("alice", ""),
    ] {
        let response = approve(base, &page, user, password).await;
        assert!(
            matches!(response.status(), StatusCode::OK | StatusCode::UNAUTHORIZED),
            "{}",
            response.status()
        );
        assert!(response.headers().get(LOCATION).is_none());
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let html = response.text().await.unwrap();
        assert!(html.contains("Wrong username or password"));
        assert!(html.contains("name=\"password\""));
    }
    // The same page still works with the right password.
    let response = approve(base, &page, "alice", "alice-password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

pub async fn csrf_token_missing_or_wrong_is_refused(base: &str) {
    let page = open_login(base, "read:users").await;
    let other = open_login(base, "read:users").await;
    let cases: [(&str, Option<&str>); 4] = [
        // No cookie (a cross-site POST: SameSite=Lax keeps it back).
        ("", Some(page.csrf.as_str())),
        // Neither cookie nor field: two empty values must not match.
        ("", None),
        // Cookie present, field missing.
        (page.cookie.as_str(), None),
        // Field from another browser's page.
        (page.cookie.as_str(), Some(other.csrf.as_str())),
    ];
    for (cookie, csrf) in cases {
        let mut fields = vec![
            ("pending", page.pending.as_str()),
            ("username", "alice"),
            ("password", "alice-password"),
            ("decision", "approve"),
        ];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let response = submit(base, cookie, &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers().get(LOCATION).is_none());
    }
}

pub async fn replayed_consent_form_is_an_error_page(base: &str) {
    let page = open_login(base, "read:users").await;
    let first = approve(base, &page, "alice", "alice-password").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    // The same form again (a back button, or someone who copied it): no second code.
    for decision in ["approve", "deny"] {
        let again = submit(
            base,
            &page.cookie,
            &[
                ("pending", &page.pending),
                ("csrf", &page.csrf),
                ("username", "alice"),
                ("password", "alice-password"),
                ("decision", decision),
            ],
        )
        .await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST, "{decision}");
        assert!(again.headers().get(LOCATION).is_none(), "{decision}");
    }
}

pub async fn tampered_pending_request_is_refused(base: &str) {
    let page = open_login(base, "read:users").await;
    let mut tampered = page.pending.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let response = submit(
        base,
        &page.cookie,
        &[
            ("pending", tampered.as_str()),
            ("csrf", &page.csrf),
            ("username", "alice"),
            ("password", "alice-password"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
}

pub async fn az11_deny_redirects_with_access_denied(base: &str) {
    let page = open_login(base, "read:users").await;
    let response = submit(
        base,
        &page.cookie,
        &[
            ("pending", &page.pending),
            ("csrf", &page.csrf),
            ("decision", "deny"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(REDIRECT_URI));
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_param(location, "state").as_deref(),
        Some(page.state.secret().as_str())
    );
    assert_eq!(query_param(location, "iss").as_deref(), Some(base));
    assert_eq!(query_param(location, "code"), None);
}

pub async fn scope_policy_narrows_bob_to_read_users(base: &str) {
    let (code, page) = authorize(base, "bob", "bob-password", "read:users write:users").await;
    let tokens = redeem(base, &code, &page.verifier).await;
    let scopes: Vec<_> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["read:users"]);
    let access = tokens.access_token().secret();
    assert_eq!(get_api(base, "/api/users", access).await, StatusCode::OK);
    let write = api(base, reqwest::Method::POST, "/api/users", Some(access)).await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);

    // Bob asking only for what he may not grant: access_denied back to the client.
    let page = open_login(base, "read:payments").await;
    let response = approve(base, &page, "bob", "bob-password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
}

pub async fn client_credentials_for_demo_service(base: &str) {
    let tokens = service_tokens(base).await;
    assert!(
        tokens.refresh_token().is_none(),
        "client credentials never get a refresh token"
    );
    let access = tokens.access_token().secret();
    let payments = api(base, reqwest::Method::GET, "/api/payments", Some(access)).await;
    assert_eq!(payments.status(), StatusCode::OK);
    let body: Value = serde_json::from_str(&payments.text().await.unwrap()).unwrap();
    assert_eq!(body["caller"]["client_id"], "demo-service");
    assert_eq!(
        get_api(base, "/api/users", access).await,
        StatusCode::FORBIDDEN
    );

    // A wrong secret: 401 invalid_client with a Basic challenge.
    let wrong = BasicClient::new(ClientId::new("demo-service".into()))
        .set_client_secret(ClientSecret::new("not-the-secret".into()))
        .set_token_uri(TokenUrl::new(format!("{base}/token")).unwrap())
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap_err();
    match wrong {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidClient)
        }
        other => panic!("{other:?}"),
    }
}

pub async fn ir01_introspection_needs_client_authentication(base: &str) {
    let tokens = service_tokens(base).await;
    let response = http()
        .post(format!("{base}/introspect"))
        .form(&[("token", tokens.access_token().secret().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_client");
}

pub async fn introspection_sees_own_tokens_only(base: &str) {
    let tokens = service_tokens(base).await;
    let answer = service(base)
        .introspect(tokens.access_token())
        .request_async(&http())
        .await
        .unwrap();
    assert!(answer.active());
    assert_eq!(answer.client_id().unwrap().as_str(), "demo-service");
    assert_eq!(answer.scopes().unwrap()[0].as_str(), "read:payments");
    // Another client's token, or garbage: inactive, and nothing more.
    let alice = alice_tokens(base, "read:users").await;
    assert!(!introspect_active(base, alice.access_token().secret()).await);
    assert!(!introspect_active(base, "garbage").await);
}

pub async fn revoking_an_access_token_stops_it_at_the_api(base: &str) {
    let tokens = service_tokens(base).await;
    let access = tokens.access_token().secret();
    assert_eq!(get_api(base, "/api/payments", access).await, StatusCode::OK);
    let status = revoke(
        base,
        access,
        &[],
        Some(("demo-service", "demo-service-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A revoked JWT: refused by the guard (it consults the store) and by introspection.
    assert_eq!(
        get_api(base, "/api/payments", access).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(!introspect_active(base, access).await);
    // Revoking garbage: 200 as well (RFC 7009 §2.2).
    let status = revoke(
        base,
        "garbage",
        &[],
        Some(("demo-service", "demo-service-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

pub async fn ir05_revoking_the_refresh_token_ends_the_grant(base: &str) {
    let tokens = alice_tokens(base, "read:users").await;
    let access = tokens.access_token().secret();
    let refresh_token = tokens.refresh_token().unwrap();
    assert_eq!(get_api(base, "/api/users", access).await, StatusCode::OK);
    // A public client identifies itself with client_id in the body.
    let status = revoke(
        base,
        refresh_token.secret(),
        &[("client_id", "demo-spa")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get_api(base, "/api/users", access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(base, refresh_token).await.unwrap_err(),
        BasicErrorResponseType::InvalidGrant
    );
}

pub async fn az01_redirect_uri_mismatch_is_an_error_page_without_redirect(base: &str) {
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    for evil in [
        "http://127.0.0.1:3000/callback/",
        "http://127.0.0.1:3000/evil",
        "https://evil.example/callback",
        "http://127.0.0.1:3000/callback?x=1",
    ] {
        let (url, _) = spa(base)
            .set_redirect_uri(RedirectUrl::new(evil.into()).unwrap())
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge.clone())
            .url();
        let response = http().get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{evil}");
        assert!(response.headers().get(LOCATION).is_none(), "{evil}");
        assert!(response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(response.headers().get(SET_COOKIE).is_none());
    }
}

pub async fn az05_missing_pkce_redirects_with_invalid_request(base: &str) {
    let (url, state) = spa(base)
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read:users".into()))
        .url();
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(REDIRECT_URI));
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        query_param(location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(location, "iss").as_deref(), Some(base));
}

pub async fn tk01_code_replay_is_refused_and_revokes_the_first_tokens(base: &str) {
    let (code, page) = authorize(base, "alice", "alice-password", "read:users").await;
    let first = redeem(base, &code, &page.verifier).await;
    let access = first.access_token().secret();
    assert_eq!(get_api(base, "/api/users", access).await, StatusCode::OK);

    let replay = spa(base)
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(page.verifier.secret().clone()))
        .request_async(&http())
        .await
        .unwrap_err();
    match replay {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant)
        }
        other => panic!("{other:?}"),
    }
    // The tokens of the first redemption are revoked.
    assert_eq!(
        get_api(base, "/api/users", access).await,
        StatusCode::UNAUTHORIZED
    );
    let refreshed = refresh(base, first.refresh_token().unwrap()).await;
    assert_eq!(refreshed.unwrap_err(), BasicErrorResponseType::InvalidGrant);
}

pub async fn rf02_refresh_reuse_revokes_the_grant(base: &str) {
    let tokens = alice_tokens(base, "read:users").await;
    let old = tokens.refresh_token().unwrap();
    let rotated = refresh(base, old).await.unwrap();
    let live_access = rotated.access_token().secret();
    assert_eq!(
        get_api(base, "/api/users", live_access).await,
        StatusCode::OK
    );

    // The rotated-away token comes back (stolen): refused, and the whole grant revoked.
    assert_eq!(
        refresh(base, old).await.unwrap_err(),
        BasicErrorResponseType::InvalidGrant
    );
    assert_eq!(
        get_api(base, "/api/users", live_access).await,
        StatusCode::UNAUTHORIZED
    );
    let live_refresh = rotated.refresh_token().unwrap();
    assert_eq!(
        refresh(base, live_refresh).await.unwrap_err(),
        BasicErrorResponseType::InvalidGrant
    );
}

pub async fn jw11_api_answers_401_and_403_with_challenges(base: &str) {
    let none = api(base, reqwest::Method::GET, "/api/users", None).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&none), "Bearer");

    let garbage = api(base, reqwest::Method::GET, "/api/users", Some("not.a.jwt")).await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&garbage).contains("error=\"invalid_token\""));

    let tokens = alice_tokens(base, "read:users").await;
    let access = tokens.access_token().secret();
    let forbidden = api(base, reqwest::Method::GET, "/api/payments", Some(access)).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let value = challenge(&forbidden);
    assert!(value.contains("error=\"insufficient_scope\""), "{value}");
    assert!(value.contains("scope=\"read:payments\""), "{value}");

    // `bearer` in lower case is accepted.
    let lower = http()
        .get(format!("{base}/api/users"))
        .header(AUTHORIZATION, format!("bearer {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
}

pub async fn tk10_get_on_token_endpoint_is_405(base: &str) {
    for path in ["/token", "/introspect", "/revoke"] {
        let response = http().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
}

pub async fn tk10_non_form_body_is_invalid_request(base: &str) {
    let json = http()
        .post(format!("{base}/token"))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .basic_auth("demo-service", Some("demo-service-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&json.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");

    // A well-formed form body sent as another media type is refused too.
    let mislabelled = http()
        .post(format!("{base}/token"))
        .header(CONTENT_TYPE, "application/json")
        .body("grant_type=client_credentials")
        .basic_auth("demo-service", Some("demo-service-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(mislabelled.status(), StatusCode::BAD_REQUEST);

    let duplicated = http()
        .post(format!("{base}/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .basic_auth("demo-service", Some("demo-service-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicated.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&duplicated.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");
}

pub async fn tk11_token_responses_are_not_cached(base: &str) {
    let good = http()
        .post(format!("{base}/token"))
        .basic_auth("demo-service", Some("demo-service-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    assert_eq!(good.headers()[CACHE_CONTROL], "no-store");
    let bad = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("client_id", "demo-spa"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.headers()[CACHE_CONTROL], "no-store");
}

pub async fn body_over_64_kib_is_413(base: &str) {
    let padding = "a".repeat(65 * 1024);
    for path in ["/token", "/introspect", "/revoke", "/authorize"] {
        let response = http()
            .post(format!("{base}{path}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials&x={padding}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}

pub async fn unknown_route_is_404_json(base: &str) {
    let response = http().get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "not_found");
}

pub async fn ir07_metadata_and_jwks_are_served(base: &str) {
    let metadata: Value = serde_json::from_str(
        &http()
            .get(format!("{base}/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(metadata["issuer"], base);
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    for (key, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
        ("jwks_uri", "/jwks.json"),
    ] {
        assert_eq!(metadata[key], format!("{base}{path}"), "{key}");
    }
    let jwks: Value = serde_json::from_str(
        &http()
            .get(metadata["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["alg"], "ES256");
    assert!(key.get("d").is_none(), "no private part in the JWKS");
}

// ---- Limits (issue 7): failed authentications and logins are budgeted per key. ----

/// A client whose connections come from `ip`, a loopback address other than 127.0.0.1
/// (Linux routes all of 127.0.0.0/8 to the loopback interface): another peer.
fn http_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A client-credentials request for `demo-service` with `secret`, from `client`.
async fn service_token_with(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// Checks a `429` with a `Retry-After` of at most the cool-down, and returns its body.
async fn assert_limited(response: reqwest::Response, what: &str) -> String {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{what}");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let cool_down = FAILURE_COOL_DOWN.whole_seconds().unsigned_abs();
    assert!(
        (1..=cool_down).contains(&retry_after),
        "{what}: {retry_after}"
    );
    response.text().await.unwrap()
}

pub async fn rl01_wrong_client_secrets_get_429_and_then_even_the_right_one_does(base: &str) {
    for _ in 0..FAILURE_BUDGET {
        let wrong = service_token_with(&http(), base, "demo-service", "not-the-secret").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    // Over budget: refused before the secret is looked at, from this caller.
    let right = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
    let body: Value = serde_json::from_str(&assert_limited(right, "token").await).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body.get("access_token").is_none());
    let introspection = http()
        .post(format!("{base}/introspect"))
        .basic_auth("demo-service", Some("demo-service-secret"))
        .form(&[("token", "anything")])
        .send()
        .await
        .unwrap();
    assert_limited(introspection, "introspection").await;
    // The failures are charged to the caller and its attempts at the client, never to
    // the client alone: another caller of demo-service gets its token.
    let elsewhere = service_token_with(
        &http_from("127.0.0.2"),
        base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
    // Nor is another client held back there.
    let spa_refresh = http_from("127.0.0.2")
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-spa"),
            ("refresh_token", "unknown"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(spa_refresh.status(), StatusCode::BAD_REQUEST);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_refusals_total{error=\"invalid_client\"}"),
        f64::from(FAILURE_BUDGET)
    );
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"caller\"}"),
        2.0
    );
}

pub async fn rl01_failed_client_authentications_are_counted_per_peer_address(base: &str) {
    // Each failure names another (unknown) client: only this peer's budget adds up.
    for i in 0..FAILURE_BUDGET {
        let guess = service_token_with(&http(), base, &format!("intruder-{i}"), "guess").await;
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
    }
    let right = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
    assert_limited(right, "token from the blocked peer").await;
    for (path, fields) in [
        ("/introspect", [("token", "anything")]),
        ("/revoke", [("token", "anything")]),
    ] {
        let response = http()
            .post(format!("{base}{path}"))
            .basic_auth("demo-service", Some("demo-service-secret"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_limited(response, path).await;
    }
    // Another peer is not held back.
    let other = service_token_with(
        &http_from("127.0.0.2"),
        base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"caller\"}"),
        3.0
    );
}

/// Submits the login form of a fresh page as `user`, from `client`.
async fn login_from(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let page = open_login(base, "read:users").await;
    client
        .post(format!("{base}/authorize"))
        .header(COOKIE, &page.cookie)
        .form(&[
            ("pending", page.pending.as_str()),
            ("csrf", page.csrf.as_str()),
            ("username", user),
            ("password", password),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap()
}

async fn assert_login_limited(response: reqwest::Response, what: &str) {
    assert!(response.headers().get(LOCATION).is_none(), "{what}");
    assert_eq!(response.headers()["x-frame-options"], "DENY", "{what}");
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = assert_limited(response, what).await;
    assert!(html.contains("Too many failed sign-in attempts"), "{what}");
}

pub async fn rl01_failed_logins_are_limited_per_account_and_caller(base: &str) {
    let page = open_login(base, "read:users").await;
    for _ in 0..FAILURE_BUDGET {
        let wrong = approve(base, &page, "alice", "wrong").await;
        assert_eq!(wrong.status(), StatusCode::OK);
        assert!(wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong username or password"));
    }
    // Blocked: the right password is refused too, from this caller.
    let right = approve(base, &page, "alice", "alice-password").await;
    assert_login_limited(right, "alice, same peer").await;
    // Never the account alone: alice and bob, from another address, are not held back.
    let alice = login_from(&http_from("127.0.0.2"), base, "alice", "alice-password").await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
    let bob = login_from(&http_from("127.0.0.2"), base, "bob", "bob-password").await;
    assert_eq!(bob.status(), StatusCode::SEE_OTHER);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"login\"}"),
        1.0
    );
}

pub async fn rl01_failed_logins_are_limited_per_peer_address(base: &str) {
    // Each failure names another user: only this peer's budget adds up.
    for i in 0..FAILURE_BUDGET {
        let wrong = login_from(&http(), base, &format!("user-{i}"), "guess").await;
        assert_eq!(wrong.status(), StatusCode::OK);
    }
    let blocked = login_from(&http(), base, "alice", "alice-password").await;
    assert_login_limited(blocked, "alice from the blocked peer").await;
    let other = login_from(&http_from("127.0.0.2"), base, "alice", "alice-password").await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"login_ip\"}"),
        1.0
    );
}

// ---- Metrics (issue 7): GET /metrics in the Prometheus text format. ----

async fn metrics_text(base: &str) -> String {
    let response = http().get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The value of one series (name and labels exactly as exported) in a scrape.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
        .parse()
        .unwrap()
}

pub async fn metrics_are_served_in_the_prometheus_text_format(base: &str) {
    let response = http().get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for name in [
        "finrift_tokens_issued_total",
        "finrift_refusals_total",
        "finrift_replays_detected_total",
        "finrift_rate_limited_total",
        "finrift_bearer_verification_seconds",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
    }
    // A fresh demo: every series there, at zero.
    assert_eq!(
        metric(
            &text,
            "finrift_tokens_issued_total{grant_type=\"authorization_code\"}"
        ),
        0.0
    );
    assert_eq!(
        metric(&text, "finrift_bearer_verification_seconds_count"),
        0.0
    );
}

pub async fn metrics_follow_a_flow_and_its_attacks(base: &str) {
    let before = metrics_text(base).await;
    let delta = |after: &str, series: &str| metric(after, series) - metric(&before, series);

    // Tokens by grant type: a code exchange, a refresh, client credentials.
    let (code, page) = authorize(base, "alice", "alice-password", "read:users").await;
    let tokens = redeem(base, &code, &page.verifier).await;
    let rotated = refresh(base, tokens.refresh_token().unwrap())
        .await
        .unwrap();
    service_tokens(base).await;
    // Four bearer checks: one admitted, one without a token, one garbage, one short of scope.
    let access = rotated.access_token().secret();
    assert_eq!(get_api(base, "/api/users", access).await, StatusCode::OK);
    let none = api(base, reqwest::Method::GET, "/api/users", None).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_api(base, "/api/users", "not.a.jwt").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_api(base, "/api/payments", access).await,
        StatusCode::FORBIDDEN
    );
    let after = metrics_text(base).await;
    for grant_type in ["authorization_code", "refresh_token", "client_credentials"] {
        let series = format!("finrift_tokens_issued_total{{grant_type=\"{grant_type}\"}}");
        assert_eq!(delta(&after, &series), 1.0, "{series}");
    }
    for (error, count) in [
        ("missing", 1.0),
        ("invalid_token", 1.0),
        ("insufficient_scope", 1.0),
        ("invalid_grant", 0.0),
    ] {
        let series = format!("finrift_refusals_total{{error=\"{error}\"}}");
        assert_eq!(delta(&after, &series), count, "{series}");
    }
    assert_eq!(
        delta(&after, "finrift_bearer_verification_seconds_count"),
        4.0
    );
    assert!(delta(&after, "finrift_bearer_verification_seconds_sum") > 0.0);
    assert_eq!(
        delta(
            &after,
            "finrift_bearer_verification_seconds_bucket{le=\"+Inf\"}"
        ),
        4.0
    );

    // Attacks: the code replayed, the rotated-away refresh token reused, a wrong secret.
    let replay = spa(base)
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(page.verifier.secret().clone()))
        .request_async(&http())
        .await;
    assert!(replay.is_err());
    let (code, page) = authorize(base, "alice", "alice-password", "read:users").await;
    let second = redeem(base, &code, &page.verifier).await;
    let old = second.refresh_token().unwrap();
    refresh(base, old).await.unwrap();
    assert_eq!(
        refresh(base, old).await.unwrap_err(),
        BasicErrorResponseType::InvalidGrant
    );
    let wrong = service_token_with(&http(), base, "demo-service", "not-the-secret").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let attacked = metrics_text(base).await;
    assert_eq!(
        delta(&attacked, "finrift_replays_detected_total{kind=\"code\"}"),
        1.0
    );
    assert_eq!(
        delta(
            &attacked,
            "finrift_replays_detected_total{kind=\"refresh\"}"
        ),
        1.0
    );
    assert_eq!(
        delta(&attacked, "finrift_refusals_total{error=\"invalid_grant\"}"),
        2.0
    );
    assert_eq!(
        delta(
            &attacked,
            "finrift_refusals_total{error=\"invalid_client\"}"
        ),
        1.0
    );
    // Nothing secret in a scrape: no token, code or client secret.
    for secret in [
        access.as_str(),
        code.as_str(),
        old.secret().as_str(),
        "demo-service-secret",
        "alice-password",
    ] {
        assert!(!attacked.contains(secret));
    }
}

// ---- Hardening: limits that a stranger cannot turn against others, and a server that
// ---- stays responsive under idle connections and slow hashing.

/// A token request for `client_id` with `fields`, from `client`.
async fn token_form(client: &reqwest::Client, base: &str, fields: &[(&str, &str)]) -> StatusCode {
    client
        .post(format!("{base}/token"))
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn rl01_a_strangers_failures_do_not_lock_out_a_public_or_confidential_client(base: &str) {
    let stranger = http_from("127.0.0.2");
    let mut last = StatusCode::OK;
    for _ in 0..20 {
        // A secret for a public client: refused, and charged to the stranger.
        let status = token_form(
            &stranger,
            base,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "stolen"),
                ("client_id", "demo-spa"),
                ("client_secret", "x"),
            ],
        )
        .await;
        assert!(status.is_client_error(), "{status}");
        let wrong = service_token_with(&stranger, base, "demo-service", "not-the-secret").await;
        last = wrong.status();
        assert!(
            matches!(
                last,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{last}"
        );
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the stranger is held back"
    );
    // The clients' own callers are not: demo-spa gets its normal answer (an unknown
    // refresh token is invalid_grant, not 429), and a whole code exchange works.
    let refresh = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
            ("client_id", "demo-spa"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&refresh.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let tokens = alice_tokens(base, "read:users").await;
    assert!(refresh_works(base, &tokens).await);
    let right = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
    assert_eq!(right.status(), StatusCode::OK);
}

async fn refresh_works(base: &str, tokens: &Tokens) -> bool {
    refresh(base, tokens.refresh_token().unwrap()).await.is_ok()
}

/// How many idle connections rl06 opens.
const IDLE_CONNECTIONS: usize = 2_000;

pub async fn rl06_idle_connections_do_not_stop_a_real_request(base: &str) {
    use std::time::Duration;
    let addr = base.trim_start_matches("http://").to_owned();
    // Connect in batches, each bounded; the sockets send nothing and are dropped at the end.
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    let opening = tokio::time::timeout(Duration::from_secs(60), async {
        while idle.len() < IDLE_CONNECTIONS {
            let mut batch = tokio::task::JoinSet::new();
            for _ in 0..100 {
                batch.spawn(tokio::net::TcpStream::connect(addr.clone()));
            }
            for stream in batch.join_all().await {
                idle.push(stream.expect("a loopback connection"));
            }
        }
    })
    .await;
    assert!(opening.is_ok(), "only {} connections opened", idle.len());
    #[allow(clippy::disallowed_methods)] // a liveness bound, not protocol time
    let started = std::time::Instant::now();
    let real = async {
        let jwks = http()
            .get(format!("{base}/jwks.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(jwks.status(), StatusCode::OK);
        let token = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
        assert_eq!(token.status(), StatusCode::OK);
    };
    let answered = tokio::time::timeout(Duration::from_secs(5), real).await;
    assert!(
        answered.is_ok(),
        "no answer within 5 s beside {} idle connections",
        idle.len()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(idle);
}

/// How many callers rl04 has submit logins at once, and how many each submits in turn.
const LOGIN_FLOOD: u8 = 40;
const LOGIN_ROUNDS: usize = 5;

pub async fn rl04_a_flood_of_logins_does_not_stall_other_endpoints(base: &str) {
    use std::time::Duration;
    // Each caller from its own loopback address, so the limiter lets every attempt reach
    // PBKDF2; the pages are opened first, so that the submissions start together.
    let mut pages = Vec::new();
    for i in 0..LOGIN_FLOOD {
        let client = http_from(&format!("127.0.1.{}", i + 1));
        pages.push((client, open_login(base, "read:users").await));
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(pages.len() + 1));
    let mut submissions = tokio::task::JoinSet::new();
    for (client, page) in pages {
        let (base, start) = (base.to_owned(), start.clone());
        submissions.spawn(async move {
            start.wait().await;
            let mut statuses = Vec::new();
            for _ in 0..LOGIN_ROUNDS {
                let response = client
                    .post(format!("{base}/authorize"))
                    .header(COOKIE, &page.cookie)
                    .form(&[
                        ("pending", page.pending.as_str()),
                        ("csrf", page.csrf.as_str()),
                        ("username", "alice"),
                        ("password", "wrong"),
                        ("decision", "approve"),
                    ])
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status());
            }
            statuses
        });
    }
    start.wait().await;
    let flood = tokio::spawn(submissions.join_all());
    // While they run, the JWKS answers promptly, again and again.
    let mut slowest = Duration::ZERO;
    while !flood.is_finished() {
        #[allow(clippy::disallowed_methods)] // a liveness bound, not protocol time
        let asked = std::time::Instant::now();
        let jwks = tokio::time::timeout(
            Duration::from_secs(10),
            http().get(format!("{base}/jwks.json")).send(),
        )
        .await
        .expect("GET /jwks.json answered during the login flood")
        .unwrap();
        assert_eq!(jwks.status(), StatusCode::OK);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_secs(1),
        "GET /jwks.json took {slowest:?} during the login flood"
    );
    let answers = tokio::time::timeout(Duration::from_secs(120), flood)
        .await
        .expect("every login answered")
        .unwrap();
    for status in answers.into_iter().flatten() {
        // The wrong-password page, or refused for load or limits: never a hang.
        assert!(
            matches!(
                status,
                StatusCode::OK | StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ),
            "{status}"
        );
    }
}

pub async fn rl01_login_failures_at_one_account_do_not_lock_it_for_others(base: &str) {
    let stranger = http_from("127.0.0.2");
    for _ in 0..15 {
        let wrong = login_from(&stranger, base, "alice", "wrong").await;
        assert!(
            matches!(
                wrong.status(),
                StatusCode::OK | StatusCode::TOO_MANY_REQUESTS
            ),
            "{}",
            wrong.status()
        );
    }
    let alice = login_from(&http(), base, "alice", "alice-password").await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
}

/// Checks that `response` has exactly one `X-Content-Type-Options: nosniff`.
fn assert_nosniff(response: &reqwest::Response, what: &str) {
    let values: Vec<_> = response
        .headers()
        .get_all("x-content-type-options")
        .iter()
        .collect();
    assert_eq!(values, ["nosniff"], "{what}");
}

/// A valid authorization request's URL, as the SPA builds it.
fn authorize_url(base: &str) -> String {
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = spa(base)
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read:users".into()))
        .set_pkce_challenge(challenge)
        .url();
    url.to_string()
}

pub async fn ir08_every_response_carries_nosniff(base: &str) {
    let client = http();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    assert_nosniff(
        &get("/.well-known/oauth-authorization-server")
            .await
            .unwrap(),
        "metadata",
    );
    assert_nosniff(&get("/jwks.json").await.unwrap(), "jwks");
    assert_nosniff(&get("/metrics").await.unwrap(), "metrics");
    assert_nosniff(&get("/api/users").await.unwrap(), "API 401");
    assert_nosniff(&get("/nope").await.unwrap(), "404");
    assert_nosniff(&get("/token").await.unwrap(), "405 at the token endpoint");
    let page = client.get(authorize_url(base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_nosniff(&page, "login page");
    let error = client
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-spa"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_nosniff(&error, "token error");
    let wrong = service_token_with(&client, base, "demo-service", "not-the-secret").await;
    assert_nosniff(&wrong, "invalid_client");
    let big = client
        .post(format!("{base}/authorize"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("a".repeat(65 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_nosniff(&big, "413 at the login form");
    let put = client
        .put(format!("{base}/api/users"))
        .send()
        .await
        .unwrap();
    assert_nosniff(&put, "405 at the API");
}

/// Sends `HEAD` for `url` (with `token`), checks `status` and an empty body.
async fn assert_head(url: &str, token: Option<&str>, status: StatusCode) {
    let mut request = http().head(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), status, "HEAD {url}");
    assert_nosniff(&response, url);
    assert!(response.bytes().await.unwrap().is_empty(), "HEAD {url}");
}

pub async fn head_is_answered_where_get_is(base: &str) {
    for path in [
        "/.well-known/oauth-authorization-server",
        "/jwks.json",
        "/metrics",
    ] {
        assert_head(&format!("{base}{path}"), None, StatusCode::OK).await;
    }
    assert_head(&authorize_url(base), None, StatusCode::OK).await;
    assert_head(&format!("{base}/api/users"), None, StatusCode::UNAUTHORIZED).await;
    let alice = alice_tokens(base, "read:users").await;
    let access = alice.access_token().secret();
    assert_head(&format!("{base}/api/users"), Some(access), StatusCode::OK).await;
    let service = service_tokens(base).await;
    let access = service.access_token().secret();
    assert_head(
        &format!("{base}/api/payments"),
        Some(access),
        StatusCode::OK,
    )
    .await;
}
