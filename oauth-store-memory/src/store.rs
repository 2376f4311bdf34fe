//! The in-memory store.

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport, Rotation, TokenKind,
    TokenRecord,
};
use oauth_core::{Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, TokenStore};
use time::OffsetDateTime;

use crate::moment::Moment;
use crate::sharded::ShardedMap;

/// A stored code and whether it was consumed.
#[derive(Debug)]
struct CodeEntry {
    record: CodeRecord,
    consumed: bool,
}

/// A grant: its record once issued, whether it is revoked, and its tokens' hashes.
#[derive(Debug, Default)]
struct GrantEntry {
    record: Option<GrantRecord>,
    revoked: bool,
    tokens: Vec<SecretHash>,
}

/// An in-memory [`Storage`](oauth_core::Storage).
///
/// Lock order, always: a grant shard, then token shards. Operations that change tokens of
/// a grant (issue, rotate, revoke a grant) hold the grant's shard for their whole span, so
/// a grant revoked concurrently with an issuance either sees the new tokens and revokes
/// them, or makes the issuance fail.
#[derive(Debug)]
pub struct MemoryStore {
    clients: ShardedMap<ClientId, Client>,
    codes: ShardedMap<SecretHash, CodeEntry>,
    tokens: ShardedMap<SecretHash, TokenRecord>,
    grants: ShardedMap<GrantId, GrantEntry>,
    /// One-time-use marks and when each may be forgotten.
    uses: ShardedMap<SecretHash, Moment>,
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
            clients: ShardedMap::new(),
            codes: ShardedMap::new(),
            uses: ShardedMap::new(),
            tokens: ShardedMap::new(),
            grants: ShardedMap::new(),
        }
    }

    /// Checks that none of `tokens` is stored yet (the caller holds the grant's shard).
    fn any_present(&self, tokens: &[TokenRecord]) -> bool {
        tokens
            .iter()
            .any(|t| self.tokens.shard(&t.hash).contains_key(&t.hash))
    }

    fn insert_tokens(&self, entry: &mut GrantEntry, tokens: &[TokenRecord]) {
        for token in tokens {
            entry.tokens.push(token.hash);
            self.tokens
                .shard(&token.hash)
                .insert(token.hash, token.clone());
        }
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        Ok(self.clients.shard(id).get(id).cloned())
    }

    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        self.clients
            .shard(client.id())
            .insert(client.id().clone(), client);
        Ok(())
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn insert_code(&self, code: CodeRecord) -> Result<(), StorageError> {
        let mut shard = self.codes.shard(&code.hash);
        if shard.contains_key(&code.hash) {
            return Err(StorageError::conflict("authorization code already stored"));
        }
        shard.insert(
            code.hash,
            CodeEntry {
                record: code,
                consumed: false,
            },
        );
        Ok(())
    }

    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        let mut shard = self.codes.shard(hash);
        Ok(match shard.get_mut(hash) {
            None => CodeConsumption::NotFound,
            Some(entry) if entry.consumed => CodeConsumption::AlreadyConsumed(entry.record.clone()),
            Some(entry) => {
                entry.consumed = true;
                CodeConsumption::Consumed(entry.record.clone())
            }
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
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        let mut grants = self.grants.shard(&grant.id);
        if grants.get(&grant.id).is_some_and(|entry| entry.revoked) {
            return Ok(Issuance::GrantRevoked);
        }
        // Checked before the entry exists: a refused issuance must not leave behind an
        // empty grant entry, which no purge would ever remove.
        if self.any_present(tokens) {
            return Err(StorageError::conflict("token already stored"));
        }
        let entry = grants.entry(grant.id.clone()).or_default();
        if entry.record.is_none() {
            entry.record = Some(grant.clone());
        }
        self.insert_tokens(entry, tokens);
        Ok(Issuance::Issued)
    }

    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        Ok(self.tokens.shard(hash).get(hash).cloned())
    }

    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        let Some(grant_id) = self
            .tokens
            .shard(old)
            .get(old)
            .filter(|t| t.kind == TokenKind::Refresh)
            .map(|t| t.grant_id.clone())
        else {
            return Ok(Rotation::NotFound);
        };
        let mut grants = self.grants.shard(&grant_id);
        let Some(entry) = grants.get_mut(&grant_id) else {
            return Ok(Rotation::NotFound);
        };
        if entry.revoked {
            return Ok(Rotation::Revoked);
        }
        if self.any_present(new_tokens) {
            return Err(StorageError::conflict("token already stored"));
        }
        {
            let mut shard = self.tokens.shard(old);
            let Some(token) = shard.get_mut(old) else {
                return Ok(Rotation::NotFound);
            };
            if token.revoked {
                return Ok(Rotation::Revoked);
            }
            if token.rotated {
                return Ok(Rotation::AlreadyRotated);
            }
            token.rotated = true;
        }
        self.insert_tokens(entry, new_tokens);
        Ok(Rotation::Rotated)
    }

    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        Ok(match self.tokens.shard(hash).get_mut(hash) {
            Some(token) => {
                token.revoked = true;
                true
            }
            None => false,
        })
    }

    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        let mut grants = self.grants.shard(id);
        let entry = grants.entry(id.clone()).or_default();
        entry.revoked = true;
        let mut revoked = 0;
        for hash in &entry.tokens {
            if let Some(token) = self.tokens.shard(hash).get_mut(hash) {
                if !token.revoked {
                    token.revoked = true;
                    revoked += 1;
                }
            }
        }
        Ok(revoked)
    }

    async fn purge_expired(&self, before: OffsetDateTime) -> Result<PurgeReport, StorageError> {
        let mut report = PurgeReport::default();
        let packed_before = Moment::new(before)?;
        for mut shard in self.uses.each_shard() {
            let len = shard.len();
            shard.retain(|_, expires_at| *expires_at > packed_before);
            report.uses += (len - shard.len()) as u64;
        }
        for mut shard in self.codes.each_shard() {
            let len = shard.len();
            shard.retain(|_, entry| {
                let until = if entry.consumed {
                    entry.record.grant_expires_at
                } else {
                    entry.record.expires_at
                };
                until > before
            });
            report.codes += (len - shard.len()) as u64;
        }
        for mut shard in self.tokens.each_shard() {
            let len = shard.len();
            shard.retain(|_, token| {
                let until = match token.kind {
                    TokenKind::Access | TokenKind::JwtAccess => token.expires_at,
                    TokenKind::Refresh => token.grant_expires_at,
                };
                until > before
            });
            report.tokens += (len - shard.len()) as u64;
        }
        // Lock order as everywhere: a grant shard, then token shards.
        for mut shard in self.grants.each_shard() {
            let len = shard.len();
            // A revocation mark for a grant never issued has no expiry to go by, so it stays.
            shard.retain(|_, entry| entry.record.as_ref().is_none_or(|g| g.expires_at > before));
            report.grants += (len - shard.len()) as u64;
            // Forget the hashes of purged tokens, or a long-lived grant that refreshes
            // often would hold two more hashes per refresh for its whole life.
            for entry in shard.values_mut() {
                entry
                    .tokens
                    .retain(|hash| self.tokens.shard(hash).contains_key(hash));
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{RandomSource, ScopeSet};
    use time::Duration;

    fn grant(id: &str, start: OffsetDateTime) -> GrantRecord {
        GrantRecord {
            id: GrantId(id.into()),
            client_id: ClientId::new("app").unwrap(),
            subject: None,
            scope: ScopeSet::parse("read").unwrap(),
            created_at: start,
            expires_at: start + Duration::days(90),
        }
    }

    fn token(grant: &GrantRecord, kind: TokenKind, expires_at: OffsetDateTime) -> TokenRecord {
        let mut hash = [0u8; 32];
        RandomSource::new().fill(&mut hash).unwrap();
        TokenRecord {
            hash: SecretHash(hash),
            kind,
            grant_id: grant.id.clone(),
            client_id: grant.client_id.clone(),
            subject: None,
            scope: grant.scope.clone(),
            issued_at: grant.created_at,
            expires_at,
            grant_expires_at: grant.expires_at,
            revoked: false,
            rotated: false,
        }
    }

    fn grant_entries(store: &MemoryStore) -> usize {
        store.grants.each_shard().map(|shard| shard.len()).sum()
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
    async fn purge_forgets_the_hashes_of_purged_tokens() {
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
        let held = |store: &MemoryStore| {
            store
                .grants
                .shard(&g.id)
                .get(&g.id)
                .map(|e| e.tokens.len())
                .unwrap()
        };
        assert_eq!(held(&store), 202);
        let report = store
            .purge_expired(start + Duration::hours(2))
            .await
            .unwrap();
        assert_eq!(report.tokens, 101, "every access token expired");
        assert_eq!(
            held(&store),
            101,
            "the grant holds only the refresh tokens left"
        );
    }
}
