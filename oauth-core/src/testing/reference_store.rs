//! [`ReferenceStore`]: the storage contract of [`crate::storage`], written out as plainly
//! as it goes, to be copied.
//!
//! This file is the template for a store of your own. Copy it, replace each map of
//! [`State`] with a table of your database (the map's key is the table's primary key),
//! and keep each method one transaction: here every method takes the one lock, does all
//! its reading and writing under it, and lets go, so nothing another call does can come
//! between what a method reads and what it writes. That is the whole reason each
//! single-use operation ([`CodeStore::consume_code`], [`CodeStore::use_once`],
//! [`CodeStore::use_once_and_insert_code`], [`TokenStore::rotate_refresh`]) succeeds for
//! exactly one caller; in a database, one transaction (or one conditional statement)
//! gives the same.
//!
//! Where this file scans a map (a grant's tokens, a subject's grants, what a purge
//! removes), your database uses an index, as the contract asks: on `tokens.grant_id`,
//! `grants.subject` and `codes.subject`, and on each expiry column a purge compares. The
//! scans keep this file short; they make it a store for tests, not for production.
//!
//! Then check your store with the conformance kit, exactly as this one is checked:
//! `oauth_core::storage_conformance_tests!(async { YourStore::new() });`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::client::{Client, ClientId};
use crate::secret::SecretHash;
use crate::storage::{
    ClientStore, CodeConsumption, CodeLookup, CodeRecord, CodeStore, GrantId, GrantRecord,
    Issuance, KeySetStore, PurgeReport, Redemption, Rotation, StorageError, StoredKeySet,
    TokenKind, TokenRecord, TokenStore, MAX_CLIENT_PAGE,
};

/// A complete, in-memory [`Storage`](crate::Storage): the storage contract in its plainest
/// form, and the template for a store of your own.
///
/// One [`Mutex`] guards one state of plain maps, and every method is one critical section
/// of it. Its source, `oauth-core/src/testing/reference_store.rs`, is meant to be read
/// and copied: replace the maps with your database's tables and keep each method one
/// transaction. It passes the whole [conformance kit](crate::storage::conformance) and
/// every flow test, and runs them in a test anywhere; it scans where a database would use
/// an index, so it is not a production store (`oauth-store-memory` is the fast one).
///
/// ```
/// use oauth_core::testing::{ManualClock, ReferenceStore};
/// use oauth_core::{Config, Engine};
///
/// let engine = Engine::builder(
///     ReferenceStore::new(),
///     ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC)),
///     Config::builder("https://auth.example").build().unwrap(),
/// )
/// .build()
/// .unwrap();
/// # let _ = engine;
/// ```
#[derive(Debug, Default)]
pub struct ReferenceStore {
    state: Mutex<State>,
}

/// Everything stored: one map per table.
#[derive(Debug, Default)]
struct State {
    /// The client registry, ordered by id (byte order) for `list_clients`.
    clients: BTreeMap<ClientId, Client>,
    /// Codes by hash.
    codes: HashMap<SecretHash, StoredCode>,
    /// Access tokens, refresh tokens and JWT records by hash, with their `revoked` and
    /// `rotated` flags in the record.
    tokens: HashMap<SecretHash, TokenRecord>,
    /// Grants by id, stored by their first `issue`.
    grants: HashMap<GrantId, StoredGrant>,
    /// Grants revoked before they were ever stored (a code replayed while its first
    /// redemption is still issuing, a subject revoked before its code is redeemed): a
    /// later `issue` for them is refused. No purge removes these marks.
    revoked_unissued: HashSet<GrantId>,
    /// One-time-use marks by key, with the instant a purge may forget them.
    uses: HashMap<SecretHash, OffsetDateTime>,
    /// The shared key set ([`KeySetStore`]): in a database, a table of one row.
    key_set: Option<StoredKeySet>,
}

#[derive(Debug)]
struct StoredCode {
    record: CodeRecord,
    consumed: bool,
}

