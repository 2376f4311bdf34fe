//! A schema written by the previous version of the store is migrated when a store opens
//! it, and keeps its data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_store_postgres::test_server as common;

use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, Rotation, SignIn, TokenKind, TokenRecord,
};
use oauth_core::{ClientId, CodeStore, ScopeSet, SecretHash, TokenStore};
use oauth_store_postgres::{PostgresStore, SCHEMA_VERSION};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The schema of version 1, as that version wrote it (its migration, verbatim, and its
/// version table): a schema of the previous version is what this DDL leaves, whatever
/// the code says now.
const VERSION_1: &str = "
    CREATE TABLE finrift_clients (
        -- Byte order (the C collation), the order ClientStore::list_clients pages in.
        id text COLLATE \"C\" PRIMARY KEY,
        record text NOT NULL
    );

    CREATE TABLE finrift_codes (
        hash bytea PRIMARY KEY,
        grant_id text NOT NULL,
        client_id text NOT NULL,
        subject text NOT NULL,
        redirect_uri text,
        scope text NOT NULL,
        code_challenge text,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        grant_expires_at bigint NOT NULL,
        consumed boolean NOT NULL DEFAULT false
    );
    -- What a purge looks for: unused codes by expiry, consumed ones by their grant's end.
    CREATE INDEX finrift_codes_unused_expiry ON finrift_codes (expires_at) WHERE NOT consumed;
    CREATE INDEX finrift_codes_consumed_expiry ON finrift_codes (grant_expires_at) WHERE consumed;
    -- TokenStore::revoke_subject finds the grants of codes not redeemed yet.
    CREATE INDEX finrift_codes_subject ON finrift_codes (subject);

    -- A row with NULL client_id and expires_at is the revocation mark of a grant that
    -- was never issued (TokenStore::revoke_grant before TokenStore::issue).
    CREATE TABLE finrift_grants (
        id text PRIMARY KEY,
        client_id text,
        subject text,
        scope text,
        created_at bigint,
        expires_at bigint,
        revoked boolean NOT NULL DEFAULT false
    );
    CREATE INDEX finrift_grants_expiry ON finrift_grants (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX finrift_grants_subject ON finrift_grants (subject) WHERE subject IS NOT NULL;

    CREATE TABLE finrift_tokens (
        hash bytea PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('access', 'refresh', 'jwt_access')),
        grant_id text NOT NULL,
        client_id text NOT NULL,
        subject text,
        scope text NOT NULL,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        grant_expires_at bigint NOT NULL,
        revoked boolean NOT NULL DEFAULT false,
        rotated boolean NOT NULL DEFAULT false
    );
    CREATE INDEX finrift_tokens_grant ON finrift_tokens (grant_id);
    -- Access tokens go at their expiry, refresh tokens at their grant's end.
    CREATE INDEX finrift_tokens_access_expiry ON finrift_tokens (expires_at) WHERE kind <> 'refresh';
    CREATE INDEX finrift_tokens_refresh_expiry ON finrift_tokens (grant_expires_at) WHERE kind = 'refresh';

    -- One-time-use marks (CodeStore::use_once).
    CREATE TABLE finrift_uses (
        key bytea PRIMARY KEY,
        expires_at bigint NOT NULL
    );
    CREATE INDEX finrift_uses_expiry ON finrift_uses (expires_at);

    -- The deployment's signing keys (KeySetStore): one row, sealed by the instances
    -- (AES-256-GCM under their key-encryption key) before it reaches the database.
    CREATE TABLE finrift_key_set (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        version bigint NOT NULL CHECK (version > 0),
        sealed bytea NOT NULL
    );

    CREATE TABLE finrift_schema (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        version bigint NOT NULL
    );
    INSERT INTO finrift_schema (version) VALUES (1);
";

/// What version 2 added (its migration, verbatim, and the version it wrote): after
/// [`VERSION_1`], a schema of version 2.
const VERSION_2: &str = "
    ALTER TABLE finrift_codes ADD COLUMN sign_in text;
    ALTER TABLE finrift_tokens ADD COLUMN sign_in text;
    UPDATE finrift_schema SET version = 2;
";

const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

/// A schema of version 1 (the one before sign-ins were kept) migrates to the current
/// version and keeps its codes and tokens, which read back as written, with no sign-in;
/// the new columns then keep the sign-in of what is stored after.
#[tokio::test]
async fn postgres_schema_of_version_1_migrates_and_its_rows_read_back_without_a_sign_in() {
    assert_eq!(
        SCHEMA_VERSION, 3,
        "this test writes the schema of version 1"
    );
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

    let schema = common::fresh_schema().await;
    let admin = common::admin_connection().await;
    admin
        .batch_execute(&format!("SET search_path TO {schema}; {VERSION_1}"))
        .await
        .unwrap();
    let (start, expires, end) = (
        START.unix_timestamp(),
        code.expires_at.unix_timestamp(),
        ends.unix_timestamp(),
    );
    admin
        .execute(
            "INSERT INTO finrift_codes (hash, grant_id, client_id, subject, redirect_uri, \
             scope, code_challenge, issued_at, expires_at, grant_expires_at) \
             VALUES ($1, 'grant-pending', 'app', 'alice', 'https://app.example/cb', \
             'openid read', NULL, $2, $3, $4)",
            &[&&code.hash.0[..], &start, &expires, &end],
        )
        .await
        .unwrap();
    admin
        .execute(
            "INSERT INTO finrift_grants (id, client_id, subject, scope, created_at, expires_at) \
             VALUES ('grant-issued', 'app', 'alice', 'openid read', $1, $2)",
            &[&start, &end],
        )
        .await
        .unwrap();
    admin
        .execute(
            "INSERT INTO finrift_tokens (hash, kind, grant_id, client_id, subject, scope, \
             issued_at, expires_at, grant_expires_at) \
             VALUES ($1, 'refresh', 'grant-issued', 'app', 'alice', 'openid read', $2, $3, $3)",
            &[&&refresh.hash.0[..], &start, &end],
        )
        .await
        .unwrap();

    let store = PostgresStore::open_with(common::options_in(&schema))
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
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
}

/// A schema of version 2 (the one before DPoP key bindings were kept) migrates to the
/// current version and keeps its codes and tokens, sign-ins included, which read back as
/// written, bound to no key; the new columns then keep the binding of what is stored
/// after.
#[tokio::test]
async fn postgres_schema_of_version_2_migrates_and_its_rows_read_back_bound_to_no_key() {
    assert_eq!(
        SCHEMA_VERSION, 3,
        "this test writes the schema of version 2"
    );
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

    let schema = common::fresh_schema().await;
    let admin = common::admin_connection().await;
    admin
        .batch_execute(&format!(
            "SET search_path TO {schema}; {VERSION_1} {VERSION_2}"
        ))
        .await
        .unwrap();
    let (start, expires, end) = (
        START.unix_timestamp(),
        code.expires_at.unix_timestamp(),
        ends.unix_timestamp(),
    );
    let (code_sign_in, token_sign_in) = (
        serde_json::to_string(&sign_in).unwrap(),
        serde_json::to_string(&sign_in.without_nonce()).unwrap(),
    );
    admin
        .execute(
            "INSERT INTO finrift_codes (hash, grant_id, client_id, subject, redirect_uri, \
             scope, code_challenge, issued_at, expires_at, grant_expires_at, sign_in) \
             VALUES ($1, 'grant-pending', 'app', 'alice', 'https://app.example/cb', \
             'openid read', NULL, $2, $3, $4, $5)",
            &[&&code.hash.0[..], &start, &expires, &end, &code_sign_in],
        )
        .await
        .unwrap();
    admin
        .execute(
            "INSERT INTO finrift_grants (id, client_id, subject, scope, created_at, expires_at) \
             VALUES ('grant-issued', 'app', 'alice', 'openid read', $1, $2)",
            &[&start, &end],
        )
        .await
        .unwrap();
    admin
        .execute(
            "INSERT INTO finrift_tokens (hash, kind, grant_id, client_id, subject, scope, \
             issued_at, expires_at, grant_expires_at, sign_in) \
             VALUES ($1, 'refresh', 'grant-issued', 'app', 'alice', 'openid read', $2, $3, $3, \
             $4)",
            &[&&refresh.hash.0[..], &start, &end, &token_sign_in],
        )
        .await
        .unwrap();

    let store = PostgresStore::open_with(common::options_in(&schema))
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
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
}
