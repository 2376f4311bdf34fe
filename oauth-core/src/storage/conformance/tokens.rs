//! Properties of refresh rotation and revocation (of a token, a grant, a subject).

use super::*;

/// The first rotation of a refresh token stores the new tokens and marks it rotated; a
/// second rotation of it is `AlreadyRotated` and stores nothing; the new refresh token
/// rotates in turn.
pub async fn refresh_rotation_is_single_use<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;

    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Rotated,
        "storage conformance: the first rotation of a live refresh token must be Rotated"
    );
    for token in &next {
        assert!(
            token_of(&store, &token.hash).await.is_some(),
            "storage conformance: Rotated must store the new tokens"
        );
    }

    let replay = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &replay).await,
            "rotate_refresh"
        ),
        Rotation::AlreadyRotated,
        "storage conformance: rotating a rotated-away refresh token must be AlreadyRotated"
    );
    for token in &replay {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: only Rotated stores anything"
        );
    }

    let third = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&next[1].hash, &third).await,
            "rotate_refresh"
        ),
        Rotation::Rotated,
        "storage conformance: the refresh token a rotation stored must rotate in turn"
    );
}

/// Rotating a revoked refresh token, or one whose grant is revoked, is `Revoked` and
/// stores nothing (and marks nothing rotated).
pub async fn rotation_of_revoked_token_or_grant_is_refused<S: Storage>(store: S) {
    let kit = Kit::new();

    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    assert!(ok(
        store.revoke_token(&tokens[1].hash).await,
        "revoke_token"
    ));
    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Revoked,
        "storage conformance: rotating a revoked refresh token must be Revoked"
    );
    for token in &next {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: only Rotated stores anything (revoked token)"
        );
    }

    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Revoked,
        "storage conformance: rotating a refresh token of a revoked grant must be Revoked"
    );
    for token in &next {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: only Rotated stores anything (revoked grant)"
        );
    }
    assert!(
        token_of(&store, &tokens[1].hash)
            .await
            .is_some_and(|t| !t.rotated),
        "storage conformance: a refused rotation must not mark the token rotated"
    );
}

/// Rotating a hash never stored, or the hash of an access token (opaque or JWT), is
/// `NotFound` and stores nothing.
pub async fn rotation_of_unknown_or_non_refresh_token_is_not_found<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let access = kit.token(&grant, TokenKind::Access, 3600);
    let jwt = kit.token(&grant, TokenKind::JwtAccess, 3600);
    issue_ok(&store, &grant, &[access.clone(), jwt.clone()]).await;
    for (what, hash) in [
        ("an unknown hash", kit.hash()),
        ("an access token", access.hash),
        ("a JWT access token record", jwt.hash),
    ] {
        let next = kit.pair(&grant);
        assert_eq!(
            ok(store.rotate_refresh(&hash, &next).await, "rotate_refresh"),
            Rotation::NotFound,
            "storage conformance: rotating {what} must be NotFound"
        );
        for token in &next {
            assert_eq!(
                token_of(&store, &token.hash).await,
                None,
                "storage conformance: only Rotated stores anything ({what})"
            );
        }
    }
    assert!(
        token_of(&store, &access.hash)
            .await
            .is_some_and(|t| !t.rotated && !t.revoked),
        "storage conformance: a refused rotation must leave an access token unchanged"
    );
}

/// `revoke_token` revokes that one token (true), leaves its siblings live, and answers
/// false for a hash never stored.
pub async fn revoke_one_token<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    assert!(
        ok(store.revoke_token(&tokens[0].hash).await, "revoke_token"),
        "storage conformance: revoke_token must answer true for a stored token"
    );
    assert!(
        token_of(&store, &tokens[0].hash)
            .await
            .is_some_and(|t| t.revoked),
        "storage conformance: a revoked token must read back revoked"
    );
    assert_eq!(
        token_of(&store, &tokens[1].hash).await.as_ref(),
        Some(&tokens[1]),
        "storage conformance: revoking one token must leave the others of its grant unchanged"
    );
    assert!(
        !ok(store.revoke_token(&kit.hash()).await, "revoke_token"),
        "storage conformance: revoke_token must answer false for an unknown hash"
    );
}

/// `revoke_grant` revokes every token of the grant (those issued at several times, and
/// those a rotation stored) and no other, and answers how many went from live to
/// revoked: a token revoked before does not count, and a second call counts zero.
pub async fn revoke_grant_revokes_exactly_its_tokens<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let first = kit.pair(&grant);
    issue_ok(&store, &grant, &first).await;
    let more = vec![kit.token(&grant, TokenKind::JwtAccess, 3600)];
    issue_ok(&store, &grant, &more).await;
    let bystander = kit.grant(90 * 86_400);
    let bystander_tokens = kit.pair(&bystander);
    issue_ok(&store, &bystander, &bystander_tokens).await;
    assert!(ok(store.revoke_token(&first[0].hash).await, "revoke_token"));

    assert_eq!(
        ok(store.revoke_grant(&grant.id).await, "revoke_grant"),
        2,
        "storage conformance: revoke_grant must count the tokens that went from live to revoked"
    );
    for token in first.iter().chain(&more) {
        assert!(
            token_of(&store, &token.hash)
                .await
                .is_some_and(|t| t.revoked),
            "storage conformance: revoke_grant must revoke every token of the grant"
        );
    }
    for token in &bystander_tokens {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: revoke_grant must leave other grants' tokens alone"
        );
    }
    assert_eq!(
        ok(store.revoke_grant(&grant.id).await, "revoke_grant"),
        0,
        "storage conformance: revoking a revoked grant again must count zero"
    );

    // Tokens a rotation stored belong to the grant too.
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    for token in tokens.iter().chain(&next) {
        assert!(
            token_of(&store, &token.hash)
                .await
                .is_some_and(|t| t.revoked),
            "storage conformance: revoke_grant must revoke the tokens a rotation stored"
        );
    }
}

