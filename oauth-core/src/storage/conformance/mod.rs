//! The storage conformance kit: the contract of [`ClientStore`](super::ClientStore),
//! [`CodeStore`] and [`TokenStore`], and apart from them of
//! [`KeySetStore`](super::KeySetStore), as tests any backend can run.
//!
//! Each public `async fn` here checks one property of the contract written on the traits
//! and panics, with a message naming the property, when a store breaks it. The
//! [`storage_conformance_tests!`](crate::storage_conformance_tests) macro expands every
//! one of them into a `#[tokio::test]` over a fresh store, so a backend's
//! `tests/conformance.rs` is one line. The concurrency properties run on a multi-thread
//! runtime: 50 tasks race on one code (consuming it, and redeeming it), and 50 on one
//! refresh token, and exactly one must win. Every record the kit writes has random hashes and ids (from [`RandomSource`]),
//! so the kit can run against a database other tests share.
//!
//! The kit is behind the `conformance` cargo feature, and it runs on tokio, which the
//! engine itself never needs.
//!
//! # Running the kit on your store
//!
//! In your store's crate, enable the feature for the tests and add tokio:
//!
//! ```toml
//! [dev-dependencies]
//! oauth-core = { version = "0.1", features = ["conformance"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Then `tests/conformance.rs` holds one line: the macro takes an expression that is a
//! future (or any `IntoFuture`) yielding a fresh store, evaluated once per test. For a
//! store to start from, copy [`ReferenceStore`](crate::testing::ReferenceStore) (the
//! `testing` feature): it passes the whole kit, and its source is written as the template.
//! Here the kit runs on it; yours names your store.
//!
//! ```
//! use oauth_core::testing::ReferenceStore;
//!
//! // tests/conformance.rs: one #[tokio::test] per property, each on a fresh store.
//! oauth_core::storage_conformance_tests!(async { ReferenceStore::new() });
//!
//! // Without the macro (say, from your own test runner), run the whole kit at once; the
//! // concurrency properties only mean something on a multi-thread runtime.
//! # fn main() {
//! let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
//! runtime.block_on(oauth_core::storage::conformance::run_all(|| async { ReferenceStore::new() }));
//! # }
//! ```
//!
//! # A shared database
//!
//! Random keys keep the properties apart, with one exception: a purge deletes every
//! record that expired before the given instant, whoever wrote it. So the purge
//! properties write their records far in the past (around 1972, 1975 and 1980, each in a
//! region of its own), every other property writes only records that expire after 2030,
//! and the purge properties count what each purge reports; on a database that other runs
//! of the kit share at the same moment, run the purge properties alone and one at a time
//! (as [`storage_conformance_spawn_all!`](crate::storage_conformance_spawn_all) does),
//! or their counts include theirs.
//!
//! A purge property purges with `purge_expired_batch` in small steps, as
//! [`Engine::purge_expired`](crate::Engine::purge_expired) does in large ones, until a
//! step answers `more == false`.

use std::future::Future;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::{
    CodeConsumption, CodeLookup, CodeRecord, CodeStore, GrantId, GrantRecord, Issuance,
    PurgeReport, Redemption, Rotation, SignIn, Storage, StorageError, StorageErrorKind, TokenKind,
    TokenRecord, TokenStore, MAX_CLIENT_PAGE,
};
use crate::client::{Client, ClientId, GrantType};
use crate::pkce::CodeChallenge;
use crate::scope::ScopeSet;
use crate::secret::{RandomSource, SecretHash};

mod clients;
mod codes;
mod key_set;
mod kit;
mod marks;
mod purge;
mod races;
mod redemption;
mod tokens;

pub use clients::*;
pub use codes::*;
pub use key_set::*;
use kit::*;
pub use marks::*;
pub use purge::*;
pub use races::*;
pub use redemption::*;
pub use tokens::*;

/// How many tasks race in the concurrency properties.
pub const RACERS: usize = 50;

