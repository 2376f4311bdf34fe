//! The token endpoint: TK-* cases of SECURITY.md.

use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use std::collections::HashSet;

use oauth_core::{AuthorizationResponse, ErrorCode, Storage};
use time::Duration;

use crate::*;

fn redeem_pairs<'a>(
    code: &'a str,
    client_id: &'a str,
    verifier: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client_id),
        ("redirect_uri", SPA_REDIRECT),
        ("code_verifier", verifier),
    ]
}

/// TK-01: a code redeemed twice is invalid_grant, and the tokens of its first redemption
/// are revoked.
pub async fn tk01_code_replay_revokes_first_tokens<S: Storage + 'static>(h: Harness<S>) {
    let code = h.spa_code().await;
    let first = h.redeem_spa(&code).await;
    let refresh = first.refresh_token.clone().unwrap();
    assert!(h.is_active(&first.access_token).await);

    h.clock.advance(Duration::minutes(5)); // later, after the code expired
    let replay = h.token(&redeem_pairs(&code, "spa", VERIFIER), None).await;
    expect_refused(&replay, ErrorCode::InvalidGrant, 400);
    assert!(!h.is_active(&first.access_token).await);
    assert!(!h.is_active(&refresh).await);
    // The revoked refresh token no longer works either.
    expect_refused(
        &h.refresh_spa(&refresh, None).await,
        ErrorCode::InvalidGrant,
        400,
    );
}

/// TK-02: a replay that fails its own checks (wrong verifier, wrong client) revokes nothing.
pub async fn tk02_invalid_replay_revokes_nothing<S: Storage + 'static>(h: Harness<S>) {
    let code = h.spa_code().await;
    let first = h.redeem_spa(&code).await;
    let wrong_verifier = "x".repeat(43);
    expect_refused(
        &h.token(&redeem_pairs(&code, "spa", &wrong_verifier), None)
            .await,
        ErrorCode::InvalidGrant,
        400,
    );
    let no_verifier = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("redirect_uri", SPA_REDIRECT),
    ];
    expect_refused(
        &h.token(&no_verifier, None).await,
        ErrorCode::InvalidGrant,
        400,
    );
    expect_refused(
        &h.token(&redeem_pairs(&code, "native", VERIFIER), None)
            .await,
        ErrorCode::InvalidGrant,
        400,
    );
    let bad_auth = h
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SPA_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&basic("server", "wrong-secret-wrong-secret-wrong-secret")),
        )
        .await;
    expect_refused(&bad_auth, ErrorCode::InvalidClient, 401);
    assert!(h.is_active(&first.access_token).await);
    assert!(h.is_active(first.refresh_token.as_ref().unwrap()).await);
}

/// TK-03: a code presented by another client, or after it expired: invalid_grant.
pub async fn tk03_code_of_another_client_or_expired<S: Storage + 'static>(h: Harness<S>) {
    let code = h.spa_code().await;
    let stolen = h
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SPA_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&basic("other", OTHER_SECRET)),
        )
        .await;
    expect_refused(&stolen, ErrorCode::InvalidGrant, 400);

    let code = h.spa_code().await;
    h.clock.advance(Duration::seconds(60));
    expect_refused(
        &h.token(&redeem_pairs(&code, "spa", VERIFIER), None).await,
        ErrorCode::InvalidGrant,
        400,
    );

    let code = h.spa_code().await;
    h.clock.advance(Duration::seconds(59));
    h.redeem_spa(&code).await;

    expect_refused(
        &h.token(&redeem_pairs("no-such-code", "spa", VERIFIER), None)
            .await,
        ErrorCode::InvalidGrant,
        400,
    );
}

/// TK-04: code_verifier missing, wrong, or not 43–128 unreserved characters: invalid_grant.
pub async fn tk04_code_verifier_missing_wrong_or_malformed<S: Storage + 'static>(h: Harness<S>) {
    let wrong = "y".repeat(43);
    let short = &VERIFIER[..42];
    let long = "z".repeat(129);
    let bad_char = format!("{}!", &VERIFIER[..42]);
    for verifier in [wrong.as_str(), short, long.as_str(), bad_char.as_str()] {
        let code = h.spa_code().await;
        let outcome = h.token(&redeem_pairs(&code, "spa", verifier), None).await;
        expect_refused(&outcome, ErrorCode::InvalidGrant, 400);
        // One try: the refused attempt spent the code, so the right verifier now fails too.
        expect_refused(
            &h.token(&redeem_pairs(&code, "spa", VERIFIER), None).await,
            ErrorCode::InvalidGrant,
            400,
        );
    }
    let code = h.spa_code().await;
    let missing = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("redirect_uri", SPA_REDIRECT),
    ];
    expect_refused(&h.token(&missing, None).await, ErrorCode::InvalidGrant, 400);
}

