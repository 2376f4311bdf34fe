//! Properties of authorization codes, and the round trip of code and token records.

use super::*;

/// The first `consume_code` gets `Consumed` with the record; every later one gets
/// `AlreadyConsumed` with the same record.
pub async fn code_is_consumed_once<S: Storage>(store: S) {
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    assert_eq!(
        ok(store.consume_code(&code.hash).await, "consume_code"),
        CodeConsumption::Consumed(code.clone()),
        "storage conformance: the first consumption of a code must be Consumed with its record"
    );
    for _ in 0..2 {
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code.clone()),
            "storage conformance: a code consumed before must be AlreadyConsumed with the same record"
        );
    }
}

/// A hash never stored gives `NotFound`.
pub async fn unknown_code_is_not_found<S: Storage>(store: S) {
    let kit = Kit::new();
    assert_eq!(
        ok(store.consume_code(&kit.hash()).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: an unknown code must be NotFound"
    );
}

/// A second code with a stored hash is a `Conflict`, leaves the first unchanged, and
/// leaves the approval's key unused (both or neither).
pub async fn duplicate_code_is_a_conflict<S: Storage>(store: S) {
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    let mut twin = kit.code(120, 7200);
    twin.hash = code.hash;
    let key = kit.hash();
    expect_conflict(
        store.use_once_and_insert_code(&key, kit.t(600), twin).await,
        "use_once_and_insert_code with a code hash already stored",
    );
    assert_eq!(
        ok(store.consume_code(&code.hash).await, "consume_code"),
        CodeConsumption::Consumed(code),
        "storage conformance: a refused duplicate insert must leave the stored code unchanged"
    );
    assert!(
        ok(store.use_once(&key, kit.t(600)).await, "use_once"),
        "storage conformance: a refused use_once_and_insert_code must not mark its key \
         (both or neither)"
    );
}

/// `issue` with a token hash already stored is a `Conflict`, and stores nothing: not the
/// other tokens of the call, and no change to the stored token.
pub async fn duplicate_token_is_a_conflict<S: Storage>(store: S) {
    let kit = Kit::new();
    let first = kit.grant(86_400);
    let tokens = kit.pair(&first);
    issue_ok(&store, &first, &tokens).await;

    let second = kit.grant(86_400);
    let fresh = kit.token(&second, TokenKind::Access, 3600);
    let mut twin = kit.token(&second, TokenKind::Refresh, 86_400);
    twin.hash = tokens[1].hash;
    expect_conflict(
        store.issue(&second, &[fresh.clone(), twin]).await,
        "issue with a token hash already stored",
    );
    assert_eq!(
        token_of(&store, &fresh.hash).await,
        None,
        "storage conformance: a refused issue must store none of its tokens (all or nothing)"
    );
    assert_eq!(
        token_of(&store, &tokens[1].hash).await.as_ref(),
        Some(&tokens[1]),
        "storage conformance: a refused issue must leave the stored token unchanged"
    );
}

/// Every field of a code comes back: Unicode subject, both states of each `Option`,
/// scope sets (several, and empty), times to the second (before 1970, past the 32-bit
/// limit of 2038, and in year 9999), the sign-in whole (every field set, only its
/// `auth_time`, or none), and the DPoP key binding (a thumbprint, or none).
pub async fn code_record_round_trip<S: Storage>(store: S) {
    let kit = Kit::new();
    let mut full = kit.code(60, 90 * 86_400);
    full.sign_in = Some(kit.sign_in());
    full.dpop_jkt = Some(kit.jkt());
    let mut bare = kit.code(60, 90 * 86_400);
    bare.redirect_uri = None;
    bare.code_challenge = None;
    bare.subject = "user-42".to_owned();
    bare.scope = ScopeSet::empty();
    let mut odd_times = kit.code(0, 0);
    odd_times.scope = scopes("a!#$%&'()*+,-./:;<=>?@[]^_`{|}~ z");
    odd_times.issued_at = at(-14_182_940); // 1969-07-20T20:17:40Z
    odd_times.expires_at = at(2_147_483_648); // 2038-01-19T03:14:08Z: past i32
    odd_times.grant_expires_at = at(253_402_300_799); // 9999-12-31T23:59:59Z
    odd_times.sign_in = Some(SignIn::new(at(-14_182_940)));
    for code in [full, bare, odd_times] {
        insert_code(&store, &kit, code.clone()).await;
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::Consumed(code.clone()),
            "storage conformance: every field of a code must survive a round trip"
        );
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code),
            "storage conformance: every field of a consumed code must survive a round trip"
        );
    }
}

