//! The purge properties: what a purge removes, and that it goes in bounded steps.

use super::*;

#[track_caller]
fn assert_report(got: PurgeReport, codes: u64, tokens: u64, grants: u64, when: &str) {
    assert!(
        !got.more,
        "storage conformance: a purge ends with a call that answers `more == false`"
    );
    // One-time-use marks have a property of their own.
    assert_eq!(
        (got.codes, got.tokens, got.grants),
        (codes, tokens, grants),
        "storage conformance: a purge at {when} must remove exactly \
         {codes} codes, {tokens} tokens and {grants} grants"
    );
}

/// A purge at `before` (calls of `purge_expired_batch` until `more` is `false`) follows
/// its contract exactly, boundaries included ("at or before"): unconsumed codes go at `expires_at`, consumed ones at `grant_expires_at`;
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

    assert_report(purge_all(&store, kit.t(49), 2).await, 0, 0, 0, "t+49");
    for token in [&a1, &j1, &a2, &r1, &a3, &r2, &b1] {
        assert!(
            present(token.hash).await,
            "storage conformance: purge must keep a {:?} token that expires later",
            token.kind
        );
    }

    // t+60: C1 (unused, expired at 60); A1, J1 (60) and B1 (50). C3 is consumed: kept.
    assert_report(purge_all(&store, kit.t(60), 2).await, 1, 3, 0, "t+60");
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
    assert_report(purge_all(&store, kit.t(100), 2).await, 1, 1, 1, "t+100");
    assert_eq!(
        ok(store.consume_code(&c2.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove an unused code after its expires_at"
    );
    assert!(!present(a2.hash).await);

    // t+999: A3 (120). R1 and R2 expired at 500 but stay until their grant ends: the
    // rotated-away R1 is what detects a reuse.
    assert_report(purge_all(&store, kit.t(999), 2).await, 0, 1, 0, "t+999");
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
    assert_report(purge_all(&store, kit.t(1000), 2).await, 1, 2, 1, "t+1000");
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

/// How many expired records of each kind [`sc07_purge_goes_in_steps_of_its_limit`] writes,
/// and the limit it purges them with: several full steps, then a partial one.
const EXPIRED_EACH: usize = 11;
const STEP_LIMIT: usize = 4;

/// A store holding many expired records and some it must keep purges them in steps of
/// `limit`: every `purge_expired_batch` call removes at most `limit` codes, tokens,
/// grants and marks, the calls end with `more == false` (after no more calls than the
/// largest kind needs, plus one), together they remove every expired record, and what
/// must be kept remains: live records, a consumed code and a rotated-away refresh token
/// of a live grant, a JWT record and a mark until their `expires_at`, and the revocation
/// mark of a grant never issued. A last call then finds nothing. (A purge property: its
/// records sit around 1972, apart from every other one's.)
pub async fn sc07_purge_goes_in_steps_of_its_limit<S: Storage>(store: S) {
    let mut offset = [0u8; 3];
    RandomSource::new()
        .fill(&mut offset)
        .unwrap_or_else(|e| panic!("kit random: {e}"));
    let offset = i64::from(u32::from_be_bytes([0, offset[0], offset[1], offset[2]]));
    // Before the other purge properties' records: they run before this one on a shared
    // database, and what they keep is later than anything this one purges.
    let kit = Kit::at(at(63_072_000 + offset)); // 1972-01-01 plus up to 194 days
    let before = kit.t(500);

    // Expired: grants ending at 100, each with an access token and a refresh token;
    // unused codes and marks expiring at 60 (each code stored under a mark of its own,
    // which expires with it).
    let mut gone_tokens = Vec::new();
    let mut gone_codes = Vec::new();
    for _ in 0..EXPIRED_EACH {
        let grant = kit.grant(100);
        let tokens = vec![
            kit.token(&grant, TokenKind::Access, 60),
            kit.token(&grant, TokenKind::Refresh, 100),
        ];
        issue_ok(&store, &grant, &tokens).await;
        gone_tokens.extend(tokens);
        let code = kit.code(60, 1000);
        insert_code(&store, &kit, code.clone()).await;
        gone_codes.push(code);
        assert!(ok(store.use_once(&kit.hash(), kit.t(60)).await, "use_once"));
    }

    // Kept: a grant ending at 1000 whose refresh token expired at 60 and was rotated
    // away (reuse detection needs it), its successors, a JWT record and a mark expiring
    // at 1000, a consumed code of a grant ending at 1000, and a grant revoked unissued.
    let live = kit.grant(1000);
    let old_refresh = kit.token(&live, TokenKind::Refresh, 60);
    let jwt = kit.token(&live, TokenKind::JwtAccess, 1000);
    issue_ok(&store, &live, &[old_refresh.clone(), jwt.clone()]).await;
    let successors = vec![
        kit.token(&live, TokenKind::Access, 1000),
        kit.token(&live, TokenKind::Refresh, 1000),
    ];
    assert_eq!(
        ok(
            store.rotate_refresh(&old_refresh.hash, &successors).await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    let consumed = kit.code(60, 1000);
    insert_code(&store, &kit, consumed.clone()).await;
    assert!(matches!(
        ok(store.consume_code(&consumed.hash).await, "consume_code"),
        CodeConsumption::Consumed(_)
    ));
    let kept_mark = kit.hash();
    assert!(ok(
        store.use_once(&kept_mark, kit.t(1000)).await,
        "use_once"
    ));
    let unissued = kit.grant(1000);
    ok(store.revoke_grant(&unissued.id).await, "revoke_grant");

    let expired = EXPIRED_EACH as u64;
    let mut total = PurgeReport::default();
    let mut steps = 0;
    // Marks: one per code (the consumed code's included, as it was approved at 60) and
    // one alone, per round.
    let largest = 2 * EXPIRED_EACH + 1;
    let most_steps = largest.div_ceil(STEP_LIMIT) + 1;
    loop {
        steps += 1;
        assert!(
            steps <= most_steps,
            "storage conformance: a purge of {largest} records of a kind in steps of \
             {STEP_LIMIT} must end within {most_steps} calls"
        );
        let step = ok(
            store.purge_expired_batch(before, STEP_LIMIT).await,
            "purge_expired_batch",
        );
        let bound = STEP_LIMIT as u64;
        assert!(
            step.codes <= bound
                && step.tokens <= bound
                && step.grants <= bound
                && step.uses <= bound,
            "storage conformance: purge_expired_batch with limit {STEP_LIMIT} must remove \
             at most {STEP_LIMIT} records of each kind, removed {step:?}"
        );
        total = total + step;
        if !step.more {
            break;
        }
    }
    assert_eq!(
        (total.codes, total.tokens, total.grants, total.uses),
        (expired, 2 * expired, expired, 2 * expired + 1),
        "storage conformance: the steps together must remove every expired code, token, \
         grant and mark, and nothing else"
    );
    let last = ok(
        store.purge_expired_batch(before, STEP_LIMIT).await,
        "purge_expired_batch",
    );
    assert_eq!(
        (last.codes, last.tokens, last.grants, last.uses, last.more),
        (0, 0, 0, 0, false),
        "storage conformance: after a purge answered `more == false`, another finds nothing"
    );

    for token in &gone_tokens {
        assert!(
            token_of(&store, &token.hash).await.is_none(),
            "storage conformance: a purge in steps must remove every expired {:?} token",
            token.kind
        );
    }
    for code in &gone_codes {
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::NotFound,
            "storage conformance: a purge in steps must remove every expired code"
        );
    }
    for token in successors.iter().chain([&jwt]) {
        assert!(
            token_of(&store, &token.hash).await.is_some(),
            "storage conformance: a purge must keep a live {:?} token",
            token.kind
        );
    }
    assert_eq!(
        ok(
            store
                .rotate_refresh(&old_refresh.hash, &kit.pair(&live))
                .await,
            "rotate_refresh"
        ),
        Rotation::AlreadyRotated,
        "storage conformance: a purge must keep a rotated-away refresh token until its \
         grant_expires_at"
    );
    assert_eq!(
        ok(store.consume_code(&consumed.hash).await, "consume_code"),
        CodeConsumption::AlreadyConsumed(consumed.clone()),
        "storage conformance: a purge must keep a consumed code until its grant_expires_at"
    );
    assert!(
        !ok(store.use_once(&kept_mark, kit.t(1000)).await, "use_once"),
        "storage conformance: a purge must keep a mark until its expires_at"
    );
    assert_eq!(
        ok(store.issue(&unissued, &kit.pair(&unissued)).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: a purge must keep the revocation mark of a grant never issued"
    );
}
