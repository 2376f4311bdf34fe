//! The storage conformance kit: the contract of [`ClientStore`](super::ClientStore),
//! [`CodeStore`] and [`TokenStore`], as tests any backend can run.
//!
//! Each public `async fn` here checks one property of the contract written on the traits
//! and panics, with a message naming the property, when a store breaks it. The
//! [`storage_conformance_tests!`](crate::storage_conformance_tests) macro expands every
//! one of them into a `#[tokio::test]` over a fresh store, so a backend's
//! `tests/conformance.rs` is one line. The concurrency properties run on a multi-thread
//! runtime: 50 tasks race on one code, and 50 on one refresh token, and exactly one must
//! win. Every record the kit writes has random hashes and ids (from [`RandomSource`]),
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
//! future (or any `IntoFuture`) yielding a fresh store, evaluated once per test. Here
//! the custom store is a wrapper that hands every call to the in-memory store; yours
//! talks to your database.
//!
//! ```
//! use async_trait::async_trait;
//! use oauth_core::storage::{
//!     CodeConsumption, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport, Rotation,
//!     TokenRecord,
//! };
//! use oauth_core::{Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, TokenStore};
//! use oauth_store_memory::MemoryStore;
//! use time::OffsetDateTime;
//!
//! /// A custom store (here it only delegates).
//! #[derive(Default)]
//! pub struct MyStore(MemoryStore);
//!
//! #[async_trait]
//! impl ClientStore for MyStore {
//!     async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
//!         self.0.get_client(id).await
//!     }
//!     async fn put_client(&self, client: Client) -> Result<(), StorageError> {
//!         self.0.put_client(client).await
//!     }
//!     async fn list_clients(&self, after: Option<&ClientId>, limit: usize) -> Result<Vec<Client>, StorageError> {
//!         self.0.list_clients(after, limit).await
//!     }
//!     async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
//!         self.0.remove_client(id).await
//!     }
//! }
//!
//! #[async_trait]
//! impl CodeStore for MyStore {
//!     async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
//!         self.0.consume_code(hash).await
//!     }
//!     async fn use_once(&self, key: &SecretHash, expires_at: OffsetDateTime) -> Result<bool, StorageError> {
//!         self.0.use_once(key, expires_at).await
//!     }
//!     async fn use_once_and_insert_code(
//!         &self,
//!         key: &SecretHash,
//!         expires_at: OffsetDateTime,
//!         code: CodeRecord,
//!     ) -> Result<bool, StorageError> {
//!         self.0.use_once_and_insert_code(key, expires_at, code).await
//!     }
//! }
//!
//! #[async_trait]
//! impl TokenStore for MyStore {
//!     async fn issue(&self, grant: &GrantRecord, tokens: &[TokenRecord]) -> Result<Issuance, StorageError> {
//!         self.0.issue(grant, tokens).await
//!     }
//!     async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
//!         self.0.get_token(hash).await
//!     }
//!     async fn rotate_refresh(&self, old: &SecretHash, new: &[TokenRecord]) -> Result<Rotation, StorageError> {
//!         self.0.rotate_refresh(old, new).await
//!     }
//!     async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
//!         self.0.revoke_token(hash).await
//!     }
//!     async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
//!         self.0.revoke_grant(id).await
//!     }
//!     async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
//!         self.0.revoke_subject(subject).await
//!     }
//!     async fn purge_expired(&self, before: OffsetDateTime) -> Result<PurgeReport, StorageError> {
//!         self.0.purge_expired(before).await
//!     }
//! }
//!
//! // tests/conformance.rs: one #[tokio::test] per property, each on a fresh store.
//! oauth_core::storage_conformance_tests!(async { MyStore::default() });
//!
//! // Without the macro (say, from your own test runner), run the whole kit at once; the
//! // concurrency properties only mean something on a multi-thread runtime.
//! # fn main() {
//! let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
//! runtime.block_on(oauth_core::storage::conformance::run_all(|| async { MyStore::default() }));
//! # }
//! ```
//!
//! # A shared database
//!
//! Random keys keep the properties apart, with one exception: a purge deletes every
//! record that expired before the given instant, whoever wrote it. So the purge property
//! writes its records far in the past (around 1975), every other property writes only
//! records that expire after 2030, and the purge property counts what each purge reports;
//! on a database that other runs of the kit share at the same moment, run the purge
//! property alone, or its counts include theirs.

use std::future::Future;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::{
    CodeConsumption, CodeRecord, CodeStore, GrantId, GrantRecord, Issuance, PurgeReport, Rotation,
    Storage, StorageError, StorageErrorKind, TokenKind, TokenRecord, TokenStore, MAX_CLIENT_PAGE,
};
use crate::client::{Client, ClientId, GrantType};
use crate::pkce::CodeChallenge;
use crate::scope::ScopeSet;
use crate::secret::{RandomSource, SecretHash};

/// How many tasks race in the concurrency properties.
pub const RACERS: usize = 50;

/// The one list of the kit's properties, from which every way of running them expands:
/// [`storage_conformance_tests!`](crate::storage_conformance_tests), [`run_all`],
/// [`storage_conformance_spawn_all!`](crate::storage_conformance_spawn_all) and
/// [`PROPERTIES`]. A property added here reaches every backend's run at once.
///
/// `single` properties run on any runtime; `multi` ones race tasks and need a
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
                refresh_rotation_is_single_use,
                rotation_of_revoked_token_or_grant_is_refused,
                rotation_of_unknown_or_non_refresh_token_is_not_found,
                revoke_one_token,
                revoke_grant_revokes_exactly_its_tokens,
                revoke_grant_blocks_later_issue,
                revoke_grant_before_issue_blocks_issue,
                revoke_subject_revokes_exactly_that_subjects_grants,
                revoke_subject_blocks_later_issue,
                purge_removes_exactly_what_expired,
                use_once_is_single_use,
                use_once_marks_are_purged_after_expiry,
                use_once_and_insert_code_stores_once,
            ]
            multi: [
                concurrent_use_once_has_one_winner,
                concurrent_approvals_store_one_code,
                sc01_concurrent_code_consumption_has_one_winner,
                sc02_concurrent_rotation_has_one_winner,
                revoke_grant_racing_issue_leaves_no_live_token,
                revoke_grant_racing_rotation_leaves_no_live_token,
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
    (@dispatch run_all [$make:ident] single: [$($s:ident,)*] multi: [$($m:ident,)*]) => {
        $( $crate::storage::conformance::$s($make().await).await; )*
        $( $crate::storage::conformance::$m($make().await).await; )*
    };
    (@dispatch spawn_all [$open:expr] single: [$($s:ident,)*] multi: [$($m:ident,)*]) => {
        ::std::vec![
            $( ::tokio::spawn($crate::storage::conformance::$s(
                ::core::future::IntoFuture::into_future($open).await,
            )), )*
            $( ::tokio::spawn($crate::storage::conformance::$m(
                ::core::future::IntoFuture::into_future($open).await,
            )), )*
        ]
    };
    (@dispatch names [] single: [$($s:ident,)*] multi: [$($m:ident,)*]) => {
        &[ $( ::core::stringify!($s), )* $( ::core::stringify!($m), )* ]
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

// ---------------------------------------------------------------------------------------
// Fixtures: random keys, whole-second times (the contract keeps times to the second).
// ---------------------------------------------------------------------------------------

/// The result of a store call that must succeed; a failure is a kit failure.
#[track_caller]
fn ok<T>(result: Result<T, StorageError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("storage conformance: {what} failed: {error}"),
    }
}

#[track_caller]
fn scopes(text: &str) -> ScopeSet {
    ScopeSet::parse(text).unwrap_or_else(|e| panic!("kit scope {text:?}: {e}"))
}

#[track_caller]
fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or_else(|e| panic!("kit time {unix}: {e}"))
}

