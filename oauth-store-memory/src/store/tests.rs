//! The memory store's own tests: what the conformance kit cannot see (shared data,
//! counts, interning, purge steps).

use super::*;
use oauth_core::storage::SignIn;
use oauth_core::{CodeChallenge, RandomSource, ScopeSet};
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_thread_reads_the_latest_registration() {
    let store = Arc::new(MemoryStore::new());
    let id = ClientId::new("app").unwrap();
    let register = |scope: &str| {
        Client::public("app")
            .unwrap()
            .redirect_uri("https://app.example/cb")
            .unwrap()
            .allowed_scopes(ScopeSet::parse(scope).unwrap())
            .build()
            .unwrap()
    };
    store.put_client(register("read")).await.unwrap();
    store.put_client(register("write")).await.unwrap();
    // More threads than lanes, each reading its lane's copy.
    let readers: Vec<_> = (0..2 * usize::from(CLIENT_COPIES))
        .map(|_| {
            let (store, id) = (store.clone(), id.clone());
            std::thread::spawn(move || {
                block_on(store.get_client(&id))
                    .unwrap()
                    .map(|client| client.allowed_scopes().to_string())
            })
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap().as_deref(), Some("write"));
    }
    assert_eq!(
        store
            .get_client(&ClientId::new("other").unwrap())
            .await
            .unwrap(),
        None
    );
}

/// Runs a future that never waits (the memory store's) to completion on this thread.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn random_hash() -> SecretHash {
    let mut hash = [0u8; 32];
    RandomSource::new().fill(&mut hash).unwrap();
    SecretHash(hash)
}

fn grant(id: &str, start: OffsetDateTime) -> GrantRecord {
    GrantRecord::new(
        GrantId(id.into()),
        ClientId::new("app").unwrap(),
        None,
        ScopeSet::parse("read").unwrap(),
        start,
        start + Duration::days(90),
    )
}

fn token(grant: &GrantRecord, kind: TokenKind, expires_at: OffsetDateTime) -> TokenRecord {
    TokenRecord::new(
        random_hash(),
        kind,
        grant.clone(),
        grant.scope.clone(),
        grant.created_at,
        expires_at,
    )
}

/// A code, and the grant record the engine builds from it when it is redeemed.
fn code_and_grant(id: &str, start: OffsetDateTime) -> (CodeRecord, GrantRecord) {
    let grant = GrantRecord::new(
        GrantId(id.into()),
        ClientId::new("app").unwrap(),
        Some("alice".into()),
        ScopeSet::parse("read write").unwrap(),
        start,
        start + Duration::days(90),
    );
    let mut code = CodeRecord::new(
        random_hash(),
        grant.clone(),
        "alice",
        start + Duration::minutes(1),
    );
    code.redirect_uri = Some("https://app.example/cb".into());
    code.code_challenge = Some(CodeChallenge::from_verifier(
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ));
    (code, grant)
}

fn grant_entries(store: &MemoryStore) -> usize {
    store.grants.each_shard().map(|shard| shard.len()).sum()
}

fn registered_grant(store: &MemoryStore, id: &GrantId) -> Option<Arc<Grant>> {
    let bytes = id.as_str().as_bytes();
    registered(&store.grants.shard(bytes), bytes)
}

fn token_entry_grant(store: &MemoryStore, hash: &SecretHash) -> Arc<Grant> {
    Arc::clone(store.tokens.shard(hash).get(hash).unwrap().grant())
}

#[tokio::test]
async fn refused_issue_leaves_no_grant_entry() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let first = grant("first", start);
    let taken = token(&first, TokenKind::Access, start + Duration::hours(1));
    store
        .issue(&first, std::slice::from_ref(&taken))
        .await
        .unwrap();
    let second = grant("second", start);
    let mut twin = token(&second, TokenKind::Access, start + Duration::hours(1));
    twin.hash = taken.hash;
    assert!(store.issue(&second, &[twin]).await.is_err());
    assert_eq!(
        grant_entries(&store),
        1,
        "only the first grant has an entry"
    );
}

