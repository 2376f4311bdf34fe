//! Every flow test, on the SQLite store: in memory, and on a database file with a pool of
//! connections (so the concurrency cases race real connections and SQLite's lock).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_store_sqlite::SqliteStore;

mod in_memory {
    oauth_tests::flow_tests!(async {
        oauth_store_sqlite::SqliteStore::open_in_memory()
            .await
            .expect("an in-memory SQLite store opens")
    });
}

mod file {
    oauth_tests::flow_tests!(crate::file_store());
}

/// A SQLite store on a file in a temporary directory that lives as long as the store.
pub type FileStore = oauth_core::testing::Guarded<SqliteStore, tempfile::TempDir>;

async fn file_store() -> FileStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("flows.db"))
        .await
        .unwrap();
    oauth_core::testing::Guarded::new(store, dir)
}
