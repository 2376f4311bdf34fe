//! The storage conformance kit and every flow test, on `oauth_core::testing::ReferenceStore`:
//! the template store must pass all that a store of one's own is asked to.

mod conformance {
    oauth_core::storage_conformance_tests!(async { oauth_core::testing::ReferenceStore::new() });
    oauth_core::key_set_store_conformance_tests!(async {
        oauth_core::testing::ReferenceStore::new()
    });
}

mod flows {
    oauth_tests::flow_tests!(async { oauth_core::testing::ReferenceStore::new() });
}