#[derive(Debug)]
struct StoredGrant {
    record: GrantRecord,
    revoked: bool,
}

impl ReferenceStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The one lock: holding it is being inside the transaction. No method awaits while
    /// it holds it. A panic elsewhere while it was held cannot have left a half-done
    /// write (every method checks everything before it writes anything), so a poisoned
    /// lock is taken over rather than propagated.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    /// Whether `grant` is revoked, stored or not.
    fn grant_revoked(&self, grant: &GrantId) -> bool {
        self.revoked_unissued.contains(grant) || self.grants.get(grant).is_some_and(|g| g.revoked)
    }

    /// Marks `grant` revoked: its record if stored, a mark for a later `issue` if not.
    fn mark_grant_revoked(&mut self, grant: &GrantId) {
        match self.grants.get_mut(grant) {
            Some(stored) => stored.revoked = true,
            None => {
                self.revoked_unissued.insert(grant.clone());
            }
        }
    }

    /// Revokes every token of the `grants`; answers how many were not revoked before.
    fn revoke_tokens_of(&mut self, grants: &HashSet<GrantId>) -> u64 {
        let mut revoked = 0;
        for token in self.tokens.values_mut() {
            if grants.contains(&token.grant_id) && !token.revoked {
                token.revoked = true;
                revoked += 1;
            }
        }
        revoked
    }

    /// Refuses `tokens` if any hash is stored already (or repeats within them), before
    /// anything is written: a Conflict stores none of them.
    fn check_new_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StorageError> {
        let mut seen = HashSet::new();
        for token in tokens {
            if self.tokens.contains_key(&token.hash) || !seen.insert(token.hash) {
                return Err(StorageError::conflict("a token with this hash is stored"));
            }
        }
        Ok(())
    }

    /// Stores `grant` if it is new: a grant stored before keeps its first record.
    fn store_grant(&mut self, grant: &GrantRecord) {
        self.grants
            .entry(grant.id.clone())
            .or_insert_with(|| StoredGrant {
                record: grant.clone(),
                revoked: false,
            });
    }

    fn insert_tokens(&mut self, tokens: &[TokenRecord]) {
        for token in tokens {
            self.tokens.insert(token.hash, token.clone());
        }
    }
}

#[async_trait]
impl ClientStore for ReferenceStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        Ok(self.lock().clients.get(id).cloned())
    }

    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        // The whole registration replaced in one insert: a reader sees old or new.
        self.lock().clients.insert(client.id().clone(), client);
        Ok(())
    }

    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        let start = after.map_or(Bound::Unbounded, |id| Bound::Excluded(id.clone()));
        Ok(self
            .lock()
            .clients
            .range((start, Bound::Unbounded))
            .take(limit.min(MAX_CLIENT_PAGE))
            .map(|(_, client)| client.clone())
            .collect())
    }

    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        // The client's grants and tokens stay: the engine refuses them without a client.
        Ok(self.lock().clients.remove(id).is_some())
    }
}