/// A subject with characters from several scripts, an emoji, quotes and a backslash.
const UNICODE_SUBJECT: &str = "Zoë Ångström 🦀 用户 «ユーザー» \"q\" 'x' \\ ; -- ";

/// Makes records with random keys.
struct Kit {
    random: RandomSource,
    /// Where the times of this property's records start (whole seconds).
    base: OffsetDateTime,
}

impl Kit {
    /// Records around 2030, the region every property but the purge one uses.
    fn new() -> Self {
        Self::at(at(1_893_456_000)) // 2030-01-01T00:00:00Z
    }

    fn at(base: OffsetDateTime) -> Self {
        Self {
            random: RandomSource::new(),
            base,
        }
    }

    fn t(&self, seconds: i64) -> OffsetDateTime {
        self.base + Duration::seconds(seconds)
    }

    fn hash(&self) -> SecretHash {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .unwrap_or_else(|e| panic!("kit random: {e}"));
        SecretHash(bytes)
    }

    fn id(&self) -> String {
        self.random
            .id()
            .unwrap_or_else(|e| panic!("kit random: {e}"))
    }

    fn client_id(&self) -> ClientId {
        ClientId::new(format!("kit-{}", self.id())).unwrap_or_else(|e| panic!("kit client: {e}"))
    }

    /// A subject of its own (random), for the properties that select by subject.
    fn subject(&self) -> String {
        format!("{UNICODE_SUBJECT}{}", self.id())
    }

    /// A grant of a user, ending at `t(ends)`.
    fn grant(&self, ends: i64) -> GrantRecord {
        self.grant_of(Some(UNICODE_SUBJECT), ends)
    }

    /// A grant of `subject` (`None`: a client's own), ending at `t(ends)`, on a client
    /// of its own.
    fn grant_of(&self, subject: Option<&str>, ends: i64) -> GrantRecord {
        GrantRecord {
            id: GrantId(format!("kit-grant-{}", self.id())),
            client_id: self.client_id(),
            subject: subject.map(str::to_owned),
            scope: scopes("openid read:users write:users"),
            created_at: self.t(0),
            expires_at: self.t(ends),
        }
    }

    /// A token of `kind` for `grant`, expiring at `t(expires)`.
    fn token(&self, grant: &GrantRecord, kind: TokenKind, expires: i64) -> TokenRecord {
        TokenRecord {
            hash: self.hash(),
            kind,
            grant_id: grant.id.clone(),
            client_id: grant.client_id.clone(),
            subject: grant.subject.clone(),
            scope: grant.scope.clone(),
            issued_at: self.t(0),
            expires_at: self.t(expires),
            grant_expires_at: grant.expires_at,
            revoked: false,
            rotated: false,
        }
    }

    /// An access and a refresh token for `grant` (3600 s and the grant's end).
    fn pair(&self, grant: &GrantRecord) -> Vec<TokenRecord> {
        let refresh_ends = (grant.expires_at - self.base).whole_seconds();
        vec![
            self.token(grant, TokenKind::Access, 3600),
            self.token(grant, TokenKind::Refresh, refresh_ends),
        ]
    }

    /// A code for a new grant, expiring at `t(expires)`, its grant ending at `t(grant_ends)`.
    fn code(&self, expires: i64, grant_ends: i64) -> CodeRecord {
        CodeRecord {
            hash: self.hash(),
            grant_id: GrantId(format!("kit-grant-{}", self.id())),
            client_id: self.client_id(),
            subject: UNICODE_SUBJECT.to_owned(),
            redirect_uri: Some("https://kit.example/cb?next=%2Fhome&x=1".to_owned()),
            scope: scopes("openid read:users"),
            code_challenge: Some(CodeChallenge::from_verifier(&self.id().repeat(3))),
            issued_at: self.t(0),
            expires_at: self.t(expires),
            grant_expires_at: self.t(grant_ends),
        }
    }
}

async fn issue_ok<S: TokenStore + ?Sized>(store: &S, grant: &GrantRecord, tokens: &[TokenRecord]) {
    let issued = ok(store.issue(grant, tokens).await, "issue");
    assert_eq!(
        issued,
        Issuance::Issued,
        "storage conformance: issue for a grant never revoked must store the tokens"
    );
}

/// Stores `code` as an approval does, under a one-time key of its own.
async fn insert_code<S: CodeStore + ?Sized>(store: &S, kit: &Kit, code: CodeRecord) {
    let expires_at = code.expires_at;
    assert!(
        ok(
            store
                .use_once_and_insert_code(&kit.hash(), expires_at, code)
                .await,
            "use_once_and_insert_code"
        ),
        "storage conformance: use_once_and_insert_code with a fresh key must store the code"
    );
}

async fn token_of<S: TokenStore + ?Sized>(store: &S, hash: &SecretHash) -> Option<TokenRecord> {
    ok(store.get_token(hash).await, "get_token")
}