/// After `revoke_grant`, `issue` for that grant is `GrantRevoked` and stores nothing.
pub async fn revoke_grant_blocks_later_issue<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    issue_ok(&store, &grant, &kit.pair(&grant)).await;
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    issue_refused(
        &store,
        &grant,
        &kit.pair(&grant),
        "issue for a revoked grant must be GrantRevoked",
    )
    .await;
}

/// `revoke_grant` for a grant never issued answers 0 and leaves a mark: a later `issue`
/// for it is `GrantRevoked` and stores nothing (a code replay racing its first redemption).
pub async fn revoke_grant_before_issue_blocks_issue<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    assert_eq!(
        ok(store.revoke_grant(&grant.id).await, "revoke_grant"),
        0,
        "storage conformance: revoking a grant with no tokens must count zero"
    );
    issue_refused(
        &store,
        &grant,
        &kit.pair(&grant),
        "revoke_grant before the grant was ever issued must block issue",
    )
    .await;
}

/// `revoke_subject` revokes every grant of the subject (on several clients, the tokens a
/// rotation stored included) and nothing of another user's grants or of a client's own
/// grant, and answers how many tokens went from live to revoked: a token revoked
/// before does not count, and a second call counts zero.
pub async fn revoke_subject_revokes_exactly_that_subjects_grants<S: Storage>(store: S) {
    let kit = Kit::new();
    let subject = kit.subject();
    let first = kit.grant_of(Some(&subject), 90 * 86_400);
    let first_tokens = kit.pair(&first);
    issue_ok(&store, &first, &first_tokens).await;
    let rotated_to = kit.pair(&first);
    assert_eq!(
        ok(
            store
                .rotate_refresh(&first_tokens[1].hash, &rotated_to)
                .await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    let second = kit.grant_of(Some(&subject), 90 * 86_400);
    let second_tokens = kit.pair(&second);
    issue_ok(&store, &second, &second_tokens).await;
    assert!(ok(
        store.revoke_token(&second_tokens[0].hash).await,
        "revoke_token"
    ));
    let other_user = kit.grant_of(Some(&kit.subject()), 90 * 86_400);
    let other_user_tokens = kit.pair(&other_user);
    issue_ok(&store, &other_user, &other_user_tokens).await;
    let machine = kit.grant_of(None, 90 * 86_400);
    let machine_tokens = vec![kit.token(&machine, TokenKind::Access, 3600)];
    issue_ok(&store, &machine, &machine_tokens).await;

    // Live before: the first grant's four tokens (one rotated away), the second's refresh.
    assert_eq!(
        ok(store.revoke_subject(&subject).await, "revoke_subject"),
        5,
        "storage conformance: revoke_subject must count the tokens that went from live \
         (rotated ones included) to revoked"
    );
    for token in first_tokens.iter().chain(&rotated_to).chain(&second_tokens) {
        assert!(
            token_of(&store, &token.hash)
                .await
                .is_some_and(|t| t.revoked),
            "storage conformance: revoke_subject must revoke every token of every grant \
             of the subject"
        );
    }
    for token in other_user_tokens.iter().chain(&machine_tokens) {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: revoke_subject must leave other subjects' grants alone"
        );
    }
    assert_eq!(
        ok(store.revoke_subject(&subject).await, "revoke_subject"),
        0,
        "storage conformance: revoking a subject again must count zero"
    );
    assert_eq!(
        ok(store.revoke_subject(&kit.subject()).await, "revoke_subject"),
        0,
        "storage conformance: revoking a subject with no grant must count zero"
    );
}

/// After `revoke_subject`, `issue` for one of its grants is `GrantRevoked` and stores
/// nothing, its refresh tokens no longer rotate, and a grant known only by its code (a
/// code the user approved, not yet redeemed) is refused too when it is issued.
pub async fn revoke_subject_blocks_later_issue<S: Storage>(store: S) {
    let kit = Kit::new();
    let subject = kit.subject();
    let grant = kit.grant_of(Some(&subject), 90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    let mut code = kit.code(60, 90 * 86_400);
    code.subject.clone_from(&subject);
    insert_code(&store, &kit, code.clone()).await;
    // Another user's code, not redeemed either, stays redeemable.
    let other_code = kit.code(60, 90 * 86_400);
    insert_code(&store, &kit, other_code.clone()).await;

    ok(store.revoke_subject(&subject).await, "revoke_subject");

    issue_refused(
        &store,
        &grant,
        &kit.pair(&grant),
        "issue for a grant of a revoked subject must be GrantRevoked",
    )
    .await;
    assert_eq!(
        ok(
            store
                .rotate_refresh(&tokens[1].hash, &kit.pair(&grant))
                .await,
            "rotate_refresh"
        ),
        Rotation::Revoked,
        "storage conformance: a refresh token of a revoked subject must not rotate"
    );
    let CodeConsumption::Consumed(consumed) =
        ok(store.consume_code(&code.hash).await, "consume_code")
    else {
        panic!("storage conformance: revoke_subject must leave a code readable");
    };
    let from_code = consumed.grant();
    issue_refused(
        &store,
        &from_code,
        &kit.pair(&from_code),
        "revoke_subject must also revoke the grant of a code the subject approved and \
         that was not redeemed yet",
    )
    .await;
    let CodeConsumption::Consumed(other) =
        ok(store.consume_code(&other_code.hash).await, "consume_code")
    else {
        panic!("storage conformance: another user's code must stay redeemable");
    };
    let other_grant = other.grant();
    issue_ok(&store, &other_grant, &kit.pair(&other_grant)).await;
}
