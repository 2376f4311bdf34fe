//! Every flow test, on the SQLite store: in memory, and on a database file with a pool of
//! connections (so the concurrency cases race real connections and SQLite's lock).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport, Rotation, TokenRecord,
};
use oauth_core::{Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, TokenStore};
use oauth_store_sqlite::SqliteStore;
use time::OffsetDateTime;

mod in_memory {
    oauth_tests::flow_tests!(async {
        oauth_store_sqlite::SqliteStore::open_in_memory()
            .await
            .expect("an in-memory SQLite store opens")
    });
}

mod file {
    oauth_tests::flow_tests!(crate::FileStore::new());
}

/// A SQLite store on a file in a temporary directory that lives as long as the store.
pub struct FileStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl FileStore {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("flows.db"))
            .await
            .unwrap();
        Self { store, _dir: dir }
    }
}

#[async_trait]
impl ClientStore for FileStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        self.store.get_client(id).await
    }
    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        self.store.put_client(client).await
    }
}

#[async_trait]
impl CodeStore for FileStore {
    async fn insert_code(&self, code: CodeRecord) -> Result<(), StorageError> {
        self.store.insert_code(code).await
    }
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        self.store.consume_code(hash).await
    }
    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: time::OffsetDateTime,
    ) -> Result<bool, StorageError> {
        self.store.use_once(key, expires_at).await
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        self.store.issue(grant, tokens).await
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
    async fn purge_expired(&self, before: OffsetDateTime) -> Result<PurgeReport, StorageError> {
        self.store.purge_expired(before).await
    }
}
