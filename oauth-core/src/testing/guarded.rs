//! A store that keeps something alive beside it: a temporary directory, a container
//! handle, a server process.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::client::{Client, ClientId};
use crate::secret::SecretHash;
use crate::storage::{
    ClientStore, CodeConsumption, CodeLookup, CodeRecord, CodeStore, GrantId, GrantRecord,
    Issuance, KeySetStore, PurgeReport, Redemption, Rotation, StorageError, StoredKeySet,
    TokenRecord, TokenStore,
};

/// `store`, with `guard` kept alive (and dropped) with it: for example a SQLite store and
/// the temporary directory of its file, so that the file outlives every test that uses the
/// store and is deleted after. Every storage call goes to `store`.
#[derive(Debug)]
pub struct Guarded<S, G> {
    /// The store.
    pub store: S,
    /// What must live as long as the store.
    pub guard: G,
}

impl<S, G> Guarded<S, G> {
    /// `store`, keeping `guard` alive.
    pub fn new(store: S, guard: G) -> Self {
        Self { store, guard }
    }
}

#[async_trait]
impl<S: ClientStore, G: Send + Sync> ClientStore for Guarded<S, G> {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        self.store.get_client(id).await
    }
    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        self.store.put_client(client).await
    }
    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        self.store.list_clients(after, limit).await
    }
    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        self.store.remove_client(id).await
    }
}

#[async_trait]
impl<S: CodeStore, G: Send + Sync> CodeStore for Guarded<S, G> {
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        self.store.consume_code(hash).await
    }
    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        self.store.get_code(hash).await
    }
    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        self.store.use_once(key, expires_at).await
    }
    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        self.store
            .use_once_and_insert_code(key, expires_at, code)
            .await
    }
}

#[async_trait]
impl<S: TokenStore, G: Send + Sync> TokenStore for Guarded<S, G> {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        self.store.issue(grant, tokens).await
    }
    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        self.store.redeem_code(code, grant, tokens).await
    }
    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        self.store.get_token(hash).await
    }
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        self.store.rotate_refresh(old, new_tokens).await
    }
    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        self.store.revoke_token(hash).await
    }
    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        self.store.revoke_grant(id).await
    }
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        self.store.revoke_subject(subject).await
    }
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        self.store.purge_expired_batch(before, limit).await
    }
}

#[async_trait]
impl<S: KeySetStore, G: Send + Sync> KeySetStore for Guarded<S, G> {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        self.store.load_key_set().await
    }
    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        self.store.replace_key_set(expected_version, sealed).await
    }
}
