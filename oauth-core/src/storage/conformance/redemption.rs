//! Properties of reading a code and redeeming it: `get_code` and `redeem_code`.

use super::*;

/// `get_code` answers the record and its state, and changes nothing: a code read is
/// still consumed once, and reads as consumed afterwards.
pub async fn get_code_reads_without_consuming<S: Storage>(store: S) {
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    for _ in 0..2 {
        assert_eq!(
            ok(store.get_code(&code.hash).await, "get_code"),
            CodeLookup::Unused(code.clone()),
            "storage conformance: get_code of a stored code must be Unused with its record"
        );
    }
    assert_eq!(
        ok(store.consume_code(&code.hash).await, "consume_code"),
        CodeConsumption::Consumed(code.clone()),
        "storage conformance: get_code must not consume the code"
    );
    assert_eq!(
        ok(store.get_code(&code.hash).await, "get_code"),
        CodeLookup::Consumed(code),
        "storage conformance: get_code of a consumed code must be Consumed with its record"
    );
    assert_eq!(
        ok(store.get_code(&kit.hash()).await, "get_code"),
        CodeLookup::NotFound,
        "storage conformance: get_code of an unknown code must be NotFound"
    );
}

/// The first `redeem_code` consumes the code and stores the tokens, exactly as given;
/// every later redemption, and a `consume_code`, finds the code consumed and stores
/// nothing. A code consumed by `consume_code` is not redeemed, and an unknown code is
/// `NotFound`.
pub async fn code_is_redeemed_once<S: Storage>(store: S) {
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    let grant = code.grant();
    let tokens = kit.pair(&grant);
    assert_eq!(
        ok(
            store.redeem_code(&code.hash, &grant, &tokens).await,
            "redeem_code"
        ),
        Redemption::Issued,
        "storage conformance: the first redemption of a code must be Issued"
    );
    for token in &tokens {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: Issued must store the tokens exactly as given"
        );
    }
    assert_eq!(
        ok(store.get_code(&code.hash).await, "get_code"),
        CodeLookup::Consumed(code.clone()),
        "storage conformance: a redeemed code must read back consumed, with its record"
    );
    assert_eq!(
        ok(store.consume_code(&code.hash).await, "consume_code"),
        CodeConsumption::AlreadyConsumed(code.clone()),
        "storage conformance: a redeemed code must be AlreadyConsumed for consume_code"
    );
    let again = kit.pair(&grant);
    assert_eq!(
        ok(
            store.redeem_code(&code.hash, &grant, &again).await,
            "redeem_code"
        ),
        Redemption::AlreadyConsumed,
        "storage conformance: a second redemption must be AlreadyConsumed"
    );
    expect_none_stored(&store, &again, "AlreadyConsumed").await;

    let burned = kit.code(60, 86_400);
    insert_code(&store, &kit, burned.clone()).await;
    ok(store.consume_code(&burned.hash).await, "consume_code");
    let burned_grant = burned.grant();
    let late = kit.pair(&burned_grant);
    assert_eq!(
        ok(
            store.redeem_code(&burned.hash, &burned_grant, &late).await,
            "redeem_code"
        ),
        Redemption::AlreadyConsumed,
        "storage conformance: redeeming a code consume_code consumed must be AlreadyConsumed"
    );
    expect_none_stored(&store, &late, "AlreadyConsumed").await;

    let unknown = kit.grant(86_400);
    let stray = kit.pair(&unknown);
    assert_eq!(
        ok(
            store.redeem_code(&kit.hash(), &unknown, &stray).await,
            "redeem_code"
        ),
        Redemption::NotFound,
        "storage conformance: redeeming an unknown code must be NotFound"
    );
    expect_none_stored(&store, &stray, "NotFound").await;
}

