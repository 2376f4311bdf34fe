//! What only the PostgreSQL store has: its schema versions, its timeouts, and its errors
//! when the database is away, slow or locked, or a stored value does not decode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_store_postgres::test_server as common;

use std::error::Error as _;
use std::time::Duration;

use oauth_core::storage::{CodeRecord, GrantId, GrantRecord, TokenKind, TokenRecord};
use oauth_core::{
    ClientId, CodeStore, ScopeSet, SecretHash, StorageError, StorageErrorKind, TokenStore,
};
use oauth_store_postgres::{PostgresOptions, PostgresStore, SCHEMA_VERSION};
use time::OffsetDateTime;

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn grant(id: &str) -> GrantRecord {
    GrantRecord::new(
        GrantId(id.to_owned()),
        ClientId::new("app").unwrap(),
        Some("alice".to_owned()),
        ScopeSet::parse("read:users").unwrap(),
        at(1_900_000_000),
        at(1_900_086_400),
    )
}

fn code(hash: u8, grant: &GrantRecord) -> CodeRecord {
    CodeRecord::new(
        SecretHash([hash; 32]),
        grant.clone(),
        "alice".to_owned(),
        at(1_900_000_060),
    )
}

/// The full text of an error and its sources, as a log would show it.
fn chain(error: &StorageError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(" / {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_url_naming_a_schema_in_its_options_keeps_the_tables_there() {
    let schema = common::fresh_schema().await;
    let store = PostgresStore::open(&common::url_in(&schema)).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let admin = common::admin_connection().await;
    let row = admin
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'finrift_tokens'",
            &[&schema],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
}

#[tokio::test]
async fn opening_migrates_an_empty_schema_to_this_version() {
    let store = common::fresh_store().await;
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_opening_a_new_database_at_once_migrate_it_once() {
    let schema = common::fresh_schema().await;
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let options = common::options_in(&schema).pool_size(1);
            tokio::spawn(async move { PostgresStore::open_with(options).await })
        })
        .collect();
    for open in opens {
        let store = open.await.unwrap().unwrap();
        assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    }
}

#[tokio::test]
async fn without_migration_on_open_an_old_schema_is_refused_until_migrated() {
    let schema = common::fresh_schema().await;
    let error = PostgresStore::open_with(common::options_in(&schema).migrate_on_open(false))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("migrate"), "{error}");

    let migrated = PostgresStore::open_with(common::options_in(&schema))
        .await
        .unwrap();
    assert_eq!(migrated.schema_version().await.unwrap(), SCHEMA_VERSION);
    PostgresStore::open_with(common::options_in(&schema).migrate_on_open(false))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_schema_written_by_a_newer_version_is_refused_and_left_untouched() {
    let schema = common::fresh_schema().await;
    PostgresStore::open_with(common::options_in(&schema))
        .await
        .unwrap();
    let admin = common::admin_connection().await;
    let newer = SCHEMA_VERSION + 1;
    admin
        .execute(
            &format!("UPDATE {schema}.finrift_schema SET version = $1"),
            &[&newer],
        )
        .await
        .unwrap();

    let error = PostgresStore::open_with(common::options_in(&schema))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("newer version"), "{error}");
    let row = admin
        .query_one(&format!("SELECT version FROM {schema}.finrift_schema"), &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), newer);
}

