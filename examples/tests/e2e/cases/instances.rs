//! Two instances of the demo sharing one PostgreSQL database, as a service behind a load
//! balancer runs: whatever one instance issued, the other redeems, checks and revokes, and
//! each single-use step stays single across both.

use std::time::Duration;

use oauth_core::jose::Algorithm;
use oauth_core::Clock as _;

use super::*;
use crate::servers::Pair;

/// The `kid` in the header of a compact JWS.
fn kid_of(jwt: &str) -> String {
    use base64::Engine as _;
    let header = jwt.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(base: &str) -> Vec<String> {
    let body = http()
        .get(format!("{base}/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jwks: Value = serde_json::from_str(&body).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Both instances publish the same JWKS, and the API of each accepts what the other
/// issued: the signing keys are the database's, not an instance's.
pub async fn both_instances_publish_one_jwks_and_accept_each_others_tokens(pair: &Pair) {
    assert_eq!(
        jwks_kids(&pair.first.base).await,
        jwks_kids(&pair.second.base).await
    );
    let tokens = alice_tokens(&pair.first.base, "read:users").await;
    let access = tokens.access_token().secret();
    assert_eq!(get_api(&pair.second.base, "/api/users", access).await, 200);
}

/// A code approved at the first instance is redeemed at the second, once.
pub async fn a_code_issued_by_one_is_redeemed_at_the_other(pair: &Pair) {
    let (code, page) = authorize(&pair.first.base, "alice", "alice-password", "read:users").await;
    let tokens = redeem(&pair.second.base, &code, &page.verifier).await;
    let access = tokens.access_token().secret();
    assert_eq!(get_api(&pair.first.base, "/api/users", access).await, 200);
    // Redeemed: a second redemption, at either instance, is refused.
    let again = spa(&pair.first.base)
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(page.verifier.secret().clone()))
        .request_async(&http())
        .await;
    assert!(again.is_err());
}

/// A token issued by one instance is introspected at the other, revoked there, and then
/// inactive at both.
pub async fn a_token_issued_by_one_is_introspected_and_revoked_at_the_other(pair: &Pair) {
    let tokens = service_tokens(&pair.first.base).await;
    let access = tokens.access_token().secret();
    assert!(introspect_active(&pair.second.base, access).await);
    let revoked = revoke(
        &pair.second.base,
        access,
        &[],
        Some(("demo-service", "demo-service-secret")),
    )
    .await;
    assert_eq!(revoked, StatusCode::OK);
    assert!(!introspect_active(&pair.first.base, access).await);
    assert!(!introspect_active(&pair.second.base, access).await);
}

/// A refresh token rotated at one instance and replayed at the other is a reuse: the
/// grant is revoked, at both.
pub async fn a_refresh_token_rotated_at_one_and_replayed_at_the_other_revokes_the_grant(
    pair: &Pair,
) {
    let tokens = alice_tokens(&pair.first.base, "read:users").await;
    let old = tokens.refresh_token().unwrap().clone();
    let rotated = refresh(&pair.first.base, &old).await.unwrap();
    let replay = refresh(&pair.second.base, &old).await.unwrap_err();
    assert_eq!(replay, BasicErrorResponseType::InvalidGrant);
    // The whole grant ended: the new refresh token and access token too.
    let after = refresh(&pair.first.base, rotated.refresh_token().unwrap()).await;
    assert_eq!(after.unwrap_err(), BasicErrorResponseType::InvalidGrant);
    let access = rotated.access_token().secret();
    assert_eq!(
        get_api(&pair.second.base, "/api/users", access).await,
        StatusCode::UNAUTHORIZED
    );
}

/// A login page shown by one instance is submitted to the other (no sticky sessions):
/// they share the sealing key, and the pending request is answered once, whichever
/// instance is asked.
pub async fn a_login_page_of_one_is_approved_at_the_other_once(pair: &Pair) {
    let page = open_login(&pair.first.base, "read:users").await;
    let response = approve(&pair.second.base, &page, "alice", "alice-password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let code = query_param(&location, "code").expect("a code");
    let tokens = redeem(&pair.first.base, &code, &page.verifier).await;
    assert_eq!(
        get_api(
            &pair.second.base,
            "/api/users",
            tokens.access_token().secret()
        )
        .await,
        200
    );
    // The same form again, at the first instance: already answered.
    let replay = approve(&pair.first.base, &page, "alice", "alice-password").await;
    assert_ne!(replay.status(), StatusCode::SEE_OTHER);
}

/// Fifty redemptions of one code at once, half at each instance: the code is spent once,
/// so at most one gets tokens, and every other one is a replay, which revokes the grant
/// (RFC 9700 §4.2.1), so no token of it stays live. Exactly one of the fifty wins the code
/// in the database; whether that one still gets its tokens depends on whether a replay
/// revoked the grant before its issuance (the store refuses to issue for a revoked grant),
/// as in the in-process race (`sc01_concurrent_code_redemptions_exactly_one_wins`).
pub async fn fifty_concurrent_redemptions_across_both_have_one_winner(pair: &Pair) {
    let (code, page) = authorize(&pair.first.base, "alice", "alice-password", "read:users").await;
    let verifier = page.verifier.secret().clone();
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let base = if i % 2 == 0 {
                pair.first.base.clone()
            } else {
                pair.second.base.clone()
            };
            let (code, verifier) = (code.clone(), verifier.clone());
            tokio::spawn(async move {
                let response = http()
                    .post(format!("{base}/token"))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", REDIRECT_URI),
                        ("client_id", "demo-spa"),
                        ("code_verifier", verifier.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
                (status, body)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for attempt in attempts {
        answers.push(attempt.await.unwrap());
    }
    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    assert!(
        winners.len() <= 1,
        "{} redemptions got tokens",
        winners.len()
    );
    for (status, body) in &answers {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"], "invalid_grant", "{body}");
        }
    }
    // Whatever the winner got is dead at both instances: the replays revoked the grant.
    for body in winners {
        let access = body["access_token"].as_str().unwrap();
        for base in [&pair.first.base, &pair.second.base] {
            assert_eq!(
                get_api(base, "/api/users", access).await,
                StatusCode::UNAUTHORIZED
            );
        }
    }
}

/// Polls `check` every 100 ms for up to ten seconds (each instance looks at the shared
/// keys every second).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} within ten seconds");
}

/// A key rotation made in the shared database (as `finrift keys rotate`, or the
/// rotation task of either instance, makes it) is served by both: both publish the new
/// key, and both sign with it.
pub async fn a_key_rotated_in_the_database_signs_at_both_instances(pair: &Pair) {
    let now = oauth_core::SystemClock.now();
    let step = pair.vault.rotate_now(Algorithm::Es256, now).await.unwrap();
    let oauth_core::jose::RotationStep::Activated { kid } = step else {
        panic!("rotate_now answered {step:?}");
    };
    for base in [&pair.first.base, &pair.second.base] {
        eventually(&format!("{base} signs with {kid}"), || async {
            let tokens = service_tokens(base).await;
            kid_of(tokens.access_token().secret()) == kid
        })
        .await;
        assert!(jwks_kids(base).await.contains(&kid));
    }
    // A token the second signs with the new key is accepted by the first's API.
    let tokens = alice_tokens(&pair.first.base, "read:users").await;
    assert_eq!(kid_of(tokens.access_token().secret()), kid);
    let access = tokens.access_token().secret();
    assert_eq!(get_api(&pair.second.base, "/api/users", access).await, 200);
}

/// Failure budgets are each instance's own (kept in its memory, not in the database): a
/// caller blocked at one instance is still counted afresh at the other, so with N
/// instances a guesser gets at most N budgets before every instance refuses it. That is
/// the trade-off chosen (see the README): a shared budget would cost a database write per
/// failed attempt and a read per check, on the path an attacker controls.
pub async fn failure_budgets_are_per_instance(pair: &Pair) {
    for _ in 0..FAILURE_BUDGET {
        let wrong =
            limits::service_token_with(&http(), &pair.first.base, "demo-service", "nope").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = limits::service_token_with(
        &http(),
        &pair.first.base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    limits::assert_limited(blocked, "token at the first instance").await;
    // The second instance has not counted this caller's failures.
    let right = limits::service_token_with(
        &http(),
        &pair.second.base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    assert_eq!(right.status(), StatusCode::OK);
    for _ in 0..FAILURE_BUDGET {
        let wrong =
            limits::service_token_with(&http(), &pair.second.base, "demo-service", "nope").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = limits::service_token_with(
        &http(),
        &pair.second.base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    limits::assert_limited(blocked, "token at the second instance").await;
}
