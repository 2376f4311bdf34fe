//! Tokens and grants on PostgreSQL.
//!
//! Where a grant's revocation can race the issuance of its tokens, both lock the grant's
//! row: `issue` upserts it (a row lock) and reads its `revoked` in the same statement,
//! `rotate_refresh` reads it `FOR SHARE`, `revoke_grant` upserts it revoked. So under READ
//! COMMITTED either the revocation commits first (and the issuance sees it and stores
//! nothing), or the issuance does (and the revocation's later statement, with a snapshot
//! taken after the lock was granted, sees its tokens and revokes them). A subject's
//! revocation reaches grants that have no row yet through a transaction-scoped advisory
//! lock on the subject, shared by every issuance for that subject.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use oauth_core::storage::{
    GrantId, GrantRecord, Issuance, PurgeReport, Redemption, Rotation, TokenRecord,
};
use oauth_core::{SecretHash, StorageError, StorageErrorKind, TokenStore};
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

use crate::codec::{get, kind_name, seconds, sign_in_json, token_from_row, TOKEN_COLUMNS};
use crate::error::db_error;
use crate::statements::{execute, query_opt};
use crate::store::PostgresStore;

/// Which count a purge statement adds to.
#[derive(Debug, Clone, Copy)]
enum Purged {
    Codes,
    Tokens,
    Grants,
    Uses,
}

