//! The concurrency properties (run these on a multi-thread runtime).

use super::*;

/// SC-01: [`RACERS`] tasks consume one code at once: exactly one gets `Consumed`, every
/// other gets `AlreadyConsumed` with the same record.
pub async fn sc01_concurrent_code_consumption_has_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    let outcomes = race(|| {
        let (store, hash) = (store.clone(), code.hash);
        async move { store.consume_code(&hash).await }
    })
    .await;
    let mut winners = 0;
    for outcome in outcomes {
        match ok(outcome, "consume_code (racing)") {
            CodeConsumption::Consumed(record) => {
                assert_eq!(
                    record, code,
                    "storage conformance: Consumed with another record"
                );
                winners += 1;
            }
            CodeConsumption::AlreadyConsumed(record) => assert_eq!(
                record, code,
                "storage conformance: AlreadyConsumed with another record"
            ),
            CodeConsumption::NotFound => {
                panic!("storage conformance: a racing consume_code lost the code (NotFound)")
            }
        }
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing consume_code calls must win"
    );
}

/// SC-02: [`RACERS`] tasks rotate one refresh token at once, each with its own new
/// tokens: exactly one gets `Rotated`, every other `AlreadyRotated`, and only the
/// winner's new tokens are stored (never two live families).
pub async fn sc02_concurrent_rotation_has_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&*store, &grant, &tokens).await;
    let outcomes = race(|| {
        let next = kit.pair(&grant);
        let (store, old) = (store.clone(), tokens[1].hash);
        async move {
            let rotation = store.rotate_refresh(&old, &next).await;
            (rotation, next)
        }
    })
    .await;
    let mut winners = 0;
    for (rotation, next) in outcomes {
        let won = match ok(rotation, "rotate_refresh (racing)") {
            Rotation::Rotated => true,
            Rotation::AlreadyRotated => false,
            other => panic!("storage conformance: a racing rotation got {other:?}"),
        };
        winners += usize::from(won);
        for token in &next {
            assert_eq!(
                token_of(&*store, &token.hash).await.is_some(),
                won,
                "storage conformance: exactly the winning rotation's tokens must be stored"
            );
        }
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing rotations must win"
    );
    assert!(
        token_of(&*store, &tokens[1].hash)
            .await
            .is_some_and(|t| t.rotated),
        "storage conformance: the raced refresh token must end rotated"
    );
}

/// `revoke_grant` racing the grant's first `issue`: either the issue comes first and its
/// tokens end revoked (and counted), or it answers `GrantRevoked` and stores nothing.
/// Never a live token after both returned.
pub async fn revoke_grant_racing_issue_leaves_no_live_token<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    for _ in 0..RACERS {
        let grant = kit.grant(90 * 86_400);
        let tokens = kit.pair(&grant);
        let (issued, revoked) = race_pair(
            {
                let (store, grant, tokens) = (store.clone(), grant.clone(), tokens.clone());
                async move { store.issue(&grant, &tokens).await }
            },
            {
                let (store, id) = (store.clone(), grant.id.clone());
                async move { store.revoke_grant(&id).await }
            },
        )
        .await;
        let (issued, revoked) = (ok(issued, "issue (racing)"), ok(revoked, "revoke_grant"));
        for token in &tokens {
            let stored = token_of(&*store, &token.hash).await;
            match issued {
                Issuance::Issued => assert!(
                    stored.is_some_and(|t| t.revoked),
                    "storage conformance: tokens issued before a racing revoke_grant must end revoked"
                ),
                Issuance::GrantRevoked => assert_eq!(
                    stored, None,
                    "storage conformance: GrantRevoked must store nothing"
                ),
            }
        }
        let expected = match issued {
            Issuance::Issued => tokens.len() as u64,
            Issuance::GrantRevoked => 0,
        };
        assert_eq!(
            revoked, expected,
            "storage conformance: a racing revoke_grant must count exactly the tokens it revoked"
        );
    }
}

/// `revoke_grant` racing a rotation of the grant's refresh token: either the rotation
/// comes first and its new tokens end revoked, or it answers `Revoked` and stores
/// nothing. Never a live token after both returned.
pub async fn revoke_grant_racing_rotation_leaves_no_live_token<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    for _ in 0..RACERS {
        let grant = kit.grant(90 * 86_400);
        let tokens = kit.pair(&grant);
        issue_ok(&*store, &grant, &tokens).await;
        let next = kit.pair(&grant);
        let (rotated, revoked) = race_pair(
            {
                let (store, old, next) = (store.clone(), tokens[1].hash, next.clone());
                async move { store.rotate_refresh(&old, &next).await }
            },
            {
                let (store, id) = (store.clone(), grant.id.clone());
                async move { store.revoke_grant(&id).await }
            },
        )
        .await;
        let rotated = ok(rotated, "rotate_refresh (racing)");
        ok(revoked, "revoke_grant (racing)");
        for token in tokens.iter().chain(&next) {
            let stored = token_of(&*store, &token.hash).await;
            match (&rotated, next.contains(token)) {
                (Rotation::Revoked, true) => assert_eq!(
                    stored, None,
                    "storage conformance: a rotation refused as Revoked must store nothing"
                ),
                (Rotation::Rotated | Rotation::Revoked, _) => assert!(
                    stored.is_some_and(|t| t.revoked),
                    "storage conformance: every token of a grant revoked during a rotation \
                     must end revoked"
                ),
                (other, _) => panic!("storage conformance: a racing rotation got {other:?}"),
            }
        }
    }
}

/// [`RACERS`] tasks approve with one key at once, each with its own code: exactly one
/// gets `true`, and exactly its code is stored.
pub async fn sc06_concurrent_approvals_store_one_code<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let key = kit.hash();
    let expires_at = kit.t(600);
    let outcomes = race(|| {
        let (store, code) = (store.clone(), kit.code(60, 86_400));
        async move {
            let hash = code.hash;
            store
                .use_once_and_insert_code(&key, expires_at, code)
                .await
                .map(|won| (won, hash))
        }
    })
    .await;
    let mut winners = 0;
    for outcome in outcomes {
        let (won, hash) = ok(outcome, "use_once_and_insert_code (racing)");
        let stored = !matches!(
            ok(store.consume_code(&hash).await, "consume_code"),
            CodeConsumption::NotFound
        );
        assert_eq!(
            won, stored,
            "storage conformance: a racing approval's code must be stored exactly when it won"
        );
        winners += usize::from(won);
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing approvals must win"
    );
}

/// [`RACERS`] tasks use one key at once: exactly one gets `true`.
pub async fn sc06_concurrent_use_once_has_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let key = kit.hash();
    let expires_at = kit.t(600);
    let outcomes = race(|| {
        let store = store.clone();
        async move { store.use_once(&key, expires_at).await }
    })
    .await;
    let mut winners = 0;
    for outcome in outcomes {
        if ok(outcome, "use_once (racing)") {
            winners += 1;
        }
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing use_once calls must win"
    );
}