#[tokio::test]
async fn purge_stops_counting_purged_tokens() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let g = grant("g", start);
    let mut refresh = token(&g, TokenKind::Refresh, start + Duration::days(30));
    store
        .issue(
            &g,
            &[
                token(&g, TokenKind::Access, start + Duration::hours(1)),
                refresh.clone(),
            ],
        )
        .await
        .unwrap();
    // A hundred refreshes, an hour apart.
    for _ in 0..100 {
        let next = token(&g, TokenKind::Refresh, start + Duration::days(30));
        let access = token(&g, TokenKind::Access, start + Duration::hours(1));
        let rotated = store
            .rotate_refresh(&refresh.hash, &[access, next.clone()])
            .await
            .unwrap();
        assert_eq!(rotated, Rotation::Rotated);
        refresh = next;
    }
    let live = |store: &MemoryStore| registered_grant(store, &g.id).unwrap().live();
    assert_eq!(live(&store), 202);
    let report = store
        .purge_expired_batch(start + Duration::hours(2), usize::MAX)
        .await
        .unwrap();
    assert_eq!(report.tokens, 101, "every access token expired");
    assert_eq!(
        live(&store),
        101,
        "the grant counts only the refresh tokens left"
    );
    assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 101);
}

#[tokio::test]
async fn a_code_its_grant_and_its_tokens_share_one_copy() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (code, grant) = code_and_grant("g", start);
    store.insert_code(code.clone()).await.unwrap();
    let CodeConsumption::Consumed(consumed) = store.consume_code(&code.hash).await.unwrap() else {
        panic!("the code is consumed");
    };
    assert_eq!(consumed, code);
    let tokens = [
        token(&grant, TokenKind::Access, start + Duration::hours(1)),
        token(&grant, TokenKind::Refresh, grant.expires_at),
    ];
    store.issue(&grant, &tokens).await.unwrap();

    let shared = registered_grant(&store, &grant.id).unwrap();
    let code_grant = Arc::clone(store.codes.shard(&code.hash).get(&code.hash).unwrap());
    assert!(Arc::ptr_eq(&shared, &code_grant));
    for t in &tokens {
        assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &t.hash)));
        assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
    }
    assert_eq!(grant_entries(&store), 1);
    assert_eq!(
        store.profiles.len(),
        1,
        "code, grant and tokens share one profile"
    );
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code)
    );
}

#[tokio::test]
async fn a_refresh_token_with_its_codes_sign_in_less_the_nonce_shares_the_codes_data() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (mut code, grant) = code_and_grant("g", start);
    let mut sign_in = SignIn::new(start);
    sign_in.acr = Some("urn:example:mfa".into());
    sign_in.amr = vec!["pwd".into(), "otp".into()];
    sign_in.nonce = Some("n-0S6_WzA2Mj".into());
    code.sign_in = Some(sign_in.clone());
    store.insert_code(code.clone()).await.unwrap();
    store.consume_code(&code.hash).await.unwrap();
    let access = token(&grant, TokenKind::Access, start + Duration::hours(1));
    let mut refresh = token(&grant, TokenKind::Refresh, grant.expires_at);
    refresh.sign_in = Some(sign_in.without_nonce());
    // Not what the engine stores, but a store keeps what it is given.
    let mut with_nonce = token(&grant, TokenKind::Refresh, grant.expires_at);
    with_nonce.sign_in = Some(sign_in.clone());
    let tokens = [access.clone(), refresh.clone(), with_nonce.clone()];
    store.issue(&grant, &tokens).await.unwrap();

    let shared = registered_grant(&store, &grant.id).unwrap();
    for t in [&access, &refresh] {
        assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &t.hash)));
    }
    let own = token_entry_grant(&store, &with_nonce.hash);
    assert!(!Arc::ptr_eq(&shared, &own));
    assert!(own.owner_is(&shared));
    for t in &tokens {
        assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
    }
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code),
        "the code keeps its nonce"
    );
}

