//! Test support: a SQLite store on a file in its own temporary directory, which lives
//! (and is deleted) with the store.

#![allow(dead_code)] // each test file uses a part
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is the report

use std::path::PathBuf;

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport, Rotation, TokenRecord,
};
use oauth_core::{Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, TokenStore};
use oauth_store_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;
use time::OffsetDateTime;

/// A file-backed store and the directory that holds its file.
pub struct TempStore {
    pub store: SqliteStore,
    pub dir: TempDir,
}

impl TempStore {
    /// A new database file with the default options.
    pub async fn new() -> Self {
        Self::with(|options| options).await
    }

    /// A new database file with options adjusted by `adjust`.
    pub async fn with(adjust: impl FnOnce(SqliteOptions) -> SqliteOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let options = adjust(SqliteOptions::file(dir.path().join("finrift.db")));
        let store = SqliteStore::open_with(options).await.unwrap();
        Self { store, dir }
    }

    /// The database file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("finrift.db")
    }
}

#[async_trait]
impl ClientStore for TempStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        self.store.get_client(id).await
    }
    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        self.store.put_client(client).await
    }
}

#[async_trait]
impl CodeStore for TempStore {
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
impl TokenStore for TempStore {
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
