//! A database file written by an earlier schema version opens with this build, is
//! migrated, and keeps its data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, Rotation, SignIn, TokenKind, TokenRecord,
};
use oauth_core::{
    Client, ClientId, ClientStore, CodeStore, KeySetStore, ScopeSet, SecretHash, TokenStore,
};
use oauth_store_sqlite::{SqliteStore, SCHEMA_VERSION};
use rusqlite::{params, Connection};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The schema of version 2, as that version wrote it (its migrations 1 and 2, verbatim):
/// a file of the previous version is what this DDL leaves, whatever the code says now.
const VERSION_2: &str = "
    CREATE TABLE clients (
        id TEXT PRIMARY KEY NOT NULL,
        record TEXT NOT NULL
    ) STRICT;

    CREATE TABLE codes (
        hash BLOB PRIMARY KEY NOT NULL,
        grant_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        redirect_uri TEXT,
        scope TEXT NOT NULL,
        code_challenge TEXT,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        grant_expires_at INTEGER NOT NULL,
        consumed INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    -- What a purge looks for: unused codes by expiry, consumed ones by their grant's end.
    CREATE INDEX codes_unused_expiry ON codes (expires_at) WHERE consumed = 0;
    CREATE INDEX codes_consumed_expiry ON codes (grant_expires_at) WHERE consumed = 1;

    -- A row with NULL client_id and expires_at is the revocation mark of a grant that
    -- was never issued (TokenStore::revoke_grant before TokenStore::issue).
    CREATE TABLE grants (
        id TEXT PRIMARY KEY NOT NULL,
        client_id TEXT,
        subject TEXT,
        scope TEXT,
        created_at INTEGER,
        expires_at INTEGER,
        revoked INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX grants_expiry ON grants (expires_at) WHERE expires_at IS NOT NULL;

    CREATE TABLE tokens (
        hash BLOB PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh', 'jwt_access')),
        grant_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        subject TEXT,
        scope TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        grant_expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        rotated INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX tokens_grant ON tokens (grant_id);
    -- Access tokens go at their expiry, refresh tokens at their grant's end.
    CREATE INDEX tokens_access_expiry ON tokens (expires_at) WHERE kind <> 'refresh';
    CREATE INDEX tokens_refresh_expiry ON tokens (grant_expires_at) WHERE kind = 'refresh';
    CREATE TABLE uses (
        key BLOB PRIMARY KEY NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX uses_expiry ON uses (expires_at);
";

/// What versions 3 and 4 added (their migrations, verbatim): after [`VERSION_2`], the
/// schema of a file of version 4.
const VERSIONS_3_AND_4: &str = "
    CREATE INDEX grants_subject ON grants (subject) WHERE subject IS NOT NULL;
    CREATE INDEX codes_subject ON codes (subject);
    CREATE TABLE key_set (
        id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
        version INTEGER NOT NULL CHECK (version > 0),
        sealed BLOB NOT NULL
    ) STRICT;
";

/// What version 5 added (its migration, verbatim): after [`VERSIONS_3_AND_4`], the schema
/// of a file of version 5.
const VERSION_5: &str = "
    ALTER TABLE codes ADD COLUMN sign_in TEXT;
    ALTER TABLE tokens ADD COLUMN sign_in TEXT;
";

const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

#[tokio::test]
async fn sqlite_file_of_the_previous_schema_migrates_and_keeps_its_data() {
    assert_eq!(
        SCHEMA_VERSION, 6,
        "this test writes the file of version {}",
        2
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finrift.db");
    let client = Client::public("app")
        .unwrap()
        .redirect_uri("https://app.example/cb")
        .unwrap()
        .build()
        .unwrap();
    let refresh = SecretHash([7; 32]);
    let (created, ends) = (
        START.unix_timestamp(),
        (START + Duration::days(90)).unix_timestamp(),
    );
    {
        let old = Connection::open(&path).unwrap();
        old.execute_batch(VERSION_2).unwrap();
        old.execute(
            "INSERT INTO clients (id, record) VALUES (?1, ?2)",
            params!["app", serde_json::to_string(&client).unwrap()],
        )
        .unwrap();
        old.execute(
            "INSERT INTO grants (id, client_id, subject, scope, created_at, expires_at) \
             VALUES ('grant-1', 'app', 'alice', 'read', ?1, ?2)",
            params![created, ends],
        )
        .unwrap();
        old.execute(
            "INSERT INTO tokens (hash, kind, grant_id, client_id, subject, scope, issued_at, \
             expires_at, grant_expires_at) \
             VALUES (?1, 'refresh', 'grant-1', 'app', 'alice', 'read', ?2, ?3, ?3)",
            params![&refresh.0[..], created, ends],
        )
        .unwrap();
        old.execute_batch("PRAGMA user_version = 2").unwrap();
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let found = store
        .get_client(&ClientId::new("app").unwrap())
        .await
        .unwrap();
    assert_eq!(
        found,
        Some(client),
        "the client registered before the migration"
    );
    let token = store.get_token(&refresh).await.unwrap().unwrap();
    assert_eq!(token.kind, TokenKind::Refresh);
    assert_eq!(token.subject.as_deref(), Some("alice"));
    assert_eq!(token.grant_expires_at.unix_timestamp(), ends);

    // The grant still works: its refresh token rotates, and the new tokens join it.
    let grant = GrantRecord::new(
        token.grant_id.clone(),
        token.client_id.clone(),
        token.subject.clone(),
        ScopeSet::parse("read").unwrap(),
        START,
        token.grant_expires_at,
    );
    let next = TokenRecord::new(
        SecretHash([8; 32]),
        TokenKind::Refresh,
        grant.clone(),
        grant.scope.clone(),
        START + Duration::hours(1),
        grant.expires_at,
    );
    assert_eq!(
        store
            .rotate_refresh(&refresh, std::slice::from_ref(&next))
            .await
            .unwrap(),
        Rotation::Rotated
    );
    assert!(store
        .get_token(&next.hash)
        .await
        .unwrap()
        .unwrap()
        .is_active(START));
    // And version 3's index serves the subject's revocation: both refresh tokens, the
    // rotated one and its successor, go from not revoked to revoked.
    assert_eq!(store.revoke_subject("alice").await.unwrap(), 2);
    // And version 4's table keeps the shared key set, empty at first.
    assert_eq!(store.load_key_set().await.unwrap(), None);
    assert!(store
        .replace_key_set(None, b"sealed".to_vec())
        .await
        .unwrap());
    assert_eq!(store.load_key_set().await.unwrap().unwrap().version(), 1);
    drop(store);

    let key_set_table: i64 = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'key_set'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(key_set_table, 1, "the migration created the key_set table");

    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// A file of version 4 (the one before sign-ins were kept) migrates to the current
/// version and keeps its codes and tokens, which read back as written, with no sign-in;
/// the new columns then keep the sign-in of what is stored after.
#[tokio::test]
async fn sqlite_file_of_version_4_migrates_and_its_rows_read_back_without_a_sign_in() {
    assert_eq!(SCHEMA_VERSION, 6, "this test writes the file of version 4");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finrift.db");
    let ends = START + Duration::days(90);
    let pending = GrantRecord::new(
        GrantId("grant-pending".into()),
        ClientId::new("app").unwrap(),
        Some("alice".into()),
        ScopeSet::parse("openid read").unwrap(),
        START,
        ends,
    );
    let mut code = CodeRecord::new(
        SecretHash([1; 32]),
        pending.clone(),
        "alice",
        START + Duration::minutes(1),
    );
    code.redirect_uri = Some("https://app.example/cb".into());
    let issued = GrantRecord::new(
        GrantId("grant-issued".into()),
        ClientId::new("app").unwrap(),
        Some("alice".into()),
        ScopeSet::parse("openid read").unwrap(),
        START,
        ends,
    );
    let refresh = TokenRecord::new(
        SecretHash([2; 32]),
        TokenKind::Refresh,
        issued.clone(),
        issued.scope.clone(),
        START,
        ends,
    );
    {
        let old = Connection::open(&path).unwrap();
        old.execute_batch(VERSION_2).unwrap();
        old.execute_batch(VERSIONS_3_AND_4).unwrap();
        old.execute(
            "INSERT INTO codes (hash, grant_id, client_id, subject, redirect_uri, scope, \
             code_challenge, issued_at, expires_at, grant_expires_at) \
             VALUES (?1, 'grant-pending', 'app', 'alice', 'https://app.example/cb', \
             'openid read', NULL, ?2, ?3, ?4)",
            params![
                &code.hash.0[..],
                START.unix_timestamp(),
                code.expires_at.unix_timestamp(),
                ends.unix_timestamp()
            ],
        )
        .unwrap();
        old.execute(
            "INSERT INTO grants (id, client_id, subject, scope, created_at, expires_at) \
             VALUES ('grant-issued', 'app', 'alice', 'openid read', ?1, ?2)",
            params![START.unix_timestamp(), ends.unix_timestamp()],
        )
        .unwrap();
        old.execute(
            "INSERT INTO tokens (hash, kind, grant_id, client_id, subject, scope, issued_at, \
             expires_at, grant_expires_at) \
             VALUES (?1, 'refresh', 'grant-issued', 'app', 'alice', 'openid read', ?2, ?3, ?3)",
            params![
                &refresh.hash.0[..],
                START.unix_timestamp(),
                ends.unix_timestamp()
            ],
        )
        .unwrap();
        old.execute_batch("PRAGMA user_version = 4").unwrap();
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let read = store.get_token(&refresh.hash).await.unwrap();
    assert_eq!(read.as_ref(), Some(&refresh), "the token written before");
    assert_eq!(read.and_then(|token| token.sign_in), None);
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::Consumed(code.clone()),
        "the code written before, with no sign-in"
    );
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code)
    );

    // What is stored after the migration keeps its sign-in.
    let mut sign_in = SignIn::new(START);
    sign_in.amr = vec!["pwd".into()];
    sign_in.nonce = Some("n-0S6".into());
    let mut next = TokenRecord::new(
        SecretHash([3; 32]),
        TokenKind::Refresh,
        issued.clone(),
        issued.scope.clone(),
        START + Duration::hours(1),
        ends,
    );
    next.sign_in = Some(sign_in.without_nonce());
    assert_eq!(
        store
            .rotate_refresh(&refresh.hash, std::slice::from_ref(&next))
            .await
            .unwrap(),
        Rotation::Rotated
    );
    assert_eq!(store.get_token(&next.hash).await.unwrap(), Some(next));
    drop(store);

    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// A file of version 5 (the one before DPoP key bindings were kept) migrates to the
/// current version and keeps its codes and tokens, sign-ins included, which read back as
/// written, bound to no key; the new columns then keep the binding of what is stored
/// after.
#[tokio::test]
async fn sqlite_file_of_version_5_migrates_and_its_rows_read_back_bound_to_no_key() {
    assert_eq!(SCHEMA_VERSION, 6, "this test writes the file of version 5");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finrift.db");
    let ends = START + Duration::days(90);
    let mut sign_in = SignIn::new(START);
    sign_in.amr = vec!["pwd".into()];
    sign_in.nonce = Some("n-0S6".into());
    let pending = GrantRecord::new(
        GrantId("grant-pending".into()),
        ClientId::new("app").unwrap(),
        Some("alice".into()),
        ScopeSet::parse("openid read").unwrap(),
        START,
        ends,
    );
    let mut code = CodeRecord::new(
        SecretHash([1; 32]),
        pending.clone(),
        "alice",
        START + Duration::minutes(1),
    );
    code.redirect_uri = Some("https://app.example/cb".into());
    code.sign_in = Some(sign_in.clone());
    let issued = GrantRecord::new(
        GrantId("grant-issued".into()),
        ClientId::new("app").unwrap(),
        Some("alice".into()),
        ScopeSet::parse("openid read").unwrap(),
        START,
        ends,
    );
    let mut refresh = TokenRecord::new(
        SecretHash([2; 32]),
        TokenKind::Refresh,
        issued.clone(),
        issued.scope.clone(),
        START,
        ends,
    );
    refresh.sign_in = Some(sign_in.without_nonce());
    {
        let old = Connection::open(&path).unwrap();
        old.execute_batch(VERSION_2).unwrap();
        old.execute_batch(VERSIONS_3_AND_4).unwrap();
        old.execute_batch(VERSION_5).unwrap();
        old.execute(
            "INSERT INTO codes (hash, grant_id, client_id, subject, redirect_uri, scope, \
             code_challenge, issued_at, expires_at, grant_expires_at, sign_in) \
             VALUES (?1, 'grant-pending', 'app', 'alice', 'https://app.example/cb', \
             'openid read', NULL, ?2, ?3, ?4, ?5)",
            params![
                &code.hash.0[..],
                START.unix_timestamp(),
                code.expires_at.unix_timestamp(),
                ends.unix_timestamp(),
                serde_json::to_string(&sign_in).unwrap()
            ],
        )
        .unwrap();
        old.execute(
            "INSERT INTO grants (id, client_id, subject, scope, created_at, expires_at) \
             VALUES ('grant-issued', 'app', 'alice', 'openid read', ?1, ?2)",
            params![START.unix_timestamp(), ends.unix_timestamp()],
        )
        .unwrap();
        old.execute(
            "INSERT INTO tokens (hash, kind, grant_id, client_id, subject, scope, issued_at, \
             expires_at, grant_expires_at, sign_in) \
             VALUES (?1, 'refresh', 'grant-issued', 'app', 'alice', 'openid read', ?2, ?3, ?3, \
             ?4)",
            params![
                &refresh.hash.0[..],
                START.unix_timestamp(),
                ends.unix_timestamp(),
                serde_json::to_string(&sign_in.without_nonce()).unwrap()
            ],
        )
        .unwrap();
        old.execute_batch("PRAGMA user_version = 5").unwrap();
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let read = store.get_token(&refresh.hash).await.unwrap();
    assert_eq!(read.as_ref(), Some(&refresh), "the token written before");
    assert_eq!(read.and_then(|token| token.dpop_jkt), None);
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::Consumed(code.clone()),
        "the code written before, with its sign-in and no key"
    );
    assert_eq!(
        store.consume_code(&code.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(code)
    );

    // What is stored after the migration keeps its key.
    let key = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let mut next = TokenRecord::new(
        SecretHash([3; 32]),
        TokenKind::Refresh,
        issued.clone(),
        issued.scope.clone(),
        START + Duration::hours(1),
        ends,
    );
    next.sign_in = Some(sign_in.without_nonce());
    next.dpop_jkt = Some(key.into());
    assert_eq!(
        store
            .rotate_refresh(&refresh.hash, std::slice::from_ref(&next))
            .await
            .unwrap(),
        Rotation::Rotated
    );
    assert_eq!(store.get_token(&next.hash).await.unwrap(), Some(next));
    let mut bound = CodeRecord::new(
        SecretHash([4; 32]),
        pending.clone(),
        "alice",
        START + Duration::minutes(1),
    );
    bound.dpop_jkt = Some(key.into());
    assert!(store
        .use_once_and_insert_code(&SecretHash([5; 32]), bound.expires_at, bound.clone())
        .await
        .unwrap());
    assert_eq!(
        store.consume_code(&bound.hash).await.unwrap(),
        CodeConsumption::Consumed(bound)
    );
    drop(store);

    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}
