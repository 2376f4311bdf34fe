//! Happy paths of the three grants, scope policy, and purging.

use async_trait::async_trait;
use oauth_core::{
    AuthorizationResponse, Client, ErrorCode, ScopePolicy, ScopeSet, Storage, TokenOutcome,
};
use time::Duration;

use crate::*;

/// Authorization code + PKCE: authorize, approve, redeem; tokens are live and hashed.
pub async fn happy_authorization_code_flow<S: Storage + 'static>(h: Harness<S>) {
    let pending = h
        .pending(&Harness::<S>::spa_request(&[(
            "scope",
            "read:users write:users",
        )]))
        .await;
    assert_eq!(pending.scope().to_string(), "read:users write:users");
    let redirect = h.approve(&pending, "alice").await;
    assert!(redirect
        .location()
        .starts_with("https://app.example/cb?code="));
    assert_eq!(redirect.param("state").as_deref(), Some("s-123"));
    assert_eq!(redirect.param("iss").as_deref(), Some(ISSUER));
    assert_eq!(redirect.to_response().status, 303);

    let code = redirect.param("code").unwrap();
    assert_eq!(code.len(), 43);
    let tokens = h.redeem_spa(&code).await;
    assert_eq!(tokens.scope.to_string(), "read:users write:users");
    assert_eq!(tokens.expires_in, 600);
    let refresh = tokens.refresh_token.clone().expect("spa may refresh");
    assert!(h.is_active(&tokens.access_token).await);
    assert!(h.is_active(&refresh).await);

    let response = TokenOutcome::Issued(tokens.clone()).to_response();
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["access_token"], tokens.access_token.as_str());
    assert_eq!(body["refresh_token"], refresh.as_str());
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "read:users write:users");

    // The access token expires on the clock, not before.
    h.clock.advance(Duration::seconds(599));
    assert!(h.is_active(&tokens.access_token).await);
    h.clock.advance(Duration::seconds(1));
    assert!(!h.is_active(&tokens.access_token).await);
}

/// Client credentials: a confidential client gets an access token and no refresh token.
pub async fn happy_client_credentials_flow<S: Storage + 'static>(h: Harness<S>) {
    let tokens = expect_issued(
        h.token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read:payments"),
            ],
            Some(&basic("server", SERVER_SECRET)),
        )
        .await,
    );
    assert_eq!(tokens.scope.to_string(), "read:payments");
    assert!(
        tokens.refresh_token.is_none(),
        "TK-09: client_credentials never issues a refresh token"
    );
    assert!(h.is_active(&tokens.access_token).await);
    let body: serde_json::Value =
        serde_json::from_str(&TokenOutcome::Issued(tokens).to_response().body).unwrap();
    assert!(body.get("refresh_token").is_none());

    // Body credentials (client_secret_post) work too, with default scopes when none is asked.
    let tokens = expect_issued(
        h.token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "server"),
                ("client_secret", SERVER_SECRET),
            ],
            None,
        )
        .await,
    );
    assert_eq!(tokens.scope.to_string(), "read:users");
}

/// Refresh: a new pair each time, the old refresh token retired.
pub async fn happy_refresh_flow<S: Storage + 'static>(h: Harness<S>) {
    let code = h.spa_code().await;
    let first = h.redeem_spa(&code).await;
    let mut refresh = first.refresh_token.unwrap();
    for _ in 0..3 {
        h.clock.advance(Duration::minutes(5));
        let next = expect_issued(h.refresh_spa(&refresh, None).await);
        assert_eq!(next.scope.to_string(), "read:users");
        assert!(h.is_active(&next.access_token).await);
        let new_refresh = next.refresh_token.unwrap();
        assert_ne!(new_refresh, refresh);
        assert!(!h.is_active(&refresh).await);
        refresh = new_refresh;
    }
    // Rotation does not revoke the access tokens issued before it.
    assert!(
        !h.is_active(&first.access_token).await,
        "expired after 15 minutes"
    );
}

/// Only admins may hold write scopes.
struct AdminWrites;

#[async_trait]
impl ScopePolicy for AdminWrites {
    async fn permitted(
        &self,
        _client: &Client,
        subject: Option<&str>,
        asked: &ScopeSet,
    ) -> ScopeSet {
        asked
            .iter()
            .filter(|s| !s.as_str().starts_with("write:") || subject == Some("admin"))
            .cloned()
            .collect()
    }
}