#[tokio::test]
async fn tokens_bound_to_the_codes_dpop_key_share_its_data_and_others_keep_their_own() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (mut code, grant) = code_and_grant("g", start);
    let key = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    code.dpop_jkt = Some(key.into());
    store.insert_code(code.clone()).await.unwrap();
    store.consume_code(&code.hash).await.unwrap();
    let mut access = token(&grant, TokenKind::Access, start + Duration::hours(1));
    access.dpop_jkt = Some(key.into());
    let mut refresh = token(&grant, TokenKind::Refresh, grant.expires_at);
    refresh.dpop_jkt = Some(key.into());
    // Not what the engine stores for a bound code, but a store keeps what it is given.
    let unbound = token(&grant, TokenKind::Access, start + Duration::hours(1));
    let mut other_key = token(&grant, TokenKind::Refresh, grant.expires_at);
    other_key.dpop_jkt = Some("not a thumbprint: kept as it is".into());
    let tokens = [
        access.clone(),
        refresh.clone(),
        unbound.clone(),
        other_key.clone(),
    ];
    store.issue(&grant, &tokens).await.unwrap();

    let shared = registered_grant(&store, &grant.id).unwrap();
    for t in [&access, &refresh, &unbound] {
        assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &t.hash)));
    }
    let own = token_entry_grant(&store, &other_key.hash);
    assert!(!Arc::ptr_eq(&shared, &own));
    assert!(own.owner_is(&shared));
    for t in &tokens {
        assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
    }
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code),
        "the code keeps its key"
    );
}

#[tokio::test]
async fn a_grant_record_unlike_its_code_gets_data_of_its_own() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (code, mut grant) = code_and_grant("g", start);
    store.insert_code(code.clone()).await.unwrap();
    store.consume_code(&code.hash).await.unwrap();
    grant.created_at += Duration::seconds(5);
    grant.scope = ScopeSet::parse("read").unwrap();
    store
        .issue(
            &grant,
            &[token(&grant, TokenKind::Access, grant.expires_at)],
        )
        .await
        .unwrap();
    let shared = registered_grant(&store, &grant.id).unwrap();
    let code_grant = Arc::clone(store.codes.shard(&code.hash).get(&code.hash).unwrap());
    assert!(!Arc::ptr_eq(&shared, &code_grant));
    assert!(shared.describes(
        &grant,
        Moment::new(grant.created_at).unwrap(),
        Moment::new(grant.expires_at).unwrap()
    ));
    assert_eq!(
        grant_entries(&store),
        1,
        "the grant replaced the code's entry"
    );
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code),
        "the code still reads back as stored"
    );
}

#[tokio::test]
async fn a_token_unlike_its_grant_keeps_its_own_identity_and_is_revoked_with_it() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let g = grant("g", start);
    let same = token(&g, TokenKind::Refresh, g.expires_at);
    let mut narrower = token(&g, TokenKind::Access, start + Duration::hours(1));
    narrower.scope = ScopeSet::empty();
    let mut other_end = token(&g, TokenKind::Access, start + Duration::hours(1));
    other_end.grant_expires_at = start + Duration::days(1);
    let tokens = [same.clone(), narrower.clone(), other_end.clone()];
    store.issue(&g, &tokens).await.unwrap();

    let shared = registered_grant(&store, &g.id).unwrap();
    assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &same.hash)));
    for t in [&narrower, &other_end] {
        let own = token_entry_grant(&store, &t.hash);
        assert!(!Arc::ptr_eq(&shared, &own));
        assert!(own.owner_is(&shared));
    }
    for t in &tokens {
        assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
    }
    assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 3);
    for t in &tokens {
        assert!(store.get_token(&t.hash).await.unwrap().unwrap().revoked);
    }
}