/// The purge contract of [`TokenStore::purge_expired_batch`], one statement per rule,
/// each deleting at most `$2` rows expired at or before `$1`, found through the partial
/// index on the expiry column it compares (see the schema). `SKIP LOCKED`: rows a request
/// is using are left for the next call rather than waited for, and two purgers running at
/// once share the work instead of queueing on the same rows.
const PURGES: [(Purged, &str); 6] = [
    (
        Purged::Uses,
        "DELETE FROM finrift_uses WHERE key IN (SELECT key FROM finrift_uses \
         WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    ),
    (
        Purged::Codes,
        "DELETE FROM finrift_codes WHERE hash IN (SELECT hash FROM finrift_codes \
         WHERE NOT consumed AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    ),
    // Replay detection needs a consumed code until its grant ends.
    (
        Purged::Codes,
        "DELETE FROM finrift_codes WHERE hash IN (SELECT hash FROM finrift_codes \
         WHERE consumed AND grant_expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    ),
    (
        Purged::Tokens,
        "DELETE FROM finrift_tokens WHERE hash IN (SELECT hash FROM finrift_tokens \
         WHERE kind <> 'refresh' AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    ),
    // A rotated-away refresh token is what detects reuse: it stays until the grant ends.
    (
        Purged::Tokens,
        "DELETE FROM finrift_tokens WHERE hash IN (SELECT hash FROM finrift_tokens \
         WHERE kind = 'refresh' AND grant_expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    ),
    // A revocation mark (expires_at NULL) has no expiry and stays.
    (
        Purged::Grants,
        "DELETE FROM finrift_grants WHERE id IN (SELECT id FROM finrift_grants \
         WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    ),
];

/// Takes the transaction-scoped lock on `subject` that orders issuances for it (`shared`)
/// against its revocation (exclusive). Subjects whose 64-bit hashes collide only wait for
/// each other.
async fn lock_subject(
    client: &impl GenericClient,
    subject: &str,
    shared: bool,
) -> Result<(), StorageError> {
    let sql = if shared {
        "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))"
    } else {
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
    };
    execute(client, "lock a subject's grants", sql, &[&subject]).await?;
    Ok(())
}

/// Stores `grant` if it is new, or locks the row stored before (a grant keeps its first
/// record; the no-op update is what takes the lock), with the shared lock on its subject
/// taken first; answers whether the grant is revoked as committed now.
async fn lock_grant(
    client: &impl GenericClient,
    grant: &GrantRecord,
) -> Result<bool, StorageError> {
    if let Some(subject) = &grant.subject {
        lock_subject(client, subject, true).await?;
    }
    let row = query_opt(
        client,
        "store a grant",
        "INSERT INTO finrift_grants (id, client_id, subject, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET revoked = finrift_grants.revoked \
         RETURNING revoked",
        &[
            &grant.id.as_str(),
            &grant.client_id.as_str(),
            &grant.subject,
            &grant.scope.to_string(),
            &seconds(grant.created_at),
            &seconds(grant.expires_at),
        ],
    )
    .await?;
    match &row {
        Some(row) => get(row, 0, "read a grant"),
        None => Ok(false),
    }
}

/// The statement that inserts tokens from 13 arrays (`$1` to `$13`) through `UNNEST`: a
/// literal, so that the statements built on it are constants too.
macro_rules! insert_tokens_sql {
    () => {
        "INSERT INTO finrift_tokens (hash, kind, grant_id, client_id, subject, scope, \
         issued_at, expires_at, grant_expires_at, revoked, rotated, sign_in, dpop_jkt) \
         SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[], \
         $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[], \
         $11::boolean[], $12::text[], $13::text[])"
    };
}

/// Inserts tokens.
const INSERT_TOKENS: &str = insert_tokens_sql!();

/// Consumes the unconsumed code `$14` of the grant `$15` and inserts tokens only if it did. Under READ
/// COMMITTED a racing consumption makes the UPDATE wait for the row lock, then re-check
/// `NOT consumed` and update nothing: no token goes in.
const SPEND_CODE_AND_INSERT_TOKENS: &str = concat!(
    "WITH spent AS (UPDATE finrift_codes SET consumed = true \
     WHERE hash = $14 AND grant_id = $15 AND NOT consumed RETURNING hash) ",
    insert_tokens_sql!(),
    " WHERE EXISTS (SELECT 1 FROM spent)"
);

/// Inserts `tokens` in one statement; a hash already stored fails it (Conflict).
async fn insert_tokens(
    client: &impl GenericClient,
    tokens: &[TokenRecord],
) -> Result<(), StorageError> {
    if tokens.is_empty() {
        return Ok(());
    }
    insert_tokens_with(client, "store tokens", INSERT_TOKENS, tokens, None).await?;
    Ok(())
}

/// Consumes the unconsumed code `code` of the grant `grant` and inserts `tokens`, in one
/// statement (one round trip): the tokens go in only if this statement consumed the code.
/// Answers whether it did (a code of another grant is not consumed). A token hash already
/// stored fails the statement (Conflict), consumption included.
async fn spend_code_and_insert_tokens(
    client: &impl GenericClient,
    code: &SecretHash,
    grant: &GrantId,
    tokens: &[TokenRecord],
) -> Result<bool, StorageError> {
    const WHAT: &str = "redeem a code";
    if tokens.is_empty() {
        let spent = execute(
            client,
            WHAT,
            "UPDATE finrift_codes SET consumed = true \
             WHERE hash = $1 AND grant_id = $2 AND NOT consumed",
            &[&&code.0[..], &grant.as_str()],
        )
        .await?;
        return Ok(spent == 1);
    }
    let inserted = insert_tokens_with(
        client,
        WHAT,
        SPEND_CODE_AND_INSERT_TOKENS,
        tokens,
        Some((code, grant)),
    )
    .await?;
    Ok(inserted > 0)
}

/// Runs `sql` (which inserts `tokens` from [`INSERT_TOKENS`]'s 13 arrays, and takes
/// `code`'s hash as `$14` and its grant's id as `$15` when given); answers the rows
/// inserted.
async fn insert_tokens_with(
    client: &impl GenericClient,
    what: &'static str,
    sql: &str,
    tokens: &[TokenRecord],
    code: Option<(&SecretHash, &GrantId)>,
) -> Result<u64, StorageError> {
    let hashes: Vec<&[u8]> = tokens.iter().map(|t| &t.hash.0[..]).collect();
    let kinds: Vec<&str> = tokens.iter().map(|t| kind_name(t.kind)).collect();
    let grants: Vec<&str> = tokens.iter().map(|t| t.grant_id.as_str()).collect();
    let clients: Vec<&str> = tokens.iter().map(|t| t.client_id.as_str()).collect();
    let subjects: Vec<Option<&str>> = tokens.iter().map(|t| t.subject.as_deref()).collect();
    let scopes: Vec<String> = tokens.iter().map(|t| t.scope.to_string()).collect();
    let issued: Vec<i64> = tokens.iter().map(|t| seconds(t.issued_at)).collect();
    let expires: Vec<i64> = tokens.iter().map(|t| seconds(t.expires_at)).collect();
    let grant_expires: Vec<i64> = tokens.iter().map(|t| seconds(t.grant_expires_at)).collect();
    let revoked: Vec<bool> = tokens.iter().map(|t| t.revoked).collect();
    let rotated: Vec<bool> = tokens.iter().map(|t| t.rotated).collect();
    let sign_ins: Vec<Option<String>> = tokens
        .iter()
        .map(|t| sign_in_json(t.sign_in.as_ref()))
        .collect::<Result<_, _>>()?;
    let dpop_jkts: Vec<Option<&str>> = tokens.iter().map(|t| t.dpop_jkt.as_deref()).collect();
    let code = code.map(|(hash, grant)| (&hash.0[..], grant.as_str()));
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &hashes,
        &kinds,
        &grants,
        &clients,
        &subjects,
        &scopes,
        &issued,
        &expires,
        &grant_expires,
        &revoked,
        &rotated,
        &sign_ins,
        &dpop_jkts,
    ];
    if let Some((hash, grant)) = &code {
        params.push(hash);
        params.push(grant);
    }
    execute(client, what, sql, &params).await
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        const WHAT: &str = "issue tokens";
        let mut connection = self.connection().await?;
        let tx = connection.transaction().await.map_err(db_error(WHAT))?;
        if lock_grant(&tx, grant).await? {
            // Dropping `tx` rolls the no-op update back.
            return Ok(Issuance::GrantRevoked);
        }
        insert_tokens(&tx, tokens).await?;
        tx.commit().await.map_err(db_error(WHAT))?;
        Ok(Issuance::Issued)
    }

    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        const WHAT: &str = "redeem a code";
        let mut connection = self.connection().await?;
        let tx = connection.transaction().await.map_err(db_error(WHAT))?;
        // The grant first, locked as `issue` locks it; every early return drops `tx`,
        // which rolls back whatever it did.
        if lock_grant(&tx, grant).await? {
            return Ok(Redemption::GrantRevoked);
        }
        // The single-use step, shared with consume_code: a conditional UPDATE, in the
        // statement that inserts the tokens. A Conflict there rolls the consumption back.
        if !spend_code_and_insert_tokens(&tx, code, &grant.id, tokens).await? {
            let stored = query_opt(
                &tx,
                "read a code",
                "SELECT 1 FROM finrift_codes WHERE hash = $1 AND grant_id = $2",
                &[&&code.0[..], &grant.id.as_str()],
            )
            .await?;
            return Ok(match stored {
                Some(_) => Redemption::AlreadyConsumed,
                None => Redemption::NotFound,
            });
        }
        tx.commit().await.map_err(db_error(WHAT))?;
        Ok(Redemption::Issued)
    }

    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        let connection = self.connection().await?;
        let row = query_opt(
            &connection,
            "read a token",
            &format!("SELECT {TOKEN_COLUMNS} FROM finrift_tokens WHERE hash = $1"),
            &[&&hash.0[..]],
        )
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        const WHAT: &str = "rotate a refresh token";
        let mut connection = self.connection().await?;
        let tx = connection.transaction().await.map_err(db_error(WHAT))?;
        let token = query_opt(
            &tx,
            "read a refresh token",
            "SELECT grant_id FROM finrift_tokens WHERE hash = $1 AND kind = 'refresh'",
            &[&&old.0[..]],
        )
        .await?;
        let Some(token) = token else {
            return Ok(Rotation::NotFound);
        };
        let grant_id: &str = get(&token, 0, "read a refresh token")?;
        // The grant's row, locked against its revocation until this commits.
        let grant = query_opt(
            &tx,
            "read a grant",
            "SELECT revoked FROM finrift_grants WHERE id = $1 FOR SHARE",
            &[&grant_id],
        )
        .await?;
        let Some(grant) = grant else {
            // Its grant is gone (purged).
            return Ok(Rotation::NotFound);
        };
        if get::<bool>(&grant, 0, "read a grant")? {
            return Ok(Rotation::Revoked);
        }
        // The single-use step: a second rotator waits for this row's lock, then re-checks
        // `NOT rotated` on the row as committed and updates nothing.
        let rotated = query_opt(
            &tx,
            WHAT,
            "UPDATE finrift_tokens SET rotated = true \
             WHERE hash = $1 AND NOT rotated AND NOT revoked RETURNING hash",
            &[&&old.0[..]],
        )
        .await?;
        if rotated.is_some() {
            // A Conflict here rolls the rotation back with the rest.
            insert_tokens(&tx, new_tokens).await?;
            tx.commit().await.map_err(db_error(WHAT))?;
            return Ok(Rotation::Rotated);
        }
        let state = query_opt(
            &tx,
            "read a refresh token",
            "SELECT revoked, rotated FROM finrift_tokens WHERE hash = $1",
            &[&&old.0[..]],
        )
        .await?;
        let Some(state) = state else {
            return Ok(Rotation::NotFound);
        };
        let revoked: bool = get(&state, 0, "read a refresh token")?;
        let rotated: bool = get(&state, 1, "read a refresh token")?;
        Ok(match (revoked, rotated) {
            (true, _) => Rotation::Revoked,
            (false, true) => Rotation::AlreadyRotated,
            (false, false) => {
                return Err(StorageError::new(
                    StorageErrorKind::Backend,
                    "a live refresh token did not rotate",
                ))
            }
        })
    }

    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        let connection = self.connection().await?;
        let found = execute(
            &connection,
            "revoke a token",
            "UPDATE finrift_tokens SET revoked = true WHERE hash = $1",
            &[&&hash.0[..]],
        )
        .await?;
        Ok(found > 0)
    }

    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        const WHAT: &str = "revoke a grant";
        let mut connection = self.connection().await?;
        let tx = connection.transaction().await.map_err(db_error(WHAT))?;
        // The mark first, on the grant's row (locked until commit): from here on, issue and
        // rotate_refresh wait for this transaction and then refuse.
        execute(
            &tx,
            WHAT,
            "INSERT INTO finrift_grants (id, revoked) VALUES ($1, true) \
             ON CONFLICT (id) DO UPDATE SET revoked = true",
            &[&id.as_str()],
        )
        .await?;
        let revoked = execute(
            &tx,
            "revoke a grant's tokens",
            "UPDATE finrift_tokens SET revoked = true WHERE grant_id = $1 AND NOT revoked",
            &[&id.as_str()],
        )
        .await?;
        tx.commit().await.map_err(db_error(WHAT))?;
        Ok(revoked)
    }

    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        const WHAT: &str = "revoke a subject's grants";
        let mut connection = self.connection().await?;
        let tx = connection.transaction().await.map_err(db_error(WHAT))?;
        // Issuances for this subject hold the shared lock until they commit: past this
        // line every one of them has committed (and is seen below) or waits (and then
        // finds its grant marked).
        lock_subject(&tx, subject, false).await?;
        // Marks first, as revoke_grant: the grants of codes not redeemed yet (issue will
        // refuse them), then the grants issued.
        execute(
            &tx,
            "revoke a subject's codes",
            "INSERT INTO finrift_grants (id, revoked) \
             SELECT DISTINCT grant_id, true FROM finrift_codes WHERE subject = $1 \
             ON CONFLICT (id) DO UPDATE SET revoked = true",
            &[&subject],
        )
        .await?;
        execute(
            &tx,
            WHAT,
            "UPDATE finrift_grants SET revoked = true WHERE subject = $1 AND NOT revoked",
            &[&subject],
        )
        .await?;
        let revoked = execute(
            &tx,
            "revoke a subject's tokens",
            "UPDATE finrift_tokens SET revoked = true WHERE NOT revoked AND grant_id IN \
             (SELECT id FROM finrift_grants WHERE subject = $1)",
            &[&subject],
        )
        .await?;
        tx.commit().await.map_err(db_error(WHAT))?;
        Ok(revoked)
    }

    /// Each statement of `PURGES` runs on its own (a record's deletion is atomic, the
    /// call as a whole need not be), each kind sharing `limit` between its statements:
    /// no lock is held past one statement, on at most `limit` rows.
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let before = seconds(before);
        let connection = self.connection().await?;
        let mut report = PurgeReport::default();
        for (what, sql) in PURGES {
            let count = match what {
                Purged::Codes => &mut report.codes,
                Purged::Tokens => &mut report.tokens,
                Purged::Grants => &mut report.grants,
                Purged::Uses => &mut report.uses,
            };
            // What this kind's earlier statements left of the limit.
            let left = limit - i64::try_from(*count).unwrap_or(i64::MAX);
            if left <= 0 {
                continue;
            }
            *count += execute(&connection, "purge expired rows", sql, &[&before, &left]).await?;
        }
        // A kind that reached the limit may have more rows waiting; so may one whose rows
        // were skipped while locked, which the next call takes.
        let full = |n: u64| i64::try_from(n).unwrap_or(i64::MAX) >= limit;
        report.more =
            full(report.codes) || full(report.tokens) || full(report.grants) || full(report.uses);
        Ok(report)
    }
}
