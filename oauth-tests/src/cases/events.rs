//! Audit events and brute-force limits.

use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use std::sync::Arc;

use oauth_core::events::{EventKind, RecordingSink};
use oauth_core::limits::FailureLimiter;
use oauth_core::{BearerRequest, Config, Engine, ErrorCode, ScopeSet, Storage, TokenOutcome};
use time::Duration;

use crate::*;

/// The harness with an engine that records its events.
fn recording<S: Storage + 'static>(h: Harness<S>) -> (Harness<S>, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::new());
    let engine = Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        Config::builder(ISSUER).build().unwrap(),
    )
    .event_sink(sink.clone())
    .build()
    .unwrap();
    (h.with_engine(engine), sink)
}

/// A sink that records nothing and says so, and fails the test if it is handed an event.
struct Silent;

impl oauth_core::events::EventSink for Silent {
    fn emit(&self, event: &oauth_core::events::Event) {
        panic!("a disabled sink was handed {:?}", event.kind);
    }

    fn is_enabled(&self) -> bool {
        false
    }
}

/// An engine whose sink is disabled builds and emits no event through a whole flow.
pub async fn disabled_sink_is_handed_no_event<S: Storage + 'static>(h: Harness<S>) {
    let engine = Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        Config::builder(ISSUER).build().unwrap(),
    )
    .event_sink(Silent)
    .build()
    .unwrap();
    let h = h.with_engine(engine);
    let code = h.server_code("read:users").await;
    let tokens = expect_issued(h.redeem_server(&code).await);
    assert!(h
        .introspect_as("server", SERVER_SECRET, &tokens.access_token, &[])
        .await
        .is_active());
    // A replay, which revokes the grant, is reported too when anyone listens.
    assert!(matches!(
        h.redeem_server(&code).await,
        TokenOutcome::Refused(_)
    ));
}

/// A full flow reports approval, issuance, refresh, introspection and revocation, each
/// stamped with the engine's clock, and no event holds a code or token.
pub async fn events_of_a_full_flow<S: Storage + 'static>(h: Harness<S>) {
    let (h, sink) = recording(h);
    let code = h.server_code("read:users").await;
    h.clock.advance(Duration::seconds(5));
    let tokens = expect_issued(h.redeem_server(&code).await);
    let auth = basic("server", SERVER_SECRET);
    let refreshed = expect_issued(
        h.token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens.refresh_token.as_ref().unwrap()),
            ],
            Some(&auth),
        )
        .await,
    );
    assert!(h
        .introspect_as("server", SERVER_SECRET, &refreshed.access_token, &[])
        .await
        .is_active());
    h.revoke(
        &[("token", refreshed.refresh_token.as_ref().unwrap())],
        Some(&auth),
    )
    .await;
    expect_issued(
        h.token(&[("grant_type", "client_credentials")], Some(&auth))
            .await,
    );

    assert_eq!(
        sink.names(),
        [
            "authorization_approved",
            "token_issued",
            "token_issued",
            "introspection",
            "token_revoked",
            "token_issued"
        ]
    );
    let events = sink.events();
    assert_eq!(events[0].at, START);
    assert_eq!(events[1].at, START + Duration::seconds(5));
    match &events[1].kind {
        EventKind::TokenIssued {
            grant_type,
            client_id,
            subject,
            scope,
            refresh_token,
            ..
        } => {
            assert_eq!(
                (*grant_type, client_id.as_str(), subject.as_deref()),
                ("authorization_code", "server", Some("bob"))
            );
            assert_eq!(scope.to_string(), "read:users");
            assert!(*refresh_token);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &events[2].kind,
        EventKind::TokenIssued {
            grant_type: "refresh_token",
            ..
        }
    ));
    assert!(matches!(
        &events[3].kind,
        EventKind::Introspection { active: true, .. }
    ));
    assert!(matches!(
        &events[4].kind,
        EventKind::TokenRevoked {
            whole_grant: true,
            ..
        }
    ));
    assert!(matches!(
        &events[5].kind,
        EventKind::TokenIssued {
            grant_type: "client_credentials",
            subject: None,
            refresh_token: false,
            ..
        }
    ));

    let all = format!("{events:?}");
    for secret in [
        code.as_str(),
        &tokens.access_token,
        tokens.refresh_token.as_ref().unwrap(),
        &refreshed.access_token,
        SERVER_SECRET,
    ] {
        assert!(!all.contains(secret), "an event holds a secret");
    }
}