#[async_trait]
impl CodeStore for ReferenceStore {
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        // Reading `consumed` and setting it happen under one lock: of any number of racing
        // callers, exactly one finds it unset. (A database: one conditional UPDATE.)
        let mut state = self.lock();
        Ok(match state.codes.get_mut(hash) {
            None => CodeConsumption::NotFound,
            Some(code) if code.consumed => CodeConsumption::AlreadyConsumed(code.record.clone()),
            Some(code) => {
                code.consumed = true;
                CodeConsumption::Consumed(code.record.clone())
            }
        })
    }

    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        // A read: nothing changes, and the answer may be stale by the time it arrives (the
        // single-use calls decide; the engine knows).
        Ok(match self.lock().codes.get(hash) {
            None => CodeLookup::NotFound,
            Some(code) if code.consumed => CodeLookup::Consumed(code.record.clone()),
            Some(code) => CodeLookup::Unused(code.record.clone()),
        })
    }

    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        // Look-up and insert under one lock: one caller inserts, the rest find the mark.
        // (A database: an insert the primary key lets through once.)
        let mut state = self.lock();
        if state.uses.contains_key(key) {
            return Ok(false);
        }
        state.uses.insert(*key, expires_at);
        Ok(true)
    }

    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        // Both checks, then both writes, under one lock: the mark and the code go in
        // together or not at all, and only one racing approval gets past the first check.
        let mut state = self.lock();
        if state.uses.contains_key(key) {
            return Ok(false);
        }
        if state.codes.contains_key(&code.hash) {
            // Nothing written yet: the key stays unused, so the approval can be retried.
            return Err(StorageError::conflict("a code with this hash is stored"));
        }
        state.uses.insert(*key, expires_at);
        let hash = code.hash;
        state.codes.insert(
            hash,
            StoredCode {
                record: code,
                consumed: false,
            },
        );
        Ok(true)
    }
}

#[async_trait]
impl TokenStore for ReferenceStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        // The revocation check and the insert under one lock: a racing revoke_grant either
        // came first (and is seen here) or comes after (and revokes these tokens).
        let mut state = self.lock();
        if state.grant_revoked(&grant.id) {
            return Ok(Issuance::GrantRevoked);
        }
        state.check_new_tokens(tokens)?;
        state.store_grant(grant);
        state.insert_tokens(tokens);
        Ok(Issuance::Issued)
    }

    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        // Every check, then both writes, under one lock: of racing redemptions (and
        // consume_code calls) exactly one finds the code unconsumed, and a refused one has
        // changed nothing. (A database: one transaction, the conditional UPDATE of the
        // code first among its writes.)
        let mut state = self.lock();
        if state.grant_revoked(&grant.id) {
            return Ok(Redemption::GrantRevoked);
        }
        match state.codes.get(code) {
            None => return Ok(Redemption::NotFound),
            Some(stored) if stored.record.grant_id != grant.id => return Ok(Redemption::NotFound),
            Some(stored) if stored.consumed => return Ok(Redemption::AlreadyConsumed),
            Some(_) => {}
        }
        state.check_new_tokens(tokens)?;
        if let Some(stored) = state.codes.get_mut(code) {
            stored.consumed = true;
        }
        state.store_grant(grant);
        state.insert_tokens(tokens);
        Ok(Redemption::Issued)
    }

    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        // revoke_grant sets `revoked` on each token, so the record alone tells the truth.
        Ok(self.lock().tokens.get(hash).cloned())
    }

    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        // Every check and both writes under one lock: of racing rotations, exactly one
        // finds the token not yet rotated, and a racing revoke_grant comes wholly before
        // (Revoked) or wholly after (it revokes the new tokens too).
        let mut state = self.lock();
        let Some(token) = state
            .tokens
            .get(old)
            .filter(|t| t.kind == TokenKind::Refresh)
        else {
            return Ok(Rotation::NotFound);
        };
        let grant = token.grant_id.clone();
        let (revoked, rotated) = (token.revoked, token.rotated);
        if !state.grants.contains_key(&grant) {
            // Its grant was purged (it ended); the token goes in the same purge.
            return Ok(Rotation::NotFound);
        }
        if revoked || state.grant_revoked(&grant) {
            return Ok(Rotation::Revoked);
        }
        if rotated {
            return Ok(Rotation::AlreadyRotated);
        }
        state.check_new_tokens(new_tokens)?;
        if let Some(token) = state.tokens.get_mut(old) {
            token.rotated = true;
        }
        state.insert_tokens(new_tokens);
        Ok(Rotation::Rotated)
    }

    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        // Only ever set, never cleared: revoked stays revoked.
        Ok(match self.lock().tokens.get_mut(hash) {
            Some(token) => {
                token.revoked = true;
                true
            }
            None => false,
        })
    }

    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        // The mark and the tokens under one lock, so no issue or rotation slips between.
        let mut state = self.lock();
        state.mark_grant_revoked(id);
        Ok(state.revoke_tokens_of(&HashSet::from([id.clone()])))
    }

    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        // The subject's grants: those stored, and those known only by a code the subject
        // approved (not redeemed yet: its issue must be refused too). A database finds
        // both through an index on the subject.
        let mut state = self.lock();
        let mut grants = HashSet::new();
        for code in state.codes.values().filter(|c| c.record.subject == subject) {
            grants.insert(code.record.grant_id.clone());
        }
        let of_subject = |g: &&StoredGrant| g.record.subject.as_deref() == Some(subject);
        for grant in state.grants.values().filter(of_subject) {
            grants.insert(grant.record.id.clone());
        }
        for grant in &grants {
            state.mark_grant_revoked(grant);
        }
        Ok(state.revoke_tokens_of(&grants))
    }

    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        // One lock for the whole call, which is simple here; a database may as well take
        // one short transaction per kind, since each record removed could no longer matter.
        let limit = limit.max(1);
        let mut state = self.lock();
        let mut report = PurgeReport::default();
        // Codes never consumed go at their expiry; a consumed code stays until its grant
        // ends, because a replay of it must still revoke what it issued.
        let code_gone = |c: &StoredCode| {
            let ends = if c.consumed {
                c.record.grant_expires_at
            } else {
                c.record.expires_at
            };
            ends <= before
        };
        // Access tokens and JWT records go at their expiry; a refresh token stays until
        // its grant ends, because a rotated-away one is what detects reuse.
        let token_gone = |t: &TokenRecord| match t.kind {
            TokenKind::Access | TokenKind::JwtAccess => t.expires_at <= before,
            TokenKind::Refresh => t.grant_expires_at <= before,
        };
        let more = &mut report.more;
        report.codes = purge_some(&mut state.codes, limit, code_gone, more);
        report.tokens = purge_some(&mut state.tokens, limit, token_gone, more);
        let grant_gone = |g: &StoredGrant| g.record.expires_at <= before;
        report.grants = purge_some(&mut state.grants, limit, grant_gone, more);
        report.uses = purge_some(&mut state.uses, limit, |e| *e <= before, more);
        // `revoked_unissued` is never purged: a grant revoked before it was issued must
        // stay refused, and nothing says when its code's redemption would come.
        Ok(report)
    }
}

