//! The storage conformance kit of oauth-core, on the in-memory store.

oauth_core::storage_conformance_tests!(async { oauth_store_memory::MemoryStore::new() });

mod key_set {
    oauth_core::key_set_store_conformance_tests!(async { oauth_store_memory::MemoryStore::new() });
}