/// TK-05: a verifier sent for a code issued without a challenge (the `legacy` opt-out):
/// invalid_request.
pub async fn tk05_verifier_for_code_without_challenge_is_refused<S: Storage + 'static>(
    h: Harness<S>,
) {
    let auth = basic("legacy", LEGACY_SECRET);
    let code = legacy_code(&h).await;
    let with_verifier = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://legacy.example/cb"),
        ("code_verifier", VERIFIER),
    ];
    expect_refused(
        &h.token(&with_verifier, Some(&auth)).await,
        ErrorCode::InvalidRequest,
        400,
    );

    // Without a verifier the opted-out client gets its tokens (and no refresh token: not allowed).
    let code = legacy_code(&h).await;
    let without = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://legacy.example/cb"),
    ];
    let tokens = expect_issued(h.token(&without, Some(&auth)).await);
    assert!(tokens.refresh_token.is_none());

    // A client that did not opt out cannot skip PKCE.
    let outcome = h
        .authorize_owned(&Harness::<S>::spa_request(&[
            ("code_challenge", ""),
            ("code_challenge_method", ""),
        ]))
        .await;
    expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::InvalidRequest);
}

/// TK-06: redirect_uri at the token endpoint missing or different when it was sent at
/// authorization: invalid_grant.
pub async fn tk06_redirect_uri_must_repeat_authorization_request<S: Storage + 'static>(
    h: Harness<S>,
) {
    let code = h.spa_code().await;
    let missing = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("code_verifier", VERIFIER),
    ];
    expect_refused(&h.token(&missing, None).await, ErrorCode::InvalidGrant, 400);

    let code = h.spa_code().await;
    let different = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("redirect_uri", "https://app.example/cb/"),
        ("code_verifier", VERIFIER),
    ];
    expect_refused(
        &h.token(&different, None).await,
        ErrorCode::InvalidGrant,
        400,
    );

    // Not sent at authorization: may be omitted at the token endpoint.
    let mut request = Harness::<S>::spa_request(&[]);
    request.retain(|(n, _)| *n != "redirect_uri");
    let pending = h.pending(&request).await;
    let code = h.approve(&pending, "alice").await.param("code").unwrap();
    let omitted = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("code_verifier", VERIFIER),
    ];
    expect_issued(h.token(&omitted, None).await);
}

/// TK-07: a wrong secret is 401 invalid_client, with `WWW-Authenticate: Basic` for Basic auth.
pub async fn tk07_wrong_client_secret<S: Storage + 'static>(h: Harness<S>) {
    let cc = [("grant_type", "client_credentials")];
    let outcome = h
        .token(
            &cc,
            Some(&basic("server", "not-the-secret-not-the-secret-not-the")),
        )
        .await;
    let error = expect_refused(&outcome, ErrorCode::InvalidClient, 401);
    assert!(error.www_authenticate().unwrap().starts_with("Basic"));
    let response = outcome.to_response();
    assert!(response
        .header("WWW-Authenticate")
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    assert!(!response.body.contains("not-the-secret"));

    let post = [
        ("grant_type", "client_credentials"),
        ("client_id", "server"),
        ("client_secret", "not-the-secret-not-the-secret-not-the"),
    ];
    expect_refused(&h.token(&post, None).await, ErrorCode::InvalidClient, 401);
    // An unknown client is refused the same way.
    expect_refused(
        &h.token(&cc, Some(&basic("ghost", SERVER_SECRET))).await,
        ErrorCode::InvalidClient,
        401,
    );
    // A confidential client with no credentials at all.
    let none = [
        ("grant_type", "client_credentials"),
        ("client_id", "server"),
    ];
    expect_refused(&h.token(&none, None).await, ErrorCode::InvalidClient, 401);
}

