//! The storage traits: the contract every backend honours.
//!
//! Storage is split by concern ([`ClientStore`], [`CodeStore`], [`TokenStore`]) and
//! combined into [`Storage`], which every type implementing the three has. The traits are
//! async (`async_trait`, so `dyn Storage` works), take `&self`, and are `Send + Sync`.
//! [`KeySetStore`], where the instances of a deployment share their signing keys, is a
//! trait apart: the engine does not need it, and a backend implements it in addition.
//!
//! Rules for every backend:
//! - **Hashes only.** Codes, tokens and client secrets arrive as [`SecretHash`]es; the
//!   values never reach storage.
//! - **No clock.** Every instant comes from the engine as an argument or a record field.
//! - **Atomic single use.** [`CodeStore::consume_code`], [`CodeStore::use_once`],
//!   [`CodeStore::use_once_and_insert_code`], [`TokenStore::redeem_code`] and
//!   [`TokenStore::rotate_refresh`] each succeed for exactly one caller, even when many race, across every process that
//!   shares the store. Get-then-update in two steps is not enough: use one conditional
//!   statement or one transaction (`UPDATE … SET consumed = 1 WHERE hash = ? AND consumed = 0`).
//! - **Errors keep their source** ([`StorageError::with_source`]) and hold no secret.

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
pub(crate) mod error;
mod key_set_store;
mod records;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use error::{StorageError, StorageErrorKind};
pub use key_set_store::{KeySetStore, StoredKeySet};
pub use records::{
    CodeConsumption, CodeLookup, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport,
    Redemption, Rotation, SignIn, TokenKind, TokenRecord,
};

use crate::client::{Client, ClientId};
use crate::secret::SecretHash;

/// The client registry: read on every request, written rarely.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// The client with `id`, exactly as last put (every field, the secret's hash or
    /// derivation included), or `None` if none is registered (not an error).
    /// A registration put or removed by a call that returned is seen by every later call,
    /// in every process that shares the store.
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError>;

    /// Inserts `client`, or replaces the registration with the same id, whole: a reader
    /// sees the old registration or the new one, never a mix.
    async fn put_client(&self, client: Client) -> Result<(), StorageError>;

    /// Up to `limit` clients (at most [`MAX_CLIENT_PAGE`]; more is read as that many),
    /// ordered by id (byte order of the id's text), starting after the id `after` (from
    /// the first when `None`): an admin tool pages through the registry by passing the
    /// last id it saw, and sees every client once. Fewer than the limit means the end.
    /// A client put or removed meanwhile may or may not appear; none appears twice.
    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError>;

    /// Removes the client `id`. Answers whether there was one. Its grants and tokens stay
    /// (they are refused anyway: the engine finds no client to authenticate them for, and
    /// they go at their expiry).
    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError>;
}

/// The most clients one [`ClientStore::list_clients`] call answers: a page an admin
/// screen shows, and a bound on what one call reads.
pub const MAX_CLIENT_PAGE: usize = 500;

