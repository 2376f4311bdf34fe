//! `finrift purge`: what expired goes, in batches, and the counts are printed; what is
//! live stays.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finrift_on, migrated_db, open};
use oauth_core::storage::{GrantId, GrantRecord, Issuance, TokenKind, TokenRecord};
use oauth_core::{ClientId, CodeStore, ScopeSet, SecretHash, TokenStore, PURGE_BATCH};
use time::macros::datetime;
use time::OffsetDateTime;

const PAST: OffsetDateTime = datetime!(2020-01-01 00:00 UTC);
const EXPIRED: OffsetDateTime = datetime!(2020-01-02 00:00 UTC);
const FUTURE: OffsetDateTime = datetime!(2100-01-01 00:00 UTC);

/// A grant created at [`PAST`] that ends at `ends`, with one access token and one
/// refresh token, both alive until it ends.
async fn issue(store: &impl TokenStore, name: &str, ends: OffsetDateTime) -> SecretHash {
    let grant = GrantRecord::new(
        GrantId(name.to_owned()),
        ClientId::new("svc").unwrap(),
        Some("alice".to_owned()),
        ScopeSet::parse("read").unwrap(),
        PAST,
        ends,
    );
    let access = SecretHash::of(&format!("{name}-access"));
    let tokens = [TokenKind::Access, TokenKind::Refresh].map(|kind| {
        let hash = if kind == TokenKind::Access {
            access
        } else {
            SecretHash::of(&format!("{name}-refresh"))
        };
        TokenRecord::new(hash, kind, grant.clone(), grant.scope.clone(), PAST, ends)
    });
    assert_eq!(
        store.issue(&grant, &tokens).await.unwrap(),
        Issuance::Issued
    );
    access
}

#[tokio::test]
async fn purge_deletes_what_expired_in_batches_and_prints_the_counts() {
    let (_dir, db) = migrated_db();
    // More expired grants than one batch, so the purge takes several.
    let expired = PURGE_BATCH + 5;
    let live = {
        let store = open(&db).await;
        for i in 0..expired {
            issue(&store, &format!("old-{i}"), EXPIRED).await;
        }
        assert!(store
            .use_once(&SecretHash::of("a used handle"), EXPIRED)
            .await
            .unwrap());
        issue(&store, "live", FUTURE).await
    };

    let early = finrift_on(&db, &["purge", "--before", "2019-12-31T00:00:00Z"]);
    assert_eq!(
        early.ok(),
        "purged what expired by 2019-12-31T00:00:00Z: 0 codes, 0 tokens, 0 grants, \
         0 one-time-use marks\n"
    );

    let now = finrift_on(&db, &["purge"]);
    assert!(
        now.ok().ends_with(&format!(
            ": 0 codes, {} tokens, {expired} grants, 1 one-time-use marks\n",
            2 * expired
        )),
        "{now:?}"
    );

    let store = open(&db).await;
    assert!(
        store.get_token(&live).await.unwrap().is_some(),
        "live stays"
    );
    assert!(store
        .get_token(&SecretHash::of("old-0-access"))
        .await
        .unwrap()
        .is_none());
}

#[test]
fn purge_refuses_an_instant_in_the_future_or_not_rfc3339() {
    let (_dir, db) = migrated_db();
    let future = finrift_on(&db, &["purge", "--before", "2100-01-01T00:00:00Z"]);
    assert!(future.failed().contains("in the future"), "{future:?}");
    let garbage = finrift_on(&db, &["purge", "--before", "yesterday"]);
    assert_eq!(garbage.code, Some(2), "a command-line error: {garbage:?}");
    assert!(garbage.stderr.contains("RFC 3339"), "{garbage:?}");
}
