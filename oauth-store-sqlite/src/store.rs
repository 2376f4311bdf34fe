//! The SQLite store: opening, and the storage traits.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeLookup, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport,
    Redemption, Rotation, TokenRecord,
};
use oauth_core::{
    Client, ClientId, ClientStore, CodeStore, SecretHash, StorageError, StorageErrorKind,
    TokenStore, MAX_CLIENT_PAGE,
};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use time::OffsetDateTime;

use crate::codec::{
    code_from_row, kind_name, seconds, sign_in_json, sql_error, token_from_row, CODE_COLUMNS,
    CODE_COLUMN_COUNT, TOKEN_COLUMNS,
};
use crate::durability::Durability;
use crate::group_commit::GroupWriter;
use crate::pool::Pool;
use crate::schema::{migrate, refuse_newer};

/// Where the database lives, and how the store uses it.
///
/// ```
/// use std::time::Duration;
/// use oauth_store_sqlite::SqliteOptions;
///
/// let options = SqliteOptions::file("/var/lib/auth/finrift.db")
///     .pool_size(8)
///     .busy_timeout(Duration::from_secs(2));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    path: Option<PathBuf>,
    pool_size: usize,
    busy_timeout: Duration,
    durability: Durability,
    inline_reads: bool,
}

impl SqliteOptions {
    /// A database file at `path` (created if missing), with 4 connections and a 5 second
    /// busy timeout.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Some(path.into()),
            pool_size: 4,
            busy_timeout: Duration::from_secs(5),
            durability: Durability::PowerLoss,
            inline_reads: false,
        }
    }

    /// A private in-memory database, gone when the store is dropped. It has exactly one
    /// connection: each SQLite connection to `:memory:` is its own database, and a
    /// shared-cache URI would trade the busy timeout for table locks that fail at once.
    pub fn in_memory() -> Self {
        Self {
            path: None,
            pool_size: 1,
            busy_timeout: Duration::from_secs(5),
            durability: Durability::PowerLoss,
            inline_reads: false,
        }
    }

    /// How many connections to keep (at least 1; always 1 in memory). Reads run in
    /// parallel on them; writes take SQLite's single write lock in turn.
    pub fn pool_size(mut self, connections: usize) -> Self {
        if self.path.is_some() {
            self.pool_size = connections.max(1);
        }
        self
    }

    /// How long a write waits for another connection or process to release the write
    /// lock before it fails with [`StorageErrorKind::Busy`] (which the engine answers
    /// as `temporarily_unavailable`).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// What a commit survives once a call has returned: [`Durability::PowerLoss`] (the
    /// default) or the cheaper [`Durability::ProcessCrash`]; read both before choosing.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Runs the store's reads (a client's registration, a token's record: three of a
    /// code flow's six calls, and every opaque token check) on the calling task's thread
    /// instead of a blocking thread. Off by default.
    ///
    /// Each store call otherwise hands its work to a blocking thread and waits to be woken
    /// with the answer: two thread wake-ups, tens of microseconds on a virtual machine,
    /// where the read itself takes a few. Inline, the async worker is held for the read
    /// instead: microseconds while the pages it needs are in memory, a disk read when
    /// they are not, and (rarely, in WAL mode) up to the busy timeout while another
    /// connection recovers the write-ahead log. Turn it on when the database fits in
    /// memory and nothing latency-critical shares the runtime's workers. Writes always
    /// run off the caller's thread: they wait for the write lock and flush.
    pub fn inline_reads(mut self, inline: bool) -> Self {
        self.inline_reads = inline;
        self
    }

    /// Opens one connection and sets it up.
    pub(crate) fn connect(&self) -> Result<Connection, StorageError> {
        let connection = match &self.path {
            Some(path) => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            None => Connection::open_in_memory(),
        }
        .map_err(sql_error("open the database"))?;
        connection
            .busy_timeout(self.busy_timeout)
            .map_err(sql_error("set the busy timeout"))?;
        if self.path.is_some() {
            // WAL: readers never wait for the writer, and a commit is one append.
            let mode: String = connection
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .map_err(sql_error("switch to WAL mode"))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StorageError::new(
                    StorageErrorKind::Backend,
                    format!("the database refused WAL mode (journal mode {mode})"),
                ));
            }
        }
        // FULL (the default): a commit is on disk before it is acknowledged, so a consumed
        // code or a rotated refresh token stays so even across a power loss, not only a
        // crash. The pragma takes no bound parameter; its value is one of two constants.
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = {}; PRAGMA trusted_schema = OFF;",
                self.durability.pragma()
            ))
            .map_err(sql_error("set the connection pragmas"))?;
        Ok(connection)
    }
}

