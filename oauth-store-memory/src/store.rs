//! The in-memory store.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport, Rotation, TokenKind,
    TokenRecord,
};
use oauth_core::{
    Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, TokenStore, MAX_CLIENT_PAGE,
};
use time::OffsetDateTime;

use crate::digest_hash::DigestHashing;
use crate::grant::{Grant, GrantKey};
use crate::key_set::KeySetCell;
use crate::moment::Moment;
use crate::profile::Profiles;
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
/// token shards, then a shard of `uses`; the interner's shards come last of all. Operations that change tokens of
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
    codes: ShardedMap<SecretHash, Arc<Grant>, DigestHashing>,
    tokens: ShardedMap<SecretHash, TokenEntry, DigestHashing>,
    /// Grants by id: those issued, and the data of codes whose grant is not issued yet
    /// (so that `issue` can take it as the grant's).
    grants: ShardedMap<GrantKey, ()>,
    /// Grants revoked while no grant record was stored for them, to refuse a later issue.
    /// With no expiry to go by, they are kept for the life of the store.
    revoked_before_issue: ShardedMap<Text, ()>,
    /// One-time-use marks and when each may be forgotten.
    uses: ShardedMap<SecretHash, Moment, DigestHashing>,
    profiles: Profiles,
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

    fn revoked_before_issue(&self, id: &[u8]) -> bool {
        self.revoked_before_issue.shard(id).contains_key(id)
    }
}

