//! The in-memory store.

use std::hash::RandomState;
use std::sync::Arc;

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeLookup, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport,
    Redemption, Rotation, TokenKind, TokenRecord,
};
use oauth_core::{
    Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, StorageErrorKind,
    TokenStore, MAX_CLIENT_PAGE,
};
use time::OffsetDateTime;

use crate::digest_hash::DigestHashing;
use crate::grant::{Grant, GrantKey};
use crate::key_set::KeySetCell;
use crate::moment::Moment;
use crate::profile::Profiles;
use crate::purge::PurgeSweep;
use crate::shard::Shard;
use crate::sharded::ShardedMap;
use crate::text::Text;
use crate::token::TokenEntry;

/// An in-memory [`Storage`](oauth_core::Storage).
///
/// A grant's data (identity, scope, lifetime, its code's challenge) is stored once and
/// shared by its code, its grant record and its tokens; what many grants have in common
/// (client, scope, redirect URI) is interned once for all of them. Records are rebuilt on
/// read.
///
/// Lock order, always: a grant shard, then a shard of `revoked_before_issue`, then code or
/// token shards, then a shard of `uses`; the interner's shards come last of all. A purge
/// step takes the purge's own lock before any of them. Operations that change tokens of
/// a grant (issue, rotate, revoke a grant) hold the grant's shard for their whole span, so
/// a grant revoked concurrently with an issuance either sees the new tokens and revokes
/// them, or makes the issuance fail.
#[derive(Debug)]
pub struct MemoryStore {
    /// One copy of the client registry per thread lane (see [`thread_lane`]): a client is
    /// read on every request, and threads reading one shared copy would all write its
    /// reference count and its shard's lock.
    clients: Vec<ShardedMap<ClientId, Client>>,
    /// Each code's data; the code is consumed when its `CONSUMED` bit is set.
    pub(crate) codes: ShardedMap<SecretHash, Arc<Grant>, DigestHashing>,
    pub(crate) tokens: ShardedMap<SecretHash, TokenEntry, DigestHashing>,
    /// Grants by id: those issued, and the data of codes whose grant is not issued yet
    /// (so that `issue` can take it as the grant's).
    pub(crate) grants: ShardedMap<GrantKey, ()>,
    /// Grants revoked while no grant record was stored for them, to refuse a later issue.
    /// With no expiry to go by, they are kept for the life of the store.
    revoked_before_issue: ShardedMap<Text, ()>,
    /// One-time-use marks and when each may be forgotten.
    pub(crate) uses: ShardedMap<SecretHash, Moment, DigestHashing>,
    pub(crate) profiles: Profiles,
    /// Where the purge's sweep over the maps above stands.
    pub(crate) purge: PurgeSweep,
    /// The shared signing keys, sealed ([`KeySetStore`](oauth_core::KeySetStore)).
    pub(crate) key_set: KeySetCell,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            clients: (0..CLIENT_COPIES).map(|_| ShardedMap::new()).collect(),
            codes: ShardedMap::new(),
            tokens: ShardedMap::new(),
            grants: ShardedMap::new(),
            revoked_before_issue: ShardedMap::new(),
            uses: ShardedMap::new(),
            profiles: Profiles::new(),
            purge: PurgeSweep::default(),
            key_set: KeySetCell::default(),
        }
    }

    /// Checks that none of `tokens` is stored yet (the caller holds the grant's shard).
    fn any_present(&self, tokens: &[TokenRecord]) -> bool {
        tokens
            .iter()
            .any(|t| self.tokens.shard(&t.hash).contains_key(&t.hash))
    }

    /// Entries for `tokens` of `grant`, made before anything is stored (making one can
    /// fail). A token that carries the grant's identity points at its data; one that
    /// differs (a narrower scope after a refresh) gets its own identity, owned by the
    /// grant so that it is revoked with it.
    fn entries(
        &self,
        grant: &Arc<Grant>,
        tokens: &[TokenRecord],
    ) -> Result<Vec<(SecretHash, TokenEntry)>, StorageError> {
        tokens
            .iter()
            .map(|token| {
                let grant_expires_at = Moment::new(token.grant_expires_at)?;
                let identity = if grant.identifies(token, grant_expires_at) {
                    Arc::clone(grant)
                } else {
                    let profile =
                        self.profiles
                            .intern(token.hash.0[0], &token.client_id, &token.scope, None);
                    Arc::new(Grant::of_token(
                        token,
                        grant_expires_at,
                        profile,
                        Arc::clone(grant),
                    ))
                };
                Ok((token.hash, TokenEntry::new(token, identity)?))
            })
            .collect()
    }

    /// Stores `entries` of `grant` (the caller holds the grant's shard).
    fn insert_tokens(&self, grant: &Grant, entries: Vec<(SecretHash, TokenEntry)>) {
        let live = entries.iter().filter(|(_, e)| e.counted_live()).count();
        grant.add_live(live as u64);
        for (hash, entry) in entries {
            // A hash repeated within `entries` replaces its first entry (as could one
            // stored by another call since the caller's check, a race 256-bit random
            // hashes make moot): no longer stored, it leaves its grant's count.
            if let Some(replaced) = self.tokens.shard(&hash).insert(hash, entry) {
                replaced.forget();
            }
        }
    }

    /// Stores `tokens` for `grant` (see [`TokenStore::issue`]), spending `code` first when
    /// it is given (see [`TokenStore::redeem_code`]): all under the grant's shard, so that
    /// a racing revocation comes wholly before or wholly after, and the code is consumed
    /// only once nothing else can refuse.
    fn store_tokens(
        &self,
        code: Option<&SecretHash>,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        let created_at = Moment::new(grant.created_at)?;
        let expires_at = Moment::new(grant.expires_at)?;
        let id = grant.id.as_str().as_bytes();
        let mut grants = self.grants.shard(id);
        let registered = registered(&grants, id);
        let shared = match &registered {
            // Issued before: the first record stays, and the tokens join it.
            Some(issued) if issued.is_issued() => {
                if issued.is_revoked() {
                    return Ok(Redemption::GrantRevoked);
                }
                Arc::clone(issued)
            }
            _ => {
                if self.revoked_before_issue(id) {
                    return Ok(Redemption::GrantRevoked);
                }
                match &registered {
                    Some(code) if code.describes(grant, created_at, expires_at) => Arc::clone(code),
                    _ => {
                        // A token's hash is random: its first byte picks the lane.
                        let lane = tokens.first().map_or(0, |token| token.hash.0[0]);
                        let profile =
                            self.profiles
                                .intern(lane, &grant.client_id, &grant.scope, None);
                        Arc::new(Grant::of_grant(grant, created_at, expires_at, profile))
                    }
                }
            }
        };
        let entries = self.entries(&shared, tokens)?;
        // Checked before the grants map changes: a refused issuance must leave no grant
        // behind, which no purge would ever remove.
        if self.any_present(tokens) {
            return Err(StorageError::conflict("token already stored"));
        }
        if let Some(code) = code {
            // The single-use step, last of the checks: a refusal above leaves the code
            // unconsumed, and of racing spenders exactly one sets the bit.
            let spent = match self.codes.shard(code).get(code) {
                // A code of another grant is not a code of this one.
                None => return Ok(Redemption::NotFound),
                Some(stored) if stored.id_bytes() != id => return Ok(Redemption::NotFound),
                Some(stored) => stored.consume(),
            };
            if !spent {
                return Ok(Redemption::AlreadyConsumed);
            }
        }
        if !shared.is_issued() {
            shared.mark_issued();
        }
        if !registered.as_ref().is_some_and(|r| Arc::ptr_eq(r, &shared)) {
            // A code's data that does not describe the record stays its code's alone.
            grants.remove(id);
            grants.insert(GrantKey(Arc::clone(&shared)), ());
        }
        self.insert_tokens(&shared, entries);
        Ok(Redemption::Issued)
    }

    fn revoked_before_issue(&self, id: &[u8]) -> bool {
        self.revoked_before_issue.shard(id).contains_key(id)
    }
}

