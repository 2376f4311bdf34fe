//! The purge property.

use super::*;

#[track_caller]
fn assert_report(got: PurgeReport, codes: u64, tokens: u64, grants: u64, when: &str) {
    // One-time-use marks have a property of their own.
    assert_eq!(
        (got.codes, got.tokens, got.grants),
        (codes, tokens, grants),
        "storage conformance: purge_expired at {when} must remove exactly \
         {codes} codes, {tokens} tokens and {grants} grants"
    );
}

/// `purge_expired(before)` follows its contract exactly, boundaries included ("at or
/// before"): unconsumed codes go at `expires_at`, consumed ones at `grant_expires_at`;
/// access tokens (opaque and JWT records) at `expires_at`; refresh tokens, rotated-away
/// ones included, at `grant_expires_at`; grants at `expires_at`. What it keeps still
/// works: a consumed code is still reported consumed, a rotated-away refresh token is
/// still reported rotated, and the revocation mark of a grant never issued stays.
pub async fn purge_removes_exactly_what_expired<S: Storage>(store: S) {
    // Far in the past, away from every other property's records (see the module docs),
    // at a random second so that two runs rarely meet.
    let mut offset = [0u8; 3];
    RandomSource::new()
        .fill(&mut offset)
        .unwrap_or_else(|e| panic!("kit random: {e}"));
    let offset = i64::from(u32::from_be_bytes([0, offset[0], offset[1], offset[2]]));
    let kit = Kit::at(at(157_766_400 + offset)); // 1975-01-01 plus up to 194 days

    // Grant G ends at 1000: two access tokens and a JWT record, a refresh token that
    // expires at 500 and is rotated (its successors: an access token and a refresh token).
    let g = kit.grant(1000);
    let a1 = kit.token(&g, TokenKind::Access, 60);
    let j1 = kit.token(&g, TokenKind::JwtAccess, 60);
    let a2 = kit.token(&g, TokenKind::Access, 61);
    let r1 = kit.token(&g, TokenKind::Refresh, 500);
    issue_ok(
        &store,
        &g,
        &[a1.clone(), j1.clone(), a2.clone(), r1.clone()],
    )
    .await;
    let a3 = kit.token(&g, TokenKind::Access, 120);
    let r2 = kit.token(&g, TokenKind::Refresh, 500);
    assert_eq!(
        ok(
            store
                .rotate_refresh(&r1.hash, &[a3.clone(), r2.clone()])
                .await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    // Grant H ends at 100, with one access token expiring at 50 (client credentials).
    let mut h = kit.grant(100);
    h.subject = None;
    let b1 = kit.token(&h, TokenKind::Access, 50);
    issue_ok(&store, &h, std::slice::from_ref(&b1)).await;
    // Codes: C1 unused, expires at 60; C2 unused, expires at 61; C3 consumed, expires at
    // 60, its grant ends at 1000.
    let c1 = kit.code(60, 1000);
    let c2 = kit.code(61, 1000);
    let c3 = kit.code(60, 1000);
    for code in [&c1, &c2, &c3] {
        insert_code(&store, &kit, code.clone()).await;
    }
    assert!(matches!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::Consumed(_)
    ));
    // M: revoked before it was ever issued.
    let m = kit.grant(1000);
    ok(store.revoke_grant(&m.id).await, "revoke_grant");

    let present = |hash: SecretHash| {
        let store = &store;
        async move { token_of(store, &hash).await.is_some() }
    };

    assert_report(
        ok(store.purge_expired(kit.t(49)).await, "purge_expired"),
        0,
        0,
        0,
        "t+49",
    );
    for token in [&a1, &j1, &a2, &r1, &a3, &r2, &b1] {
        assert!(
            present(token.hash).await,
            "storage conformance: purge must keep a {:?} token that expires later",
            token.kind
        );
    }

    // t+60: C1 (unused, expired at 60); A1, J1 (60) and B1 (50). C3 is consumed: kept.
    assert_report(
        ok(store.purge_expired(kit.t(60)).await, "purge_expired"),
        1,
        3,
        0,
        "t+60",
    );
    assert_eq!(
        ok(store.consume_code(&c1.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove an unused code at its expires_at"
    );
    assert_eq!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::AlreadyConsumed(c3.clone()),
        "storage conformance: purge must keep a consumed code until its grant_expires_at \
         (replay detection needs it)"
    );
    for token in [&a1, &j1, &b1] {
        assert!(
            !present(token.hash).await,
            "storage conformance: purge must remove a {:?} token at its expires_at",
            token.kind
        );
    }
    for token in [&a2, &r1, &a3, &r2] {
        assert!(
            present(token.hash).await,
            "storage conformance: purge at t+60 must keep a {:?} token expiring later",
            token.kind
        );
    }

    // t+100: C2 (61), A2 (61) and grant H (100).
    assert_report(
        ok(store.purge_expired(kit.t(100)).await, "purge_expired"),
        1,
        1,
        1,
        "t+100",
    );
    assert_eq!(
        ok(store.consume_code(&c2.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove an unused code after its expires_at"
    );
    assert!(!present(a2.hash).await);

    // t+999: A3 (120). R1 and R2 expired at 500 but stay until their grant ends: the
    // rotated-away R1 is what detects a reuse.
    assert_report(
        ok(store.purge_expired(kit.t(999)).await, "purge_expired"),
        0,
        1,
        0,
        "t+999",
    );
    assert!(!present(a3.hash).await);
    let replay = kit.pair(&g);
    assert_eq!(
        ok(
            store.rotate_refresh(&r1.hash, &replay).await,
            "rotate_refresh"
        ),
        Rotation::AlreadyRotated,
        "storage conformance: purge must keep a rotated-away refresh token until its \
         grant_expires_at (reuse detection needs it)"
    );
    assert!(present(r2.hash).await);
    assert_eq!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::AlreadyConsumed(c3.clone())
    );

    // t+1000: C3, R1, R2 and grant G.
    assert_report(
        ok(store.purge_expired(kit.t(1000)).await, "purge_expired"),
        1,
        2,
        1,
        "t+1000",
    );
    assert_eq!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove a consumed code at its grant_expires_at"
    );
    assert!(!present(r1.hash).await && !present(r2.hash).await);

    // The mark of a grant revoked before it was issued has no expiry: it stays.
    let late = kit.pair(&m);
    assert_eq!(
        ok(store.issue(&m, &late).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: purge must keep the revocation mark of a grant never issued"
    );
}