/// The data registered under `id` in a locked grants shard.
// A `GrantKey` hashes and compares by its grant id, which never changes; the interior
// mutability clippy sees is the grant's state word, which keys ignore.
#[allow(clippy::mutable_key_type)]
fn registered(grants: &HashMap<GrantKey, ()>, id: &[u8]) -> Option<Arc<Grant>> {
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
        let created_at = Moment::new(grant.created_at)?;
        let expires_at = Moment::new(grant.expires_at)?;
        let id = grant.id.as_str().as_bytes();
        let mut grants = self.grants.shard(id);
        let registered = registered(&grants, id);
        let shared = match &registered {
            // Issued before: the first record stays, and the tokens join it.
            Some(issued) if issued.is_issued() => {
                if issued.is_revoked() {
                    return Ok(Issuance::GrantRevoked);
                }
                Arc::clone(issued)
            }
            _ => {
                if self.revoked_before_issue(id) {
                    return Ok(Issuance::GrantRevoked);
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
        if !shared.is_issued() {
            shared.mark_issued();
        }
        if !registered.as_ref().is_some_and(|r| Arc::ptr_eq(r, &shared)) {
            // A code's data that does not describe the record stays its code's alone.
            grants.remove(id);
            grants.insert(GrantKey(Arc::clone(&shared)), ());
        }
        self.insert_tokens(&shared, entries);
        Ok(Issuance::Issued)
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
            let shard: &mut HashMap<GrantKey, ()> = &mut grants;
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

    /// Removes at most `limit` records of each kind, sweeping shards in turn and stopping
    /// at a kind's limit. The sweep reads every entry of the shards it visits: this store
    /// keeps no expiry index, so a call costs the size of the maps it sweeps (not the
    /// records it removes), and `more` is set when a kind reached its limit.
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        let before = Moment::new(before)?;
        let limit = limit.max(1) as u64;
        let mut report = PurgeReport::default();
        for mut shard in self.uses.each_shard() {
            if report.uses == limit {
                break;
            }
            shard.retain(|_, expires_at| {
                let keep = report.uses == limit || *expires_at > before;
                report.uses += u64::from(!keep);
                keep
            });
        }
        for mut shard in self.codes.each_shard() {
            if report.codes == limit {
                break;
            }
            shard.retain(|_, grant| {
                let keep = report.codes == limit || grant.code_kept_until() > before;
                report.codes += u64::from(!keep);
                keep
            });
        }
        for mut shard in self.tokens.each_shard() {
            if report.tokens == limit {
                break;
            }
            shard.retain(|_, token| {
                let keep = report.tokens == limit || token.kept_until() > before;
                if !keep {
                    token.forget();
                }
                report.tokens += u64::from(!keep);
                keep
            });
        }
        for mut shard in self.grants.each_shard() {
            shard.retain(|GrantKey(grant), ()| {
                if grant.is_issued() {
                    let keep = report.grants == limit || grant.expires_at() > before;
                    report.grants += u64::from(!keep);
                    keep
                } else {
                    // A code's data waiting for its grant: kept while the code is. Only
                    // this shard's lock hands out new references to it, and it is held.
                    // Not a grant yet, so not counted against the limit.
                    Arc::strong_count(grant) > 1
                }
            });
        }
        report.more = [report.uses, report.codes, report.tokens, report.grants].contains(&limit);
        if !report.more {
            // Once per whole purge: interned profiles no record uses any more.
            self.profiles.forget_unused();
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::storage::SignIn;
    use oauth_core::{CodeChallenge, RandomSource, ScopeSet};
    use time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_thread_reads_the_latest_registration() {
        let store = Arc::new(MemoryStore::new());
        let id = ClientId::new("app").unwrap();
        let register = |scope: &str| {
            Client::public("app")
                .unwrap()
                .redirect_uri("https://app.example/cb")
                .unwrap()
                .allowed_scopes(ScopeSet::parse(scope).unwrap())
                .build()
                .unwrap()
        };
        store.put_client(register("read")).await.unwrap();
        store.put_client(register("write")).await.unwrap();
        // More threads than lanes, each reading its lane's copy.
        let readers: Vec<_> = (0..2 * usize::from(CLIENT_COPIES))
            .map(|_| {
                let (store, id) = (store.clone(), id.clone());
                std::thread::spawn(move || {
                    block_on(store.get_client(&id))
                        .unwrap()
                        .map(|client| client.allowed_scopes().to_string())
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.join().unwrap().as_deref(), Some("write"));
        }
        assert_eq!(
            store
                .get_client(&ClientId::new("other").unwrap())
                .await
                .unwrap(),
            None
        );
    }

    /// Runs a future that never waits (the memory store's) to completion on this thread.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn random_hash() -> SecretHash {
        let mut hash = [0u8; 32];
        RandomSource::new().fill(&mut hash).unwrap();
        SecretHash(hash)
    }

    fn grant(id: &str, start: OffsetDateTime) -> GrantRecord {
        GrantRecord::new(
            GrantId(id.into()),
            ClientId::new("app").unwrap(),
            None,
            ScopeSet::parse("read").unwrap(),
            start,
            start + Duration::days(90),
        )
    }

    fn token(grant: &GrantRecord, kind: TokenKind, expires_at: OffsetDateTime) -> TokenRecord {
        TokenRecord::new(
            random_hash(),
            kind,
            grant.clone(),
            grant.scope.clone(),
            grant.created_at,
            expires_at,
        )
    }

    /// A code, and the grant record the engine builds from it when it is redeemed.
    fn code_and_grant(id: &str, start: OffsetDateTime) -> (CodeRecord, GrantRecord) {
        let grant = GrantRecord::new(
            GrantId(id.into()),
            ClientId::new("app").unwrap(),
            Some("alice".into()),
            ScopeSet::parse("read write").unwrap(),
            start,
            start + Duration::days(90),
        );
        let mut code =
            CodeRecord::new(random_hash(), &grant, "alice", start + Duration::minutes(1));
        code.redirect_uri = Some("https://app.example/cb".into());
        code.code_challenge = Some(CodeChallenge::from_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ));
        (code, grant)
    }

    fn grant_entries(store: &MemoryStore) -> usize {
        store.grants.each_shard().map(|shard| shard.len()).sum()
    }

    fn registered_grant(store: &MemoryStore, id: &GrantId) -> Option<Arc<Grant>> {
        let bytes = id.as_str().as_bytes();
        registered(&store.grants.shard(bytes), bytes)
    }

    fn token_entry_grant(store: &MemoryStore, hash: &SecretHash) -> Arc<Grant> {
        Arc::clone(store.tokens.shard(hash).get(hash).unwrap().grant())
    }

    #[tokio::test]
    async fn refused_issue_leaves_no_grant_entry() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let first = grant("first", start);
        let taken = token(&first, TokenKind::Access, start + Duration::hours(1));
        store
            .issue(&first, std::slice::from_ref(&taken))
            .await
            .unwrap();
        let second = grant("second", start);
        let mut twin = token(&second, TokenKind::Access, start + Duration::hours(1));
        twin.hash = taken.hash;
        assert!(store.issue(&second, &[twin]).await.is_err());
        assert_eq!(
            grant_entries(&store),
            1,
            "only the first grant has an entry"
        );
    }

    #[tokio::test]
    async fn purge_stops_counting_purged_tokens() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let g = grant("g", start);
        let mut refresh = token(&g, TokenKind::Refresh, start + Duration::days(30));
        store
            .issue(
                &g,
                &[
                    token(&g, TokenKind::Access, start + Duration::hours(1)),
                    refresh.clone(),
                ],
            )
            .await
            .unwrap();
        // A hundred refreshes, an hour apart.
        for _ in 0..100 {
            let next = token(&g, TokenKind::Refresh, start + Duration::days(30));
            let access = token(&g, TokenKind::Access, start + Duration::hours(1));
            let rotated = store
                .rotate_refresh(&refresh.hash, &[access, next.clone()])
                .await
                .unwrap();
            assert_eq!(rotated, Rotation::Rotated);
            refresh = next;
        }
        let live = |store: &MemoryStore| registered_grant(store, &g.id).unwrap().live();
        assert_eq!(live(&store), 202);
        let report = store
            .purge_expired_batch(start + Duration::hours(2), usize::MAX)
            .await
            .unwrap();
        assert_eq!(report.tokens, 101, "every access token expired");
        assert_eq!(
            live(&store),
            101,
            "the grant counts only the refresh tokens left"
        );
        assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 101);
    }

    #[tokio::test]
    async fn a_code_its_grant_and_its_tokens_share_one_copy() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (code, grant) = code_and_grant("g", start);
        store.insert_code(code.clone()).await.unwrap();
        let CodeConsumption::Consumed(consumed) = store.consume_code(&code.hash).await.unwrap()
        else {
            panic!("the code is consumed");
        };
        assert_eq!(consumed, code);
        let tokens = [
            token(&grant, TokenKind::Access, start + Duration::hours(1)),
            token(&grant, TokenKind::Refresh, grant.expires_at),
        ];
        store.issue(&grant, &tokens).await.unwrap();

        let shared = registered_grant(&store, &grant.id).unwrap();
        let code_grant = Arc::clone(store.codes.shard(&code.hash).get(&code.hash).unwrap());
        assert!(Arc::ptr_eq(&shared, &code_grant));
        for t in &tokens {
            assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &t.hash)));
            assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
        }
        assert_eq!(grant_entries(&store), 1);
        assert_eq!(
            store.profiles.len(),
            1,
            "code, grant and tokens share one profile"
        );
        assert_eq!(
            store.consume_code(&code.hash).await.unwrap(),
            CodeConsumption::AlreadyConsumed(code)
        );
    }

    #[tokio::test]
    async fn a_refresh_token_with_its_codes_sign_in_less_the_nonce_shares_the_codes_data() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (mut code, grant) = code_and_grant("g", start);
        let mut sign_in = SignIn::new(start);
        sign_in.acr = Some("urn:example:mfa".into());
        sign_in.amr = vec!["pwd".into(), "otp".into()];
        sign_in.nonce = Some("n-0S6_WzA2Mj".into());
        code.sign_in = Some(sign_in.clone());
        store.insert_code(code.clone()).await.unwrap();
        store.consume_code(&code.hash).await.unwrap();
        let access = token(&grant, TokenKind::Access, start + Duration::hours(1));
        let mut refresh = token(&grant, TokenKind::Refresh, grant.expires_at);
        refresh.sign_in = Some(sign_in.without_nonce());
        // Not what the engine stores, but a store keeps what it is given.
        let mut with_nonce = token(&grant, TokenKind::Refresh, grant.expires_at);
        with_nonce.sign_in = Some(sign_in.clone());
        let tokens = [access.clone(), refresh.clone(), with_nonce.clone()];
        store.issue(&grant, &tokens).await.unwrap();

        let shared = registered_grant(&store, &grant.id).unwrap();
        for t in [&access, &refresh] {
            assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &t.hash)));
        }
        let own = token_entry_grant(&store, &with_nonce.hash);
        assert!(!Arc::ptr_eq(&shared, &own));
        assert!(own.owner_is(&shared));
        for t in &tokens {
            assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
        }
        assert_eq!(
            store.consume_code(&code.hash).await.unwrap(),
            CodeConsumption::AlreadyConsumed(code),
            "the code keeps its nonce"
        );
    }

    #[tokio::test]
    async fn tokens_bound_to_the_codes_dpop_key_share_its_data_and_others_keep_their_own() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (mut code, grant) = code_and_grant("g", start);
        let key = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        code.dpop_jkt = Some(key.into());
        store.insert_code(code.clone()).await.unwrap();
        store.consume_code(&code.hash).await.unwrap();
        let mut access = token(&grant, TokenKind::Access, start + Duration::hours(1));
        access.dpop_jkt = Some(key.into());
        let mut refresh = token(&grant, TokenKind::Refresh, grant.expires_at);
        refresh.dpop_jkt = Some(key.into());
        // Not what the engine stores for a bound code, but a store keeps what it is given.
        let unbound = token(&grant, TokenKind::Access, start + Duration::hours(1));
        let mut other_key = token(&grant, TokenKind::Refresh, grant.expires_at);
        other_key.dpop_jkt = Some("not a thumbprint: kept as it is".into());
        let tokens = [
            access.clone(),
            refresh.clone(),
            unbound.clone(),
            other_key.clone(),
        ];
        store.issue(&grant, &tokens).await.unwrap();

        let shared = registered_grant(&store, &grant.id).unwrap();
        for t in [&access, &refresh, &unbound] {
            assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &t.hash)));
        }
        let own = token_entry_grant(&store, &other_key.hash);
        assert!(!Arc::ptr_eq(&shared, &own));
        assert!(own.owner_is(&shared));
        for t in &tokens {
            assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
        }
        assert_eq!(
            store.consume_code(&code.hash).await.unwrap(),
            CodeConsumption::AlreadyConsumed(code),
            "the code keeps its key"
        );
    }

    #[tokio::test]
    async fn a_grant_record_unlike_its_code_gets_data_of_its_own() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (code, mut grant) = code_and_grant("g", start);
        store.insert_code(code.clone()).await.unwrap();
        store.consume_code(&code.hash).await.unwrap();
        grant.created_at += Duration::seconds(5);
        grant.scope = ScopeSet::parse("read").unwrap();
        store
            .issue(
                &grant,
                &[token(&grant, TokenKind::Access, grant.expires_at)],
            )
            .await
            .unwrap();
        let shared = registered_grant(&store, &grant.id).unwrap();
        let code_grant = Arc::clone(store.codes.shard(&code.hash).get(&code.hash).unwrap());
        assert!(!Arc::ptr_eq(&shared, &code_grant));
        assert!(shared.describes(
            &grant,
            Moment::new(grant.created_at).unwrap(),
            Moment::new(grant.expires_at).unwrap()
        ));
        assert_eq!(
            grant_entries(&store),
            1,
            "the grant replaced the code's entry"
        );
        assert_eq!(
            store.consume_code(&code.hash).await.unwrap(),
            CodeConsumption::AlreadyConsumed(code),
            "the code still reads back as stored"
        );
    }

    #[tokio::test]
    async fn a_token_unlike_its_grant_keeps_its_own_identity_and_is_revoked_with_it() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let g = grant("g", start);
        let same = token(&g, TokenKind::Refresh, g.expires_at);
        let mut narrower = token(&g, TokenKind::Access, start + Duration::hours(1));
        narrower.scope = ScopeSet::empty();
        let mut other_end = token(&g, TokenKind::Access, start + Duration::hours(1));
        other_end.grant_expires_at = start + Duration::days(1);
        let tokens = [same.clone(), narrower.clone(), other_end.clone()];
        store.issue(&g, &tokens).await.unwrap();

        let shared = registered_grant(&store, &g.id).unwrap();
        assert!(Arc::ptr_eq(&shared, &token_entry_grant(&store, &same.hash)));
        for t in [&narrower, &other_end] {
            let own = token_entry_grant(&store, &t.hash);
            assert!(!Arc::ptr_eq(&shared, &own));
            assert!(own.owner_is(&shared));
        }
        for t in &tokens {
            assert_eq!(store.get_token(&t.hash).await.unwrap().as_ref(), Some(t));
        }
        assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 3);
        for t in &tokens {
            assert!(store.get_token(&t.hash).await.unwrap().unwrap().revoked);
        }
    }

    #[tokio::test]
    async fn the_live_count_follows_single_revocations_and_repeated_hashes() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let g = grant("g", start);
        let a = token(&g, TokenKind::Access, start + Duration::hours(1));
        let mut already_revoked = token(&g, TokenKind::Access, start + Duration::hours(1));
        already_revoked.revoked = true;
        // The same hash twice in one call: stored once (the last wins), counted once.
        let mut repeated = token(&g, TokenKind::Refresh, g.expires_at);
        repeated.hash = a.hash;
        store
            .issue(&g, &[a.clone(), already_revoked, repeated.clone()])
            .await
            .unwrap();
        let shared = registered_grant(&store, &g.id).unwrap();
        assert_eq!(shared.live(), 1);
        assert_eq!(
            store.get_token(&a.hash).await.unwrap().as_ref(),
            Some(&repeated)
        );
        let b = token(&g, TokenKind::Access, start + Duration::hours(1));
        store.issue(&g, std::slice::from_ref(&b)).await.unwrap();
        assert_eq!(shared.live(), 2);
        assert!(store.revoke_token(&b.hash).await.unwrap());
        assert!(store.revoke_token(&b.hash).await.unwrap());
        assert_eq!(shared.live(), 1, "a token revoked twice is uncounted once");
        assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 1);
        assert!(store.revoke_token(&a.hash).await.unwrap());
        assert_eq!(store.revoke_grant(&g.id).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_code_waiting_for_its_grant_is_registered_until_purged() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (code, grant) = code_and_grant("g", start);
        store.insert_code(code.clone()).await.unwrap();
        assert_eq!(grant_entries(&store), 1);
        let report = store
            .purge_expired_batch(code.expires_at, usize::MAX)
            .await
            .unwrap();
        assert_eq!((report.codes, report.grants), (1, 0), "not a grant yet");
        assert_eq!(grant_entries(&store), 0);
        assert_eq!(store.profiles.len(), 0, "its profile is forgotten");
        // A grant never issued can still be revoked, and its issue refused.
        assert_eq!(store.revoke_grant(&grant.id).await.unwrap(), 0);
        let late = token(&grant, TokenKind::Access, start + Duration::hours(1));
        assert_eq!(
            store.issue(&grant, &[late]).await.unwrap(),
            Issuance::GrantRevoked
        );
    }

    #[tokio::test]
    async fn revoking_a_grant_before_issue_keeps_its_code_readable() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (code, grant) = code_and_grant("g", start);
        store.insert_code(code.clone()).await.unwrap();
        store.consume_code(&code.hash).await.unwrap();
        assert_eq!(store.revoke_grant(&grant.id).await.unwrap(), 0);
        assert_eq!(
            grant_entries(&store),
            0,
            "the mark replaced the code's entry"
        );
        let tokens = [token(&grant, TokenKind::Access, start + Duration::hours(1))];
        assert_eq!(
            store.issue(&grant, &tokens).await.unwrap(),
            Issuance::GrantRevoked
        );
        assert_eq!(store.get_token(&tokens[0].hash).await.unwrap(), None);
        assert_eq!(
            store.consume_code(&code.hash).await.unwrap(),
            CodeConsumption::AlreadyConsumed(code)
        );
    }

    #[tokio::test]
    async fn purging_everything_forgets_every_profile() {
        let store = MemoryStore::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        let (code, grant) = code_and_grant("g", start);
        store.insert_code(code.clone()).await.unwrap();
        store.consume_code(&code.hash).await.unwrap();
        let mut narrower = token(&grant, TokenKind::Access, start + Duration::hours(1));
        narrower.scope = ScopeSet::parse("read").unwrap();
        store.issue(&grant, &[narrower]).await.unwrap();
        let client = grant.client_id.clone();
        let mut machine = super::tests::grant("machine", start);
        machine.client_id = client;
        store.issue(&machine, &[]).await.unwrap();
        let interned = store.profiles.len();
        assert!(
            (2..=3).contains(&interned),
            "the code's, and one for the narrower token and the machine grant (same client \
             and scope, no redirect URI), or one each if their random lanes differ: {interned}"
        );
        store
            .purge_expired_batch(start + Duration::days(90), usize::MAX)
            .await
            .unwrap();
        assert_eq!(store.profiles.len(), 0);
        assert_eq!(grant_entries(&store), 0);
    }

    #[test]
    fn a_token_entry_is_four_words() {
        assert_eq!(std::mem::size_of::<TokenEntry>(), 32);
    }
}
