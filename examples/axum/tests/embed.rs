//! The "Embed in axum" application, driven end to end over HTTP: the consent page, the
//! code, the token, the protected API, and the ways a consent form is forged or replayed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../examples/embed.rs"]
#[allow(dead_code)]
mod embed;

use oauth_axum::ServerLimits;
use oauth_core::testing::{form, redirect_params, PkcePair};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use common::{assert_hardened, client, listener, spawn};

const FORM: &str = "application/x-www-form-urlencoded";

/// The application on a loopback port, its issuer being that address; its base URL.
async fn start() -> String {
    let (listener, addr) = listener().await;
    let base = format!("http://{addr}");
    let app = embed::app(embed::engine(&base).await.unwrap()).unwrap();
    spawn(listener, app, ServerLimits::default());
    base
}

/// What the consent page gave the browser.
struct Page {
    cookie: String,
    pending: String,
    csrf: String,
}

fn hidden(html: &str, name: &str) -> String {
    let start = html.find(&format!(r#"name="{name}" value=""#)).unwrap() + name.len() + 15;
    html[start..][..html[start..].find('"').unwrap()].to_owned()
}

/// `GET /authorize` with a PKCE challenge, sending `cookie` if the browser has one.
async fn consent_page(base: &str, pkce: &PkcePair, cookie: Option<&str>) -> Page {
    let query = form(&[
        ("response_type", "code"),
        ("client_id", embed::CLIENT.0),
        ("redirect_uri", embed::CLIENT.1),
        ("scope", "read:users"),
        ("state", "xyz"),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
    ]);
    let mut request = client().get(format!("{base}/authorize?{query}"));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let page = request.send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_hardened(&page);
    let cookie = page.headers()[SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    Page {
        cookie,
        pending: hidden(&html, "pending"),
        csrf: hidden(&html, "csrf"),
    }
}

/// `POST /authorize` with these fields and this cookie.
async fn submit(base: &str, cookie: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{base}/authorize"))
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, FORM)
        .body(form(fields))
        .send()
        .await
        .unwrap()
}

async fn approve(base: &str, page: &Page) -> reqwest::Response {
    let (user, password) = embed::USER;
    let fields = [
        ("pending", page.pending.as_str()),
        ("csrf", &page.csrf),
        ("username", user),
        ("password", password),
        ("decision", "approve"),
    ];
    submit(base, &page.cookie, &fields).await
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(LOCATION)
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_whole_flow_from_the_consent_page_to_the_protected_api() {
    let base = start().await;
    let pkce = PkcePair::new();
    let page = consent_page(&base, &pkce, None).await;
    assert!(page.cookie.starts_with("finrift_csrf="), "{}", page.cookie);

    let approved = approve(&base, &page).await;
    assert_eq!(approved.status(), 303);
    let params = redirect_params(&location(&approved).unwrap());
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(param("state").as_deref(), Some("xyz"));
    assert_eq!(param("iss").as_deref(), Some(base.as_str()));
    let code = param("code").expect("a code");

    let token = client()
        .post(format!("{base}/token"))
        .header(CONTENT_TYPE, FORM)
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", embed::CLIENT.0),
            ("redirect_uri", embed::CLIENT.1),
            ("code_verifier", &pkce.verifier),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    assert_hardened(&token);
    let tokens: Value = serde_json::from_str(&token.text().await.unwrap()).unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT access token");

    let users = client()
        .get(format!("{base}/api/users"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    assert_hardened(&users);
    let body: Value = serde_json::from_str(&users.text().await.unwrap()).unwrap();
    assert_eq!(body["asked_by"], embed::USER.0);

    let anonymous = client()
        .get(format!("{base}/api/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_hardened(&anonymous);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn a_csrf_token_made_for_another_pending_request_is_refused() {
    let base = start().await;
    let first = consent_page(&base, &PkcePair::new(), None).await;
    // The same browser opens a second request: it keeps its cookie, gets a second token.
    let second = consent_page(&base, &PkcePair::new(), Some(&first.cookie)).await;
    assert_eq!(first.cookie, second.cookie);
    assert_ne!(first.csrf, second.csrf);
    let (user, password) = embed::USER;
    let crossed = [
        ("pending", first.pending.as_str()),
        ("csrf", &second.csrf),
        ("username", user),
        ("password", password),
        ("decision", "approve"),
    ];
    let refused = submit(&base, &first.cookie, &crossed).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(location(&refused), None);
}

#[tokio::test]
async fn a_bare_equal_cookie_and_field_pair_is_refused() {
    let base = start().await;
    let page = consent_page(&base, &PkcePair::new(), None).await;
    let (user, password) = embed::USER;
    // A value shaped like a real binding, so only the pairing is what is tested.
    let x = "A".repeat(43);
    let fields = [
        ("pending", page.pending.as_str()),
        ("csrf", &x),
        ("username", user),
        ("password", password),
        ("decision", "approve"),
    ];
    let refused = submit(&base, &format!("finrift_csrf={x}"), &fields).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(location(&refused), None);
}

#[tokio::test]
async fn an_altered_sealed_request_is_refused() {
    let base = start().await;
    let page = consent_page(&base, &PkcePair::new(), None).await;
    let mut altered = page.pending.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    let altered = Page {
        pending: String::from_utf8(altered).unwrap(),
        ..page
    };
    let refused = approve(&base, &altered).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(location(&refused), None);
}

#[tokio::test]
async fn a_form_replayed_after_approval_gets_no_second_code() {
    let base = start().await;
    let page = consent_page(&base, &PkcePair::new(), None).await;
    let first = approve(&base, &page).await;
    assert_eq!(first.status(), 303);
    let replayed = approve(&base, &page).await;
    assert_ne!(replayed.status(), 303);
    assert_eq!(location(&replayed), None);
}

#[tokio::test]
async fn a_wrong_password_approves_nothing_and_deny_redirects_access_denied() {
    let base = start().await;
    let page = consent_page(&base, &PkcePair::new(), None).await;
    let wrong = [
        ("pending", page.pending.as_str()),
        ("csrf", &page.csrf),
        ("username", embed::USER.0),
        ("password", "correct horse battery stapler"),
        ("decision", "approve"),
    ];
    let refused = submit(&base, &page.cookie, &wrong).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(location(&refused), None);
    let deny = [
        ("pending", page.pending.as_str()),
        ("csrf", &page.csrf),
        ("decision", "deny"),
    ];
    let denied = submit(&base, &page.cookie, &deny).await;
    assert_eq!(denied.status(), 303);
    let params = redirect_params(&location(&denied).unwrap());
    assert!(
        params.contains(&("error".into(), "access_denied".into())),
        "{params:?}"
    );
    assert!(!params.iter().any(|(k, _)| k == "code"));
}

#[tokio::test]
async fn a_json_body_at_the_token_endpoint_is_invalid_request_naming_the_media_type() {
    let base = start().await;
    let answer = client()
        .post(format!("{base}/token"))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"grant_type":"authorization_code"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let error: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert_eq!(error["error"], "invalid_request");
    assert!(
        error["error_description"].as_str().unwrap().contains(FORM),
        "{error}"
    );
}
