//! The demo's settings: where it keeps its data, and what its environment says.

use std::path::PathBuf;

use super::StartError;

/// Where the demo keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// In memory, with a fresh signing key: everything is gone at exit.
    Memory,
    /// A SQLite file; its signing keys are kept beside it (see [`key_dir_path`](super::key_dir_path)).
    File(PathBuf),
    /// A PostgreSQL database that several instances of the demo may share, its signing
    /// keys kept in it, sealed under the key-encryption key.
    Postgres {
        /// The connection URL (`postgres://user@host:port/database`).
        url: String,
        /// The key-encryption key's text (base64url of 32 bytes), the same for every
        /// instance.
        key_encryption_key: Secret,
    },
}

/// A value from the environment that must not reach a log: `Debug` shows its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// The demo's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The address to listen on (`FINRIFT_ADDR`, default `127.0.0.1:8080`).
    pub addr: String,
    /// The storage (`FINRIFT_DB`: a file name, default `finrift-demo.sqlite3`,
    /// `:memory:`, or a `postgres://` URL, which needs `FINRIFT_KEY_ENCRYPTION_KEY`).
    pub database: Database,
    /// The issuer (`FINRIFT_ISSUER`), when it is not `http://<the address listened on>`:
    /// several instances behind one address share one issuer.
    pub issuer: Option<String>,
    /// How often an instance on PostgreSQL looks for signing keys changed by another
    /// (`FINRIFT_KEY_REFRESH_SECS`, default 5 seconds).
    pub key_refresh: std::time::Duration,
    /// The key that seals pending authorizations and binds consent forms
    /// (`FINRIFT_SEALING_KEY`: base64url of at least 32 bytes), the same for every
    /// instance so that a login page shown by one can be submitted to another. Without
    /// it, each start draws its own.
    pub sealing_key: Option<Secret>,
    /// The RSA key (PKCS#8, PEM or DER) that signs ID tokens (`FINRIFT_RS256_KEY`);
    /// without it, the demo key published in the repository.
    pub rs256_key: Option<PathBuf>,
}

impl Settings {
    /// The defaults, on `database`.
    pub fn new(database: Database) -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            database,
            issuer: None,
            key_refresh: std::time::Duration::from_secs(5),
            sealing_key: None,
            rs256_key: None,
        }
    }

    /// Reads `FINRIFT_ADDR`, `FINRIFT_DB`, `FINRIFT_KEY_ENCRYPTION_KEY`, `FINRIFT_ISSUER`,
    /// `FINRIFT_KEY_REFRESH_SECS`, `FINRIFT_SEALING_KEY` and `FINRIFT_RS256_KEY`.
    pub fn from_env() -> Result<Self, StartError> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let database = match var("FINRIFT_DB") {
            Some(name) if name == ":memory:" => Database::Memory,
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let key = var("FINRIFT_KEY_ENCRYPTION_KEY").ok_or(
                    "FINRIFT_DB is a PostgreSQL URL, so FINRIFT_KEY_ENCRYPTION_KEY must hold the \
                     key (base64url of 32 bytes, the same for every instance) that seals the \
                     signing keys in the database: `finrift keys new-encryption-key` makes one",
                )?;
                Database::Postgres {
                    url,
                    key_encryption_key: Secret(key),
                }
            }
            Some(name) => Database::File(name.into()),
            None => Database::File("finrift-demo.sqlite3".into()),
        };
        let key_refresh = match var("FINRIFT_KEY_REFRESH_SECS") {
            Some(text) => match text.parse::<u64>() {
                Ok(seconds) if seconds > 0 => std::time::Duration::from_secs(seconds),
                _ => {
                    return Err("FINRIFT_KEY_REFRESH_SECS must be a whole number of seconds".into())
                }
            },
            None => std::time::Duration::from_secs(5),
        };
        Ok(Self {
            addr: var("FINRIFT_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()),
            database,
            issuer: var("FINRIFT_ISSUER"),
            key_refresh,
            sealing_key: var("FINRIFT_SEALING_KEY").map(Secret),
            rs256_key: var("FINRIFT_RS256_KEY").map(PathBuf::from),
        })
    }
}