#[track_caller]
fn expect_conflict<T: std::fmt::Debug>(result: Result<T, StorageError>, what: &str) {
    match result {
        Err(error) => assert_eq!(
            error.kind(),
            StorageErrorKind::Conflict,
            "storage conformance: {what} must fail with kind Conflict, got {error}"
        ),
        Ok(value) => {
            panic!("storage conformance: {what} must be refused (Conflict), got {value:?}")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Clients.
// ---------------------------------------------------------------------------------------

/// A client comes back exactly as stored (kind and secret hash or derivation, redirect
/// URIs in order, grant types, scopes, the PKCE opt-out), and `put_client` with the same
/// id replaces it.
pub async fn client_round_trip<S: Storage>(store: S) {
    let kit = Kit::new();
    let id = kit.client_id();
    let secret = format!("{}{}", kit.id(), kit.id());
    let confidential = Client::confidential(id.as_str(), &secret)
        .and_then(|c| c.redirect_uri("https://kit.example/cb"))
        .and_then(|c| c.redirect_uri("http://127.0.0.1/callback"))
        .map(|c| {
            c.allowed_scopes(scopes("openid read:users write:users"))
                .default_scopes(scopes("read:users"))
                .grant_types([
                    GrantType::AuthorizationCode,
                    GrantType::ClientCredentials,
                    GrantType::RefreshToken,
                ])
                .danger_allow_missing_pkce()
        })
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"));
    ok(store.put_client(confidential.clone()).await, "put_client");
    let got = ok(store.get_client(&id).await, "get_client");
    assert_eq!(
        got.as_ref(),
        Some(&confidential),
        "storage conformance: a client must come back exactly as stored"
    );
    assert!(
        got.is_some_and(|c| c.verify_secret(&secret)),
        "storage conformance: a stored confidential client must still verify its secret"
    );

    // A human-chosen secret is kept as a salted derivation: that comes back too.
    let password = format!("pw-{}", kit.id());
    let derived = Client::confidential_with_password(kit.client_id().as_str(), &password)
        .and_then(|c| c.redirect_uri("https://kit.example/cb"))
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"));
    ok(store.put_client(derived.clone()).await, "put_client");
    let got = ok(store.get_client(derived.id()).await, "get_client");
    assert_eq!(
        got.as_ref(),
        Some(&derived),
        "storage conformance: a client with a derived secret must come back exactly as stored"
    );
    assert!(
        got.is_some_and(|c| c.verify_secret(&password)),
        "storage conformance: a stored client must still verify its human-chosen secret"
    );

    // The same id again: the registration is replaced, not duplicated or kept.
    let public = Client::public(id.as_str())
        .and_then(|c| c.redirect_uri("https://kit.example/other"))
        .map(|c| c.allowed_scopes(scopes("read:users")))
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"));
    ok(
        store.put_client(public.clone()).await,
        "put_client (replace)",
    );
    assert_eq!(
        ok(store.get_client(&id).await, "get_client"),
        Some(public),
        "storage conformance: put_client with an existing id must replace the registration"
    );
}

/// An id never stored gives `None`, not an error.
pub async fn unknown_client_is_none<S: Storage>(store: S) {
    let kit = Kit::new();
    assert_eq!(
        ok(store.get_client(&kit.client_id()).await, "get_client"),
        None,
        "storage conformance: an unknown client must be None"
    );
}

/// A public client with `id`, for the registry properties.
#[track_caller]
fn kit_client(id: &str) -> Client {
    Client::public(id)
        .and_then(|c| c.redirect_uri("https://kit.example/cb"))
        .map(|c| c.allowed_scopes(scopes("read:users")))
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"))
}

/// `list_clients` pages through the registry in id order: walking it by the last id of
/// each page sees every client once, each page holds at most `limit`, and `limit` is
/// capped at [`MAX_CLIENT_PAGE`].
pub async fn list_clients_pages_every_client_once_in_order<S: Storage>(store: S) {
    let kit = Kit::new();
    // One prefix for this run's clients, so that the walk from it stays among them on a
    // database other runs share; the ids are put out of order.
    let prefix = format!("kit-{}-", kit.id());
    let mut ours: Vec<Client> = [4, 0, 6, 2, 5, 1, 3]
        .iter()
        .map(|i| kit_client(&format!("{prefix}{i}")))
        .collect();
    for client in &ours {
        ok(store.put_client(client.clone()).await, "put_client");
    }
    ours.sort_by(|a, b| a.id().cmp(b.id()));

    let start = ClientId::new(prefix.clone()).unwrap_or_else(|e| panic!("kit client: {e}"));
    let mut walked: Vec<Client> = Vec::new();
    let mut after = start;
    loop {
        let page = ok(store.list_clients(Some(&after), 3).await, "list_clients");
        assert!(
            page.len() <= 3,
            "storage conformance: list_clients must answer at most `limit` clients"
        );
        let mut last_of_ours = true;
        for client in &page {
            assert!(
                *client.id() > after,
                "storage conformance: list_clients must answer ids after `after`, in order"
            );
            after = client.id().clone();
            if client.id().as_str().starts_with(&prefix) {
                walked.push(client.clone());
            } else {
                last_of_ours = false;
            }
        }
        if page.len() < 3 || !last_of_ours {
            break;
        }
    }
    assert_eq!(
        walked, ours,
        "storage conformance: paging by the last id seen must walk every client once, in \
         id order, each as stored"
    );

    // From the start, the whole registry: still in order, ours among it once each.
    let mut after: Option<ClientId> = None;
    let mut seen = 0;
    loop {
        let page = ok(store.list_clients(after.as_ref(), 2).await, "list_clients");
        for client in &page {
            assert!(
                after.as_ref().is_none_or(|after| client.id() > after),
                "storage conformance: list_clients from the first must be in id order"
            );
            seen += usize::from(client.id().as_str().starts_with(&prefix));
            after = Some(client.id().clone());
        }
        if page.len() < 2 {
            break;
        }
    }
    assert_eq!(
        seen,
        ours.len(),
        "storage conformance: a walk from the first must see every client once"
    );

    assert!(
        ok(store.list_clients(None, 0).await, "list_clients").is_empty(),
        "storage conformance: a limit of 0 answers nothing"
    );
    assert!(
        ok(store.list_clients(None, usize::MAX).await, "list_clients").len() <= MAX_CLIENT_PAGE,
        "storage conformance: list_clients must cap `limit` at MAX_CLIENT_PAGE"
    );
}

/// `remove_client` removes that client alone and answers whether it was there: it is
/// then unknown to `get_client` and absent from `list_clients`.
pub async fn remove_client_removes_it_alone<S: Storage>(store: S) {
    let kit = Kit::new();
    // Both under one prefix of this run's, so that nothing else sorts between them.
    let prefix = format!("kit-{}-", kit.id());
    let gone = kit_client(&format!("{prefix}a"));
    let kept = kit_client(&format!("{prefix}b"));
    ok(store.put_client(gone.clone()).await, "put_client");
    ok(store.put_client(kept.clone()).await, "put_client");
    assert!(
        ok(store.remove_client(gone.id()).await, "remove_client"),
        "storage conformance: remove_client must answer true for a registered client"
    );
    assert_eq!(
        ok(store.get_client(gone.id()).await, "get_client"),
        None,
        "storage conformance: a removed client must be unknown"
    );
    let start = ClientId::new(prefix).unwrap_or_else(|e| panic!("kit client: {e}"));
    assert_eq!(
        ok(store.list_clients(Some(&start), 1).await, "list_clients").first(),
        Some(&kept),
        "storage conformance: a removed client must not be listed"
    );
    assert_eq!(
        ok(store.get_client(kept.id()).await, "get_client").as_ref(),
        Some(&kept),
        "storage conformance: remove_client must leave other clients alone"
    );
    assert!(
        !ok(store.remove_client(gone.id()).await, "remove_client"),
        "storage conformance: removing a removed client must answer false"
    );
    assert!(
        !ok(store.remove_client(&kit.client_id()).await, "remove_client"),
        "storage conformance: removing an unknown client must answer false"
    );
}

// ---------------------------------------------------------------------------------------
// Codes.
// ---------------------------------------------------------------------------------------

/// The first `consume_code` gets `Consumed` with the record; every later one gets
/// `AlreadyConsumed` with the same record.
pub async fn code_is_consumed_once<S: Storage>(store: S) {
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    assert_eq!(
        ok(store.consume_code(&code.hash).await, "consume_code"),
        CodeConsumption::Consumed(code.clone()),
        "storage conformance: the first consumption of a code must be Consumed with its record"
    );
    for _ in 0..2 {
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code.clone()),
            "storage conformance: a code consumed before must be AlreadyConsumed with the same record"
        );
    }
}

/// A hash never stored gives `NotFound`.
pub async fn unknown_code_is_not_found<S: Storage>(store: S) {
    let kit = Kit::new();
    assert_eq!(
        ok(store.consume_code(&kit.hash()).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: an unknown code must be NotFound"
    );
}

/// A second code with a stored hash is a `Conflict`, leaves the first unchanged, and
/// leaves the approval's key unused (both or neither).
pub async fn duplicate_code_is_a_conflict<S: Storage>(store: S) {
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    let mut twin = kit.code(120, 7200);
    twin.hash = code.hash;
    let key = kit.hash();
    expect_conflict(
        store.use_once_and_insert_code(&key, kit.t(600), twin).await,
        "use_once_and_insert_code with a code hash already stored",
    );
    assert_eq!(
        ok(store.consume_code(&code.hash).await, "consume_code"),
        CodeConsumption::Consumed(code),
        "storage conformance: a refused duplicate insert must leave the stored code unchanged"
    );
    assert!(
        ok(store.use_once(&key, kit.t(600)).await, "use_once"),
        "storage conformance: a refused use_once_and_insert_code must not mark its key \
         (both or neither)"
    );
}

/// `issue` with a token hash already stored is a `Conflict`, and stores nothing: not the
/// other tokens of the call, and no change to the stored token.
pub async fn duplicate_token_is_a_conflict<S: Storage>(store: S) {
    let kit = Kit::new();
    let first = kit.grant(86_400);
    let tokens = kit.pair(&first);
    issue_ok(&store, &first, &tokens).await;

    let second = kit.grant(86_400);
    let fresh = kit.token(&second, TokenKind::Access, 3600);
    let mut twin = kit.token(&second, TokenKind::Refresh, 86_400);
    twin.hash = tokens[1].hash;
    expect_conflict(
        store.issue(&second, &[fresh.clone(), twin]).await,
        "issue with a token hash already stored",
    );
    assert_eq!(
        token_of(&store, &fresh.hash).await,
        None,
        "storage conformance: a refused issue must store none of its tokens (all or nothing)"
    );
    assert_eq!(
        token_of(&store, &tokens[1].hash).await.as_ref(),
        Some(&tokens[1]),
        "storage conformance: a refused issue must leave the stored token unchanged"
    );
}

// ---------------------------------------------------------------------------------------
// Round trips.
// ---------------------------------------------------------------------------------------

/// Every field of a code comes back: Unicode subject, both states of each `Option`,
/// scope sets (several, and empty), times to the second (before 1970, past the 32-bit
/// limit of 2038, and in year 9999).
pub async fn code_record_round_trip<S: Storage>(store: S) {
    let kit = Kit::new();
    let full = kit.code(60, 90 * 86_400);
    let mut bare = kit.code(60, 90 * 86_400);
    bare.redirect_uri = None;
    bare.code_challenge = None;
    bare.subject = "user-42".to_owned();
    bare.scope = ScopeSet::empty();
    let mut odd_times = kit.code(0, 0);
    odd_times.scope = scopes("a!#$%&'()*+,-./:;<=>?@[]^_`{|}~ z");
    odd_times.issued_at = at(-14_182_940); // 1969-07-20T20:17:40Z
    odd_times.expires_at = at(2_147_483_648); // 2038-01-19T03:14:08Z: past i32
    odd_times.grant_expires_at = at(253_402_300_799); // 9999-12-31T23:59:59Z
    for code in [full, bare, odd_times] {
        insert_code(&store, &kit, code.clone()).await;
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::Consumed(code.clone()),
            "storage conformance: every field of a code must survive a round trip"
        );
        assert_eq!(
            ok(store.consume_code(&code.hash).await, "consume_code"),
            CodeConsumption::AlreadyConsumed(code),
            "storage conformance: every field of a consumed code must survive a round trip"
        );
    }
}

/// Every field of a token comes back, for every [`TokenKind`], with and without a
/// subject; and `revoked` / `rotated` come back set once a revocation or a rotation set
/// them, every other field unchanged.
pub async fn token_record_round_trip<S: Storage>(store: S) {
    let kit = Kit::new();
    let user = kit.grant(90 * 86_400);
    let mut machine = kit.grant(3600);
    machine.subject = None;
    machine.scope = scopes("read:payments");

    let mut tokens = Vec::new();
    for grant in [&user, &machine] {
        for kind in [TokenKind::Access, TokenKind::Refresh, TokenKind::JwtAccess] {
            let mut token = kit.token(grant, kind, 3600);
            token.scope = match kind {
                TokenKind::Access => scopes("read:users"),
                TokenKind::Refresh => grant.scope.clone(),
                TokenKind::JwtAccess => ScopeSet::empty(),
            };
            tokens.push(token);
        }
    }
    let mut odd_times = kit.token(&user, TokenKind::Access, 0);
    odd_times.issued_at = at(-14_182_940);
    odd_times.expires_at = at(2_147_483_648); // 2038-01-19T03:14:08Z: past i32
    odd_times.grant_expires_at = at(253_402_300_799);
    tokens.push(odd_times);

    let (user_tokens, machine_tokens): (Vec<_>, Vec<_>) =
        tokens.iter().cloned().partition(|t| t.grant_id == user.id);
    issue_ok(&store, &user, &user_tokens).await;
    issue_ok(&store, &machine, &machine_tokens).await;
    for token in &tokens {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: every field of a {:?} token must survive a round trip",
            token.kind
        );
    }

    let revoked = &tokens[0];
    assert!(ok(store.revoke_token(&revoked.hash).await, "revoke_token"));
    let mut expected = revoked.clone();
    expected.revoked = true;
    assert_eq!(
        token_of(&store, &revoked.hash).await,
        Some(expected),
        "storage conformance: a revoked token must come back with revoked set, all else unchanged"
    );

    let refresh = &tokens[1];
    let next = kit.pair(&user);
    assert_eq!(
        ok(
            store.rotate_refresh(&refresh.hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    let mut expected = refresh.clone();
    expected.rotated = true;
    assert_eq!(
        token_of(&store, &refresh.hash).await,
        Some(expected),
        "storage conformance: a rotated token must come back with rotated set, all else unchanged"
    );
    for token in &next {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: tokens stored by a rotation must survive a round trip"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Refresh rotation.
// ---------------------------------------------------------------------------------------

/// The first rotation of a refresh token stores the new tokens and marks it rotated; a
/// second rotation of it is `AlreadyRotated` and stores nothing; the new refresh token
/// rotates in turn.
pub async fn refresh_rotation_is_single_use<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;

    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Rotated,
        "storage conformance: the first rotation of a live refresh token must be Rotated"
    );
    for token in &next {
        assert!(
            token_of(&store, &token.hash).await.is_some(),
            "storage conformance: Rotated must store the new tokens"
        );
    }

    let replay = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &replay).await,
            "rotate_refresh"
        ),
        Rotation::AlreadyRotated,
        "storage conformance: rotating a rotated-away refresh token must be AlreadyRotated"
    );
    for token in &replay {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: only Rotated stores anything"
        );
    }

    let third = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&next[1].hash, &third).await,
            "rotate_refresh"
        ),
        Rotation::Rotated,
        "storage conformance: the refresh token a rotation stored must rotate in turn"
    );
}