/// The data registered under `id` in a locked grants shard.
// A `GrantKey` hashes and compares by its grant id, which never changes; the interior
// mutability clippy sees is the grant's state word, which keys ignore.
#[allow(clippy::mutable_key_type)]
fn registered(grants: &Shard<GrantKey, (), RandomState>, id: &[u8]) -> Option<Arc<Grant>> {
    grants.get_key_value(id).map(|(key, ())| Arc::clone(&key.0))
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        let copies = self.clients.get(usize::from(thread_lane()));
        Ok(copies.and_then(|copies| copies.shard(id).get(id).cloned()))
    }

    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        // Each lane's copy is replaced in turn; a reader sees the old registration or the
        // new one, whole, as it would with one copy.
        for copies in &self.clients {
            copies
                .shard(client.id())
                .insert(client.id().clone(), client.detached());
        }
        Ok(())
    }

    /// A sort of every client of one lane's copy per call: admin tools page through the
    /// registry rarely, and an ordered index would cost every lookup on the hot path.
    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        let limit = limit.min(MAX_CLIENT_PAGE);
        let Some(copies) = self.clients.first() else {
            return Ok(Vec::new());
        };
        let mut ids: Vec<ClientId> = copies
            .each_shard()
            .flat_map(|shard| {
                shard
                    .keys()
                    .filter(|id| after.is_none_or(|after| *id > after))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        ids.sort_unstable();
        ids.truncate(limit);
        Ok(ids
            .iter()
            .filter_map(|id| copies.shard(id).get(id).cloned())
            .collect())
    }

    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        // Every lane's copy in turn, as `put_client` writes them.
        let mut found = false;
        for copies in &self.clients {
            found |= copies.shard(id).remove(id).is_some();
        }
        Ok(found)
    }
}

