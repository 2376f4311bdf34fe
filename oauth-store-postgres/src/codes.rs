//! Codes and one-time-use marks on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use oauth_core::storage::{CodeConsumption, CodeLookup, CodeRecord};
use oauth_core::{CodeStore, SecretHash, StorageError};
use time::OffsetDateTime;

use crate::codec::{code_from_row, get, seconds, sign_in_json, CODE_COLUMNS, CODE_COLUMN_COUNT};
use crate::error::db_error;
use crate::statements::{execute, query_opt};
use crate::store::PostgresStore;

#[async_trait]
impl CodeStore for PostgresStore {
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        let connection = self.connection().await?;
        // The single-use step: one conditional UPDATE. Under READ COMMITTED a second
        // caller waits for the first one's row lock, then re-checks `NOT consumed` on the
        // row as committed and updates nothing: one caller, in any process, gets the row.
        let consumed = query_opt(
            &connection,
            "consume a code",
            &format!(
                "UPDATE finrift_codes SET consumed = true WHERE hash = $1 AND NOT consumed \
                 RETURNING {CODE_COLUMNS}"
            ),
            &[&&hash.0[..]],
        )
        .await?;
        if let Some(row) = consumed {
            return Ok(CodeConsumption::Consumed(code_from_row(&row)?));
        }
        // Consumed before (or never stored): what is stored is all a replay needs, and a
        // consumed code does not change afterwards.
        let stored = query_opt(
            &connection,
            "read a code",
            &format!("SELECT {CODE_COLUMNS} FROM finrift_codes WHERE hash = $1"),
            &[&&hash.0[..]],
        )
        .await?;
        match stored {
            Some(row) => Ok(CodeConsumption::AlreadyConsumed(code_from_row(&row)?)),
            None => Ok(CodeConsumption::NotFound),
        }
    }

    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        let connection = self.connection().await?;
        let stored = query_opt(
            &connection,
            "read a code",
            &format!("SELECT {CODE_COLUMNS}, consumed FROM finrift_codes WHERE hash = $1"),
            &[&&hash.0[..]],
        )
        .await?;
        let Some(row) = stored else {
            return Ok(CodeLookup::NotFound);
        };
        let record = code_from_row(&row)?;
        Ok(if get(&row, CODE_COLUMN_COUNT, "read a code")? {
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
        let connection = self.connection().await?;
        mark_use(&connection, key, expires_at).await
    }

    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        const WHAT: &str = "approve a pending authorization";
        let sign_in = sign_in_json(code.sign_in.as_ref())?;
        let mut connection = self.connection().await?;
        // One transaction: the mark and the code together or, when the insertion fails
        // (a Conflict), neither. An early return drops `tx`, which rolls back.
        let tx = connection.transaction().await.map_err(db_error(WHAT))?;
        if !mark_use(&tx, key, expires_at).await? {
            return Ok(false);
        }
        execute(
            &tx,
            "store a code",
            "INSERT INTO finrift_codes (hash, grant_id, client_id, subject, redirect_uri, \
             scope, code_challenge, issued_at, expires_at, grant_expires_at, sign_in, \
             dpop_jkt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &&code.hash.0[..],
                &code.grant_id.as_str(),
                &code.client_id.as_str(),
                &code.subject,
                &code.redirect_uri,
                &code.scope.to_string(),
                &code.code_challenge.as_ref().map(|c| c.as_str()),
                &seconds(code.issued_at),
                &seconds(code.expires_at),
                &seconds(code.grant_expires_at),
                &sign_in,
                &code.dpop_jkt,
            ],
        )
        .await?;
        tx.commit().await.map_err(db_error(WHAT))?;
        Ok(true)
    }
}

/// Records the one-time use of `key`; `false` if it was used before.
async fn mark_use(
    client: &impl GenericClient,
    key: &SecretHash,
    expires_at: OffsetDateTime,
) -> Result<bool, StorageError> {
    // The primary key makes the insert the single-use step: a racing insert of the same
    // key waits for the first one's transaction and then does nothing.
    let inserted = execute(
        client,
        "record a one-time use",
        "INSERT INTO finrift_uses (key, expires_at) VALUES ($1, $2) \
         ON CONFLICT (key) DO NOTHING",
        &[&&key.0[..], &seconds(expires_at)],
    )
    .await?;
    Ok(inserted == 1)
}
