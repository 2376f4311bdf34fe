//! The storage conformance kit of oauth-core, on SQLite: on a database file (4
//! connections, so the races are real) and in memory.

mod common;

mod file {
    oauth_core::storage_conformance_tests!(crate::common::TempStore::new());
}

mod in_memory {
    oauth_core::storage_conformance_tests!(async {
        oauth_store_sqlite::SqliteStore::open_in_memory()
            .await
            .unwrap()
    });
}
