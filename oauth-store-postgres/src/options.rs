//! Where the database is, and how the store uses it.

use std::time::Duration;

use oauth_core::{StorageError, StorageErrorKind};

/// How [`PostgresStore::open_with`](crate::PostgresStore::open_with) connects.
///
/// ```
/// use std::time::Duration;
/// use oauth_store_postgres::PostgresOptions;
///
/// let options = PostgresOptions::from_url("postgres://finrift@127.0.0.1:5432/auth")?
///     .pool_size(16)
///     .wait_timeout(Duration::from_millis(500))
///     .statement_timeout(Duration::from_secs(2));
/// # let _ = options;
/// # Ok::<(), oauth_core::StorageError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) pool_size: usize,
    pub(crate) wait_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) statement_timeout: Duration,
    pub(crate) schema: Option<String>,
    pub(crate) migrate: bool,
}

impl PostgresOptions {
    /// The database a URL names (`postgres://user:password@host:port/database?…`, or
    /// the `key=value` form libpq takes), with 8 connections, a 1 second wait for a free
    /// connection, a 5 second connect timeout and a 5 second statement timeout, and
    /// migrations applied on open. A URL that does not parse is refused; its text is not
    /// repeated in the error (it may hold a password).
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            StorageError::new(
                StorageErrorKind::Backend,
                "the PostgreSQL URL does not parse (expected postgres://user@host:port/database)",
            )
        })?;
        Ok(Self::from_config(config))
    }

    /// The database a `tokio_postgres` configuration names, with the defaults of
    /// [`PostgresOptions::from_url`].
    pub fn from_config(config: tokio_postgres::Config) -> Self {
        Self {
            config,
            pool_size: 8,
            wait_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
            schema: None,
            migrate: true,
        }
    }

    /// How many connections the pool keeps at most (at least 1). Each instance of a
    /// service holds this many; the server's `max_connections` bounds their sum.
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections.max(1);
        self
    }

    /// How long a call waits for a free connection before it fails with
    /// [`StorageErrorKind::Busy`] (answered as `temporarily_unavailable`).
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// How long connecting to the server may take before the call fails with
    /// [`StorageErrorKind::Unavailable`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one statement, waits for row locks included, may run before the server
    /// cancels it and the call fails with [`StorageErrorKind::Unavailable`]. Every
    /// statement of the store touches a handful of rows through an index; a long one is a
    /// database in trouble, and a request should fail rather than hold its connection.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Keeps finrift's tables in the schema `name` (which must exist) instead of the first
    /// schema of the role's `search_path` (usually `public`). The name must be a plain
    /// identifier: letters, digits and `_`, starting with a letter or `_`.
    pub fn schema(mut self, name: &str) -> Result<Self, StorageError> {
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.len() <= 63;
        if !plain {
            return Err(StorageError::new(
                StorageErrorKind::Backend,
                "a schema name must be a plain identifier of at most 63 characters",
            ));
        }
        self.schema = Some(name.to_owned());
        Ok(self)
    }

    /// Whether opening applies pending schema migrations (the default). Off, opening
    /// only checks that the schema is this build's, and an operator runs
    /// [`PostgresStore::migrate`](crate::PostgresStore::migrate) (or the admin CLI's
    /// `finrift migrate`) when deploying a new version.
    pub fn migrate_on_open(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The connection settings with this store's session settings added.
    pub(crate) fn session_config(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.connect_timeout(self.connect_timeout);
        let mut settings = format!(
            "-c statement_timeout={}",
            self.statement_timeout.as_millis().max(1)
        );
        if let Some(schema) = &self.schema {
            settings.push_str(&format!(" -c search_path={schema}"));
        }
        // Settings a user put in the URL's `options` come first; ours follow.
        let options = match config.get_options() {
            Some(theirs) if !theirs.is_empty() => format!("{theirs} {settings}"),
            _ => settings,
        };
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name("finrift");
        }
        config
    }
}
