//! The storage conformance kit of oauth-core, on SQLite: on a database file (4
//! connections, so the races are real), on one with the opt-in options, in memory, and
//! all at once on one shared file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod file {
    oauth_core::storage_conformance_tests!(crate::common::temp_store());
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
}

/// Every property at once on one database file, each through its own store (its own pool
/// of connections, as separate processes would have): the kit's random keys keep them
/// apart, and SQLite's file lock keeps each single-use step single across the stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_property_at_once_on_one_shared_file() {
    use oauth_core::storage::conformance as kit;
    use oauth_store_sqlite::SqliteStore;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let open = || {
        let path = path.clone();
        async move { SqliteStore::open(path).await.unwrap() }
    };
    let tasks = vec![
        tokio::spawn(kit::client_round_trip(open().await)),
        tokio::spawn(kit::unknown_client_is_none(open().await)),
        tokio::spawn(kit::list_clients_pages_every_client_once_in_order(
            open().await,
        )),
        tokio::spawn(kit::remove_client_removes_it_alone(open().await)),
        tokio::spawn(kit::code_is_consumed_once(open().await)),
        tokio::spawn(kit::unknown_code_is_not_found(open().await)),
        tokio::spawn(kit::duplicate_code_is_a_conflict(open().await)),
        tokio::spawn(kit::duplicate_token_is_a_conflict(open().await)),
        tokio::spawn(kit::code_record_round_trip(open().await)),
        tokio::spawn(kit::token_record_round_trip(open().await)),
        tokio::spawn(kit::refresh_rotation_is_single_use(open().await)),
        tokio::spawn(kit::rotation_of_revoked_token_or_grant_is_refused(
            open().await,
        )),
        tokio::spawn(kit::rotation_of_unknown_or_non_refresh_token_is_not_found(
            open().await,
        )),
        tokio::spawn(kit::revoke_one_token(open().await)),
        tokio::spawn(kit::revoke_grant_revokes_exactly_its_tokens(open().await)),
        tokio::spawn(kit::revoke_grant_blocks_later_issue(open().await)),
        tokio::spawn(kit::revoke_grant_before_issue_blocks_issue(open().await)),
        tokio::spawn(kit::revoke_subject_revokes_exactly_that_subjects_grants(
            open().await,
        )),
        tokio::spawn(kit::revoke_subject_blocks_later_issue(open().await)),
        tokio::spawn(kit::purge_removes_exactly_what_expired(open().await)),
        tokio::spawn(kit::sc01_concurrent_code_consumption_has_one_winner(
            open().await,
        )),
        tokio::spawn(kit::sc02_concurrent_rotation_has_one_winner(open().await)),
        tokio::spawn(kit::revoke_grant_racing_issue_leaves_no_live_token(
            open().await,
        )),
        tokio::spawn(kit::revoke_grant_racing_rotation_leaves_no_live_token(
            open().await,
        )),
        tokio::spawn(kit::use_once_is_single_use(open().await)),
        tokio::spawn(kit::use_once_and_insert_code_stores_once(open().await)),
        tokio::spawn(kit::concurrent_use_once_has_one_winner(open().await)),
        tokio::spawn(kit::concurrent_approvals_store_one_code(open().await)),
    ];
    for task in tasks {
        task.await.unwrap();
    }
}