/// A scope policy narrows what a user receives, never widens it.
pub async fn scope_policy_narrows_by_subject<S: Storage + 'static>(h: Harness<S>) {
    let engine = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .scope_policy(AdminWrites)
    .build()
    .unwrap();
    let h = Harness {
        engine,
        store: h.store,
        clock: h.clock,
    };
    let request = Harness::<S>::spa_request(&[("scope", "read:users write:users")]);

    let pending = h.pending(&request).await;
    let code = h.approve(&pending, "alice").await.param("code").unwrap();
    assert_eq!(h.redeem_spa(&code).await.scope.to_string(), "read:users");

    let pending = h.pending(&request).await;
    let code = h.approve(&pending, "admin").await.param("code").unwrap();
    assert_eq!(
        h.redeem_spa(&code).await.scope.to_string(),
        "read:users write:users"
    );

    // Nothing left for this user: access_denied.
    let pending = h
        .pending(&Harness::<S>::spa_request(&[("scope", "write:users")]))
        .await;
    let AuthorizationResponse::Redirect(redirect) = h
        .engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap()
    else {
        panic!("expected a redirect");
    };
    assert_eq!(
        redirect.param("error").as_deref(),
        Some(ErrorCode::AccessDenied.as_str())
    );
}

/// Purging removes expired records but keeps a consumed code while a replay of it could
/// still revoke live tokens.
pub async fn purge_keeps_what_replay_detection_needs<S: Storage + 'static>(h: Harness<S>) {
    let code = h.spa_code().await;
    let tokens = h.redeem_spa(&code).await;
    let unused = h.spa_code().await;

    h.clock.advance(Duration::hours(1));
    let report = h.engine.purge_expired().await.unwrap();
    assert_eq!(report.codes, 1, "the unused expired code goes");
    assert_eq!(report.tokens, 1, "the expired access token goes");
    assert!(h.is_active(tokens.refresh_token.as_ref().unwrap()).await);

    // The consumed code is still known: its replay revokes the live refresh token.
    let replay = h
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "spa"),
                ("redirect_uri", SPA_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            None,
        )
        .await;
    expect_refused(&replay, ErrorCode::InvalidGrant, 400);
    assert!(!h.is_active(tokens.refresh_token.as_ref().unwrap()).await);
    let _ = unused;

    // After the grant's absolute lifetime everything goes.
    h.clock.advance(Duration::days(91));
    let report = h.engine.purge_expired().await.unwrap();
    assert_eq!(report.codes, 1);
    assert_eq!(report.tokens, 1);
    assert_eq!(report.grants, 1);
}

/// The test kit's flow driver, on every backend: a confidential client through every step,
/// and a public one tampering with its own requests.
pub async fn kit_flow_walks_every_step<S: Storage + 'static>(h: Harness<S>) {
    use oauth_core::testing::{assert_redirect_error, assert_token_error, Flow, FlowClient};
    use oauth_core::RevocationOutcome;

    let server = Flow::new(
        &h.engine,
        FlowClient::confidential("server", SERVER_REDIRECT, SERVER_SECRET),
    );
    let tokens = server.login("bob", "read:users read:payments").await;
    assert_eq!(tokens.scope.to_string(), "read:payments read:users");
    let refreshed = expect_issued(
        server
            .refresh(tokens.refresh_token.as_deref().unwrap(), Some("read:users"))
            .await,
    );
    let document = server
        .introspect_active(&refreshed.access_token)
        .await
        .unwrap();
    assert_eq!(
        (document["sub"].as_str(), document["scope"].as_str()),
        (Some("bob"), Some("read:users"))
    );
    assert_eq!(
        server
            .revoke(refreshed.refresh_token.as_deref().unwrap())
            .await,
        RevocationOutcome::Done
    );
    assert!(server
        .introspect_active(&refreshed.access_token)
        .await
        .is_none());
    expect_issued(server.client_credentials(Some("read:payments")).await);

    let spa = Flow::new(&h.engine, FlowClient::public("spa", SPA_REDIRECT));
    let code = spa.code("alice", "read:users").await;
    let mut wrong_verifier = spa.exchange_form(&code);
    wrong_verifier.retain(|(name, _)| name != "code_verifier");
    wrong_verifier.push((
        "code_verifier".into(),
        oauth_core::testing::PkcePair::new().verifier,
    ));
    assert_token_error(
        &spa.token_with(&wrong_verifier).await,
        ErrorCode::InvalidGrant,
    );
    let mut no_pkce = spa.authorize_form(Some("read:users"));
    no_pkce.retain(|(name, _)| !name.starts_with("code_challenge"));
    assert_redirect_error(
        &spa.authorize_with(&no_pkce).await,
        ErrorCode::InvalidRequest,
    );
}
