//! Test support: a SQLite store on a file in its own temporary directory, which lives
//! (and is deleted) with the store.

#![allow(dead_code)] // each test file uses a part
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is the report

pub mod records;

use std::path::PathBuf;

use oauth_core::testing::Guarded;
use oauth_store_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;

/// A file-backed store and the directory that holds its file (`.store`, `.guard`).
pub type TempStore = Guarded<SqliteStore, TempDir>;

/// A new database file with the default options.
pub async fn temp_store() -> TempStore {
    temp_store_with(|options| options).await
}

/// A new database file with options adjusted by `adjust`.
pub async fn temp_store_with(adjust: impl FnOnce(SqliteOptions) -> SqliteOptions) -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let options = adjust(SqliteOptions::file(db_path(&dir)));
    let store = SqliteStore::open_with(options).await.unwrap();
    Guarded::new(store, dir)
}

/// The database file of a store made here.
pub fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("finrift.db")
}