/// A redemption refused because the grant was revoked (by `revoke_grant`, or by
/// `revoke_subject` while only the code knew the grant), because the code is of another
/// grant (`NotFound`), or because a token hash is stored already (a `Conflict`), changes
/// nothing: no token stored, the code still
/// unused, and the code then redeems when nothing stands in the way.
pub async fn refused_redemption_changes_nothing<S: Storage>(store: S) {
    let kit = Kit::new();

    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    let grant = code.grant();
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    let tokens = kit.pair(&grant);
    assert_eq!(
        ok(
            store.redeem_code(&code.hash, &grant, &tokens).await,
            "redeem_code"
        ),
        Redemption::GrantRevoked,
        "storage conformance: redeeming a code of a revoked grant must be GrantRevoked"
    );
    expect_none_stored(&store, &tokens, "GrantRevoked").await;
    expect_unused(&store, &code, "GrantRevoked").await;

    let subject = kit.subject();
    let mut of_subject = kit.code(60, 86_400);
    of_subject.subject.clone_from(&subject);
    insert_code(&store, &kit, of_subject.clone()).await;
    ok(store.revoke_subject(&subject).await, "revoke_subject");
    let subject_grant = of_subject.grant();
    let subject_tokens = kit.pair(&subject_grant);
    assert_eq!(
        ok(
            store
                .redeem_code(&of_subject.hash, &subject_grant, &subject_tokens)
                .await,
            "redeem_code"
        ),
        Redemption::GrantRevoked,
        "storage conformance: redeeming a code of a revoked subject must be GrantRevoked"
    );
    expect_none_stored(&store, &subject_tokens, "GrantRevoked").await;
    expect_unused(&store, &of_subject, "GrantRevoked").await;

    // A code of another grant: no such code of that grant, whatever its own state.
    let foreign = kit.code(60, 86_400);
    insert_code(&store, &kit, foreign.clone()).await;
    let other = kit.grant(86_400);
    let hung = kit.pair(&other);
    assert_eq!(
        ok(
            store.redeem_code(&foreign.hash, &other, &hung).await,
            "redeem_code"
        ),
        Redemption::NotFound,
        "storage conformance: redeeming a code with another grant must be NotFound"
    );
    expect_none_stored(&store, &hung, "a code of another grant").await;
    expect_unused(&store, &foreign, "a code of another grant").await;

    let taken = kit.grant(86_400);
    let stored = kit.pair(&taken);
    issue_ok(&store, &taken, &stored).await;
    let clashing = kit.code(60, 86_400);
    insert_code(&store, &kit, clashing.clone()).await;
    let clashing_grant = clashing.grant();
    let fresh = kit.token(&clashing_grant, TokenKind::Access, 3600);
    let mut twin = kit.token(&clashing_grant, TokenKind::Refresh, 86_400);
    twin.hash = stored[1].hash;
    expect_conflict(
        store
            .redeem_code(&clashing.hash, &clashing_grant, &[fresh.clone(), twin])
            .await,
        "redeem_code with a token hash already stored",
    );
    expect_none_stored(&store, std::slice::from_ref(&fresh), "a Conflict").await;
    expect_unused(&store, &clashing, "a Conflict").await;
    assert_eq!(
        ok(
            store
                .redeem_code(&clashing.hash, &clashing_grant, &kit.pair(&clashing_grant))
                .await,
            "redeem_code"
        ),
        Redemption::Issued,
        "storage conformance: a code whose redemption was a Conflict must still redeem"
    );
}

/// SC-01: [`RACERS`] tasks spend one code at once, half through `redeem_code` (each with
/// tokens of its own) and half through `consume_code`: exactly one of them wins, and only
/// a winning redemption's tokens are stored (never two families for one code).
pub async fn sc01_concurrent_redemptions_have_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&*store, &kit, code.clone()).await;
    let grant = code.grant();
    let mut turn = 0;
    let outcomes = race(|| {
        turn += 1;
        let tokens = kit.pair(&grant);
        let (store, hash, grant, redeems) =
            (store.clone(), code.hash, grant.clone(), turn % 2 == 0);
        async move {
            let won = if redeems {
                ok(
                    store.redeem_code(&hash, &grant, &tokens).await,
                    "redeem_code (racing)",
                ) == Redemption::Issued
            } else {
                matches!(
                    ok(store.consume_code(&hash).await, "consume_code (racing)"),
                    CodeConsumption::Consumed(_)
                )
            };
            (won, redeems, tokens)
        }
    })
    .await;
    let mut winners = 0;
    for (won, redeems, tokens) in outcomes {
        let stored = token_of(&*store, &tokens[0].hash).await.is_some();
        assert_eq!(
            stored,
            won && redeems,
            "storage conformance: exactly the winning redemption's tokens must be stored"
        );
        winners += usize::from(won);
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing redeem_code and consume_code \
         calls must win"
    );
}

/// `revoke_grant` racing the redemption of the grant's code: either the redemption comes
/// first and its tokens end revoked, or it answers `GrantRevoked` and stores nothing.
/// Never a live token after both returned.
pub async fn revoke_grant_racing_redemption_leaves_no_live_token<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    for _ in 0..RACERS {
        let code = kit.code(60, 86_400);
        insert_code(&*store, &kit, code.clone()).await;
        let grant = code.grant();
        let tokens = kit.pair(&grant);
        let (redeemed, revoked) = race_pair(
            {
                let (store, grant, tokens) = (store.clone(), grant.clone(), tokens.clone());
                async move { store.redeem_code(&code.hash, &grant, &tokens).await }
            },
            {
                let (store, id) = (store.clone(), grant.id.clone());
                async move { store.revoke_grant(&id).await }
            },
        )
        .await;
        let redeemed = ok(redeemed, "redeem_code (racing)");
        ok(revoked, "revoke_grant");
        for token in &tokens {
            let stored = token_of(&*store, &token.hash).await;
            match redeemed {
                Redemption::Issued => assert!(
                    stored.is_some_and(|t| t.revoked),
                    "storage conformance: tokens redeemed before a racing revoke_grant must \
                     end revoked"
                ),
                Redemption::GrantRevoked => assert_eq!(
                    stored, None,
                    "storage conformance: GrantRevoked must store nothing"
                ),
                other => panic!(
                    "storage conformance: a redemption racing only revoke_grant must be \
                     Issued or GrantRevoked, got {other:?}"
                ),
            }
        }
    }
}

async fn expect_none_stored<S: TokenStore + ?Sized>(
    store: &S,
    tokens: &[TokenRecord],
    answer: &str,
) {
    for token in tokens {
        assert_eq!(
            token_of(store, &token.hash).await,
            None,
            "storage conformance: a redemption answered {answer} must store nothing"
        );
    }
}

async fn expect_unused<S: CodeStore + ?Sized>(store: &S, code: &CodeRecord, answer: &str) {
    assert_eq!(
        ok(store.get_code(&code.hash).await, "get_code"),
        CodeLookup::Unused(code.clone()),
        "storage conformance: a redemption answered {answer} must leave the code unused"
    );
}
