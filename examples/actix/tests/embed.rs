//! The "Embed in actix-web" application, driven end to end over real sockets: a browser's
//! login and consent, the client's code exchange, the protected route, and the forgeries
//! the consent kit must refuse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/embed.rs"]
#[allow(dead_code)]
mod embed;

use oauth_core::testing::{form, redirect_params, PkcePair};
use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::Value;

const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";

struct App {
    base: String,
    http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl App {
    async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = embed::server(listener).await.unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { base, http, handle }
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET /authorize` as a browser that holds `cookie` (if any): the consent page.
    async fn authorize(&self, pkce: &PkcePair, cookie: Option<&str>) -> Consent {
        let query = form(&[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "read:users"),
            ("state", "s1"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        let mut request = self.http.get(self.url(&format!("/authorize?{query}")));
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_hardened(response.headers());
        let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
        let page = response.text().await.unwrap();
        Consent {
            cookie: set_cookie.split(';').next().unwrap().to_owned(),
            sealed: hidden(&page, oauth_core::SEALED_REQUEST_FIELD),
            csrf: hidden(&page, oauth_core::CSRF_FIELD),
        }
    }

    /// `POST /authorize` with `fields`, carrying `cookie`.
    async fn submit(&self, cookie: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/authorize"))
            .header("Cookie", cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(fields))
            .send()
            .await
            .unwrap()
    }

    async fn approve(&self, consent: &Consent) -> reqwest::Response {
        self.submit(&consent.cookie, &consent.fields("alice", embed::PASSWORD))
            .await
    }

    async fn token(&self, content_type: &str, body: String) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/token"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_hardened(response.headers());
        let status = response.status();
        (status, response.json_value().await)
    }
}

/// What the consent page handed the browser.
struct Consent {
    cookie: String,
    sealed: String,
    csrf: String,
}

impl Consent {
    fn fields<'a>(&'a self, username: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            (oauth_core::SEALED_REQUEST_FIELD, self.sealed.as_str()),
            (oauth_core::CSRF_FIELD, self.csrf.as_str()),
            ("username", username),
            ("password", password),
            ("decision", "approve"),
        ]
    }
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_str(&self.text().await.unwrap()).unwrap()
    }
}

/// The value of the hidden field `name` in `page`.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker).expect("the hidden field") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// One `Content-Type` and one `X-Content-Type-Options: nosniff`.
fn assert_hardened(headers: &HeaderMap) {
    assert_eq!(headers.get_all(CONTENT_TYPE).iter().count(), 1);
    let nosniff: Vec<_> = headers.get_all("x-content-type-options").iter().collect();
    assert_eq!(nosniff, ["nosniff"]);
}

fn code_of(location: &str) -> String {
    let params = redirect_params(location);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("state").as_deref(), Some("s1"));
    get("code").expect("a code in the redirect")
}

#[actix_web::test]
async fn a_user_logs_in_consents_and_the_client_calls_the_api() {
    let app = App::start().await;
    let pkce = PkcePair::new();
    let consent = app.authorize(&pkce, None).await;

    let approved = app.approve(&consent).await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    assert_hardened(approved.headers());
    let location = approved.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(REDIRECT_URI));
    let code = code_of(location);

    let exchange = form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", pkce.verifier.as_str()),
    ]);
    let (status, tokens) = app
        .token("application/x-www-form-urlencoded", exchange)
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(access_token.split('.').count(), 3, "a JWT access token");

    let users = app
        .http
        .get(app.url("/api/users"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);
    assert_hardened(users.headers());
    assert_eq!(users.json_value().await["asked_by"], "alice");

    let anonymous = app.http.get(app.url("/api/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_hardened(anonymous.headers());
    assert_eq!(anonymous.headers()[WWW_AUTHENTICATE], "Bearer");
    app.stop().await;
}

#[actix_web::test]
async fn a_wrong_password_gets_no_code_and_a_denial_redirects_with_access_denied() {
    let app = App::start().await;
    let consent = app.authorize(&PkcePair::new(), None).await;
    let wrong = app
        .submit(&consent.cookie, &consent.fields("alice", "guess"))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(LOCATION).is_none());

    let mut deny = consent.fields("alice", "");
    deny.retain(|(name, _)| *name != "decision");
    deny.push(("decision", "deny"));
    let denied = app.submit(&consent.cookie, &deny).await;
    assert_eq!(denied.status(), StatusCode::SEE_OTHER);
    let location = denied.headers()[LOCATION].to_str().unwrap();
    let params = redirect_params(location);
    assert!(params.contains(&("error".into(), "access_denied".into())));
    assert!(!params.iter().any(|(name, _)| name == "code"));
    app.stop().await;
}

#[actix_web::test]
async fn a_csrf_token_made_for_another_pending_request_is_refused() {
    let app = App::start().await;
    let first = app.authorize(&PkcePair::new(), None).await;
    // The same browser (same cookie) opens a second request: its token is for that one.
    let second = app
        .authorize(&PkcePair::new(), Some(first.cookie.as_str()))
        .await;
    assert_eq!(first.cookie, second.cookie, "one browser, one binding");
    assert_ne!(first.csrf, second.csrf);
    let swapped = Consent {
        cookie: first.cookie.clone(),
        sealed: first.sealed.clone(),
        csrf: second.csrf.clone(),
    };
    let refused = app.approve(&swapped).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.headers().get(LOCATION).is_none());
    assert_hardened(refused.headers());
    // Each form still works with its own token.
    assert_eq!(app.approve(&first).await.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[actix_web::test]
async fn an_equal_cookie_and_field_pair_is_no_csrf_token() {
    let app = App::start().await;
    let consent = app.authorize(&PkcePair::new(), None).await;
    // A value shaped like a real binding, planted in both places (double submit).
    let planted = "A".repeat(43);
    let forged = Consent {
        cookie: format!("{}={planted}", oauth_core::CONSENT_COOKIE),
        sealed: consent.sealed.clone(),
        csrf: planted,
    };
    let refused = app.approve(&forged).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.headers().get(LOCATION).is_none());
    app.stop().await;
}

#[actix_web::test]
async fn an_altered_sealed_request_is_refused() {
    let app = App::start().await;
    let consent = app.authorize(&PkcePair::new(), None).await;
    let mut sealed = consent.sealed.clone().into_bytes();
    sealed[10] = if sealed[10] == b'A' { b'B' } else { b'A' };
    let altered = Consent {
        sealed: String::from_utf8(sealed).unwrap(),
        ..consent
    };
    let refused = app.approve(&altered).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get(LOCATION).is_none());
    app.stop().await;
}

#[actix_web::test]
async fn a_form_replayed_after_approval_gets_no_second_code() {
    let app = App::start().await;
    let consent = app.authorize(&PkcePair::new(), None).await;
    assert_eq!(app.approve(&consent).await.status(), StatusCode::SEE_OTHER);
    let replayed = app.approve(&consent).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(replayed.headers().get(LOCATION).is_none());
    app.stop().await;
}

#[actix_web::test]
async fn a_json_body_at_the_token_endpoint_is_invalid_request_naming_the_media_type() {
    let app = App::start().await;
    let (status, error) = app
        .token(
            "application/json",
            r#"{"grant_type":"client_credentials"}"#.into(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_request");
    let description = error["error_description"].as_str().unwrap();
    assert!(
        description.contains("application/x-www-form-urlencoded"),
        "{description}"
    );
    app.stop().await;
}

#[actix_web::test]
async fn metadata_answers_head_and_leaves_out_what_is_not_served() {
    let app = App::start().await;
    let metadata_url = app.url(oauth_actix::METADATA_PATH);
    let head = app.http.head(&metadata_url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_hardened(head.headers());
    assert!(head.text().await.unwrap().is_empty());

    let metadata = app
        .http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(metadata["issuer"], app.base.as_str());
    assert!(metadata.get("introspection_endpoint").is_none());
    assert_eq!(metadata["revocation_endpoint"], app.url("/revoke").as_str());

    let introspect = app.http.post(app.url("/introspect")).send().await.unwrap();
    assert_eq!(introspect.status(), StatusCode::NOT_FOUND);
    let revoke = app
        .http
        .post(app.url("/revoke"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("token=unknown&client_id=app")
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK, "revocation is served");
    app.stop().await;
}
