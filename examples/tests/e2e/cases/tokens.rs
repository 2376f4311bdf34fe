//! The machine endpoints: tokens, introspection, revocation, metadata, framing.

use super::*;

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
