//! A PostgreSQL [`Storage`](oauth_core::Storage) for finrift: the backend for several
//! instances of a service that share one database.
//!
//! Every instance opens a [`PostgresStore`] on the same database and sees the same
//! clients, codes, tokens and grants. Each single-use step (a code's redemption, a
//! pending authorization's approval, a refresh token's rotation) is one conditional
//! statement or one transaction that stays correct under `READ COMMITTED` with any number
//! of connections and processes, and a grant's revocation locks the grant's row, so a
//! revocation racing an issuance never leaves a live token behind.
//!
//! ```no_run
//! use std::time::Duration;
//! use oauth_store_postgres::{PostgresOptions, PostgresStore};
//!
//! # async fn open() -> Result<(), oauth_core::StorageError> {
//! let options = PostgresOptions::from_url("postgres://finrift@db.internal/finrift")?
//!     .pool_size(16)
//!     .statement_timeout(Duration::from_secs(2));
//! let store = PostgresStore::open_with(options).await?; // applies pending migrations
//! # let _ = store;
//! # Ok(())
//! # }
//! ```
//!
//! It also keeps the deployment's signing keys for
//! [`KeyVault`](oauth_core::jose::KeyVault) ([`KeySetStore`](oauth_core::storage::KeySetStore)):
//! one sealed row that every instance reads, so all sign with the same key and publish the
//! same JWKS.
//!
//! Connections are plain TCP (or a Unix socket): to reach a server over TLS, build a
//! [`deadpool_postgres::Pool`] with the TLS connector of your choice and hand it to
//! [`PostgresStore::from_pool`].
//!
//! Failures are [`StorageError`](oauth_core::StorageError)s with the database's error as
//! their source, stripped of the `DETAIL` a server adds to some errors (it can quote a
//! key's value): a lost connection, a server shutting down and a pool with no free
//! connection within its wait are [`Unavailable`](oauth_core::StorageErrorKind::Unavailable)
//! or [`Busy`](oauth_core::StorageErrorKind::Busy), which the engine answers with
//! `temporarily_unavailable`; nothing is left half written, since every change is one
//! statement or one transaction.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clients;
mod codec;
mod codes;
mod error;
mod key_set;
mod options;
mod schema;
mod statements;
mod store;
#[cfg(feature = "test-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-server")))]
pub mod test_server;
mod tokens;

pub use options::PostgresOptions;
pub use schema::{read_schema_version, SCHEMA_VERSION};
pub use store::PostgresStore;

/// The pool type [`PostgresStore::from_pool`] takes, re-exported so that a user builds
/// it with the same version of `deadpool-postgres` as this crate.
pub use deadpool_postgres;