/// The one list of the kit's properties, from which every way of running them expands:
/// [`storage_conformance_tests!`](crate::storage_conformance_tests), [`run_all`],
/// [`storage_conformance_spawn_all!`](crate::storage_conformance_spawn_all) and
/// [`PROPERTIES`]. A property added here reaches every backend's run at once.
///
/// `single` properties run on any runtime; `purge` ones too, but on a shared database
/// never two at once (each purges whatever expired); `multi` ones race tasks and need a
/// multi-thread runtime.
#[doc(hidden)]
#[macro_export]
macro_rules! __storage_conformance_each {
    ($mode:ident $($args:tt)*) => {
        $crate::__storage_conformance_each! { @dispatch $mode [$($args)*]
            single: [
                client_round_trip,
                unknown_client_is_none,
                list_clients_pages_every_client_once_in_order,
                remove_client_removes_it_alone,
                code_is_consumed_once,
                unknown_code_is_not_found,
                duplicate_code_is_a_conflict,
                duplicate_token_is_a_conflict,
                code_record_round_trip,
                token_record_round_trip,
                sign_in_round_trip_from_code_to_rotated_tokens,
                dpop_jkt_round_trips_from_code_to_rotated_tokens,
                refresh_rotation_is_single_use,
                rotation_of_revoked_token_or_grant_is_refused,
                rotation_of_unknown_or_non_refresh_token_is_not_found,
                revoke_one_token,
                revoke_grant_revokes_exactly_its_tokens,
                revoke_grant_blocks_later_issue,
                revoke_grant_before_issue_blocks_issue,
                revoke_subject_revokes_exactly_that_subjects_grants,
                revoke_subject_blocks_later_issue,
                use_once_is_single_use,
                use_once_and_insert_code_stores_once,
                get_code_reads_without_consuming,
                code_is_redeemed_once,
                refused_redemption_changes_nothing,
            ]
            purge: [
                purge_removes_exactly_what_expired,
                use_once_marks_are_purged_after_expiry,
                sc07_purge_goes_in_steps_of_its_limit,
            ]
            multi: [
                sc06_concurrent_use_once_has_one_winner,
                sc06_concurrent_approvals_store_one_code,
                sc01_concurrent_code_consumption_has_one_winner,
                sc02_concurrent_rotation_has_one_winner,
                revoke_grant_racing_issue_leaves_no_live_token,
                revoke_grant_racing_rotation_leaves_no_live_token,
                sc01_concurrent_redemptions_have_one_winner,
                revoke_grant_racing_redemption_leaves_no_live_token,
            ]
        }
    };
    (@dispatch tests [$store:expr] single: [$($s:ident,)*] purge: [$($p:ident,)*] multi: [$($m:ident,)*]) => {
        $(
            #[::tokio::test]
            async fn $s() {
                let store = ::core::future::IntoFuture::into_future($store).await;
                $crate::storage::conformance::$s(store).await;
            }
        )*
        $(
            #[::tokio::test]
            async fn $p() {
                let store = ::core::future::IntoFuture::into_future($store).await;
                $crate::storage::conformance::$p(store).await;
            }
        )*
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $m() {
                let store = ::core::future::IntoFuture::into_future($store).await;
                $crate::storage::conformance::$m(store).await;
            }
        )*
    };
    (@dispatch run_all [$make:ident] single: [$($s:ident,)*] purge: [$($p:ident,)*] multi: [$($m:ident,)*]) => {
        $( $crate::storage::conformance::$s($make().await).await; )*
        $( $crate::storage::conformance::$p($make().await).await; )*
        $( $crate::storage::conformance::$m($make().await).await; )*
    };
    (@dispatch spawn_all [$open:expr] single: [$($s:ident,)*] purge: [$($p:ident,)*] multi: [$($m:ident,)*]) => {
        ::std::vec![
            // The purge properties in one task, one after the other: a purge deletes
            // whatever expired, so two at once would delete each other's records.
            {
                let stores = ( $( {
                    let _ = ::core::stringify!($p);
                    ::core::future::IntoFuture::into_future($open).await
                }, )* );
                ::tokio::spawn(async move {
                    let ( $( $p, )* ) = stores;
                    $( $crate::storage::conformance::$p($p).await; )*
                })
            },
            $( ::tokio::spawn($crate::storage::conformance::$s(
                ::core::future::IntoFuture::into_future($open).await,
            )), )*
            $( ::tokio::spawn($crate::storage::conformance::$m(
                ::core::future::IntoFuture::into_future($open).await,
            )), )*
        ]
    };
    (@dispatch names [] single: [$($s:ident,)*] purge: [$($p:ident,)*] multi: [$($m:ident,)*]) => {
        &[
            $( ::core::stringify!($s), )*
            $( ::core::stringify!($p), )*
            $( ::core::stringify!($m), )*
        ]
    };
}

/// The name of every property of the kit, in the order [`run_all`] runs them.
pub const PROPERTIES: &[&str] = crate::__storage_conformance_each!(names);

/// Expands every property of the [storage conformance kit](crate::storage::conformance)
/// into a `#[tokio::test]` for the store built by `$store`: an expression that is a
/// future (or any `IntoFuture`) yielding the store, evaluated once per test.
///
/// The crate that calls it needs `tokio` (features `macros` and `rt-multi-thread`) among
/// its dev-dependencies. See the [kit's documentation](crate::storage::conformance).
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
#[macro_export]
macro_rules! storage_conformance_tests {
    ($store:expr) => {
        $crate::__storage_conformance_each!(tests $store);
    };
}

