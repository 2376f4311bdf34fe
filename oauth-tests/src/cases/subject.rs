//! Ending every grant of one user (`Engine::revoke_subject`).

use oauth_core::{ErrorCode, Storage};

use crate::*;

/// RF-06 (subject): revoking a user revokes every grant of that user, on every client
/// (their refresh and access tokens go inactive, a refresh is then `invalid_grant`), and
/// nothing of another user's.
pub async fn rf06_revoking_a_subject_revokes_every_grant_of_that_user<S: Storage + 'static>(
    h: Harness<S>,
) {
    let alice_spa = h.redeem_spa(&h.spa_code_of("alice").await).await;
    let alice_server = expect_issued(
        h.redeem_server(&h.server_code_of("read:users", "alice").await)
            .await,
    );
    let bob_spa = h.redeem_spa(&h.spa_code_of("bob").await).await;
    // A code alice approved and has not redeemed yet.
    let alice_pending_code = h.spa_code_of("alice").await;

    let revoked = h.engine.revoke_subject("alice").await.expect("no fault");
    assert_eq!(revoked, 4, "two grants of alice, two tokens each");

    for tokens in [&alice_spa, &alice_server] {
        assert!(!h.is_active(&tokens.access_token).await);
        assert!(!h.is_active(tokens.refresh_token.as_ref().unwrap()).await);
    }
    expect_refused(
        &h.refresh_spa(alice_spa.refresh_token.as_ref().unwrap(), None)
            .await,
        ErrorCode::InvalidGrant,
        400,
    );
    let late = h
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &alice_pending_code),
                ("client_id", "spa"),
                ("redirect_uri", SPA_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            None,
        )
        .await;
    expect_refused(&late, ErrorCode::InvalidGrant, 400);

    assert!(h.is_active(&bob_spa.access_token).await);
    assert!(h.is_active(bob_spa.refresh_token.as_ref().unwrap()).await);
    expect_issued(
        h.refresh_spa(bob_spa.refresh_token.as_ref().unwrap(), None)
            .await,
    );
    assert_eq!(
        h.engine.revoke_subject("alice").await.expect("no fault"),
        0,
        "nothing is left to revoke"
    );
}