/// TK-08: two methods at once, Basic id ≠ body client_id, a public client sending a
/// secret, malformed Basic: refused; Basic credentials are form-urlencoded.
pub async fn tk08_client_authentication_ambiguities<S: Storage + 'static>(h: Harness<S>) {
    let auth = basic("server", SERVER_SECRET);
    let two = [
        ("grant_type", "client_credentials"),
        ("client_id", "server"),
        ("client_secret", SERVER_SECRET),
    ];
    expect_refused(
        &h.token(&two, Some(&auth)).await,
        ErrorCode::InvalidRequest,
        400,
    );
    let mismatch = [("grant_type", "client_credentials"), ("client_id", "other")];
    expect_refused(
        &h.token(&mismatch, Some(&auth)).await,
        ErrorCode::InvalidRequest,
        400,
    );
    let same = [
        ("grant_type", "client_credentials"),
        ("client_id", "server"),
    ];
    expect_issued(h.token(&same, Some(&auth)).await);

    let code = h.spa_code().await;
    let public_with_secret = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("client_secret", "anything"),
        ("redirect_uri", SPA_REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    expect_refused(
        &h.token(&public_with_secret, None).await,
        ErrorCode::InvalidClient,
        401,
    );

    for malformed in ["Basic", "Basic %%%", "Basic c2VydmVy"] {
        expect_refused(
            &h.token(&[("grant_type", "client_credentials")], Some(malformed))
                .await,
            ErrorCode::InvalidRequest,
            400,
        );
    }
    // A secret with reserved characters survives the form-urlencoding of Basic.
    let odd_secret = "p@ss:w+rd%/&= with spaces and more padding!";
    let client = oauth_core::Client::confidential("odd client", odd_secret)
        .unwrap()
        .grant_types([oauth_core::GrantType::ClientCredentials])
        .allowed_scopes(oauth_core::ScopeSet::parse("read:users").unwrap())
        .default_scopes(oauth_core::ScopeSet::parse("read:users").unwrap())
        .build()
        .unwrap();
    h.engine.register_client(client).await.unwrap();
    expect_issued(
        h.token(
            &[("grant_type", "client_credentials")],
            Some(&basic("odd client", odd_secret)),
        )
        .await,
    );
}

/// TK-09: grant_type missing (invalid_request), unknown (unsupported_grant_type), not
/// allowed for the client (unauthorized_client).
pub async fn tk09_grant_type_checks<S: Storage + 'static>(h: Harness<S>) {
    let auth = basic("server", SERVER_SECRET);
    expect_refused(
        &h.token(&[("scope", "read:users")], Some(&auth)).await,
        ErrorCode::InvalidRequest,
        400,
    );
    for unknown in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
        "CLIENT_CREDENTIALS",
    ] {
        expect_refused(
            &h.token(&[("grant_type", unknown)], Some(&auth)).await,
            ErrorCode::UnsupportedGrantType,
            400,
        );
    }
    // A public client may not use client_credentials.
    expect_refused(
        &h.token(
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
            None,
        )
        .await,
        ErrorCode::UnauthorizedClient,
        400,
    );
    // A client-credentials-only client may not redeem codes or refresh.
    let cc_only = basic("cc-only", OTHER_SECRET);
    expect_refused(
        &h.token(
            &[("grant_type", "authorization_code"), ("code", "x")],
            Some(&cc_only),
        )
        .await,
        ErrorCode::UnauthorizedClient,
        400,
    );
    expect_refused(
        &h.token(
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            Some(&cc_only),
        )
        .await,
        ErrorCode::UnauthorizedClient,
        400,
    );
    // Scope it may not have.
    expect_refused(
        &h.token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read:users"),
            ],
            Some(&cc_only),
        )
        .await,
        ErrorCode::InvalidScope,
        400,
    );
}

/// TK-10: duplicate parameters and a non-form body: invalid_request.
pub async fn tk10_duplicate_or_malformed_token_parameters<S: Storage + 'static>(h: Harness<S>) {
    let auth = basic("server", SERVER_SECRET);
    let dup = [
        ("grant_type", "client_credentials"),
        ("grant_type", "client_credentials"),
    ];
    expect_refused(
        &h.token(&dup, Some(&auth)).await,
        ErrorCode::InvalidRequest,
        400,
    );
    let dup_scope = [
        ("grant_type", "client_credentials"),
        ("scope", "read:users"),
        ("scope", "read:payments"),
    ];
    expect_refused(
        &h.token(&dup_scope, Some(&auth)).await,
        ErrorCode::InvalidRequest,
        400,
    );
    for body in [
        "{\"grant_type\":\"client_credentials\"}",
        "grant_type=client%ZZcredentials",
        "grant_type=%FF",
    ] {
        let outcome = h
            .engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                    .with_authorization(Some(&auth)),
            )
            .await
            .unwrap();
        expect_refused(&outcome, ErrorCode::InvalidRequest, 400);
    }
}

