//! Refresh tokens: RF-* cases of SECURITY.md.

use oauth_core::{ErrorCode, Storage};
use time::Duration;

use crate::*;

/// RF-01: every refresh returns a new refresh token; the old one then gets invalid_grant.
pub async fn rf01_refresh_rotates<S: Storage + 'static>(h: Harness<S>) {
    let tokens = h.redeem_spa(&h.spa_code().await).await;
    let old = tokens.refresh_token.unwrap();
    let next = expect_issued(h.refresh_spa(&old, None).await);
    let new = next.refresh_token.unwrap();
    assert_ne!(new, old);
    assert!(h.is_active(&new).await);
    assert!(!h.is_active(&old).await);
}

/// RF-02: a rotated-away refresh token presented again is invalid_grant and revokes the
/// whole grant: the live refresh token and its access tokens.
pub async fn rf02_rotated_refresh_reuse_revokes_grant<S: Storage + 'static>(h: Harness<S>) {
    let tokens = h.redeem_spa(&h.spa_code().await).await;
    let old = tokens.refresh_token.unwrap();
    let next = expect_issued(h.refresh_spa(&old, None).await);
    let live_refresh = next.refresh_token.clone().unwrap();

    expect_refused(
        &h.refresh_spa(&old, None).await,
        ErrorCode::InvalidGrant,
        400,
    );
    assert!(!h.is_active(&live_refresh).await);
    assert!(!h.is_active(&next.access_token).await);
    assert!(!h.is_active(&tokens.access_token).await);
    expect_refused(
        &h.refresh_spa(&live_refresh, None).await,
        ErrorCode::InvalidGrant,
        400,
    );

    // Another grant of the same user and client is untouched.
    let other = h.redeem_spa(&h.spa_code().await).await;
    assert!(h.is_active(&other.access_token).await);
}

/// RF-03: another client's refresh token is invalid_grant (and revokes nothing); a
/// confidential client without authentication is invalid_client.
pub async fn rf03_refresh_token_of_another_client_or_without_auth<S: Storage + 'static>(
    h: Harness<S>,
) {
    let spa = h.redeem_spa(&h.spa_code().await).await;
    let spa_refresh = spa.refresh_token.unwrap();
    let as_other = h
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &spa_refresh),
            ],
            Some(&basic("other", OTHER_SECRET)),
        )
        .await;
    expect_refused(&as_other, ErrorCode::InvalidGrant, 400);
    let as_native = h
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &spa_refresh),
                ("client_id", "native"),
            ],
            None,
        )
        .await;
    expect_refused(&as_native, ErrorCode::InvalidGrant, 400);
    assert!(h.is_active(&spa_refresh).await);

    let server = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);
    let server_refresh = server.refresh_token.unwrap();
    let unauthenticated = h
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &server_refresh),
                ("client_id", "server"),
            ],
            None,
        )
        .await;
    expect_refused(&unauthenticated, ErrorCode::InvalidClient, 401);
    let ok = h
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &server_refresh),
            ],
            Some(&basic("server", SERVER_SECRET)),
        )
        .await;
    expect_issued(ok);
}

/// RF-04: a wider scope on refresh is invalid_scope; a narrower one is fine, and the new
/// refresh token keeps the original scope.
pub async fn rf04_refresh_scope_may_narrow_never_widen<S: Storage + 'static>(h: Harness<S>) {
    let pending = h
        .pending(&Harness::<S>::spa_request(&[(
            "scope",
            "read:users write:users",
        )]))
        .await;
    let code = h.approve(&pending, "alice").await.param("code").unwrap();
    let tokens = h.redeem_spa(&code).await;
    let refresh = tokens.refresh_token.unwrap();

    expect_refused(
        &h.refresh_spa(&refresh, Some("read:users read:payments"))
            .await,
        ErrorCode::InvalidScope,
        400,
    );
    expect_refused(
        &h.refresh_spa(&refresh, Some("bad\"scope")).await,
        ErrorCode::InvalidScope,
        400,
    );
    assert!(
        h.is_active(&refresh).await,
        "a refused refresh does not rotate"
    );

    let narrow = expect_issued(h.refresh_spa(&refresh, Some("read:users")).await);
    assert_eq!(narrow.scope.to_string(), "read:users");
    // The refresh token still carries the original scope.
    let again = expect_issued(
        h.refresh_spa(narrow.refresh_token.as_ref().unwrap(), None)
            .await,
    );
    assert_eq!(again.scope.to_string(), "read:users write:users");
}