/// Removes at most `limit` entries of `map` that `gone` picks, and answers how many went.
/// Sets `more` if this map has more to remove: looking for one past the limit tells
/// exactly whether another call is needed.
fn purge_some<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    limit: usize,
    gone: impl Fn(&V) -> bool,
    more: &mut bool,
) -> u64 {
    let mut doomed: Vec<K> = map
        .iter()
        .filter(|(_, value)| gone(value))
        .map(|(key, _)| key.clone())
        .take(limit.saturating_add(1))
        .collect();
    *more |= doomed.len() > limit;
    doomed.truncate(limit);
    for key in &doomed {
        map.remove(key);
    }
    doomed.len() as u64
}

/// The compare-and-swap of the key set: the version is read and the value replaced under
/// the one lock. In a database, one conditional statement:
/// `UPDATE key_set SET version = version + 1, sealed = ? WHERE version = ?`, or an
/// `INSERT` that does nothing when the row exists, for the first write.
#[async_trait]
impl KeySetStore for ReferenceStore {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        Ok(self.lock().key_set.clone())
    }

    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        let mut state = self.lock();
        let stored_version = state.key_set.as_ref().map(StoredKeySet::version);
        if stored_version != expected_version {
            return Ok(false);
        }
        let Some(version) = expected_version.map_or(Some(1), |v| v.checked_add(1)) else {
            return Ok(false);
        };
        state.key_set = Some(StoredKeySet::new(version, sealed));
        Ok(true)
    }
}