/// Rotating a revoked refresh token, or one whose grant is revoked, is `Revoked` and
/// stores nothing (and marks nothing rotated).
pub async fn rotation_of_revoked_token_or_grant_is_refused<S: Storage>(store: S) {
    let kit = Kit::new();

    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    assert!(ok(
        store.revoke_token(&tokens[1].hash).await,
        "revoke_token"
    ));
    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Revoked,
        "storage conformance: rotating a revoked refresh token must be Revoked"
    );
    for token in &next {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: only Rotated stores anything (revoked token)"
        );
    }

    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Revoked,
        "storage conformance: rotating a refresh token of a revoked grant must be Revoked"
    );
    for token in &next {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: only Rotated stores anything (revoked grant)"
        );
    }
    assert!(
        token_of(&store, &tokens[1].hash)
            .await
            .is_some_and(|t| !t.rotated),
        "storage conformance: a refused rotation must not mark the token rotated"
    );
}

/// Rotating a hash never stored, or the hash of an access token (opaque or JWT), is
/// `NotFound` and stores nothing.
pub async fn rotation_of_unknown_or_non_refresh_token_is_not_found<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let access = kit.token(&grant, TokenKind::Access, 3600);
    let jwt = kit.token(&grant, TokenKind::JwtAccess, 3600);
    issue_ok(&store, &grant, &[access.clone(), jwt.clone()]).await;
    for (what, hash) in [
        ("an unknown hash", kit.hash()),
        ("an access token", access.hash),
        ("a JWT access token record", jwt.hash),
    ] {
        let next = kit.pair(&grant);
        assert_eq!(
            ok(store.rotate_refresh(&hash, &next).await, "rotate_refresh"),
            Rotation::NotFound,
            "storage conformance: rotating {what} must be NotFound"
        );
        for token in &next {
            assert_eq!(
                token_of(&store, &token.hash).await,
                None,
                "storage conformance: only Rotated stores anything ({what})"
            );
        }
    }
    assert!(
        token_of(&store, &access.hash)
            .await
            .is_some_and(|t| !t.rotated && !t.revoked),
        "storage conformance: a refused rotation must leave an access token unchanged"
    );
}