/// RF-05: a refresh token past the grant's absolute lifetime is invalid_grant, however
/// recently it was rotated.
pub async fn rf05_refresh_past_absolute_lifetime<S: Storage + 'static>(h: Harness<S>) {
    let tokens = h.redeem_spa(&h.spa_code().await).await;
    let mut refresh = tokens.refresh_token.unwrap();
    // Refresh every 13 days (inside the 14-day idle lifetime) up to the 90-day limit.
    for _ in 0..6 {
        h.clock.advance(Duration::days(13));
        refresh = expect_issued(h.refresh_spa(&refresh, None).await)
            .refresh_token
            .unwrap();
    }
    // Day 78: the new refresh token is capped at day 90, not day 92.
    h.clock.advance(Duration::days(12) - Duration::seconds(1));
    assert!(h.is_active(&refresh).await);
    h.clock.advance(Duration::seconds(1));
    expect_refused(
        &h.refresh_spa(&refresh, None).await,
        ErrorCode::InvalidGrant,
        400,
    );

    // An idle refresh token expires after its own lifetime.
    let tokens = h.redeem_spa(&h.spa_code().await).await;
    h.clock.advance(Duration::days(14));
    expect_refused(
        &h.refresh_spa(tokens.refresh_token.as_ref().unwrap(), None)
            .await,
        ErrorCode::InvalidGrant,
        400,
    );
}

/// A scope policy that can be narrowed while grants live: what each subject may hold now.
#[derive(Debug, Default)]
struct Demotions(std::sync::Mutex<std::collections::HashMap<String, oauth_core::ScopeSet>>);

#[async_trait::async_trait]
impl oauth_core::ScopePolicy for Demotions {
    async fn permitted(
        &self,
        _client: &oauth_core::Client,
        subject: Option<&str>,
        asked: &oauth_core::ScopeSet,
    ) -> oauth_core::ScopeSet {
        let limits = self.0.lock().unwrap();
        match subject.and_then(|s| limits.get(s)) {
            Some(allowed) => asked.intersection(allowed),
            None => asked.clone(),
        }
    }
}

/// RF-06: a refresh re-checks the client's current registration and the scope policy for
/// the subject: what is no longer allowed is dropped from the new tokens and from the
/// grant (its new refresh token), and a grant left with nothing is `invalid_grant`.
pub async fn rf06_refresh_rechecks_the_registration_and_the_scope_policy<S: Storage + 'static>(
    h: Harness<S>,
) {
    let policy = std::sync::Arc::new(Demotions::default());
    let engine = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .scope_policy(SharedPolicy(policy.clone()))
    .build()
    .unwrap();
    let h = h.with_engine(engine);
    let pending = h
        .pending(&Harness::<S>::spa_request(&[(
            "scope",
            "read:users write:users read:payments",
        )]))
        .await;
    let code = h.approve(&pending, "alice").await.param("code").unwrap();
    let tokens = h.redeem_spa(&code).await;
    assert_eq!(
        tokens.scope.to_string(),
        "read:payments read:users write:users"
    );

    // alice is demoted to read:users and read:payments.
    policy.0.lock().unwrap().insert(
        "alice".into(),
        oauth_core::ScopeSet::parse("read:users read:payments").unwrap(),
    );
    let next = expect_issued(
        h.refresh_spa(tokens.refresh_token.as_ref().unwrap(), None)
            .await,
    );
    assert_eq!(next.scope.to_string(), "read:payments read:users");
    // The grant itself was narrowed: its new refresh token holds no write:users.
    let record = h
        .store
        .get_token(&oauth_core::SecretHash::of(
            next.refresh_token.as_ref().unwrap(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.scope.to_string(), "read:payments read:users");
    // Asking for a lost scope gets only what is left of the request.
    expect_refused(
        &h.refresh_spa(next.refresh_token.as_ref().unwrap(), Some("write:users"))
            .await,
        ErrorCode::InvalidScope,
        400,
    );

    // The client's registration narrows too: spa may hold read:users only now.
    h.store
        .put_client(
            oauth_core::Client::public("spa")
                .unwrap()
                .redirect_uri(SPA_REDIRECT)
                .unwrap()
                .allowed_scopes(oauth_core::ScopeSet::parse("read:users").unwrap())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let last = expect_issued(
        h.refresh_spa(next.refresh_token.as_ref().unwrap(), None)
            .await,
    );
    assert_eq!(last.scope.to_string(), "read:users");

    // Nothing left: the grant no longer works.
    policy.0.lock().unwrap().insert(
        "alice".into(),
        oauth_core::ScopeSet::parse("read:payments").unwrap(),
    );
    expect_refused(
        &h.refresh_spa(last.refresh_token.as_ref().unwrap(), None)
            .await,
        ErrorCode::InvalidGrant,
        400,
    );
}

/// An `Arc` of a policy as the engine's policy, so the test keeps a handle to change it.
#[derive(Debug)]
struct SharedPolicy(std::sync::Arc<Demotions>);

#[async_trait::async_trait]
impl oauth_core::ScopePolicy for SharedPolicy {
    async fn permitted(
        &self,
        client: &oauth_core::Client,
        subject: Option<&str>,
        asked: &oauth_core::ScopeSet,
    ) -> oauth_core::ScopeSet {
        self.0.permitted(client, subject, asked).await
    }
}
