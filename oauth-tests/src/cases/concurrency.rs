//! Concurrency: SC-01 and SC-02 of SECURITY.md.

use std::sync::Arc;

use oauth_core::storage::CodeConsumption;
use oauth_core::{CodeStore, SecretHash, Storage, TokenOutcome};

use crate::*;

const RACERS: usize = 50;

/// SC-01: 50 concurrent consumptions of one code: exactly one wins. Checked twice: at
/// the single-use storage call (`consume_code`; `redeem_code` spends the same mark, and
/// the storage kit races the two together), and through the token endpoint, where every
/// loser is a replay with a valid proof and so revokes the grant; there, at most one
/// request gets tokens and none of them survive.
pub async fn sc01_concurrent_code_redemptions_exactly_one_wins<S: Storage + 'static>(
    h: Harness<S>,
) {
    let h = Arc::new(h);

    // The storage contract: exactly one consume_code call gets the code.
    let code = h.spa_code().await;
    let hash = SecretHash::of(&code);
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (store, barrier) = (h.store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.consume_code(&hash).await.unwrap()
            })
        })
        .collect();
    let mut consumed = 0;
    for task in tasks {
        match task.await.unwrap() {
            CodeConsumption::Consumed(_) => consumed += 1,
            CodeConsumption::AlreadyConsumed(_) => {}
            CodeConsumption::NotFound => panic!("the code exists"),
            other => panic!("an answer this test does not know: {other:?}"),
        }
    }
    assert_eq!(consumed, 1, "exactly one consumption must win");

    // Through the token endpoint.
    let code = h.spa_code().await;
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (h, code, barrier) = (h.clone(), code.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let pairs = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("client_id", "spa"),
                    ("redirect_uri", SPA_REDIRECT),
                    ("code_verifier", VERIFIER),
                ];
                h.token(&pairs, None).await
            })
        })
        .collect();
    let mut issued = Vec::new();
    for task in tasks {
        if let TokenOutcome::Issued(tokens) = task.await.unwrap() {
            issued.push(tokens);
        }
    }
    assert!(issued.len() <= 1, "{} redemptions got tokens", issued.len());
    for tokens in issued {
        assert!(!h.is_active(&tokens.access_token).await);
        assert!(!h.is_active(tokens.refresh_token.as_ref().unwrap()).await);
    }
}

/// SC-02: 50 concurrent refreshes with one refresh token: exactly one succeeds, and no
/// second live family remains (the losers' reuse revokes the grant).
pub async fn sc02_concurrent_refreshes_exactly_one_wins<S: Storage + 'static>(h: Harness<S>) {
    let h = Arc::new(h);
    let tokens = h.redeem_spa(&h.spa_code().await).await;
    let refresh = tokens.refresh_token.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (h, refresh, barrier) = (h.clone(), refresh.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                h.refresh_spa(&refresh, None).await
            })
        })
        .collect();
    let mut issued = Vec::new();
    for task in tasks {
        if let TokenOutcome::Issued(tokens) = task.await.unwrap() {
            issued.push(tokens);
        }
    }
    assert_eq!(issued.len(), 1, "exactly one rotation must win");
    // Every other racer presented a rotated-away token: the grant is revoked, so the
    // winner's tokens are dead too and no family lives on.
    let winner = &issued[0];
    assert!(!h.is_active(winner.refresh_token.as_ref().unwrap()).await);
    assert!(!h.is_active(&winner.access_token).await);
}
