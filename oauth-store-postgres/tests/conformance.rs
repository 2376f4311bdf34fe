//! The storage conformance kit of oauth-core, on PostgreSQL: each property on a store of
//! its own (8 pooled connections, so the racers spread over several), and all at once on
//! one schema through separate stores, as separate instances of a service would share one
//! database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_store_postgres::test_server as common;

mod pooled {
    oauth_core::storage_conformance_tests!(crate::common::fresh_store());
}

mod key_set {
    oauth_core::key_set_store_conformance_tests!(crate::common::fresh_store());
}

/// Every property at once on one schema, each through its own store (its own pool, as
/// separate processes would have): the kit's random keys keep them apart, and the
/// database's row locks keep each single-use step single across the stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_property_at_once_on_one_shared_schema() {
    use oauth_store_postgres::PostgresStore;

    let schema = common::fresh_schema().await;
    let open = || {
        let options = common::options_in(&schema).pool_size(4);
        async move { PostgresStore::open_with(options).await.unwrap() }
    };
    let tasks = oauth_core::storage_conformance_spawn_all!(open());
    for task in tasks {
        task.await.unwrap();
    }
}