#[tokio::test]
async fn a_url_that_does_not_parse_is_refused_without_repeating_it() {
    let error = PostgresOptions::from_url("postgres://admin:hunter2@[bad").unwrap_err();
    assert!(!chain(&error).contains("hunter2"), "{}", chain(&error));
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable() {
    // Port 1 on loopback: nothing listens there.
    let options = PostgresOptions::from_url("postgres://finrift@127.0.0.1:1/finrift")
        .unwrap()
        .connect_timeout(Duration::from_secs(2));
    let error = PostgresStore::open_with(options).await.unwrap_err();
    assert_eq!(
        error.kind(),
        StorageErrorKind::Unavailable,
        "{}",
        chain(&error)
    );
    assert!(error.is_transient());
}

/// A stored sign-in that is not the JSON of one, or not JSON at all, is Corrupt.
#[tokio::test]
async fn an_undecodable_sign_in_is_corrupt() {
    let schema = common::fresh_schema().await;
    let store = PostgresStore::open_with(common::options_in(&schema))
        .await
        .unwrap();
    let grant = grant("g-sign-in");
    let token = TokenRecord::new(
        SecretHash([0xcd; 32]),
        TokenKind::Refresh,
        grant.clone(),
        grant.scope.clone(),
        at(1_900_000_000),
        at(1_900_086_400),
    );
    store
        .issue(&grant, std::slice::from_ref(&token))
        .await
        .unwrap();
    let admin = common::admin_connection().await;
    for stored in ["{\"acr\": \"x\"}", "not json", "{\"auth_time\": \"soon\"}"] {
        admin
            .execute(
                &format!("UPDATE {schema}.finrift_tokens SET sign_in = $1"),
                &[&stored],
            )
            .await
            .unwrap();
        let error = store.get_token(&token.hash).await.unwrap_err();
        assert_eq!(error.kind(), StorageErrorKind::Corrupt, "{stored}");
    }
}

#[tokio::test]
async fn a_duplicate_is_a_conflict_whose_message_quotes_no_hash() {
    let store = common::fresh_store().await;
    let grant = grant("g-dup");
    let token = TokenRecord::new(
        SecretHash([0xab; 32]),
        TokenKind::Access,
        grant.clone(),
        grant.scope.clone(),
        at(1_900_000_000),
        at(1_900_000_600),
    );
    store
        .issue(&grant, std::slice::from_ref(&token))
        .await
        .unwrap();
    let error = store.issue(&grant, &[token]).await.unwrap_err();
    assert_eq!(error.kind(), StorageErrorKind::Conflict);
    // The server's DETAIL would say `Key (hash)=(\xabab…) already exists`.
    let text = chain(&error);
    assert!(!text.contains("abab"), "{text}");
    assert!(!text.contains("DETAIL"), "{text}");
}

#[tokio::test]
async fn a_statement_stuck_on_a_lock_times_out_as_unavailable_and_writes_nothing() {
    let schema = common::fresh_schema().await;
    let options = common::options_in(&schema).statement_timeout(Duration::from_millis(300));
    let store = PostgresStore::open_with(options).await.unwrap();
    let grant = grant("g-locked");
    store
        .use_once_and_insert_code(&SecretHash([1; 32]), at(1_900_000_060), code(7, &grant))
        .await
        .unwrap();

    // Another session holds the code's row.
    let holder = common::hold_rows(&schema, "finrift_codes").await;

    let error = store.consume_code(&SecretHash([7; 32])).await.unwrap_err();
    assert_eq!(
        error.kind(),
        StorageErrorKind::Unavailable,
        "{}",
        chain(&error)
    );
    holder.release().await;

    // Nothing was consumed: the code is redeemable once the lock is gone.
    assert!(matches!(
        store.consume_code(&SecretHash([7; 32])).await.unwrap(),
        oauth_core::storage::CodeConsumption::Consumed(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_with_no_free_connection_within_its_wait_is_busy() {
    let schema = common::fresh_schema().await;
    // Its own application name, so that the wait below is this store's.
    let url = format!("{}?application_name={schema}", common::server_url());
    let options = PostgresOptions::from_url(&url)
        .unwrap()
        .schema(&schema)
        .unwrap()
        .pool_size(1)
        .wait_timeout(Duration::from_millis(100))
        .statement_timeout(Duration::from_secs(3));
    let store = PostgresStore::open_with(options).await.unwrap();
    let grant = grant("g-busy");
    store
        .use_once_and_insert_code(&SecretHash([2; 32]), at(1_900_000_060), code(8, &grant))
        .await
        .unwrap();

    let holder = common::hold_rows(&schema, "finrift_codes").await;
    // The pool's one connection waits on the lock...
    let stuck = {
        let store = store.clone();
        tokio::spawn(async move { store.consume_code(&SecretHash([8; 32])).await })
    };
    common::wait_for_a_lock_wait(&common::admin_connection().await, &schema).await;
    // ...so a second call finds none free.
    let error = store.get_token(&SecretHash([9; 32])).await.unwrap_err();
    assert_eq!(error.kind(), StorageErrorKind::Busy, "{}", chain(&error));
    holder.release().await;
    assert!(stuck.await.unwrap().is_ok());
}

#[tokio::test]
async fn a_connection_the_server_ends_fails_its_call_as_transient_and_is_replaced() {
    let schema = common::fresh_schema().await;
    // Its own application name, so that only its connections are ended.
    let url = format!("{}?application_name={schema}", common::server_url());
    let options = PostgresOptions::from_url(&url)
        .unwrap()
        .schema(&schema)
        .unwrap()
        .pool_size(2);
    let store = PostgresStore::open_with(options).await.unwrap();
    store.get_token(&SecretHash([3; 32])).await.unwrap();

    // The server ends every connection of this store.
    let admin = common::admin_connection().await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&schema],
        )
        .await
        .unwrap();

    // Each call either fails as transient (its connection was the ended one) or, on a
    // new connection, succeeds; within a few calls the pool has replaced them.
    let mut succeeded = false;
    for _ in 0..5 {
        match store.get_token(&SecretHash([3; 32])).await {
            Ok(_) => {
                succeeded = true;
                break;
            }
            Err(error) => assert!(error.is_transient(), "{}", chain(&error)),
        }
    }
    assert!(succeeded);
}
