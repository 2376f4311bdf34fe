//! The SQLite backend: a database file, checked before SQLite is let near it.
//!
//! SQLite creates a missing file on open, and reads a directory or a stranger's file only
//! to fail with a terse message; so the path is checked first, with the standard library,
//! and each case gets its own sentence. The schema version is read with
//! [`oauth_store_sqlite::schema_version`], which never changes the file.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use oauth_store_sqlite::{SqliteOptions, SqliteStore, SCHEMA_VERSION};

use super::{newer, require_current, Migration, SchemaState};
use crate::error::CliError;

/// What every SQLite 3 database file starts with.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Opens the existing database at `path`, which must have the current schema.
pub(super) async fn open(path: &Path) -> Result<SqliteStore, CliError> {
    let found = read_version(path).await?;
    require_current(
        SchemaState {
            found,
            current: SCHEMA_VERSION,
        },
        &describe(path),
    )?;
    // One connection: a command makes its calls one after the other.
    SqliteStore::open_with(SqliteOptions::file(path).pool_size(1))
        .await
        .map_err(|e| CliError::storage("open the database", &e))
}

/// The schema version of the existing database at `path`.
pub(super) async fn schema(path: &Path) -> Result<SchemaState, CliError> {
    Ok(SchemaState {
        found: read_version(path).await?,
        current: SCHEMA_VERSION,
    })
}

/// Creates the database at `path`, or brings it to [`SCHEMA_VERSION`].
pub(super) async fn migrate(path: &Path) -> Result<Migration, CliError> {
    let before = if path.exists() {
        let found = read_version(path).await?;
        if found > SCHEMA_VERSION {
            return Err(newer(&describe(path), found, SCHEMA_VERSION));
        }
        Some(found)
    } else {
        // SQLite would say only "unable to open database file".
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) {
            return Err(CliError::new(format!(
                "cannot create {}: its directory does not exist",
                describe(path)
            )));
        }
        None
    };
    // Opening the store applies the pending migrations, each in its own transaction.
    let store = SqliteStore::open_with(SqliteOptions::file(path).pool_size(1))
        .await
        .map_err(|e| CliError::storage("create or migrate the database", &e))?;
    drop(store);
    Ok(Migration {
        before,
        after: read_version(path).await?,
    })
}

/// `the database "path"`, for messages.
fn describe(path: &Path) -> String {
    // Debug quotes the path and escapes what would break the line.
    format!("the database {path:?}")
}

/// Checks that `path` is a readable SQLite file, then reads its schema version.
async fn read_version(path: &Path) -> Result<i64, CliError> {
    let owned = path.to_owned();
    // File reads block: off the async thread, as the store does its own.
    tokio::task::spawn_blocking(move || {
        check_file(&owned)?;
        oauth_store_sqlite::schema_version(&owned)
            .map_err(|e| CliError::storage("read the schema version", &e))
    })
    .await
    .map_err(|_| CliError::new("reading the schema version did not finish"))?
}

/// Refuses a missing path, a directory, an unreadable file and a file that is not an
/// SQLite database, each with its own message. An empty file is an SQLite database with
/// nothing in it (version 0).
fn check_file(path: &Path) -> Result<(), CliError> {
    let what = describe(path);
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CliError::new(format!(
                "{what} does not exist (check the path; `finrift migrate` creates a new one)"
            )))
        }
        Err(e) => return Err(CliError::new(format!("cannot read {what}: {e}"))),
    };
    if metadata.is_dir() {
        return Err(CliError::new(format!(
            "{what} is a directory, not a database file"
        )));
    }
    if !metadata.is_file() {
        return Err(CliError::new(format!("{what} is not a regular file")));
    }
    let mut header = Vec::with_capacity(SQLITE_MAGIC.len());
    File::open(path)
        .and_then(|file| {
            file.take(SQLITE_MAGIC.len() as u64)
                .read_to_end(&mut header)
        })
        .map_err(|e| CliError::new(format!("cannot read {what}: {e}")))?;
    if !header.is_empty() && header != SQLITE_MAGIC {
        return Err(CliError::new(format!(
            "{what} is not an SQLite database file"
        )));
    }
    Ok(())
}