/// The sign-in of a grant comes back exactly at every step the engine takes with it,
/// for a grant with one (an OpenID Connect request) and one without: the code's, nonce
/// included, when it is consumed and when it is replayed; the tokens issued from it (the
/// refresh token with the sign-in less its nonce, the access token with none); and the
/// tokens three rotations in turn store, whose refresh token carries the sign-in less
/// its nonce, then the code's whole, then a later one: what a store derives from the
/// code it must tell apart from what it must keep.
pub async fn sign_in_round_trip_from_code_to_rotated_tokens<S: Storage>(store: S) {
    let kit = Kit::new();
    let mut oidc = kit.code(60, 90 * 86_400);
    oidc.sign_in = Some(kit.sign_in());
    let plain = kit.code(60, 90 * 86_400);
    let mut later = kit.sign_in().without_nonce();
    later.auth_time = kit.t(3600);
    later.acr = None;
    for code in [oidc, plain] {
        insert_code(&store, &kit, code.clone()).await;
        let consumed = match ok(store.consume_code(&code.hash).await, "consume_code") {
            CodeConsumption::Consumed(consumed) => consumed,
            other => panic!("storage conformance: a new code must be Consumed, got {other:?}"),
        };
        assert_eq!(
            consumed, code,
            "storage conformance: a code's sign-in must survive a round trip"
        );
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code.clone()),
            "storage conformance: a consumed code's sign-in must survive a round trip"
        );

        let grant = consumed.grant();
        let kept = code.sign_in.as_ref().map(SignIn::without_nonce);
        let mut tokens = kit.pair(&grant);
        tokens[1].sign_in.clone_from(&kept);
        issue_ok(&store, &grant, &tokens).await;
        for token in &tokens {
            assert_eq!(
                token_of(&store, &token.hash).await.as_ref(),
                Some(token),
                "storage conformance: the sign-in of a {:?} token issued from a code must \
                 survive a round trip",
                token.kind
            );
        }

        let mut old = tokens[1].hash;
        for sign_in in [kept, Some(kit.sign_in()), Some(later.clone())] {
            let mut next = kit.pair(&grant);
            next[1].sign_in = sign_in;
            assert_eq!(
                ok(store.rotate_refresh(&old, &next).await, "rotate_refresh"),
                Rotation::Rotated
            );
            for token in &next {
                assert_eq!(
                    token_of(&store, &token.hash).await.as_ref(),
                    Some(token),
                    "storage conformance: the sign-in of a {:?} token a rotation stored must \
                     survive a round trip",
                    token.kind
                );
            }
            old = next[1].hash;
        }
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code),
            "storage conformance: a code's sign-in must be unchanged by its grant's tokens"
        );
    }
}

/// The DPoP key binding of a code and of the tokens issued from it comes back exactly at
/// every step the engine takes with it, for a bound code and an unbound one, each with a
/// sign-in (an OpenID Connect request) and without: the code's, when it is consumed and
/// when it is replayed; that of tokens of every kind issued bound to the code's key, to
/// another key and to none, beside sign-ins kept whole, less the nonce, or not at all;
/// and that of the tokens four rotations in turn store, bound to the key of the token
/// they replace, then to none, then to a new key without a sign-in and with one, while
/// the token each replaced keeps its own. What a store keeps once for a grant it must
/// tell apart from what differs token by token.
pub async fn dpop_jkt_round_trips_from_code_to_rotated_tokens<S: Storage>(store: S) {
    let kit = Kit::new();
    for (bound, openid) in [(true, false), (false, false), (true, true), (false, true)] {
        let mut code = kit.code(60, 90 * 86_400);
        code.dpop_jkt = bound.then(|| kit.jkt());
        if openid {
            code.sign_in = Some(kit.sign_in());
        }
        insert_code(&store, &kit, code.clone()).await;
        let consumed = match ok(store.consume_code(&code.hash).await, "consume_code") {
            CodeConsumption::Consumed(consumed) => consumed,
            other => panic!("storage conformance: a new code must be Consumed, got {other:?}"),
        };
        assert_eq!(
            consumed, code,
            "storage conformance: a code's DPoP key binding must survive a round trip"
        );
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code.clone()),
            "storage conformance: a consumed code's DPoP key binding must survive a round trip"
        );

        let grant = consumed.grant();
        let kept = code.sign_in.as_ref().map(SignIn::without_nonce);
        let mut tokens = Vec::new();
        for jkt in [code.dpop_jkt.clone(), Some(kit.jkt()), None] {
            for kind in [TokenKind::Access, TokenKind::Refresh, TokenKind::JwtAccess] {
                let mut token = kit.token(&grant, kind, 3600);
                token.dpop_jkt.clone_from(&jkt);
                token.sign_in = match kind {
                    TokenKind::Access => None,
                    TokenKind::Refresh => kept.clone(),
                    TokenKind::JwtAccess => code.sign_in.clone(),
                };
                tokens.push(token);
            }
        }
        issue_ok(&store, &grant, &tokens).await;
        for token in &tokens {
            assert_eq!(
                token_of(&store, &token.hash).await.as_ref(),
                Some(token),
                "storage conformance: the DPoP key binding of a {:?} token issued from a \
                 code must survive a round trip",
                token.kind
            );
        }

        // The first refresh token bound to a key: the code's, or for an unbound code the
        // other one.
        let Some(mut old) = tokens
            .iter()
            .find(|t| t.kind == TokenKind::Refresh && t.dpop_jkt.is_some())
            .cloned()
        else {
            panic!("storage conformance kit: no bound refresh token among those issued");
        };
        let new_key = Some(kit.jkt());
        for (jkt, sign_in) in [
            (old.dpop_jkt.clone(), kept.clone()),
            (None, kept.clone()),
            (new_key.clone(), None),
            (new_key.clone(), Some(kit.sign_in())),
        ] {
            let mut next = kit.pair(&grant);
            for token in &mut next {
                token.dpop_jkt.clone_from(&jkt);
            }
            next[1].sign_in = sign_in;
            assert_eq!(
                ok(
                    store.rotate_refresh(&old.hash, &next).await,
                    "rotate_refresh"
                ),
                Rotation::Rotated
            );
            for token in &next {
                assert_eq!(
                    token_of(&store, &token.hash).await.as_ref(),
                    Some(token),
                    "storage conformance: the DPoP key binding of a {:?} token a rotation \
                     stored must survive a round trip",
                    token.kind
                );
            }
            old.rotated = true;
            assert_eq!(
                token_of(&store, &old.hash).await.as_ref(),
                Some(&old),
                "storage conformance: a rotated refresh token must keep its DPoP key binding"
            );
            old = next[1].clone();
        }
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code),
            "storage conformance: a code's DPoP key binding must be unchanged by its grant's \
             tokens"
        );
    }
}