/// TK-11: every token response and error has `Cache-Control: no-store`, and descriptions
/// use only RFC 6749 §5.2 characters.
pub async fn tk11_token_responses_are_not_cacheable<S: Storage + 'static>(h: Harness<S>) {
    let auth = basic("server", SERVER_SECRET);
    let outcomes = [
        h.token(&[("grant_type", "client_credentials")], Some(&auth))
            .await,
        h.token(&[("grant_type", "nope")], Some(&auth)).await,
        h.token(&[("grant_type", "client_credentials")], None).await,
        h.token(
            &[("grant_type", "authorization_code"), ("code", "\u{e9}\"\\")],
            Some(&auth),
        )
        .await,
        h.token(
            &[("grant_type", "client_credentials"), ("scope", "\u{e9}")],
            Some(&auth),
        )
        .await,
    ];
    for outcome in outcomes {
        let response = outcome.to_response();
        assert_eq!(
            response.header("Cache-Control"),
            Some("no-store"),
            "{response:?}"
        );
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
        if let Some(description) = body.get("error_description").and_then(|d| d.as_str()) {
            assert!(
                description
                    .chars()
                    .all(|c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')),
                "{description:?}"
            );
        }
    }
}

/// TK-12: minted codes and tokens are distinct, 43 base64url characters (256 random bits).
/// The million-token census runs in the core's unit tests; this checks the flow outputs.
pub async fn tk12_minted_tokens_are_distinct_and_long<S: Storage + 'static>(h: Harness<S>) {
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
        let AuthorizationResponse::Redirect(redirect) = h
            .engine
            .approve(&pending, "alice", pending.scope())
            .await
            .unwrap()
        else {
            panic!("redirect");
        };
        let code = redirect.param("code").unwrap();
        let tokens = h.redeem_spa(&code).await;
        for value in [code, tokens.access_token, tokens.refresh_token.unwrap()] {
            assert_eq!(value.len(), 43);
            assert!(value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(seen.insert(value), "a token repeated");
        }
    }
}

/// A code for `legacy`, requested without PKCE.
async fn legacy_code<S: Storage + 'static>(h: &Harness<S>) -> String {
    let request = [
        ("response_type", "code".to_owned()),
        ("client_id", "legacy".to_owned()),
        ("redirect_uri", "https://legacy.example/cb".to_owned()),
        ("scope", "read:users".to_owned()),
    ];
    let pending = h.pending(&request).await;
    h.approve(&pending, "carol").await.param("code").unwrap()
}

/// TK-13: every code and grant carries its issuer. Another engine with another issuer on
/// the same store refuses this one's code and refresh token with `invalid_grant`, sees its
/// tokens as inactive, and its replay of the code revokes nothing here.
pub async fn tk13_a_code_from_another_issuer_on_the_same_store_is_invalid_grant<
    S: Storage + 'static,
>(
    h: Harness<S>,
) {
    let other = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder("https://tenant-b.example")
            .build()
            .unwrap(),
    )
    .build()
    .unwrap();
    let ask = |pairs: Vec<(&'static str, String)>, authorization: Option<String>| {
        let other = &other;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = encode(&pairs);
            other
                .token(
                    &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                        .with_authorization(authorization.as_deref()),
                )
                .await
                .unwrap()
        }
    };
    let code = h.spa_code().await;
    let at_other = ask(
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.clone()),
            ("client_id", "spa".into()),
            ("redirect_uri", SPA_REDIRECT.into()),
            ("code_verifier", VERIFIER.into()),
        ],
        None,
    )
    .await;
    expect_refused(&at_other, ErrorCode::InvalidGrant, 400);
    // Refused there, and not spent: the code still redeems at its own issuer.
    h.redeem_spa(&code).await;

    // This engine's own code and tokens work here, and not there.
    let code = h.spa_code().await;
    let tokens = h.redeem_spa(&code).await;
    let refresh = tokens.refresh_token.clone().unwrap();
    let refreshed_there = ask(
        vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh.clone()),
            ("client_id", "spa".into()),
        ],
        None,
    )
    .await;
    expect_refused(&refreshed_there, ErrorCode::InvalidGrant, 400);
    let introspected = other
        .introspect(
            &FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                encode(&[("token", tokens.access_token.as_str())]).as_bytes(),
            )
            .with_authorization(Some(&basic("server", SERVER_SECRET))),
        )
        .await
        .unwrap();
    assert!(!introspected.is_active());
    // A replay of this engine's code at the other engine revokes nothing here.
    let replayed = ask(
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("client_id", "spa".into()),
            ("redirect_uri", SPA_REDIRECT.into()),
            ("code_verifier", VERIFIER.into()),
        ],
        None,
    )
    .await;
    expect_refused(&replayed, ErrorCode::InvalidGrant, 400);
    assert!(h.is_active(&refresh).await);
    assert!(matches!(
        h.refresh_spa(&refresh, None).await,
        oauth_core::TokenOutcome::Issued(_)
    ));
}
