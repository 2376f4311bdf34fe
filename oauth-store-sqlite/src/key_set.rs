//! The shared key set ([`KeySetStore`]): the one row of table `key_set`, replaced by
//! compare-and-swap in one conditional statement.

use async_trait::async_trait;
use oauth_core::{KeySetStore, StorageError, StorageErrorKind, StoredKeySet};
use rusqlite::{params, OptionalExtension};

use crate::codec::sql_error;
use crate::store::SqliteStore;

#[async_trait]
impl KeySetStore for SqliteStore {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        let row: Option<(i64, Vec<u8>)> = self
            .pool
            .read(|connection| {
                connection
                    .prepare_cached("SELECT version, sealed FROM key_set WHERE id = 1")
                    .and_then(|mut statement| {
                        statement
                            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
                            .optional()
                    })
                    .map_err(sql_error("read the key set"))
            })
            .await?;
        row.map(|(version, sealed)| {
            let version = u64::try_from(version).map_err(|_| {
                StorageError::new(StorageErrorKind::Corrupt, "the stored key set's version")
            })?;
            Ok(StoredKeySet::new(version, sealed))
        })
        .transpose()
    }

    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        // A version past what a row can hold is no row's: nothing matches it.
        let expected = match expected_version.map(i64::try_from) {
            None => None,
            Some(Ok(version)) if version < i64::MAX => Some(version),
            Some(_) => return Ok(false),
        };
        self.write("replace the key set", move |tx| {
            // The compare and the swap are one statement: of any number of
            // writers expecting the same version, in any number of processes,
            // one changes the row and the others change nothing.
            let changed = match expected {
                None => tx.execute(
                    "INSERT INTO key_set (id, version, sealed) VALUES (1, 1, ?1) \
                     ON CONFLICT (id) DO NOTHING",
                    params![sealed],
                ),
                Some(version) => tx.execute(
                    "UPDATE key_set SET version = version + 1, sealed = ?2 \
                     WHERE id = 1 AND version = ?1",
                    params![version, sealed],
                ),
            }
            .map_err(sql_error("replace the key set"))?;
            Ok(changed == 1)
        })
        .await
    }
}