/// How many copies of the client registry are kept: one per thread lane.
const CLIENT_COPIES: u8 = 16;

/// This thread's lane (below [`CLIENT_COPIES`]), given out in turn to threads as they
/// first ask; past 16 threads, lanes are shared.
fn thread_lane() -> u8 {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(0);
    thread_local! {
        static LANE: u8 = NEXT.fetch_add(1, Ordering::Relaxed) % CLIENT_COPIES;
    }
    LANE.with(|lane| *lane)
}

impl MemoryStore {
    /// Stores `code`, and first, when `mark` is given, records that one-time use: all
    /// under the code's grant and code shard locks (and the mark's shard, taken last),
    /// so the mark and the code are stored both or neither. Answers whether it stored
    /// (`false`: the mark was taken before).
    fn store_code(
        &self,
        code: CodeRecord,
        mark: Option<(&SecretHash, Moment)>,
    ) -> Result<bool, StorageError> {
        // The code's hash is random: its first byte spreads grants over the lanes.
        let profile = self.profiles.intern(
            code.hash.0[0],
            &code.client_id,
            &code.scope,
            code.redirect_uri.as_deref(),
        );
        let grant = Arc::new(Grant::of_code(&code, profile)?);
        let id = code.grant_id.as_str().as_bytes();
        let mut grants = self.grants.shard(id);
        let mut codes = self.codes.shard(&code.hash);
        if codes.contains_key(&code.hash) {
            return Err(StorageError::conflict("authorization code already stored"));
        }
        if let Some((key, expires_at)) = mark {
            // Check and insert under one shard lock: exactly one caller inserts.
            let mut uses = self.uses.shard(key);
            if uses.contains_key(key) {
                return Ok(false);
            }
            uses.insert(*key, expires_at);
        }
        // A code is usually the first record of its grant: registered, its data becomes
        // the grant record's when `issue` stores a record it describes. A code for a
        // grant already known keeps its data to itself.
        if !grants.contains_key(id) {
            grants.insert(GrantKey(Arc::clone(&grant)), ());
        }
        codes.insert(code.hash, grant);
        Ok(true)
    }

