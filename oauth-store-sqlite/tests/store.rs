//! The SQLite store's own behaviour beyond the conformance kit: purging in bounded
//! batches, the schema version, WAL mode, corrupt rows (and sign-ins) reported as such,
//! and approval as one transaction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{db_path, temp_store};
use oauth_core::storage::{GrantId, GrantRecord, TokenKind, TokenRecord};
use oauth_core::{ClientId, RandomSource, ScopeSet, SecretHash, StorageErrorKind, TokenStore};
use oauth_store_sqlite::{SqliteOptions, SqliteStore, SCHEMA_VERSION};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn grant(random: &RandomSource) -> GrantRecord {
    GrantRecord::new(
        GrantId(random.id().unwrap()),
        ClientId::new("app").unwrap(),
        None,
        ScopeSet::parse("read:users").unwrap(),
        START,
        START + Duration::days(1),
    )
}

fn access(random: &RandomSource, grant: &GrantRecord, expires: OffsetDateTime) -> TokenRecord {
    let mut hash = [0u8; 32];
    random.fill(&mut hash).unwrap();
    TokenRecord::new(
        SecretHash(hash),
        TokenKind::Access,
        grant.clone(),
        grant.scope.clone(),
        START,
        expires,
    )
}

/// 2,500 expired access tokens and 10 live ones: a purge in calls of 100 deletes the
/// 2,500 in 25 full calls and a last one that finds nothing, and keeps the 10.
#[tokio::test]
async fn purge_deletes_in_bounded_batches() {
    let temp = temp_store().await;
    let store = &temp.store;
    let random = RandomSource::new();
    let g = grant(&random);
    let mut live = Vec::new();
    for _ in 0..10 {
        let tokens: Vec<_> = (0..250)
            .map(|_| access(&random, &g, START + Duration::minutes(5)))
            .collect();
        store.issue(&g, &tokens).await.unwrap();
        let keep = access(&random, &g, START + Duration::hours(2));
        store.issue(&g, std::slice::from_ref(&keep)).await.unwrap();
        live.push(keep);
    }

    let mut calls = Vec::new();
    loop {
        let step = store
            .purge_expired_batch(START + Duration::hours(1), 100)
            .await
            .unwrap();
        calls.push(step.tokens);
        assert_eq!(step.codes + step.grants, 0);
        if !step.more {
            break;
        }
        assert!(calls.len() <= 26, "{calls:?}");
    }
    assert_eq!(calls.iter().sum::<u64>(), 2500);
    assert_eq!(&calls[..25], &[100; 25]);
    assert_eq!(calls.get(25), Some(&0));
    for token in &live {
        assert!(store.get_token(&token.hash).await.unwrap().is_some());
    }
}

/// A new file is created at the current schema version in WAL mode; opening it again
/// migrates nothing; a file from a newer version is refused rather than misread.
#[tokio::test]
async fn schema_is_versioned_and_database_is_in_wal_mode() {
    let temp = temp_store().await;
    let path = db_path(&temp.guard);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    drop(SqliteStore::open(&path).await.unwrap());
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    raw.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert_eq!(error.kind(), StorageErrorKind::Backend);
    assert!(error.to_string().contains("schema version"), "{error}");
}

/// A row whose value does not decode is reported as Corrupt, not as a panic or a guess.
#[tokio::test]
async fn undecodable_row_is_corrupt() {
    let temp = temp_store().await;
    let random = RandomSource::new();
    let g = grant(&random);
    let token = access(&random, &g, START + Duration::hours(1));
    temp.store
        .issue(&g, std::slice::from_ref(&token))
        .await
        .unwrap();
    let raw = rusqlite::Connection::open(db_path(&temp.guard)).unwrap();
    raw.execute("UPDATE tokens SET scope = 'a\"b'", []).unwrap();
    let error = temp.store.get_token(&token.hash).await.unwrap_err();
    assert_eq!(error.kind(), StorageErrorKind::Corrupt);
}

/// A stored sign-in that is not the JSON of one, or not JSON at all, is Corrupt.
#[tokio::test]
async fn undecodable_sign_in_is_corrupt() {
    let temp = temp_store().await;
    let random = RandomSource::new();
    let g = grant(&random);
    let token = access(&random, &g, START + Duration::hours(1));
    temp.store
        .issue(&g, std::slice::from_ref(&token))
        .await
        .unwrap();
    let raw = rusqlite::Connection::open(db_path(&temp.guard)).unwrap();
    for stored in ["{\"acr\": \"x\"}", "not json", "{\"auth_time\": \"soon\"}"] {
        raw.execute("UPDATE tokens SET sign_in = ?1", [stored])
            .unwrap();
        let error = temp.store.get_token(&token.hash).await.unwrap_err();
        assert_eq!(error.kind(), StorageErrorKind::Corrupt, "{stored}");
    }
}

/// In memory, the pool is one connection whatever is asked: every call sees one database.
#[tokio::test]
async fn in_memory_store_is_one_database() {
    let store = SqliteStore::open_with(SqliteOptions::in_memory().pool_size(8))
        .await
        .unwrap();
    let random = RandomSource::new();
    let g = grant(&random);
    let tokens: Vec<_> = (0..20)
        .map(|_| access(&random, &g, START + Duration::hours(1)))
        .collect();
    for token in &tokens {
        store.issue(&g, std::slice::from_ref(token)).await.unwrap();
    }
    for token in &tokens {
        assert!(store.get_token(&token.hash).await.unwrap().is_some());
    }
}

/// Approval is one transaction, also through a wrapper such as the test kit's `Guarded`:
/// when the code cannot be stored, the single-use mark is rolled back with it.
#[tokio::test]
async fn approval_rolls_back_its_mark_when_the_code_is_refused() {
    use oauth_core::storage::CodeRecord;
    use oauth_core::CodeStore;

    let temp = temp_store().await;
    let random = RandomSource::new();
    let g = grant(&random);
    let code = |hash: [u8; 32]| {
        CodeRecord::new(
            SecretHash(hash),
            g.clone(),
            "alice",
            START + Duration::minutes(1),
        )
    };
    let (first, second) = (SecretHash([1; 32]), SecretHash([2; 32]));
    let until = START + Duration::minutes(10);
    assert!(temp
        .use_once_and_insert_code(&first, until, code([9; 32]))
        .await
        .unwrap());
    let refused = temp
        .use_once_and_insert_code(&second, until, code([9; 32]))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), StorageErrorKind::Conflict);
    assert!(
        temp.use_once(&second, until).await.unwrap(),
        "the refused approval's mark was rolled back"
    );
}

/// A file whose schema version is newer than this build knows is refused with an error
/// that says so, and left byte for byte as it was (not even switched to WAL mode).
#[tokio::test]
async fn a_file_from_a_newer_version_is_refused_and_left_unmodified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(&format!(
            "CREATE TABLE clients (id TEXT PRIMARY KEY, record TEXT);
             INSERT INTO clients VALUES ('app', '{{}}');
             PRAGMA user_version = {};",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert_eq!(error.kind(), StorageErrorKind::Backend);
    assert!(
        error
            .to_string()
            .contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is untouched"
    );
}