// ---------------------------------------------------------------------------------------
// Revocation.
// ---------------------------------------------------------------------------------------

/// `revoke_token` revokes that one token (true), leaves its siblings live, and answers
/// false for a hash never stored.
pub async fn revoke_one_token<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    assert!(
        ok(store.revoke_token(&tokens[0].hash).await, "revoke_token"),
        "storage conformance: revoke_token must answer true for a stored token"
    );
    assert!(
        token_of(&store, &tokens[0].hash)
            .await
            .is_some_and(|t| t.revoked),
        "storage conformance: a revoked token must read back revoked"
    );
    assert_eq!(
        token_of(&store, &tokens[1].hash).await.as_ref(),
        Some(&tokens[1]),
        "storage conformance: revoking one token must leave the others of its grant unchanged"
    );
    assert!(
        !ok(store.revoke_token(&kit.hash()).await, "revoke_token"),
        "storage conformance: revoke_token must answer false for an unknown hash"
    );
}

/// `revoke_grant` revokes every token of the grant (those issued at several times, and
/// those a rotation stored) and no other, and answers how many went from live to
/// revoked: a token revoked before does not count, and a second call counts zero.
pub async fn revoke_grant_revokes_exactly_its_tokens<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let first = kit.pair(&grant);
    issue_ok(&store, &grant, &first).await;
    let more = vec![kit.token(&grant, TokenKind::JwtAccess, 3600)];
    issue_ok(&store, &grant, &more).await;
    let bystander = kit.grant(90 * 86_400);
    let bystander_tokens = kit.pair(&bystander);
    issue_ok(&store, &bystander, &bystander_tokens).await;
    assert!(ok(store.revoke_token(&first[0].hash).await, "revoke_token"));

    assert_eq!(
        ok(store.revoke_grant(&grant.id).await, "revoke_grant"),
        2,
        "storage conformance: revoke_grant must count the tokens that went from live to revoked"
    );
    for token in first.iter().chain(&more) {
        assert!(
            token_of(&store, &token.hash)
                .await
                .is_some_and(|t| t.revoked),
            "storage conformance: revoke_grant must revoke every token of the grant"
        );
    }
    for token in &bystander_tokens {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: revoke_grant must leave other grants' tokens alone"
        );
    }
    assert_eq!(
        ok(store.revoke_grant(&grant.id).await, "revoke_grant"),
        0,
        "storage conformance: revoking a revoked grant again must count zero"
    );

    // Tokens a rotation stored belong to the grant too.
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    let next = kit.pair(&grant);
    assert_eq!(
        ok(
            store.rotate_refresh(&tokens[1].hash, &next).await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    for token in tokens.iter().chain(&next) {
        assert!(
            token_of(&store, &token.hash)
                .await
                .is_some_and(|t| t.revoked),
            "storage conformance: revoke_grant must revoke the tokens a rotation stored"
        );
    }
}

/// After `revoke_grant`, `issue` for that grant is `GrantRevoked` and stores nothing.
pub async fn revoke_grant_blocks_later_issue<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    issue_ok(&store, &grant, &kit.pair(&grant)).await;
    ok(store.revoke_grant(&grant.id).await, "revoke_grant");
    let late = kit.pair(&grant);
    assert_eq!(
        ok(store.issue(&grant, &late).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: issue for a revoked grant must be GrantRevoked"
    );
    for token in &late {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: GrantRevoked must store nothing"
        );
    }
}

/// `revoke_grant` for a grant never issued answers 0 and leaves a mark: a later `issue`
/// for it is `GrantRevoked` and stores nothing (a code replay racing its first redemption).
pub async fn revoke_grant_before_issue_blocks_issue<S: Storage>(store: S) {
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    assert_eq!(
        ok(store.revoke_grant(&grant.id).await, "revoke_grant"),
        0,
        "storage conformance: revoking a grant with no tokens must count zero"
    );
    let tokens = kit.pair(&grant);
    assert_eq!(
        ok(store.issue(&grant, &tokens).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: revoke_grant before the grant was ever issued must block issue"
    );
    for token in &tokens {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: GrantRevoked must store nothing"
        );
    }
}