    /// Stores `code` with no one-time mark: for tests that set up a code directly.
    #[cfg(test)]
    async fn insert_code(&self, code: CodeRecord) -> Result<(), StorageError> {
        self.store_code(code, None).map(|_| ())
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        let (grant, first) = {
            let codes = self.codes.shard(hash);
            let Some(grant) = codes.get(hash) else {
                return Ok(CodeConsumption::NotFound);
            };
            // Under the shard lock, and atomic besides: exactly one caller consumes.
            (Arc::clone(grant), grant.consume())
        };
        let record = grant.code_record(*hash)?;
        Ok(if first {
            CodeConsumption::Consumed(record)
        } else {
            CodeConsumption::AlreadyConsumed(record)
        })
    }

    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        let Some(grant) = self.codes.shard(hash).get(hash).map(Arc::clone) else {
            return Ok(CodeLookup::NotFound);
        };
        let record = grant.code_record(*hash)?;
        Ok(if grant.is_consumed() {
            CodeLookup::Consumed(record)
        } else {
            CodeLookup::Unused(record)
        })
    }

    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        let expires_at = Moment::new(expires_at)?;
        // Check and insert under one shard lock: exactly one caller inserts.
        let mut shard = self.uses.shard(key);
        if shard.contains_key(key) {
            return Ok(false);
        }
        shard.insert(*key, expires_at);
        Ok(true)
    }

    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        let expires_at = Moment::new(expires_at)?;
        self.store_code(code, Some((key, expires_at)))
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        match self.store_tokens(None, grant, tokens)? {
            Redemption::Issued => Ok(Issuance::Issued),
            Redemption::GrantRevoked => Ok(Issuance::GrantRevoked),
            // With no code to spend, no answer about a code can come back.
            _ => Err(StorageError::new(
                StorageErrorKind::Backend,
                "an issuance without a code answered about a code",
            )),
        }
    }

    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        self.store_tokens(Some(code), grant, tokens)
    }

    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        self.tokens
            .shard(hash)
            .get(hash)
            .map(|token| token.record(*hash))
            .transpose()
    }

    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        // The old token's grant, read without holding its shard: grant shards come first.
        let Some(identity) = self
            .tokens
            .shard(old)
            .get(old)
            .filter(|t| t.kind() == TokenKind::Refresh)
            .map(|t| Arc::clone(t.grant()))
        else {
            return Ok(Rotation::NotFound);
        };
        let id = identity.id_bytes();
        let grants = self.grants.shard(id);
        let grant = match registered(&grants, id) {
            Some(grant) if grant.is_issued() => grant,
            _ if self.revoked_before_issue(id) => return Ok(Rotation::Revoked),
            _ => return Ok(Rotation::NotFound),
        };
        if grant.is_revoked() {
            return Ok(Rotation::Revoked);
        }
        let entries = self.entries(&grant, new_tokens)?;
        if self.any_present(new_tokens) {
            return Err(StorageError::conflict("token already stored"));
        }
        {
            let mut shard = self.tokens.shard(old);
            let Some(token) = shard.get_mut(old) else {
                return Ok(Rotation::NotFound);
            };
            if token.is_revoked() {
                return Ok(Rotation::Revoked);
            }
            if token.is_rotated() {
                return Ok(Rotation::AlreadyRotated);
            }
            token.rotate();
        }
        self.insert_tokens(&grant, entries);
        Ok(Rotation::Rotated)
    }

    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        Ok(match self.tokens.shard(hash).get_mut(hash) {
            Some(token) => {
                token.revoke();
                true
            }
            None => false,
        })
    }

    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        let bytes = id.as_str().as_bytes();
        let mut grants = self.grants.shard(bytes);
        match registered(&grants, bytes) {
            // Its tokens read their grant's state: one flag revokes them all.
            Some(grant) if grant.is_issued() => Ok(grant.revoke()),
            code => {
                // Not issued: at most a code's data is registered, with no tokens. The
                // mark refuses the issue to come; the code keeps its data.
                if code.is_some() {
                    grants.remove(bytes);
                }
                self.revoked_before_issue
                    .shard(bytes)
                    .insert(Text::new(id.as_str()), ());
                Ok(0)
            }
        }
    }

    /// A scan over the 16 grant shards, one locked at a time: no index by subject is kept,
    /// because one would cost every grant an entry (the per-grant figures of the crate
    /// docs) for an operation that is rare. Each shard is handled as `revoke_grant`
    /// handles one grant under its shard's lock, so an issuance racing it either comes
    /// first (and its tokens are revoked) or is refused.
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        let mut revoked = 0;
        let mut corrupt = None;
        for mut grants in self.grants.each_shard() {
            // A `GrantKey` hashes by its grant id, which `retain` does not change.
            #[allow(clippy::mutable_key_type)]
            let shard: &mut Shard<GrantKey, (), RandomState> = &mut grants;
            shard.retain(|GrantKey(grant), ()| {
                if !grant.is_of_subject(subject) {
                    return true;
                }
                if grant.is_issued() {
                    // Its tokens read their grant's state: one flag revokes them all.
                    revoked += grant.revoke();
                    return true;
                }
                // A code's data waiting for its grant: as `revoke_grant` does, the mark
                // replaces the entry (the code keeps its data) and refuses the issue.
                match grant.grant_id() {
                    Ok(id) => {
                        self.revoked_before_issue
                            .shard(id.as_str().as_bytes())
                            .insert(Text::new(id.as_str()), ());
                        false
                    }
                    Err(error) => {
                        // Kept, and reported once every other grant is revoked: a retry
                        // revokes nothing twice.
                        corrupt = Some(error);
                        true
                    }
                }
            });
        }
        match corrupt {
            Some(error) => Err(error),
            None => Ok(revoked),
        }
    }

    /// One step of a sweep over the store (see the `purge` module): it looks at up to
    /// 16 entries of each kind per record `limit` lets it remove, from where the last
    /// step stopped, so a step's cost follows `limit` and not the size of the store.
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        self.purge_step(before, limit)
    }
}

#[cfg(test)]
mod tests;