/// Every field of a token comes back, for every [`TokenKind`], with and without a
/// subject, with and without a sign-in (and with one that kept its nonce), with and
/// without a DPoP key binding; and `revoked` / `rotated` come back set once a revocation
/// or a rotation set them, every other field unchanged; the tokens a rotation stores come
/// back whole, sign-in and binding included.
pub async fn token_record_round_trip<S: Storage>(store: S) {
    let kit = Kit::new();
    let user = kit.grant(90 * 86_400);
    let mut machine = kit.grant(3600);
    machine.subject = None;
    machine.scope = scopes("read:payments");

    let mut tokens = Vec::new();
    for grant in [&user, &machine] {
        for kind in [TokenKind::Access, TokenKind::Refresh, TokenKind::JwtAccess] {
            let mut token = kit.token(grant, kind, 3600);
            token.scope = match kind {
                TokenKind::Access => scopes("read:users"),
                TokenKind::Refresh => grant.scope.clone(),
                TokenKind::JwtAccess => ScopeSet::empty(),
            };
            if grant.subject.is_some() {
                token.sign_in = match kind {
                    TokenKind::Access => None,
                    TokenKind::Refresh => Some(kit.sign_in().without_nonce()),
                    TokenKind::JwtAccess => Some(kit.sign_in()),
                };
            } else {
                // A client acting for itself with DPoP: its tokens bound to its key.
                token.dpop_jkt = Some(kit.jkt());
            }
            tokens.push(token);
        }
    }
    let mut odd_times = kit.token(&user, TokenKind::Access, 0);
    odd_times.issued_at = at(-14_182_940);
    odd_times.expires_at = at(2_147_483_648); // 2038-01-19T03:14:08Z: past i32
    odd_times.grant_expires_at = at(253_402_300_799);
    tokens.push(odd_times);

    let (user_tokens, machine_tokens): (Vec<_>, Vec<_>) =
        tokens.iter().cloned().partition(|t| t.grant_id == user.id);
    issue_ok(&store, &user, &user_tokens).await;
    issue_ok(&store, &machine, &machine_tokens).await;
    for token in &tokens {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: every field of a {:?} token must survive a round trip",
            token.kind
        );
    }

    let revoked = &tokens[0];
    assert!(ok(store.revoke_token(&revoked.hash).await, "revoke_token"));
    let mut expected = revoked.clone();
    expected.revoked = true;
    assert_eq!(
        token_of(&store, &revoked.hash).await,
        Some(expected),
        "storage conformance: a revoked token must come back with revoked set, all else unchanged"
    );

    let refresh = &tokens[1];
    let mut next = kit.pair(&user);
    let mut later = SignIn::new(kit.t(1800));
    later.amr = vec!["face".to_owned()];
    next[1].sign_in = Some(later);
    let jkt = kit.jkt();
    for token in &mut next {
        token.dpop_jkt = Some(jkt.clone());
    }
    assert_eq!(
        ok(
            store.rotate_refresh(&refresh.hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    let mut expected = refresh.clone();
    expected.rotated = true;
    assert_eq!(
        token_of(&store, &refresh.hash).await,
        Some(expected),
        "storage conformance: a rotated token must come back with rotated set, all else unchanged"
    );
    for token in &next {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: tokens stored by a rotation must survive a round trip"
        );
    }
}