/// A [`Storage`](oauth_core::Storage) on SQLite: durable, for one machine (any number of
/// processes on it may share the file).
///
/// Its methods run reads on tokio's blocking threads and writes on the store's writer
/// thread (group commit, see the crate's documentation), so they need a tokio runtime. A call whose future is dropped once its work has started still finishes that
/// work (commits or rolls back as a whole); it is never left half done. Cloning is cheap
/// and shares the connections. Dropping the last clone closes them (SQLite then folds the
/// write-ahead log into the database file).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: Arc<Pool>,
    /// The group-commit writer of a file; `None` in memory, where the one connection of
    /// the pool is the whole database and writes take it in turn.
    writer: Option<Arc<GroupWriter>>,
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` with the default options of
    /// [`SqliteOptions::file`], applying any pending schema migration.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self, StorageError> {
        Self::open_with(SqliteOptions::file(path)).await
    }

    /// A new private in-memory database (see [`SqliteOptions::in_memory`]).
    pub async fn open_in_memory() -> Result<Self, StorageError> {
        Self::open_with(SqliteOptions::in_memory()).await
    }

    /// Opens the database `options` describe, applying any pending schema migration.
    pub async fn open_with(options: SqliteOptions) -> Result<Self, StorageError> {
        let inline_reads = options.inline_reads;
        let (connections, writer) = tokio::task::spawn_blocking(move || {
            if let Some(path) = &options.path {
                refuse_newer(path)?;
            }
            let mut first = options.connect()?;
            migrate(&mut first)?;
            // A file gets one more connection, the writer thread's own.
            let writer = match options.path {
                Some(_) => Some(GroupWriter::start(options.connect()?)?),
                None => None,
            };
            let mut connections = vec![first];
            for _ in 1..options.pool_size {
                connections.push(options.connect()?);
            }
            Ok::<_, StorageError>((connections, writer))
        })
        .await
        .map_err(|e| {
            StorageError::with_source(
                StorageErrorKind::Backend,
                "opening the database did not finish",
                e,
            )
        })??;
        Ok(Self {
            pool: Arc::new(Pool::new(connections, inline_reads)),
            writer: writer.map(Arc::new),
        })
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction and returns once it committed: for
    /// a file through the group-commit writer (with the writes waiting beside it, one
    /// flush for all), in memory on the pool's connection. An error of `work` stores
    /// nothing of it.
    pub(crate) async fn write<T, F>(&self, what: &'static str, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StorageError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(what, work).await,
            None => {
                self.pool
                    .run(move |connection| in_transaction(connection, what, work))
                    .await
            }
        }
    }
}

/// Which count a purge statement adds to.
#[derive(Debug, Clone, Copy)]
enum Purged {
    Codes,
    Tokens,
    Grants,
    Uses,
}

/// The purge contract of [`TokenStore::purge_expired_batch`], one statement per rule,
/// each deleting at most `?2` rows expired at or before `?1`. Each finds its rows through
/// a partial index on the expiry column it compares (see the schema), so its cost follows
/// the rows it deletes, not the size of the table.
const PURGES: [(Purged, &str); 6] = [
    (
        Purged::Uses,
        "DELETE FROM uses WHERE rowid IN (SELECT rowid FROM uses \
         WHERE expires_at <= ?1 LIMIT ?2)",
    ),
    (
        Purged::Codes,
        "DELETE FROM codes WHERE rowid IN (SELECT rowid FROM codes \
         WHERE consumed = 0 AND expires_at <= ?1 LIMIT ?2)",
    ),
    // Replay detection needs a consumed code until its grant ends.
    (
        Purged::Codes,
        "DELETE FROM codes WHERE rowid IN (SELECT rowid FROM codes \
         WHERE consumed = 1 AND grant_expires_at <= ?1 LIMIT ?2)",
    ),
    (
        Purged::Tokens,
        "DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens \
         WHERE kind <> 'refresh' AND expires_at <= ?1 LIMIT ?2)",
    ),
    // A rotated-away refresh token is what detects reuse: it stays until the grant ends.
    (
        Purged::Tokens,
        "DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens \
         WHERE kind = 'refresh' AND grant_expires_at <= ?1 LIMIT ?2)",
    ),
    // A revocation mark (expires_at NULL) has no expiry and stays.
    (
        Purged::Grants,
        "DELETE FROM grants WHERE rowid IN (SELECT rowid FROM grants \
         WHERE expires_at <= ?1 LIMIT ?2)",
    ),
];

/// Runs `work` in one `BEGIN IMMEDIATE` transaction: it takes the write lock up front
/// (waiting up to the busy timeout), so it never fails halfway on a lock upgrade, and
/// everything it reads stays true until it commits, in this process or any other.
/// An error rolls everything back.
fn in_transaction<T>(
    connection: &mut Connection,
    what: &'static str,
    work: impl FnOnce(&Transaction<'_>) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error(what))?;
    let out = work(&tx)?;
    tx.commit().map_err(sql_error(what))?;
    Ok(out)
}

/// Inserts `tokens`; a hash already stored fails the statement (Conflict).
fn insert_tokens(tx: &Transaction<'_>, tokens: &[TokenRecord]) -> Result<(), StorageError> {
    let mut statement = tx
        .prepare_cached(
            "INSERT INTO tokens (hash, kind, grant_id, client_id, subject, scope, issued_at, \
             expires_at, grant_expires_at, revoked, rotated, sign_in, dpop_jkt) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(sql_error("store a token"))?;
    for token in tokens {
        statement
            .execute(params![
                &token.hash.0[..],
                kind_name(token.kind),
                token.grant_id.as_str(),
                token.client_id.as_str(),
                token.subject,
                token.scope.to_string(),
                seconds(token.issued_at),
                seconds(token.expires_at),
                seconds(token.grant_expires_at),
                token.revoked,
                token.rotated,
                sign_in_json(token.sign_in.as_ref())?,
                token.dpop_jkt,
            ])
            .map_err(sql_error("store a token"))?;
    }
    Ok(())
}

fn client_json(client: &Client) -> Result<String, StorageError> {
    serde_json::to_string(client)
        .map_err(|e| StorageError::with_source(StorageErrorKind::Backend, "encode a client", e))
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        let id = id.as_str().to_owned();
        let json: Option<String> = self
            .pool
            .read(move |connection| {
                connection
                    .prepare_cached("SELECT record FROM clients WHERE id = ?1")
                    .and_then(|mut statement| {
                        statement.query_row([&id], |row| row.get(0)).optional()
                    })
                    .map_err(sql_error("read a client"))
            })
            .await?;
        json.as_deref().map(client_from_json).transpose()
    }

    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        let json = client_json(&client)?;
        let id = client.id().as_str().to_owned();
        self.write("store a client", move |tx| {
            tx.execute(
                "INSERT INTO clients (id, record) VALUES (?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![id, json],
            )
            .map_err(sql_error("store a client"))?;
            Ok(())
        })
        .await
    }

    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        // No client id is empty, so "after the empty text" is from the first.
        let after = after.map_or_else(String::new, |id| id.as_str().to_owned());
        // The bound keeps the conversion lossless; the page is small anyway.
        let limit = i64::try_from(limit.min(MAX_CLIENT_PAGE)).unwrap_or(0);
        let records: Vec<String> = self
            .pool
            .read(move |connection| {
                // The primary key's order (BINARY collation: byte order), walked from
                // `after` through its index: each page costs its own size.
                connection
                    .prepare_cached("SELECT record FROM clients WHERE id > ?1 ORDER BY id LIMIT ?2")
                    .and_then(|mut statement| {
                        statement
                            .query_map(params![after, limit], |row| row.get(0))?
                            .collect()
                    })
                    .map_err(sql_error("list clients"))
            })
            .await?;
        records.iter().map(|json| client_from_json(json)).collect()
    }

    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        let id = id.as_str().to_owned();
        self.write("remove a client", move |tx| {
            let removed = tx
                .execute("DELETE FROM clients WHERE id = ?1", [&id])
                .map_err(sql_error("remove a client"))?;
            Ok(removed > 0)
        })
        .await
    }
}

fn client_from_json(json: &str) -> Result<Client, StorageError> {
    serde_json::from_str(json).map_err(|e| {
        StorageError::with_source(StorageErrorKind::Corrupt, "a stored client is invalid", e)
    })
}

#[async_trait]
impl CodeStore for SqliteStore {
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        let hash = *hash;
        self.write("consume a code", move |tx| {
            // The single-use step: one conditional UPDATE. Of any number of
            // callers, in any number of processes, one sees the row come back.
            let mut consume = tx
                .prepare_cached(&format!(
                    "UPDATE codes SET consumed = 1 WHERE hash = ?1 AND consumed = 0 \
                     RETURNING {CODE_COLUMNS}"
                ))
                .map_err(sql_error("consume a code"))?;
            let mut rows = consume
                .query([&hash.0[..]])
                .map_err(sql_error("consume a code"))?;
            if let Some(row) = rows.next().map_err(sql_error("consume a code"))? {
                return Ok(CodeConsumption::Consumed(code_from_row(row)?));
            }
            drop(rows);
            let mut find = tx
                .prepare_cached(&format!("SELECT {CODE_COLUMNS} FROM codes WHERE hash = ?1"))
                .map_err(sql_error("read a code"))?;
            let mut rows = find
                .query([&hash.0[..]])
                .map_err(sql_error("read a code"))?;
            match rows.next().map_err(sql_error("read a code"))? {
                Some(row) => Ok(CodeConsumption::AlreadyConsumed(code_from_row(row)?)),
                None => Ok(CodeConsumption::NotFound),
            }
        })
        .await
    }

    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        let hash = *hash;
        self.pool
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached(&format!(
                        "SELECT {CODE_COLUMNS}, consumed FROM codes WHERE hash = ?1"
                    ))
                    .map_err(sql_error("read a code"))?;
                let mut rows = statement
                    .query([&hash.0[..]])
                    .map_err(sql_error("read a code"))?;
                let Some(row) = rows.next().map_err(sql_error("read a code"))? else {
                    return Ok(CodeLookup::NotFound);
                };
                let record = code_from_row(row)?;
                let consumed: bool = row
                    .get(CODE_COLUMN_COUNT)
                    .map_err(sql_error("read a code"))?;
                Ok(if consumed {
                    CodeLookup::Consumed(record)
                } else {
                    CodeLookup::Unused(record)
                })
            })
            .await
    }

    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        let (key, expires_at) = (*key, seconds(expires_at));
        self.write("record a one-time use", move |tx| {
            mark_use(tx, &key, expires_at)
        })
        .await
    }

    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        let (key, expires_at) = (*key, seconds(expires_at));
        // One transaction, one durable commit: the mark and the code together,
        // or (when the insertion fails) neither.
        self.write("approve a pending authorization", move |tx| {
            if !mark_use(tx, &key, expires_at)? {
                return Ok(false);
            }
            insert_code(tx, &code)?;
            Ok(true)
        })
        .await
    }
}

/// Records the one-time use of `key`; `false` if it was used before.
fn mark_use(tx: &Transaction<'_>, key: &SecretHash, expires_at: i64) -> Result<bool, StorageError> {
    // The primary key makes the insert the single-use step: one caller inserts the row,
    // every other one is ignored.
    tx.prepare_cached(
        "INSERT INTO uses (key, expires_at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
    )
    .and_then(|mut statement| statement.execute(params![&key.0[..], expires_at]))
    .map(|inserted| inserted == 1)
    .map_err(sql_error("record a one-time use"))
}

/// Whether the grant `id` is marked revoked (stored, or marked before it was stored).
fn grant_revoked(tx: &Transaction<'_>, id: &GrantId) -> Result<bool, StorageError> {
    let revoked: Option<bool> = tx
        .prepare_cached("SELECT revoked FROM grants WHERE id = ?1")
        .and_then(|mut statement| {
            statement
                .query_row([id.as_str()], |row| row.get(0))
                .optional()
        })
        .map_err(sql_error("read a grant"))?;
    Ok(revoked == Some(true))
}

/// Stores `grant` if it is new (a grant stored before keeps its first record) and
/// `tokens`; a token hash already stored fails the statement (Conflict).
fn insert_grant_and_tokens(
    tx: &Transaction<'_>,
    grant: &GrantRecord,
    tokens: &[TokenRecord],
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO grants (id, client_id, subject, scope, created_at, \
         expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO NOTHING",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            grant.id.as_str(),
            grant.client_id.as_str(),
            grant.subject,
            grant.scope.to_string(),
            seconds(grant.created_at),
            seconds(grant.expires_at),
        ])
    })
    .map_err(sql_error("store a grant"))?;
    insert_tokens(tx, tokens)
}

/// Inserts `code`; a hash already stored fails the statement (Conflict).
fn insert_code(tx: &Transaction<'_>, code: &CodeRecord) -> Result<(), StorageError> {
    let sign_in = sign_in_json(code.sign_in.as_ref())?;
    tx.prepare_cached(
        "INSERT INTO codes (hash, grant_id, client_id, subject, redirect_uri, scope, \
         code_challenge, issued_at, expires_at, grant_expires_at, sign_in, dpop_jkt) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            &code.hash.0[..],
            code.grant_id.as_str(),
            code.client_id.as_str(),
            code.subject,
            code.redirect_uri,
            code.scope.to_string(),
            code.code_challenge.as_ref().map(|c| c.as_str()),
            seconds(code.issued_at),
            seconds(code.expires_at),
            seconds(code.grant_expires_at),
            sign_in,
            code.dpop_jkt,
        ])
    })
    .map_err(sql_error("store a code"))?;
    Ok(())
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        let (grant, tokens) = (grant.clone(), tokens.to_vec());
        self.write("issue tokens", move |tx| {
            // Inside the write lock: a revoke_grant either committed before
            // (and its mark is seen here) or waits until these tokens are
            // stored (and revokes them).
            if grant_revoked(tx, &grant.id)? {
                return Ok(Issuance::GrantRevoked);
            }
            insert_grant_and_tokens(tx, &grant, &tokens)?;
            Ok(Issuance::Issued)
        })
        .await
    }

    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        let (code, grant, tokens) = (*code, grant.clone(), tokens.to_vec());
        self.write("redeem a code", move |tx| {
            // The grant first, as `issue` checks it, inside the write lock.
            if grant_revoked(tx, &grant.id)? {
                return Ok(Redemption::GrantRevoked);
            }
            // The single-use step, shared with consume_code: one conditional UPDATE. A code
            // of another grant is not a code of this one: it matches no row.
            let consumed = tx
                .prepare_cached(
                    "UPDATE codes SET consumed = 1 \
                     WHERE hash = ?1 AND grant_id = ?2 AND consumed = 0",
                )
                .and_then(|mut statement| {
                    statement.execute(params![&code.0[..], grant.id.as_str()])
                })
                .map_err(sql_error("redeem a code"))?;
            if consumed == 0 {
                let stored = tx
                    .prepare_cached("SELECT 1 FROM codes WHERE hash = ?1 AND grant_id = ?2")
                    .and_then(|mut statement| {
                        statement.exists(params![&code.0[..], grant.id.as_str()])
                    })
                    .map_err(sql_error("read a code"))?;
                return Ok(if stored {
                    Redemption::AlreadyConsumed
                } else {
                    Redemption::NotFound
                });
            }
            // A Conflict here rolls the consumption back with the rest.
            insert_grant_and_tokens(tx, &grant, &tokens)?;
            Ok(Redemption::Issued)
        })
        .await
    }

    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        let hash = *hash;
        self.pool
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached(&format!(
                        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1"
                    ))
                    .map_err(sql_error("read a token"))?;
                let mut rows = statement
                    .query([&hash.0[..]])
                    .map_err(sql_error("read a token"))?;
                rows.next()
                    .map_err(sql_error("read a token"))?
                    .map(token_from_row)
                    .transpose()
            })
            .await
    }

    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new_tokens: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        let (old, new_tokens) = (*old, new_tokens.to_vec());
        self.write("rotate a refresh token", move |tx| {
            // The single-use step: one conditional UPDATE that only a live refresh
            // token of a live grant passes, once.
            let rotated = tx
                .prepare_cached(
                    "UPDATE tokens SET rotated = 1 \
                     WHERE hash = ?1 AND kind = 'refresh' AND rotated = 0 \
                     AND revoked = 0 AND EXISTS (SELECT 1 FROM grants \
                     WHERE grants.id = tokens.grant_id AND grants.revoked = 0)",
                )
                .and_then(|mut statement| statement.execute([&old.0[..]]))
                .map_err(sql_error("rotate a refresh token"))?;
            if rotated == 1 {
                // A Conflict here rolls the rotation back with the rest.
                insert_tokens(tx, &new_tokens)?;
                return Ok(Rotation::Rotated);
            }
            // Why not: read the state the UPDATE saw (the lock is still ours).
            let state: Option<(bool, bool, Option<bool>)> = tx
                .prepare_cached(
                    "SELECT tokens.revoked, tokens.rotated, grants.revoked \
                     FROM tokens LEFT JOIN grants ON grants.id = tokens.grant_id \
                     WHERE tokens.hash = ?1 AND tokens.kind = 'refresh'",
                )
                .and_then(|mut statement| {
                    statement
                        .query_row([&old.0[..]], |row| {
                            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                        })
                        .optional()
                })
                .map_err(sql_error("read a refresh token"))?;
            Ok(match state {
                // No such refresh token, or its grant is gone (purged).
                None | Some((_, _, None)) => Rotation::NotFound,
                Some((true, _, _)) | Some((_, _, Some(true))) => Rotation::Revoked,
                Some((false, true, Some(false))) => Rotation::AlreadyRotated,
                Some((false, false, Some(false))) => {
                    return Err(StorageError::new(
                        StorageErrorKind::Backend,
                        "a live refresh token did not rotate",
                    ))
                }
            })
        })
        .await
    }

    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        let hash = *hash;
        self.write("revoke a token", move |tx| {
            let found = tx
                .prepare_cached("UPDATE tokens SET revoked = 1 WHERE hash = ?1")
                .and_then(|mut statement| statement.execute([&hash.0[..]]))
                .map_err(sql_error("revoke a token"))?;
            Ok(found > 0)
        })
        .await
    }

    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        let id = id.as_str().to_owned();
        self.write("revoke a grant", move |tx| {
            // The mark first: from this commit on, issue and rotate_refresh refuse.
            tx.prepare_cached(
                "INSERT INTO grants (id, revoked) VALUES (?1, 1) \
                 ON CONFLICT (id) DO UPDATE SET revoked = 1",
            )
            .and_then(|mut statement| statement.execute([&id]))
            .map_err(sql_error("revoke a grant"))?;
            let revoked = tx
                .prepare_cached("UPDATE tokens SET revoked = 1 WHERE grant_id = ?1 AND revoked = 0")
                .and_then(|mut statement| statement.execute([&id]))
                .map_err(sql_error("revoke a grant's tokens"))?;
            Ok(revoked as u64)
        })
        .await
    }

    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        let subject = subject.to_owned();
        self.write("revoke a subject's grants", move |tx| {
            // Marks first, as revoke_grant: the grants of codes not redeemed yet
            // (issue will refuse them), then the grants issued.
            // (`WHERE true` lets SQLite parse the upsert after a SELECT.)
            tx.prepare_cached(
                "INSERT INTO grants (id, revoked)                          SELECT DISTINCT grant_id, 1 FROM codes WHERE subject = ?1 AND true                          ON CONFLICT (id) DO UPDATE SET revoked = 1",
            )
            .and_then(|mut statement| statement.execute([&subject]))
            .map_err(sql_error("revoke a subject's codes"))?;
            tx.prepare_cached("UPDATE grants SET revoked = 1 WHERE subject = ?1")
                .and_then(|mut statement| statement.execute([&subject]))
                .map_err(sql_error("revoke a subject's grants"))?;
            let revoked = tx
                .prepare_cached(
                    "UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND grant_id IN                              (SELECT id FROM grants WHERE subject = ?1)",
                )
                .and_then(|mut statement| statement.execute([&subject]))
                .map_err(sql_error("revoke a subject's tokens"))?;
            Ok(revoked as u64)
        })
        .await
    }

    /// One `BEGIN IMMEDIATE` transaction runs every statement of `PURGES`, each kind
    /// sharing `limit` between its statements: it holds the write lock for the deletion
    /// of at most `limit` rows of each table.
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let before = seconds(before);
        self.write("purge expired rows", move |tx| {
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
                let deleted = tx
                    .prepare_cached(sql)
                    .and_then(|mut statement| statement.execute(params![before, left]))
                    .map_err(sql_error("purge expired rows"))?;
                *count += deleted as u64;
            }
            // A kind that reached the limit may have more rows waiting.
            let full = |n: u64| i64::try_from(n).unwrap_or(i64::MAX) >= limit;
            report.more = full(report.codes)
                || full(report.tokens)
                || full(report.grants)
                || full(report.uses);
            Ok(report)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every purge statement finds its rows through an index, so one call's cost follows
    /// its limit and not the size of the table.
    #[test]
    fn every_purge_statement_searches_an_index() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        for (_, sql) in PURGES {
            let select = &sql[sql.find("SELECT").unwrap()..sql.rfind(')').unwrap()];
            let plan: Vec<String> = connection
                .prepare(&format!("EXPLAIN QUERY PLAN {select}"))
                .unwrap()
                .query_map(params![0, 1], |row| row.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                plan.iter()
                    .any(|step| step.contains("USING") && step.contains("INDEX")),
                "{select}: {plan:?}"
            );
        }
    }
}
