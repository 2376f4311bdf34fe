//! The schema, versioned with `PRAGMA user_version` and migrated on open.
//!
//! Each migration runs in one `BEGIN IMMEDIATE` transaction that re-reads the version
//! first, so two processes opening a new database at once apply it once.
//!
//! Layout rules: secrets appear only as their SHA-256 (`hash BLOB`, the primary key of
//! codes and tokens); instants are unix seconds (`INTEGER`); scopes are the space-separated
//! text of a scope set; client registrations, and the sign-in of a code or a token, are
//! their JSON (a registration holds the secret's hash, never the secret); the DPoP key a
//! code or a token is bound to is its thumbprint's text.

use oauth_core::{StorageError, StorageErrorKind};
use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::codec::sql_error;

/// The migrations, in order: migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "
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
    ",
    // Version 2: one-time-use marks (CodeStore::use_once).
    "
    CREATE TABLE uses (
        key BLOB PRIMARY KEY NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX uses_expiry ON uses (expires_at);
    ",
    // Version 3: TokenStore::revoke_subject finds a user's grants, and the codes of the
    // grants not issued yet, by subject.
    "
    CREATE INDEX grants_subject ON grants (subject) WHERE subject IS NOT NULL;
    CREATE INDEX codes_subject ON codes (subject);
    ",
    // Version 4: the signing keys every instance shares (KeySetStore), sealed by the core
    // before they reach the database. One row at most, replaced by compare-and-swap.
    "
    CREATE TABLE key_set (
        id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
        version INTEGER NOT NULL CHECK (version > 0),
        sealed BLOB NOT NULL
    ) STRICT;
    ",
    // Version 5: the user's sign-in behind an OpenID Connect grant, kept with its code and
    // its refresh tokens: the JSON of the record's `SignIn`, NULL when it has none (every
    // row written before).
    "
    ALTER TABLE codes ADD COLUMN sign_in TEXT;
    ALTER TABLE tokens ADD COLUMN sign_in TEXT;
    ",
    // Version 6: the DPoP key a code or a token is bound to: the record's `dpop_jkt` (a
    // key's thumbprint) as it is, NULL when unbound (every row written before).
    "
    ALTER TABLE codes ADD COLUMN dpop_jkt TEXT;
    ALTER TABLE tokens ADD COLUMN dpop_jkt TEXT;
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema version of the existing database file at `path`, read without changing
/// the file: a read-only connection reads `PRAGMA user_version` and nothing else, so
/// neither the file nor its journal mode is touched (SQLite may leave the empty
/// write-ahead log and its index, `-wal` and `-shm`, beside a file in WAL mode), and a
/// missing file is an error, not a new database. Version 0 is an SQLite database that no version of this store has
/// migrated yet (an empty file included); compare the answer with [`SCHEMA_VERSION`].
///
/// It blocks on the file: call it outside async code, or on a blocking thread.
pub fn schema_version(path: impl AsRef<Path>) -> Result<i64, StorageError> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(StorageError::new(
            StorageErrorKind::Backend,
            "the path is not a database file (it is missing, or not a regular file)",
        ));
    }
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error("open the database to read its schema version"))?;
    connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(sql_error("read the schema version"))
}

/// Refuses the existing database file at `path` if a newer version of the store wrote
/// it, before anything else opens it: [`schema_version`] reads it read-only, so the
/// refused file is left exactly as it was (opening it for the store would first switch
/// it to WAL mode, a write to its header).
pub(crate) fn refuse_newer(path: &Path) -> Result<(), StorageError> {
    if !path.exists() {
        return Ok(());
    }
    check_version(schema_version(path)?)
}

fn check_version(version: i64) -> Result<(), StorageError> {
    if (0..=SCHEMA_VERSION).contains(&version) {
        return Ok(());
    }
    Err(StorageError::new(
        StorageErrorKind::Backend,
        format!(
            "the database has schema version {version}; this build knows 0 to \
             {SCHEMA_VERSION}: it was written by a newer version, and is left untouched"
        ),
    ))
}

/// Brings the database to [`SCHEMA_VERSION`]; refuses one written by a newer version.
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), StorageError> {
    loop {
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error("begin a migration"))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(sql_error("read the schema version"))?;
        check_version(version)?;
        let Some(migration) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            // At the newest version: nothing to do (the transaction only read).
            return Ok(());
        };
        tx.execute_batch(migration)
            .map_err(sql_error("apply a schema migration"))?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))
            .map_err(sql_error("write the schema version"))?;
        tx.commit().map_err(sql_error("commit a migration"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_reads_a_file_and_creates_none() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.db");
        assert!(schema_version(&missing).is_err());
        assert!(
            !missing.exists(),
            "reading a version must not create a database"
        );
        assert!(
            schema_version(dir.path()).is_err(),
            "a directory is no database"
        );

        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(schema_version(&empty).unwrap(), 0);

        let migrated = dir.path().join("migrated.db");
        migrate(&mut Connection::open(&migrated).unwrap()).unwrap();
        assert_eq!(schema_version(&migrated).unwrap(), SCHEMA_VERSION);
    }
}