#[tokio::test]
async fn the_live_count_follows_single_revocations_and_repeated_hashes() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let g = grant("g", start);
    let a = token(&g, TokenKind::Access, start + Duration::hours(1));
    let mut already_revoked = token(&g, TokenKind::Access, start + Duration::hours(1));
    already_revoked.revoked = true;
    // The same hash twice in one call: stored once (the last wins), counted once.
    let mut repeated = token(&g, TokenKind::Refresh, g.expires_at);
    repeated.hash = a.hash;
    store
        .issue(&g, &[a.clone(), already_revoked, repeated.clone()])
        .await
        .unwrap();
    let shared = registered_grant(&store, &g.id).unwrap();
    assert_eq!(shared.live(), 1);
    assert_eq!(
        store.get_token(&a.hash).await.unwrap().as_ref(),
        Some(&repeated)
    );
    let b = token(&g, TokenKind::Access, start + Duration::hours(1));
    store.issue(&g, std::slice::from_ref(&b)).await.unwrap();
    assert_eq!(shared.live(), 2);
    assert!(store.revoke_token(&b.hash).await.unwrap());
    assert!(store.revoke_token(&b.hash).await.unwrap());
    assert_eq!(shared.live(), 1, "a token revoked twice is uncounted once");
    assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 1);
    assert!(store.revoke_token(&a.hash).await.unwrap());
    assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 0);
}

#[tokio::test]
async fn a_code_waiting_for_its_grant_is_registered_until_purged() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (code, grant) = code_and_grant("g", start);
    store.insert_code(code.clone()).await.unwrap();
    assert_eq!(grant_entries(&store), 1);
    let report = store
        .purge_expired_batch(code.expires_at, usize::MAX)
        .await
        .unwrap();
    assert_eq!((report.codes, report.grants), (1, 0), "not a grant yet");
    assert_eq!(grant_entries(&store), 0);
    assert_eq!(store.profiles.len(), 0, "its profile is forgotten");
    // A grant never issued can still be revoked, and its issue refused.
    assert_eq!(store.revoke_grant(&grant.id).await.unwrap(), 0);
    let late = token(&grant, TokenKind::Access, start + Duration::hours(1));
    assert_eq!(
        store.issue(&grant, &[late]).await.unwrap(),
        Issuance::GrantRevoked
    );
}

#[tokio::test]
async fn revoking_a_grant_before_issue_keeps_its_code_readable() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (code, grant) = code_and_grant("g", start);
    store.insert_code(code.clone()).await.unwrap();
    store.consume_code(&code.hash).await.unwrap();
    assert_eq!(store.revoke_grant(&grant.id).await.unwrap(), 0);
    assert_eq!(
        grant_entries(&store),
        0,
        "the mark replaced the code's entry"
    );
    let tokens = [token(&grant, TokenKind::Access, start + Duration::hours(1))];
    assert_eq!(
        store.issue(&grant, &tokens).await.unwrap(),
        Issuance::GrantRevoked
    );
    assert_eq!(store.get_token(&tokens[0].hash).await.unwrap(), None);
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code)
    );
}

#[tokio::test]
async fn purging_everything_forgets_every_profile() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let (code, grant) = code_and_grant("g", start);
    store.insert_code(code.clone()).await.unwrap();
    store.consume_code(&code.hash).await.unwrap();
    let mut narrower = token(&grant, TokenKind::Access, start + Duration::hours(1));
    narrower.scope = ScopeSet::parse("read").unwrap();
    store.issue(&grant, &[narrower]).await.unwrap();
    let client = grant.client_id.clone();
    let mut machine = super::tests::grant("machine", start);
    machine.client_id = client;
    store.issue(&machine, &[]).await.unwrap();
    let interned = store.profiles.len();
    assert!(
        (2..=3).contains(&interned),
        "the code's, and one for the narrower token and the machine grant (same client \
         and scope, no redirect URI), or one each if their random lanes differ: {interned}"
    );
    store
        .purge_expired_batch(start + Duration::days(90), usize::MAX)
        .await
        .unwrap();
    assert_eq!(store.profiles.len(), 0);
    assert_eq!(grant_entries(&store), 0);
}