/// Each attack leaves its event: code replay, refresh reuse, a wrong secret, a refused
/// bearer token, a denial.
pub async fn events_of_attacks<S: Storage + 'static>(h: Harness<S>) {
    let (h, sink) = recording(h);
    let code = h.spa_code().await;
    h.redeem_spa(&code).await;
    sink.clear();
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
    assert_eq!(sink.names(), ["code_replay_detected", "invalid_grant"]);
    assert!(matches!(
        &sink.events()[0].kind,
        EventKind::CodeReplayDetected {
            revoked_tokens: 2,
            ..
        }
    ));

    let tokens = h.redeem_spa(&h.spa_code().await).await;
    let old = tokens.refresh_token.unwrap();
    expect_issued(h.refresh_spa(&old, None).await);
    sink.clear();
    expect_refused(
        &h.refresh_spa(&old, None).await,
        ErrorCode::InvalidGrant,
        400,
    );
    // Not yet revoked then: both access tokens, the rotated-away and the live refresh token.
    assert_eq!(sink.names(), ["refresh_reuse_detected", "invalid_grant"]);
    assert!(matches!(
        &sink.events()[0].kind,
        EventKind::RefreshReuseDetected {
            revoked_tokens: 4,
            ..
        }
    ));

    sink.clear();
    h.token(
        &[("grant_type", "client_credentials")],
        Some(&basic("server", "wrong-secret-wrong-secret-wrong-secret")),
    )
    .await;
    assert_eq!(sink.events().len(), 1);
    assert!(
        matches!(&sink.events()[0].kind, EventKind::ClientAuthenticationFailed { client_id: Some(id), .. } if id == "server")
    );

    sink.clear();
    let verifier = h.engine.token_verifier();
    let bad = BearerRequest::new(Some("Bearer not-a-token"), None);
    assert!(verifier
        .verify_with_store(&*h.store, &bad, &ScopeSet::parse("read:users").unwrap())
        .await
        .unwrap()
        .into_result()
        .is_err());
    assert!(matches!(
        &sink.events()[0].kind,
        EventKind::BearerRefused {
            error: "invalid_token",
            ..
        }
    ));

    sink.clear();
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    h.engine.deny(&pending).await.unwrap();
    assert_eq!(sink.names(), ["authorization_denied"]);
}

