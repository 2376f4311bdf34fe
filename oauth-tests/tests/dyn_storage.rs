//! The storage traits are object safe: an engine runs over `Arc<dyn Storage>`.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use oauth_core::Storage;
use oauth_tests::Harness;

#[tokio::test]
async fn engine_runs_over_a_dyn_storage() {
    let store: Arc<dyn Storage> = Arc::new(oauth_store_memory::MemoryStore::new());
    // A whole flow through the harness, whose store is the dyn one.
    let h = Harness::new(async { store }).await;
    let code = h.spa_code().await;
    assert!(h.redeem_spa(&code).await.refresh_token.is_some());
}