#[test]
fn a_token_entry_is_four_words() {
    assert_eq!(std::mem::size_of::<TokenEntry>(), 32);
}

/// SC-07 on the memory store: a purge step looks at a bounded number of entries, so a
/// store of many live records and a few expired ones is purged in many short steps
/// (not one call that reads everything), and the sweep still finds every expired record.
#[tokio::test]
async fn sc07_memory_purge_steps_cost_their_limit_not_the_store() {
    const LIVE: usize = 4_000;
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let mut expired = Vec::new();
    for i in 0..LIVE {
        let g = grant(&format!("live-{i}"), start);
        let live = token(&g, TokenKind::Access, start + Duration::days(1));
        store.issue(&g, &[live]).await.unwrap();
        if i % 1_000 == 0 {
            let g = grant(&format!("short-{i}"), start);
            let short = token(&g, TokenKind::Access, start + Duration::minutes(5));
            store.issue(&g, std::slice::from_ref(&short)).await.unwrap();
            expired.push(short.hash);
        }
    }
    let before = start + Duration::hours(1);
    let limit = 1;
    let mut steps = 0;
    let mut removed = 0;
    loop {
        let step = store.purge_expired_batch(before, limit).await.unwrap();
        assert!(step.tokens <= 1 && step.grants <= 1);
        removed += step.tokens;
        steps += 1;
        if !step.more {
            break;
        }
        assert!(steps < 10 * LIVE, "the purge ends");
    }
    assert_eq!(removed, expired.len() as u64);
    for hash in &expired {
        assert!(store.get_token(hash).await.unwrap().is_none());
    }
    // Each step looks at most 16 tokens (and 16 grants) for its limit of one: the
    // 4,004 tokens need at least 250 steps. A step that read the whole map would need
    // about as many steps as there are expired records.
    let least = (LIVE + expired.len()) / crate::purge::VISITS_PER_REMOVAL;
    assert!(steps >= least, "{steps} steps, expected at least {least}");
    assert_eq!(store.get_token(&random_hash()).await.unwrap(), None);
    let again = store.purge_expired_batch(before, 1_000_000).await.unwrap();
    assert_eq!((again.tokens, again.grants, again.more), (0, 0, false));
}

/// A purge at a later instant than the sweep under way takes over that sweep and, when it
/// ends, sweeps again at its own instant: what the earlier steps kept may have expired by
/// the later instant.
#[tokio::test]
async fn a_later_purge_instant_restarts_the_sweep() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    let mut hashes = Vec::new();
    for i in 0..400 {
        let g = grant(&format!("g-{i}"), start);
        let t = token(&g, TokenKind::Access, start + Duration::minutes(10));
        store.issue(&g, std::slice::from_ref(&t)).await.unwrap();
        hashes.push(t.hash);
    }
    // A few steps at an instant when nothing has expired: the sweep moves on, keeping all.
    for _ in 0..5 {
        let step = store
            .purge_expired_batch(start + Duration::minutes(1), 1)
            .await
            .unwrap();
        assert_eq!(step.tokens, 0);
        assert!(step.more);
    }
    // At a later instant every token has expired, those already swept past included.
    let mut removed = 0;
    loop {
        let step = store
            .purge_expired_batch(start + Duration::hours(1), 50)
            .await
            .unwrap();
        removed += step.tokens;
        if !step.more {
            break;
        }
    }
    assert_eq!(removed, 400);
    for hash in &hashes {
        assert!(store.get_token(hash).await.unwrap().is_none());
    }
}