/// `revoke_subject` revokes every grant of the subject (on several clients, the tokens a
/// rotation stored included) and nothing of another user's grants or of a client's own
/// grant, and answers how many tokens went from live to revoked: a token revoked
/// before does not count, and a second call counts zero.
pub async fn revoke_subject_revokes_exactly_that_subjects_grants<S: Storage>(store: S) {
    let kit = Kit::new();
    let subject = kit.subject();
    let first = kit.grant_of(Some(&subject), 90 * 86_400);
    let first_tokens = kit.pair(&first);
    issue_ok(&store, &first, &first_tokens).await;
    let rotated_to = kit.pair(&first);
    assert_eq!(
        ok(
            store
                .rotate_refresh(&first_tokens[1].hash, &rotated_to)
                .await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    let second = kit.grant_of(Some(&subject), 90 * 86_400);
    let second_tokens = kit.pair(&second);
    issue_ok(&store, &second, &second_tokens).await;
    assert!(ok(
        store.revoke_token(&second_tokens[0].hash).await,
        "revoke_token"
    ));
    let other_user = kit.grant_of(Some(&kit.subject()), 90 * 86_400);
    let other_user_tokens = kit.pair(&other_user);
    issue_ok(&store, &other_user, &other_user_tokens).await;
    let machine = kit.grant_of(None, 90 * 86_400);
    let machine_tokens = vec![kit.token(&machine, TokenKind::Access, 3600)];
    issue_ok(&store, &machine, &machine_tokens).await;

    // Live before: the first grant's four tokens (one rotated away), the second's refresh.
    assert_eq!(
        ok(store.revoke_subject(&subject).await, "revoke_subject"),
        5,
        "storage conformance: revoke_subject must count the tokens that went from live \
         (rotated ones included) to revoked"
    );
    for token in first_tokens.iter().chain(&rotated_to).chain(&second_tokens) {
        assert!(
            token_of(&store, &token.hash)
                .await
                .is_some_and(|t| t.revoked),
            "storage conformance: revoke_subject must revoke every token of every grant \
             of the subject"
        );
    }
    for token in other_user_tokens.iter().chain(&machine_tokens) {
        assert_eq!(
            token_of(&store, &token.hash).await.as_ref(),
            Some(token),
            "storage conformance: revoke_subject must leave other subjects' grants alone"
        );
    }
    assert_eq!(
        ok(store.revoke_subject(&subject).await, "revoke_subject"),
        0,
        "storage conformance: revoking a subject again must count zero"
    );
    assert_eq!(
        ok(store.revoke_subject(&kit.subject()).await, "revoke_subject"),
        0,
        "storage conformance: revoking a subject with no grant must count zero"
    );
}

/// After `revoke_subject`, `issue` for one of its grants is `GrantRevoked` and stores
/// nothing, its refresh tokens no longer rotate, and a grant known only by its code (a
/// code the user approved, not yet redeemed) is refused too when it is issued.
pub async fn revoke_subject_blocks_later_issue<S: Storage>(store: S) {
    let kit = Kit::new();
    let subject = kit.subject();
    let grant = kit.grant_of(Some(&subject), 90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&store, &grant, &tokens).await;
    let mut code = kit.code(60, 90 * 86_400);
    code.subject.clone_from(&subject);
    insert_code(&store, &kit, code.clone()).await;
    // Another user's code, not redeemed either, stays redeemable.
    let other_code = kit.code(60, 90 * 86_400);
    insert_code(&store, &kit, other_code.clone()).await;

    ok(store.revoke_subject(&subject).await, "revoke_subject");

    let late = kit.pair(&grant);
    assert_eq!(
        ok(store.issue(&grant, &late).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: issue for a grant of a revoked subject must be GrantRevoked"
    );
    assert_eq!(
        ok(
            store
                .rotate_refresh(&tokens[1].hash, &kit.pair(&grant))
                .await,
            "rotate_refresh"
        ),
        Rotation::Revoked,
        "storage conformance: a refresh token of a revoked subject must not rotate"
    );
    let CodeConsumption::Consumed(consumed) =
        ok(store.consume_code(&code.hash).await, "consume_code")
    else {
        panic!("storage conformance: revoke_subject must leave a code readable");
    };
    let from_code = grant_of_code(&consumed);
    let code_tokens = kit.pair(&from_code);
    assert_eq!(
        ok(store.issue(&from_code, &code_tokens).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: revoke_subject must also revoke the grant of a code the \
         subject approved and that was not redeemed yet"
    );
    for token in late.iter().chain(&code_tokens) {
        assert_eq!(
            token_of(&store, &token.hash).await,
            None,
            "storage conformance: GrantRevoked must store nothing"
        );
    }
    let CodeConsumption::Consumed(other) =
        ok(store.consume_code(&other_code.hash).await, "consume_code")
    else {
        panic!("storage conformance: another user's code must stay redeemable");
    };
    let other_grant = grant_of_code(&other);
    issue_ok(&store, &other_grant, &kit.pair(&other_grant)).await;
}

/// The grant record the engine builds from a redeemed code.
fn grant_of_code(code: &CodeRecord) -> GrantRecord {
    GrantRecord {
        id: code.grant_id.clone(),
        client_id: code.client_id.clone(),
        subject: Some(code.subject.clone()),
        scope: code.scope.clone(),
        created_at: code.issued_at,
        expires_at: code.grant_expires_at,
    }
}

// ---------------------------------------------------------------------------------------
// Purge.
// ---------------------------------------------------------------------------------------

#[track_caller]
fn assert_report(got: PurgeReport, codes: u64, tokens: u64, grants: u64, when: &str) {
    // One-time-use marks have a property of their own.
    assert_eq!(
        (got.codes, got.tokens, got.grants),
        (codes, tokens, grants),
        "storage conformance: purge_expired at {when} must remove exactly \
         {codes} codes, {tokens} tokens and {grants} grants"
    );
}

/// `purge_expired(before)` follows its contract exactly, boundaries included ("at or
/// before"): unconsumed codes go at `expires_at`, consumed ones at `grant_expires_at`;
/// access tokens (opaque and JWT records) at `expires_at`; refresh tokens, rotated-away
/// ones included, at `grant_expires_at`; grants at `expires_at`. What it keeps still
/// works: a consumed code is still reported consumed, a rotated-away refresh token is
/// still reported rotated, and the revocation mark of a grant never issued stays.
pub async fn purge_removes_exactly_what_expired<S: Storage>(store: S) {
    // Far in the past, away from every other property's records (see the module docs),
    // at a random second so that two runs rarely meet.
    let mut offset = [0u8; 3];
    RandomSource::new()
        .fill(&mut offset)
        .unwrap_or_else(|e| panic!("kit random: {e}"));
    let offset = i64::from(u32::from_be_bytes([0, offset[0], offset[1], offset[2]]));
    let kit = Kit::at(at(157_766_400 + offset)); // 1975-01-01 plus up to 194 days

    // Grant G ends at 1000: two access tokens and a JWT record, a refresh token that
    // expires at 500 and is rotated (its successors: an access token and a refresh token).
    let g = kit.grant(1000);
    let a1 = kit.token(&g, TokenKind::Access, 60);
    let j1 = kit.token(&g, TokenKind::JwtAccess, 60);
    let a2 = kit.token(&g, TokenKind::Access, 61);
    let r1 = kit.token(&g, TokenKind::Refresh, 500);
    issue_ok(
        &store,
        &g,
        &[a1.clone(), j1.clone(), a2.clone(), r1.clone()],
    )
    .await;
    let a3 = kit.token(&g, TokenKind::Access, 120);
    let r2 = kit.token(&g, TokenKind::Refresh, 500);
    assert_eq!(
        ok(
            store
                .rotate_refresh(&r1.hash, &[a3.clone(), r2.clone()])
                .await,
            "rotate_refresh"
        ),
        Rotation::Rotated
    );
    // Grant H ends at 100, with one access token expiring at 50 (client credentials).
    let mut h = kit.grant(100);
    h.subject = None;
    let b1 = kit.token(&h, TokenKind::Access, 50);
    issue_ok(&store, &h, std::slice::from_ref(&b1)).await;
    // Codes: C1 unused, expires at 60; C2 unused, expires at 61; C3 consumed, expires at
    // 60, its grant ends at 1000.
    let c1 = kit.code(60, 1000);
    let c2 = kit.code(61, 1000);
    let c3 = kit.code(60, 1000);
    for code in [&c1, &c2, &c3] {
        insert_code(&store, &kit, code.clone()).await;
    }
    assert!(matches!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::Consumed(_)
    ));
    // M: revoked before it was ever issued.
    let m = kit.grant(1000);
    ok(store.revoke_grant(&m.id).await, "revoke_grant");

    let present = |hash: SecretHash| {
        let store = &store;
        async move { token_of(store, &hash).await.is_some() }
    };

    assert_report(
        ok(store.purge_expired(kit.t(49)).await, "purge_expired"),
        0,
        0,
        0,
        "t+49",
    );
    for token in [&a1, &j1, &a2, &r1, &a3, &r2, &b1] {
        assert!(
            present(token.hash).await,
            "storage conformance: purge must keep a {:?} token that expires later",
            token.kind
        );
    }

    // t+60: C1 (unused, expired at 60); A1, J1 (60) and B1 (50). C3 is consumed: kept.
    assert_report(
        ok(store.purge_expired(kit.t(60)).await, "purge_expired"),
        1,
        3,
        0,
        "t+60",
    );
    assert_eq!(
        ok(store.consume_code(&c1.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove an unused code at its expires_at"
    );
    assert_eq!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::AlreadyConsumed(c3.clone()),
        "storage conformance: purge must keep a consumed code until its grant_expires_at \
         (replay detection needs it)"
    );
    for token in [&a1, &j1, &b1] {
        assert!(
            !present(token.hash).await,
            "storage conformance: purge must remove a {:?} token at its expires_at",
            token.kind
        );
    }
    for token in [&a2, &r1, &a3, &r2] {
        assert!(
            present(token.hash).await,
            "storage conformance: purge at t+60 must keep a {:?} token expiring later",
            token.kind
        );
    }

    // t+100: C2 (61), A2 (61) and grant H (100).
    assert_report(
        ok(store.purge_expired(kit.t(100)).await, "purge_expired"),
        1,
        1,
        1,
        "t+100",
    );
    assert_eq!(
        ok(store.consume_code(&c2.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove an unused code after its expires_at"
    );
    assert!(!present(a2.hash).await);

    // t+999: A3 (120). R1 and R2 expired at 500 but stay until their grant ends: the
    // rotated-away R1 is what detects a reuse.
    assert_report(
        ok(store.purge_expired(kit.t(999)).await, "purge_expired"),
        0,
        1,
        0,
        "t+999",
    );
    assert!(!present(a3.hash).await);
    let replay = kit.pair(&g);
    assert_eq!(
        ok(
            store.rotate_refresh(&r1.hash, &replay).await,
            "rotate_refresh"
        ),
        Rotation::AlreadyRotated,
        "storage conformance: purge must keep a rotated-away refresh token until its \
         grant_expires_at (reuse detection needs it)"
    );
    assert!(present(r2.hash).await);
    assert_eq!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::AlreadyConsumed(c3.clone())
    );

    // t+1000: C3, R1, R2 and grant G.
    assert_report(
        ok(store.purge_expired(kit.t(1000)).await, "purge_expired"),
        1,
        2,
        1,
        "t+1000",
    );
    assert_eq!(
        ok(store.consume_code(&c3.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: purge must remove a consumed code at its grant_expires_at"
    );
    assert!(!present(r1.hash).await && !present(r2.hash).await);

    // The mark of a grant revoked before it was issued has no expiry: it stays.
    let late = kit.pair(&m);
    assert_eq!(
        ok(store.issue(&m, &late).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: purge must keep the revocation mark of a grant never issued"
    );
}

// ---------------------------------------------------------------------------------------
// One-time-use marks.
// ---------------------------------------------------------------------------------------

/// `use_once` answers `true` for the first use of a key and `false` for every later one;
/// other keys are independent.
pub async fn use_once_is_single_use<S: Storage>(store: S) {
    let kit = Kit::new();
    let key = kit.hash();
    assert!(
        ok(store.use_once(&key, kit.t(600)).await, "use_once"),
        "storage conformance: the first use_once of a key must answer true"
    );
    for _ in 0..2 {
        assert!(
            !ok(store.use_once(&key, kit.t(600)).await, "use_once"),
            "storage conformance: a key used before must answer false"
        );
    }
    assert!(
        ok(store.use_once(&kit.hash(), kit.t(600)).await, "use_once"),
        "storage conformance: another key is independent"
    );
}

/// `use_once_and_insert_code` stores the code only on the first use of its key, and its
/// mark is the same as `use_once`'s.
pub async fn use_once_and_insert_code_stores_once<S: Storage>(store: S) {
    let kit = Kit::new();
    let key = kit.hash();
    let first = kit.code(60, 86_400);
    assert!(
        ok(
            store
                .use_once_and_insert_code(&key, kit.t(600), first.clone())
                .await,
            "use_once_and_insert_code"
        ),
        "storage conformance: the first use_once_and_insert_code of a key must answer true"
    );
    let second = kit.code(60, 86_400);
    assert!(
        !ok(
            store
                .use_once_and_insert_code(&key, kit.t(600), second.clone())
                .await,
            "use_once_and_insert_code"
        ),
        "storage conformance: use_once_and_insert_code with a used key must answer false"
    );
    assert!(
        !ok(store.use_once(&key, kit.t(600)).await, "use_once"),
        "storage conformance: use_once_and_insert_code must leave the use_once mark"
    );
    assert_eq!(
        ok(store.consume_code(&first.hash).await, "consume_code"),
        CodeConsumption::Consumed(first),
        "storage conformance: the first call's code must be stored"
    );
    assert_eq!(
        ok(store.consume_code(&second.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: a refused call must store no code"
    );
}

/// A mark is kept until its `expires_at` and purged at it (a purge property: on a shared
/// database, run it alone; its records sit around 1980, apart from every other one's).
pub async fn use_once_marks_are_purged_after_expiry<S: Storage>(store: S) {
    let mut offset = [0u8; 3];
    RandomSource::new()
        .fill(&mut offset)
        .unwrap_or_else(|e| panic!("kit random: {e}"));
    let offset = i64::from(u32::from_be_bytes([0, offset[0], offset[1], offset[2]]));
    let kit = Kit::at(at(315_532_800 + offset)); // 1980-01-01 plus up to 194 days
    let key = kit.hash();
    assert!(ok(store.use_once(&key, kit.t(60)).await, "use_once"));
    ok(store.purge_expired(kit.t(59)).await, "purge_expired");
    assert!(
        !ok(store.use_once(&key, kit.t(60)).await, "use_once"),
        "storage conformance: a mark must be kept until its expires_at"
    );
    let report = ok(store.purge_expired(kit.t(60)).await, "purge_expired");
    assert!(
        report.uses >= 1,
        "storage conformance: purge_expired at a mark's expires_at must remove it and count it in `uses`"
    );
    assert!(
        ok(store.use_once(&key, kit.t(120)).await, "use_once"),
        "storage conformance: a purged mark is forgotten"
    );
}

// ---------------------------------------------------------------------------------------
// Concurrency (run these on a multi-thread runtime).
// ---------------------------------------------------------------------------------------

/// Runs [`RACERS`] futures made by `make` as tasks that all start together (each waits
/// at one barrier first), and answers their outputs in the order they were made.
async fn race<F, Fut>(mut make: F) -> Vec<Fut::Output>
where
    F: FnMut() -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (barrier, racer) = (barrier.clone(), make());
            tokio::spawn(async move {
                barrier.wait().await;
                racer.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(RACERS);
    for task in tasks {
        outputs.push(
            task.await
                .unwrap_or_else(|e| panic!("storage conformance: a racing task failed: {e}")),
        );
    }
    outputs
}

/// SC-01: [`RACERS`] tasks consume one code at once: exactly one gets `Consumed`, every
/// other gets `AlreadyConsumed` with the same record.
pub async fn sc01_concurrent_code_consumption_has_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let code = kit.code(60, 86_400);
    insert_code(&store, &kit, code.clone()).await;
    let outcomes = race(|| {
        let (store, hash) = (store.clone(), code.hash);
        async move { store.consume_code(&hash).await }
    })
    .await;
    let mut winners = 0;
    for outcome in outcomes {
        match ok(outcome, "consume_code (racing)") {
            CodeConsumption::Consumed(record) => {
                assert_eq!(
                    record, code,
                    "storage conformance: Consumed with another record"
                );
                winners += 1;
            }
            CodeConsumption::AlreadyConsumed(record) => assert_eq!(
                record, code,
                "storage conformance: AlreadyConsumed with another record"
            ),
            CodeConsumption::NotFound => {
                panic!("storage conformance: a racing consume_code lost the code (NotFound)")
            }
        }
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing consume_code calls must win"
    );
}

/// SC-02: [`RACERS`] tasks rotate one refresh token at once, each with its own new
/// tokens: exactly one gets `Rotated`, every other `AlreadyRotated`, and only the
/// winner's new tokens are stored (never two live families).
pub async fn sc02_concurrent_rotation_has_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let grant = kit.grant(90 * 86_400);
    let tokens = kit.pair(&grant);
    issue_ok(&*store, &grant, &tokens).await;
    let outcomes = race(|| {
        let next = kit.pair(&grant);
        let (store, old) = (store.clone(), tokens[1].hash);
        async move {
            let rotation = store.rotate_refresh(&old, &next).await;
            (rotation, next)
        }
    })
    .await;
    let mut winners = 0;
    for (rotation, next) in outcomes {
        let won = match ok(rotation, "rotate_refresh (racing)") {
            Rotation::Rotated => true,
            Rotation::AlreadyRotated => false,
            other => panic!("storage conformance: a racing rotation got {other:?}"),
        };
        winners += usize::from(won);
        for token in &next {
            assert_eq!(
                token_of(&*store, &token.hash).await.is_some(),
                won,
                "storage conformance: exactly the winning rotation's tokens must be stored"
            );
        }
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing rotations must win"
    );
    assert!(
        token_of(&*store, &tokens[1].hash)
            .await
            .is_some_and(|t| t.rotated),
        "storage conformance: the raced refresh token must end rotated"
    );
}

/// `revoke_grant` racing the grant's first `issue`: either the issue comes first and its
/// tokens end revoked (and counted), or it answers `GrantRevoked` and stores nothing.
/// Never a live token after both returned.
pub async fn revoke_grant_racing_issue_leaves_no_live_token<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    for _ in 0..RACERS {
        let grant = kit.grant(90 * 86_400);
        let tokens = kit.pair(&grant);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let issuing = {
            let (store, barrier, grant, tokens) = (
                store.clone(),
                barrier.clone(),
                grant.clone(),
                tokens.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                store.issue(&grant, &tokens).await
            })
        };
        let revoking = {
            let (store, barrier, id) = (store.clone(), barrier.clone(), grant.id.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.revoke_grant(&id).await
            })
        };
        let issued = issuing
            .await
            .unwrap_or_else(|e| panic!("storage conformance: a racing task failed: {e}"));
        let revoked = revoking
            .await
            .unwrap_or_else(|e| panic!("storage conformance: a racing task failed: {e}"));
        let (issued, revoked) = (ok(issued, "issue (racing)"), ok(revoked, "revoke_grant"));
        for token in &tokens {
            let stored = token_of(&*store, &token.hash).await;
            match issued {
                Issuance::Issued => assert!(
                    stored.is_some_and(|t| t.revoked),
                    "storage conformance: tokens issued before a racing revoke_grant must end revoked"
                ),
                Issuance::GrantRevoked => assert_eq!(
                    stored, None,
                    "storage conformance: GrantRevoked must store nothing"
                ),
            }
        }
        let expected = match issued {
            Issuance::Issued => tokens.len() as u64,
            Issuance::GrantRevoked => 0,
        };
        assert_eq!(
            revoked, expected,
            "storage conformance: a racing revoke_grant must count exactly the tokens it revoked"
        );
    }
}

/// `revoke_grant` racing a rotation of the grant's refresh token: either the rotation
/// comes first and its new tokens end revoked, or it answers `Revoked` and stores
/// nothing. Never a live token after both returned.
pub async fn revoke_grant_racing_rotation_leaves_no_live_token<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    for _ in 0..RACERS {
        let grant = kit.grant(90 * 86_400);
        let tokens = kit.pair(&grant);
        issue_ok(&*store, &grant, &tokens).await;
        let next = kit.pair(&grant);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let rotating = {
            let (store, barrier, old, next) =
                (store.clone(), barrier.clone(), tokens[1].hash, next.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.rotate_refresh(&old, &next).await
            })
        };
        let revoking = {
            let (store, barrier, id) = (store.clone(), barrier.clone(), grant.id.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.revoke_grant(&id).await
            })
        };
        let rotated = rotating
            .await
            .unwrap_or_else(|e| panic!("storage conformance: a racing task failed: {e}"));
        let revoked = revoking
            .await
            .unwrap_or_else(|e| panic!("storage conformance: a racing task failed: {e}"));
        let rotated = ok(rotated, "rotate_refresh (racing)");
        ok(revoked, "revoke_grant (racing)");
        for token in tokens.iter().chain(&next) {
            let stored = token_of(&*store, &token.hash).await;
            match (&rotated, next.contains(token)) {
                (Rotation::Revoked, true) => assert_eq!(
                    stored, None,
                    "storage conformance: a rotation refused as Revoked must store nothing"
                ),
                (Rotation::Rotated | Rotation::Revoked, _) => assert!(
                    stored.is_some_and(|t| t.revoked),
                    "storage conformance: every token of a grant revoked during a rotation \
                     must end revoked"
                ),
                (other, _) => panic!("storage conformance: a racing rotation got {other:?}"),
            }
        }
    }
}

/// [`RACERS`] tasks approve with one key at once, each with its own code: exactly one
/// gets `true`, and exactly its code is stored.
pub async fn concurrent_approvals_store_one_code<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let key = kit.hash();
    let expires_at = kit.t(600);
    let outcomes = race(|| {
        let (store, code) = (store.clone(), kit.code(60, 86_400));
        async move {
            let hash = code.hash;
            store
                .use_once_and_insert_code(&key, expires_at, code)
                .await
                .map(|won| (won, hash))
        }
    })
    .await;
    let mut winners = 0;
    for outcome in outcomes {
        let (won, hash) = ok(outcome, "use_once_and_insert_code (racing)");
        let stored = !matches!(
            ok(store.consume_code(&hash).await, "consume_code"),
            CodeConsumption::NotFound
        );
        assert_eq!(
            won, stored,
            "storage conformance: a racing approval's code must be stored exactly when it won"
        );
        winners += usize::from(won);
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing approvals must win"
    );
}

/// [`RACERS`] tasks use one key at once: exactly one gets `true`.
pub async fn concurrent_use_once_has_one_winner<S: Storage + 'static>(store: S) {
    let store = Arc::new(store);
    let kit = Kit::new();
    let key = kit.hash();
    let expires_at = kit.t(600);
    let outcomes = race(|| {
        let store = store.clone();
        async move { store.use_once(&key, expires_at).await }
    })
    .await;
    let mut winners = 0;
    for outcome in outcomes {
        if ok(outcome, "use_once (racing)") {
            winners += 1;
        }
    }
    assert_eq!(
        winners, 1,
        "storage conformance: exactly one of {RACERS} racing use_once calls must win"
    );
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn` of the kit that takes a store is in the one list, so no way of
    /// running the kit can miss it.
    #[test]
    fn every_property_is_in_the_list() {
        let source = include_str!("conformance.rs");
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
}
