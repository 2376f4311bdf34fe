//! The client registry on PostgreSQL.

use async_trait::async_trait;
use oauth_core::{Client, ClientId, ClientStore, StorageError, MAX_CLIENT_PAGE};

use crate::codec::{client_from_row, client_json};
use crate::statements::{execute, query, query_opt};
use crate::store::PostgresStore;

#[async_trait]
impl ClientStore for PostgresStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        let connection = self.connection().await?;
        let row = query_opt(
            &connection,
            "read a client",
            "SELECT record FROM finrift_clients WHERE id = $1",
            &[&id.as_str()],
        )
        .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        let json = client_json(&client)?;
        let connection = self.connection().await?;
        // One statement: a reader sees the old registration or the new one.
        execute(
            &connection,
            "store a client",
            "INSERT INTO finrift_clients (id, record) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&client.id().as_str(), &json],
        )
        .await?;
        Ok(())
    }

    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        // No client id is empty, so "after the empty text" is from the first.
        let after = after.map_or("", |id| id.as_str());
        // The bound keeps the conversion lossless; the page is small anyway.
        let limit = i64::try_from(limit.min(MAX_CLIENT_PAGE)).unwrap_or(0);
        let connection = self.connection().await?;
        // The primary key's order (C collation: byte order), walked from `after` through
        // its index: each page costs its own size.
        let rows = query(
            &connection,
            "list clients",
            "SELECT record FROM finrift_clients WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &limit],
        )
        .await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        let connection = self.connection().await?;
        let removed = execute(
            &connection,
            "remove a client",
            "DELETE FROM finrift_clients WHERE id = $1",
            &[&id.as_str()],
        )
        .await?;
        Ok(removed > 0)
    }
}