/// The data of an expired code whose grant was never issued goes in the same step as the
/// code, wherever the grants map's own sweep stands: a purge in small steps leaves none
/// of it behind, and a purge right after finds nothing.
#[tokio::test]
async fn a_purged_codes_waiting_data_goes_with_it_in_small_steps() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    for i in 0..200 {
        let (code, _) = code_and_grant(&format!("waiting-{i}"), start);
        store.insert_code(code).await.unwrap();
    }
    assert_eq!(grant_entries(&store), 200);
    let before = start + Duration::hours(1);
    let mut codes = 0;
    loop {
        let step = store.purge_expired_batch(before, 1).await.unwrap();
        codes += step.codes;
        if !step.more {
            break;
        }
    }
    assert_eq!(codes, 200);
    assert_eq!(grant_entries(&store), 0, "no code's data outlives its code");
    let again = store.purge_expired_batch(before, 1).await.unwrap();
    assert_eq!((again.codes, again.grants, again.more), (0, 0, false));
}

/// The engine's purge (`Engine::purge_expired`) goes on through steps that looked at live
/// records and removed none: with more live marks in each shard than one step of the
/// engine's batch looks at (16,000), and the expired ones stored after them, the first
/// steps find nothing to remove, and one call still purges them all.
#[tokio::test]
async fn the_engines_purge_goes_past_steps_that_removed_nothing() {
    use oauth_core::{Config, Engine, ManualClock};
    let store = Arc::new(MemoryStore::new());
    let start = OffsetDateTime::UNIX_EPOCH;
    let per_step = oauth_core::PURGE_BATCH * crate::purge::VISITS_PER_REMOVAL;
    // 16 shards, each with more live marks than a step looks at.
    for _ in 0..20 * per_step {
        assert!(store
            .use_once(&random_hash(), start + Duration::days(30))
            .await
            .unwrap());
    }
    let mut expired = Vec::new();
    for _ in 0..50 {
        let key = random_hash();
        assert!(store
            .use_once(&key, start + Duration::minutes(5))
            .await
            .unwrap());
        expired.push(key);
    }
    let config = Config::builder("https://auth.example").build().unwrap();
    let clock = ManualClock::new(start + Duration::hours(1));
    let engine = Engine::builder(Arc::clone(&store), clock, config)
        .build()
        .unwrap();
    let report = engine.purge_expired().await.unwrap();
    assert_eq!(report.uses, 50, "{report:?}");
    assert!(!report.more);
    for key in &expired {
        // Purged, so usable once again (the value it guarded has expired by now).
        assert!(store
            .use_once(key, start + Duration::days(1))
            .await
            .unwrap());
    }
}

/// Two purges at different instants taking turns on one store both finish: the earlier
/// one when the sweep they share ends, the later one with a sweep of its own after that.
#[tokio::test]
async fn two_purges_at_different_instants_both_finish() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::UNIX_EPOCH;
    for i in 0..2_000 {
        let short = grant(&format!("short-{i}"), start);
        let t = token(&short, TokenKind::Access, start + Duration::minutes(5));
        store.issue(&short, &[t]).await.unwrap();
        let long = grant(&format!("long-{i}"), start);
        let t = token(&long, TokenKind::Access, start + Duration::days(5));
        store.issue(&long, &[t]).await.unwrap();
    }
    let (early, late) = (start + Duration::hours(1), start + Duration::hours(2));
    let (mut early_done, mut late_done) = (false, false);
    let mut removed = 0;
    for _ in 0..20_000 {
        if !early_done {
            let step = store.purge_expired_batch(early, 1).await.unwrap();
            removed += step.tokens;
            early_done = !step.more;
        }
        if !late_done {
            let step = store.purge_expired_batch(late, 1).await.unwrap();
            removed += step.tokens;
            late_done = !step.more;
        }
        if early_done && late_done {
            break;
        }
    }
    assert!(early_done && late_done, "both purges finish");
    assert_eq!(removed, 2_000);
}
