//! The schema, versioned in `finrift_schema` and migrated in one transaction per version.
//!
//! A migration takes a transaction-scoped advisory lock first, so several instances that
//! start at once against a new database apply it once: the others wait for the lock, then
//! read the new version and find nothing to do. DDL is transactional in PostgreSQL, so a
//! failed migration leaves the previous version whole.
//!
//! Layout rules, as in the SQLite store: secrets appear only as their SHA-256 (`bytea`,
//! the primary key of codes and tokens); instants are unix seconds (`bigint`); scopes are
//! the space-separated text of a scope set; a client registration is its JSON (which holds
//! the secret's hash or derivation, never the secret), and so is the sign-in of a code or
//! a token; the DPoP key a code or a token is bound to is its thumbprint's text. Every
//! table name starts with
//! `finrift_`, so the tables can share a schema with the application's own.

use oauth_core::{StorageError, StorageErrorKind};
use tokio_postgres::GenericClient;

use crate::error::db_error;

/// The migrations, in order: migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "
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
    ",
    // Version 2: the user's sign-in behind an OpenID Connect grant, kept with its code and
    // its refresh tokens: the JSON of the record's `SignIn`, NULL when it has none (every
    // row written before). Adding a nullable column with no default rewrites no row.
    "
    ALTER TABLE finrift_codes ADD COLUMN sign_in text;
    ALTER TABLE finrift_tokens ADD COLUMN sign_in text;
    ",
    // Version 3: the DPoP key a code or a token is bound to: the record's `dpop_jkt` (a
    // key's thumbprint) as it is, NULL when unbound (every row written before). As in
    // version 2, a nullable column with no default rewrites no row.
    "
    ALTER TABLE finrift_codes ADD COLUMN dpop_jkt text;
    ALTER TABLE finrift_tokens ADD COLUMN dpop_jkt text;
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The key of the advisory lock that serializes migrations (any constant unlikely to be
/// another application's: the ASCII of "finrift" read as an integer).
const MIGRATION_LOCK: i64 = 0x0066_696e_7269_6674;

/// The version table, created by every build before it reads the version.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS finrift_schema (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        version bigint NOT NULL
    )";

/// The finrift schema version of the database `client` is connected to, as kept in the
/// first schema of the session's `search_path`: 0 when finrift never migrated it. Reads
/// only, and takes any connection (an admin tool's own, whose connect errors it reports
/// in its own words); a version newer than [`SCHEMA_VERSION`] is answered, not refused.
pub async fn read_schema_version(client: &impl GenericClient) -> Result<i64, StorageError> {
    // `to_regclass` answers NULL rather than failing when the table does not exist.
    let row = client
        .query_one("SELECT to_regclass('finrift_schema') IS NOT NULL", &[])
        .await
        .map_err(db_error("look for the schema version table"))?;
    if !row.get::<_, bool>(0) {
        return Ok(0);
    }
    let row = client
        .query_opt("SELECT version FROM finrift_schema", &[])
        .await
        .map_err(db_error("read the schema version"))?;
    Ok(row.map_or(0, |row| row.get(0)))
}

/// Refuses a version this build does not know.
pub(crate) fn check_version(version: i64) -> Result<(), StorageError> {
    if (0..=SCHEMA_VERSION).contains(&version) {
        return Ok(());
    }
    Err(StorageError::new(
        StorageErrorKind::Backend,
        format!(
            "the database has finrift schema version {version}; this build knows 0 to \
             {SCHEMA_VERSION}: it was written by a newer version, and is left untouched"
        ),
    ))
}

/// Brings the database to [`SCHEMA_VERSION`]; refuses one written by a newer version.
pub(crate) async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), StorageError> {
    loop {
        let tx = client
            .transaction()
            .await
            .map_err(db_error("begin a migration"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db_error("take the migration lock"))?;
        tx.batch_execute(VERSION_TABLE)
            .await
            .map_err(db_error("create the schema version table"))?;
        let version = read_schema_version(&tx).await?;
        check_version(version)?;
        let Some(migration) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            // At the newest version. Committing only releases the lock (and keeps the
            // version table, if this call made it).
            tx.commit().await.map_err(db_error("end a migration"))?;
            return Ok(());
        };
        tx.batch_execute(migration)
            .await
            .map_err(db_error("apply a schema migration"))?;
        tx.execute(
            "INSERT INTO finrift_schema (version) VALUES ($1) \
             ON CONFLICT (only_row) DO UPDATE SET version = excluded.version",
            &[&(version + 1)],
        )
        .await
        .map_err(db_error("write the schema version"))?;
        tx.commit().await.map_err(db_error("commit a migration"))?;
    }
}