/// Spawns every property of the kit at once as a tokio task, each on its own store from
/// `$open` (a future or `IntoFuture` yielding one, evaluated once per property), and
/// evaluates to the `Vec` of their `JoinHandle`s: for running the whole kit concurrently
/// on one shared database (each store its own connection pool, as separate processes
/// would have). Await every handle; a panic in one is a property broken. Call it on a
/// multi-thread runtime, from an `async` block.
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
#[macro_export]
macro_rules! storage_conformance_spawn_all {
    ($open:expr) => {
        $crate::__storage_conformance_each!(spawn_all $open)
    };
}

/// The one list of the [`KeySetStore`](super::KeySetStore) properties, from which
/// [`key_set_store_conformance_tests!`](crate::key_set_store_conformance_tests) and
/// [`KEY_SET_STORE_PROPERTIES`] expand. `single` properties run on any runtime, `multi`
/// ones race tasks and need a multi-thread runtime. Each needs a store of its own that
/// holds no key set.
#[doc(hidden)]
#[macro_export]
macro_rules! __key_set_store_conformance_each {
    ($mode:ident $($args:tt)*) => {
        $crate::__key_set_store_conformance_each! { @dispatch $mode [$($args)*]
            single: [
                key_set_store_starts_empty,
                key_set_first_write_is_version_one,
                key_set_each_write_adds_one_to_the_version,
                key_set_bytes_round_trip_exactly,
            ]
            multi: [
                sc06_concurrent_key_set_writers_have_one_winner,
                key_set_reads_racing_writes_see_whole_values,
            ]
        }
    };
    (@dispatch tests [$store:expr] single: [$($s:ident,)*] multi: [$($m:ident,)*]) => {
        $(
            #[::tokio::test]
            async fn $s() {
                let store = ::core::future::IntoFuture::into_future($store).await;
                $crate::storage::conformance::$s(store).await;
            }
        )*
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $m() {
                let store = ::core::future::IntoFuture::into_future($store).await;
                $crate::storage::conformance::$m(store).await;
            }
        )*
    };
    (@dispatch names [] single: [$($s:ident,)*] multi: [$($m:ident,)*]) => {
        &[ $( ::core::stringify!($s), )* $( ::core::stringify!($m), )* ]
    };
}

/// The name of every [`KeySetStore`](super::KeySetStore) property of the kit.
pub const KEY_SET_STORE_PROPERTIES: &[&str] = crate::__key_set_store_conformance_each!(names);

/// Expands every [`KeySetStore`](super::KeySetStore) property of the
/// [storage conformance kit](crate::storage::conformance) into a `#[tokio::test]` for the
/// store built by `$store`: an expression that is a future (or any `IntoFuture`)
/// yielding the store, evaluated once per test. Each property needs a store that holds
/// no key set yet (a new database: the key set is one value per database), so unlike
/// the rest of the kit these cannot share one database.
///
/// A backend that implements [`KeySetStore`](super::KeySetStore) calls it beside
/// [`storage_conformance_tests!`](crate::storage_conformance_tests), in the same module
/// or another:
///
/// ```
/// use oauth_core::testing::ReferenceStore;
///
/// oauth_core::storage_conformance_tests!(async { ReferenceStore::new() });
/// oauth_core::key_set_store_conformance_tests!(async { ReferenceStore::new() });
/// # fn main() {}
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
#[macro_export]
macro_rules! key_set_store_conformance_tests {
    ($store:expr) => {
        $crate::__key_set_store_conformance_each!(tests $store);
    };
}

/// Runs every property in turn, each on a fresh store from `make`: for test runners
/// that cannot use [`storage_conformance_tests!`](crate::storage_conformance_tests).
/// Call it on a multi-thread runtime, or the concurrency properties race nothing.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Storage + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    crate::__storage_conformance_each!(run_all make);
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn` of the kit that takes a store is in the one list, so no way of
    /// running the kit can miss it.
    #[test]
    fn every_property_is_in_the_list() {
        let source = [
            include_str!("clients.rs"),
            include_str!("codes.rs"),
            include_str!("marks.rs"),
            include_str!("purge.rs"),
            include_str!("races.rs"),
            include_str!("redemption.rs"),
            include_str!("tokens.rs"),
        ]
        .concat();
        let mut defined = Vec::new();
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub async fn ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name != "run_all" {
                defined.push(name);
            }
        }
        for name in &defined {
            assert!(
                super::PROPERTIES.contains(&name.as_str()),
                "{name} is missing from __storage_conformance_each!"
            );
        }
        assert_eq!(defined.len(), super::PROPERTIES.len());
    }

    /// Every `pub async fn` of the key-set properties is in their list.
    #[test]
    fn every_key_set_store_property_is_in_its_list() {
        let defined: Vec<String> = include_str!("key_set.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect();
        for name in &defined {
            assert!(
                super::KEY_SET_STORE_PROPERTIES.contains(&name.as_str()),
                "{name} is missing from __key_set_store_conformance_each!"
            );
        }
        assert_eq!(defined.len(), super::KEY_SET_STORE_PROPERTIES.len());
    }
}
