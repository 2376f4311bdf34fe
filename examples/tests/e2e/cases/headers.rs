//! Headers every answer carries, and HEAD wherever GET is answered.

use super::*;

/// Checks that `response` has exactly one `X-Content-Type-Options: nosniff`.
pub(super) fn assert_nosniff(response: &reqwest::Response, what: &str) {
    let values: Vec<_> = response
        .headers()
        .get_all("x-content-type-options")
        .iter()
        .collect();
    assert_eq!(values, ["nosniff"], "{what}");
}

/// A valid authorization request's URL, as the SPA builds it.
pub(super) fn authorize_url(base: &str) -> String {
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
pub(super) async fn assert_head(url: &str, token: Option<&str>, status: StatusCode) {
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