/// Authorization codes and one-time-use marks.
///
/// Codes enter the store only through [`CodeStore::use_once_and_insert_code`], the one
/// step that approving a pending authorization takes: there is no separate insertion, so
/// no store (nor a wrapper around one) can split that step in two.
///
/// A code reads back exactly as it was stored, every field of it: its
/// [`sign_in`](CodeRecord::sign_in) (absent, or whole, nonce included) and its
/// [`dpop_jkt`](CodeRecord::dpop_jkt) (absent, or the string) like the others.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Consumes the code with `hash`, atomically.
    ///
    /// Exactly one call ever gets [`CodeConsumption::Consumed`] for a given code, however
    /// many race. Every later call gets [`CodeConsumption::AlreadyConsumed`] with the same
    /// record (so the engine can revoke the grant after checking the replayer's proof),
    /// for as long as the record is kept (see [`TokenStore::purge_expired_batch`]). Expiry is
    /// the engine's check, not the store's: an expired code is still consumed and returned.
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError>;

    /// The code with `hash` and whether it was consumed, read without changing anything.
    ///
    /// The engine reads a code, checks the redemption against it, and then either redeems
    /// it with [`TokenStore::redeem_code`] (one write for the whole redemption) or, when a
    /// check fails, burns it with [`CodeStore::consume_code`]. A code's fields never change
    /// once stored, so a record read here is the one a later call acts on; only its
    /// consumed state can change in between, and the single-use calls decide that.
    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError>;

    /// Records the use of a one-time value other than a code (a pending authorization's
    /// handle; later DPoP proofs and assertion `jti`s), keyed by its hash, atomically.
    ///
    /// Exactly one call ever gets `true` for a given `key`, however many race, across
    /// every process that shares the store; every later call gets `false`, for as long as
    /// the mark is kept: until `expires_at`, after which
    /// [`TokenStore::purge_expired_batch`] removes it (the value it guards has expired by then,
    /// so its reuse is refused anyway).
    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError>;

    /// Approves a pending authorization: records the one-time use of `key` (as
    /// [`CodeStore::use_once`], until `expires_at`) and stores `code`, atomically, both or
    /// neither. Answers whether this call was the use.
    ///
    /// - Exactly one call ever gets `true` for a given `key`, however many race, across
    ///   every process that shares the store; the others get `false` and store nothing.
    ///   The mark is shared with `use_once`: a key used by either is used for both.
    /// - A code whose hash is already stored is a [`StorageErrorKind::Conflict`]: the
    ///   stored code is unchanged and the key is *not* marked (the approval can be
    ///   retried with a new code). Any other error also leaves neither.
    /// - The stored code is then found by [`CodeStore::consume_code`].
    ///
    /// One transaction, or one critical section, does it; two calls in turn do not (a
    /// failure between them would spend the approval and store no code).
    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError>;
}

