//! # finrift `oauth-store-sqlite`
//!
//! The durable single-node [`Storage`](oauth_core::Storage) for finrift, on SQLite. Choose
//! it when one machine runs the authorization server (one process or several sharing the
//! file) and what it issued must survive a restart; choose `oauth-store-memory` for tests
//! and demos.
//!
//! ```
//! use oauth_core::{Config, Engine, SystemClock};
//! use oauth_store_sqlite::SqliteStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("finrift.db");
//! let store = SqliteStore::open(path).await?; // created and migrated if needed
//! let config = Config::builder("https://auth.example").build()?;
//! let engine = Engine::builder(store, SystemClock, config).build()?;
//! // Now and then, for example from a background task:
//! engine.purge_expired().await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Choices
//!
//! - **`rusqlite` with SQLite bundled.** The `bundled` feature compiles SQLite from source
//!   into the crate, so a fresh machine needs nothing installed (no `libsqlite3-dev`, no
//!   `pkg-config`), every deployment runs the same, recent SQLite (it needs 3.35 for
//!   `RETURNING` and 3.37 for `STRICT` tables), and the whole workspace builds with cargo
//!   alone. `sqlx` would bring its own runtime glue and compile-time query checking that
//!   wants a database at build time; a handful of hand-written statements do not need it.
//! - **Blocking work off the executor.** Reads run on tokio's blocking threads
//!   (`spawn_blocking`) with one connection from a small pool (4 by default, 1 in
//!   memory); a task waiting for a connection waits asynchronously. Writes to a file go
//!   to the store's writer thread (below). So a write waiting for SQLite's lock or a
//!   flush never stalls the async workers.
//! - **Group commit.** A file's store has one writer thread with a connection of its own.
//!   The writes that wait while it commits a batch go together into its next
//!   `BEGIN IMMEDIATE` transaction (at most 64), each in a savepoint of its own, and share
//!   one commit and one flush; each caller is answered only once that commit returned. So
//!   concurrent writers gain from each other instead of queueing behind one another's
//!   flushes, a write alone costs what it did, and an acknowledged write is as durable
//!   as before. A write that fails (a conflict, a refused state) rolls back to its
//!   savepoint and changes nothing; a batch that cannot commit fails every write in it,
//!   with nothing of it stored. At most 1,024 writes wait: past that a write is refused
//!   at once as busy (`temporarily_unavailable`), and a write whose caller stopped waiting
//!   before its batch began is dropped unrun. In memory the one connection takes every
//!   call in turn.
//! - **WAL mode, `synchronous = FULL`.** Readers never wait for the writer; a commit is on
//!   disk before the call returns, so what was consumed stays consumed after a crash or a
//!   power loss. [`Durability::ProcessCrash`] (`synchronous = NORMAL`) is the opt-in
//!   alternative: much cheaper writes, durable across a crash of the process but not of
//!   the machine.
//! - **Few commits.** Approving a pending authorization stores its single-use mark and
//!   the code in one transaction; a full authorization-code flow makes three commits
//!   (approval, the code's consumption, the issuance).
//! - **Every write is one `BEGIN IMMEDIATE` transaction.** It takes the write lock up
//!   front, waiting up to the busy timeout (5 s by default), and then reports
//!   [`StorageErrorKind::Busy`](oauth_core::StorageErrorKind::Busy), which the engine
//!   answers as `temporarily_unavailable`. A deferred transaction could instead fail
//!   halfway when it upgrades its read lock, which is a spurious error under load.
//! - **Single use in one statement.** Consuming a code is
//!   `UPDATE codes SET consumed = 1 WHERE hash = ? AND consumed = 0 RETURNING …`; rotating a
//!   refresh token is `UPDATE tokens SET rotated = 1 WHERE hash = ? AND rotated = 0 AND
//!   revoked = 0 AND` its grant is not revoked, followed in the same transaction by the
//!   new tokens. SQLite's lock is a file lock, so this holds across every process that
//!   opens the file, not only across the tasks of one.
//! - **Schema.** Versioned with `PRAGMA user_version`; pending migrations are applied when
//!   the store opens (see [`SCHEMA_VERSION`]); [`schema_version`] reads a file's version
//!   without touching it. Hashes are `BLOB`s, instants unix seconds
//!   (`INTEGER`), scopes their space-separated text; a client is its JSON, which holds
//!   its secret's hash, never the secret.
//! - **Expiry purge in bounded batches.** `purge_expired_batch` deletes at most its limit
//!   of rows of each table in one transaction, each found through an index on its expiry,
//!   so one call holds the write lock briefly however large the database is;
//!   `Engine::purge_expired` calls it until nothing is left.
//! - **No clock.** Every instant comes from the engine.
//! - **Shared signing keys.** [`KeySetStore`](oauth_core::KeySetStore) is a one-row table,
//!   `key_set (id = 1, version, sealed)`: the sealed bytes come encrypted from the core
//!   (`oauth_core::jose::KeyVault`), so the file holds no private key in clear, and each
//!   replacement is one conditional statement (`UPDATE … WHERE version = ?`, or an
//!   `INSERT … ON CONFLICT DO NOTHING` for the first) in a `BEGIN IMMEDIATE` transaction,
//!   so of racing writers in any number of processes exactly one wins.
//!
//! The store passes the whole storage conformance kit of `oauth-core`, on a file and in
//! memory (`tests/conformance.rs`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod durability;
mod group_commit;
mod key_set;
mod pool;
mod schema;
mod store;

pub use durability::Durability;
pub use schema::{schema_version, SCHEMA_VERSION};
pub use store::{SqliteOptions, SqliteStore};
