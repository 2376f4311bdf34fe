//! The PostgreSQL store: opening, the pool, and the schema.

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use oauth_core::{StorageError, StorageErrorKind};
use tokio_postgres::NoTls;

use crate::error::pool_error;
use crate::options::PostgresOptions;
use crate::schema::{check_version, migrate, read_schema_version, SCHEMA_VERSION};

/// A [`Storage`](oauth_core::Storage) on PostgreSQL, shared by every instance that opens
/// the same database.
///
/// Cloning is cheap and shares the pool. Each call takes one pooled connection for the
/// span of its statement or transaction; the statements are prepared once per connection
/// and cached. A call whose future is dropped midway leaves nothing half written: its
/// transaction is rolled back (an open transaction is rolled back when its connection
/// next runs a statement, or by the server when the connection closes).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Opens the database `url` names with the defaults of [`PostgresOptions::from_url`],
    /// applying any pending schema migration.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        Self::open_with(PostgresOptions::from_url(url)?).await
    }

    /// Opens the database `options` describe: builds the pool, and applies any pending
    /// schema migration (or, with [`PostgresOptions::migrate_on_open`] off, checks that
    /// the schema is this build's). A first connection is made here, so a wrong address
    /// or password fails now rather than at the first request.
    pub async fn open_with(options: PostgresOptions) -> Result<Self, StorageError> {
        let manager = Manager::from_config(
            options.session_config(),
            NoTls,
            // `Fast`: a connection goes back into use unless it is closed. A broken one
            // fails its next call, which the engine answers as temporarily_unavailable,
            // and is then replaced.
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| {
                StorageError::with_source(StorageErrorKind::Backend, "build the pool", e)
            })?;
        let store = Self { pool };
        if options.migrate {
            store.migrate().await?;
        } else {
            store.check_schema().await?;
        }
        Ok(store)
    }

    /// A store on a pool of the caller's (one with a TLS connector, say), after applying
    /// any pending schema migration. The pool's connection settings are the caller's: a
    /// statement timeout (see [`PostgresOptions::statement_timeout`]) is worth setting in
    /// them.
    pub async fn from_pool(pool: Pool) -> Result<Self, StorageError> {
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending schema migrations, each in one transaction, under a lock that
    /// makes instances starting together apply each once. A database written by a newer
    /// version is refused and left untouched.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut connection = self.connection().await?;
        migrate(&mut connection).await
    }

    /// The schema version of the database: 0 if finrift never migrated it, else at
    /// most [`SCHEMA_VERSION`] (a newer one is an error).
    pub async fn schema_version(&self) -> Result<i64, StorageError> {
        let connection = self.connection().await?;
        let version = read_schema_version(&**connection).await?;
        check_version(version)?;
        Ok(version)
    }

    async fn check_schema(&self) -> Result<(), StorageError> {
        let version = self.schema_version().await?;
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        Err(StorageError::new(
            StorageErrorKind::Backend,
            format!(
                "the database has finrift schema version {version} and this build needs \
                 {SCHEMA_VERSION}: migrate it (PostgresStore::migrate, or `finrift migrate`)"
            ),
        ))
    }

    /// A connection from the pool.
    pub(crate) async fn connection(&self) -> Result<Object, StorageError> {
        self.pool.get().await.map_err(pool_error)
    }
}
