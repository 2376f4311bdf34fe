//! The storage conformance kit of oauth-core, on SQLite: on a database file (4
//! connections, so the races are real), on one with the opt-in options, in memory, and
//! all at once on one shared file. The key-set properties run on a file and in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod file {
    oauth_core::storage_conformance_tests!(crate::common::temp_store());
    oauth_core::key_set_store_conformance_tests!(crate::common::temp_store());
}

/// With the opt-ins: reads on the caller's thread, commits not flushed.
mod file_inline_reads_process_crash_durability {
    oauth_core::storage_conformance_tests!(crate::common::temp_store_with(|options| {
        options
            .inline_reads(true)
            .durability(oauth_store_sqlite::Durability::ProcessCrash)
    }));
}

mod in_memory {
    oauth_core::storage_conformance_tests!(async {
        oauth_store_sqlite::SqliteStore::open_in_memory()
            .await
            .unwrap()
    });
    oauth_core::key_set_store_conformance_tests!(async {
        oauth_store_sqlite::SqliteStore::open_in_memory()
            .await
            .unwrap()
    });
}

/// Every property at once on one database file, each through its own store (its own pool
/// of connections, as separate processes would have): the kit's random keys keep them
/// apart, and SQLite's file lock keeps each single-use step single across the stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_property_at_once_on_one_shared_file() {
    use oauth_store_sqlite::SqliteStore;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let open = || {
        let path = path.clone();
        async move { SqliteStore::open(path).await.unwrap() }
    };
    let tasks = oauth_core::storage_conformance_spawn_all!(open());
    for task in tasks {
        task.await.unwrap();
    }
}