/// The limiter charges a caller's failed authentications to that caller and to its pair
/// with the client: once over budget the caller is refused with 429 and `Retry-After`,
/// even with the right secret and for other clients, until the cool-down passes. Another
/// caller of the same client is not affected (RL-01).
pub async fn limits_trip_to_429_then_cool_down<S: Storage + 'static>(h: Harness<S>) {
    let sink = Arc::new(RecordingSink::new());
    let engine = Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        Config::builder(ISSUER).build().unwrap(),
    )
    .event_sink(sink.clone())
    .limiter(FailureLimiter::new(
        3,
        Duration::minutes(1),
        Duration::seconds(30),
    ))
    .build()
    .unwrap();
    let h = h.with_engine(engine);
    let wrong = basic("server", "wrong-secret-wrong-secret-wrong-secret");
    let right = basic("server", SERVER_SECRET);
    let cc = "grant_type=client_credentials";
    let attacker = Some("198.51.100.7");
    let token = |authorization: &str, caller: Option<&'static str>| {
        let authorization = authorization.to_owned();
        let engine = &h.engine;
        async move {
            engine
                .token(
                    &FormRequest::new(Some(FORM_CONTENT_TYPE), cc.as_bytes())
                        .with_authorization(Some(&authorization))
                        .with_caller(caller),
                )
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        expect_refused(
            &token(&wrong, attacker).await,
            ErrorCode::InvalidClient,
            401,
        );
    }
    // The attacker is refused now, even with the right secret, without it being checked.
    let limited = token(&right, attacker).await;
    let error = expect_refused(&limited, ErrorCode::TemporarilyUnavailable, 429);
    assert_eq!(error.retry_after(), Some(30));
    let response = limited.to_response();
    assert_eq!(response.header("Retry-After"), Some("30"));
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    assert!(sink.names().contains(&"rate_limited"));
    // The client's rightful caller, elsewhere, is not locked out by the stranger.
    assert!(matches!(
        token(&right, Some("203.0.113.9")).await,
        TokenOutcome::Issued(_)
    ));
    // The caller that failed is limited for other clients too.
    expect_refused(
        &token(&basic("other", OTHER_SECRET), attacker).await,
        ErrorCode::TemporarilyUnavailable,
        429,
    );

    h.clock.advance(Duration::seconds(29));
    assert_eq!(
        expect_refused(
            &token(&right, attacker).await,
            ErrorCode::TemporarilyUnavailable,
            429
        )
        .retry_after(),
        Some(1)
    );
    h.clock.advance(Duration::seconds(1));
    assert!(matches!(
        token(&right, attacker).await,
        TokenOutcome::Issued(_)
    ));

    // Introspection and revocation authenticate under the same limiter.
    for _ in 0..3 {
        h.engine
            .introspect(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), b"token=x")
                    .with_authorization(Some(&wrong))
                    .with_caller(attacker),
            )
            .await
            .unwrap();
    }
    let refused = h
        .engine
        .revoke(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), b"token=x")
                .with_authorization(Some(&right))
                .with_caller(attacker),
        )
        .await
        .unwrap();
    assert_eq!(refused.to_response().status, 429);
}

/// A valid credential does not reset its caller's budget: one account of one's own cannot
/// buy more guesses at other clients' secrets from the same address.
pub async fn limits_success_does_not_reset_the_callers_budget<S: Storage + 'static>(h: Harness<S>) {
    let engine = Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        Config::builder(ISSUER).build().unwrap(),
    )
    .limiter(FailureLimiter::new(
        3,
        Duration::minutes(1),
        Duration::seconds(30),
    ))
    .build()
    .unwrap();
    let h = h.with_engine(engine);
    let cc = "grant_type=client_credentials";
    let guess = |id: &str| basic(id, "guessed-secret-guessed-secret-guessed");
    let attacker = Some("198.51.100.7");
    for target in ["other", "cc-only"] {
        let outcome = h
            .engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), cc.as_bytes())
                    .with_authorization(Some(&guess(target)))
                    .with_caller(attacker),
            )
            .await
            .unwrap();
        expect_refused(&outcome, ErrorCode::InvalidClient, 401);
    }
    let own = h
        .engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), cc.as_bytes())
                .with_authorization(Some(&basic("server", SERVER_SECRET)))
                .with_caller(attacker),
        )
        .await
        .unwrap();
    assert!(matches!(own, TokenOutcome::Issued(_)));
    let third = h
        .engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), cc.as_bytes())
                .with_authorization(Some(&guess("legacy")))
                .with_caller(attacker),
        )
        .await
        .unwrap();
    expect_refused(&third, ErrorCode::InvalidClient, 401);
    let blocked = h
        .engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), cc.as_bytes())
                .with_authorization(Some(&guess("spa")))
                .with_caller(attacker),
        )
        .await
        .unwrap();
    expect_refused(&blocked, ErrorCode::TemporarilyUnavailable, 429);
}