/// Access tokens, refresh tokens and the grants they belong to.
///
/// A token reads back exactly as it was stored, every field of it (only `revoked` and
/// `rotated` change, as the methods below say): its [`sign_in`](TokenRecord::sign_in)
/// (absent, or whole) and its [`dpop_jkt`](TokenRecord::dpop_jkt) (absent, or the
/// string) like the others.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores `tokens` for `grant`, creating the grant record if it is new (a grant
    /// stored before keeps its first record; the tokens join it).
    ///
    /// If the grant was revoked (even before it was ever stored: [`TokenStore::revoke_grant`]
    /// leaves a mark), nothing is stored and the answer is [`Issuance::GrantRevoked`]; this
    /// closes the race where a code replay revokes a grant while its first redemption is
    /// still issuing. A token hash already present is a [`StorageErrorKind::Conflict`] and
    /// nothing is stored. All or nothing.
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError>;

    /// Redeems the code with hash `code`: consumes it and stores `tokens` for `grant` (as
    /// [`TokenStore::issue`] does), atomically, both or neither. It is
    /// [`CodeStore::consume_code`] and [`TokenStore::issue`] in one step, so a redemption
    /// costs one write and a failure between the two can never burn a code without
    /// issuing its tokens.
    ///
    /// - Exactly one call ever gets [`Redemption::Issued`] for a given code, however many
    ///   race, across every process that shares the store, and whether they race through
    ///   this method or through `consume_code` (both consume the same mark).
    /// - The grant is checked first: if it was revoked (even before it was stored, as
    ///   for `issue`), the answer is [`Redemption::GrantRevoked`]; then the code: absent is
    ///   [`Redemption::NotFound`], consumed before is [`Redemption::AlreadyConsumed`].
    ///   A code of another grant (its [`CodeRecord::grant_id`] is not `grant.id`) is
    ///   `NotFound` too: no such code of this grant exists, so no caller can hang one
    ///   grant's tokens on another's code.
    /// - A token hash already present is a [`StorageErrorKind::Conflict`].
    /// - Only `Issued` changes anything: every other answer, and every error, leaves the
    ///   code as it was and stores nothing.
    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError>;

    /// The token with `hash`, exactly as stored and with its current `revoked` and
    /// `rotated` state (a token of a revoked grant reads back revoked), whatever its
    /// state (revoked, rotated, expired), or `None` (never stored, or purged).
    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError>;

    /// Rotates the refresh token with hash `old`, atomically: marks it rotated and stores
    /// `new_tokens` (which belong to the same grant) in one step.
    ///
    /// Exactly one call ever gets [`Rotation::Rotated`] for a given token, however many
    /// race; later calls get [`Rotation::AlreadyRotated`] (a reuse, upon which the engine
    /// revokes the grant). A revoked token or grant gives [`Rotation::Revoked`]. Only
    /// `Rotated` stores anything.
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError>;

    /// Revokes the one token with `hash`, and no other (not its grant). Answers whether
    /// a token was found (a token revoked before is found again). Revoked stays revoked:
    /// no later call makes a token live again.
    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError>;

    /// Revokes the grant `id` and every token of it, and marks the grant revoked so that
    /// no token can be issued for it afterwards (see [`TokenStore::issue`]). Answers how
    /// many of its tokens were not revoked before (rotated and expired ones included).
    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError>;

    /// Revokes every grant whose subject is `subject`, as [`TokenStore::revoke_grant`]
    /// revokes one: every token of them, and a mark on each so that no token is issued
    /// for it afterwards (an [`TokenStore::issue`] racing this call either stores tokens
    /// this call then revokes, or answers [`Issuance::GrantRevoked`]). A grant known only
    /// by its code (approved, not yet redeemed) is one of them: its redemption is then
    /// refused. Grants of other subjects, and client-credentials grants (no subject), are
    /// untouched. Answers how many tokens went from not revoked to revoked.
    ///
    /// It is how a user's sessions end everywhere (an account closed, a password reset),
    /// so it must reach every grant of the subject, however many there are; a backend
    /// should find them through an index rather than a scan where it can.
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError>;

    /// Deletes some of what can no longer matter at `before`, at most `limit` records of
    /// each kind (codes, tokens, grants, one-time-use marks; a `limit` of 0 is read as
    /// 1), and answers how many went and whether there may be more
    /// ([`PurgeReport::more`]). The caller calls again until `more` is `false`
    /// ([`Engine::purge_expired`](crate::Engine::purge_expired) does): one call's cost
    /// follows `limit`, never the size of the store, so a purge never holds a lock or a
    /// transaction for long. A backend finds expired records through an index on their
    /// expiry, or sweeps its records in steps that each resume where the last one stopped
    /// (the memory store does), never by reading the whole store in one call; a sweeping
    /// store counts what a step looked at and kept in [`PurgeReport::kept`], so that a
    /// step that removed nothing still shows it did work.
    ///
    /// What can no longer matter:
    /// - codes never consumed whose `expires_at` is at or before `before`; consumed codes
    ///   whose `grant_expires_at` is (replay detection needs them until then);
    /// - access tokens (opaque, and JWT records) whose `expires_at` is at or before `before`;
    /// - refresh tokens whose `grant_expires_at` is (a rotated-away one is what detects reuse);
    /// - grants whose `expires_at` is;
    /// - one-time-use marks ([`CodeStore::use_once`]) whose `expires_at` is.
    ///
    /// Everything else stays, the revocation mark of a grant never issued included.
    /// `more` may be `true` when nothing is left (a store that removed `limit` of a kind
    /// cannot always tell); it is `false` only when nothing that can go at `before` is
    /// left of what was stored when the purge began (a record stored while it runs may
    /// wait for the next purge). Each call is atomic per record, not as a whole: a record it deletes could no
    /// longer matter anyway.
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError>;
}

/// Everything the engine needs from storage. Implemented for every type that
/// implements the three concerns.
pub trait Storage: ClientStore + CodeStore + TokenStore {}

impl<T: ClientStore + CodeStore + TokenStore> Storage for T {}

#[async_trait]
impl<T: ClientStore + ?Sized> ClientStore for std::sync::Arc<T> {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        (**self).get_client(id).await
    }
    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        (**self).put_client(client).await
    }
    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        (**self).list_clients(after, limit).await
    }
    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        (**self).remove_client(id).await
    }
}

#[async_trait]
impl<T: CodeStore + ?Sized> CodeStore for std::sync::Arc<T> {
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        (**self).consume_code(hash).await
    }
    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        (**self).get_code(hash).await
    }
    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        (**self).use_once(key, expires_at).await
    }
    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        (**self)
            .use_once_and_insert_code(key, expires_at, code)
            .await
    }
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for std::sync::Arc<T> {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        (**self).issue(grant, tokens).await
    }
    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        (**self).redeem_code(code, grant, tokens).await
    }
    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        (**self).get_token(hash).await
    }
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        (**self).rotate_refresh(old, new_tokens).await
    }
    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        (**self).revoke_token(hash).await
    }
    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        (**self).revoke_grant(id).await
    }
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        (**self).revoke_subject(subject).await
    }
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        (**self).purge_expired_batch(before, limit).await
    }
}
