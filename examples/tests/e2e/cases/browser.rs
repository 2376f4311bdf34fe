//! The login and consent page, as a browser and an attacker use it.

use super::*;

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
