//! The deployment's shared signing keys on PostgreSQL: one sealed row and its version.

use async_trait::async_trait;
use oauth_core::storage::{KeySetStore, StoredKeySet};
use oauth_core::StorageError;

use crate::codec::get;
use crate::error::corrupt;
use crate::statements::{execute, query_opt};
use crate::store::PostgresStore;

#[async_trait]
impl KeySetStore for PostgresStore {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        let connection = self.connection().await?;
        let row = query_opt(
            &connection,
            "read the signing keys",
            "SELECT version, sealed FROM finrift_key_set",
            &[],
        )
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let version: i64 = get(&row, 0, "read the signing keys")?;
        let sealed: Vec<u8> = get(&row, 1, "read the signing keys")?;
        let version = u64::try_from(version).map_err(|_| corrupt("key set version"))?;
        Ok(Some(StoredKeySet::new(version, sealed)))
    }

    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        const WHAT: &str = "store the signing keys";
        let connection = self.connection().await?;
        // One conditional statement each way. The first write: the one-row table's
        // primary key lets exactly one insert in. A later one: of the updates expecting
        // this version, the first takes the row's lock; the others wait, then find the
        // version moved on and update nothing.
        let written = match expected_version {
            None => {
                execute(
                    &connection,
                    WHAT,
                    "INSERT INTO finrift_key_set (version, sealed) VALUES (1, $1) \
                     ON CONFLICT (only_row) DO NOTHING",
                    &[&sealed],
                )
                .await?
            }
            Some(expected) => {
                let Ok(expected) = i64::try_from(expected) else {
                    // No stored version is that large: nothing matches.
                    return Ok(false);
                };
                execute(
                    &connection,
                    WHAT,
                    "UPDATE finrift_key_set SET version = version + 1, sealed = $2 \
                     WHERE version = $1",
                    &[&expected, &sealed],
                )
                .await?
            }
        };
        Ok(written == 1)
    }
}
