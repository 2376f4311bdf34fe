//! Every flow test, on the in-memory store.

oauth_tests::flow_tests!(async { oauth_store_memory::MemoryStore::new() });
