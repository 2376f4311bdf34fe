//! The demo's signing keys: where they live for each kind of database, and their
//! rotation.
//!
//! - In memory: one fresh key, gone at exit.
//! - On a SQLite file: a [`KeyDirectory`] beside it (`<db>.keys`), adopting the single key
//!   file of earlier versions (`<db>.es256.pk8`) with its `kid`.
//! - On PostgreSQL: a [`KeyVault`] in the database every instance shares, sealed under
//!   `FINRIFT_KEY_ENCRYPTION_KEY`; each instance polls it, so a rotation made by one (or
//!   by the admin CLI) is served by all within one poll interval.

use std::path::{Path, PathBuf};
use std::time::Duration;

use oauth_core::jose::{
    Algorithm, KeyDirectory, KeyEncryptionKey, KeySet, KeyVault, RotationSchedule, RotationStep,
    SigningKey,
};
use oauth_core::Clock as _;
use oauth_core::{RandomSource, SystemClock};
use oauth_store_postgres::PostgresStore;

use super::StartError;

/// Where the signing keys of the database at `db` are kept: the key directory
/// `<db>.keys` (see [`KeyDirectory`]).
pub fn key_dir_path(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push(".keys");
    PathBuf::from(path)
}

/// The single key file earlier versions of the demo kept beside the database,
/// `<db>.es256.pk8`; adopted as the current key of a new key directory.
pub(super) fn legacy_key_path(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push(".es256.pk8");
    PathBuf::from(path)
}

/// Where a running demo's keys live.
#[derive(Debug)]
pub(super) enum DemoKeys {
    /// In memory: nothing to rotate or reload.
    Fresh,
    /// A key directory beside a SQLite file.
    Directory(KeyDirectory),
    /// Sealed in the PostgreSQL database the instances share (boxed: the vault is far
    /// larger than the other variants).
    Shared(Box<KeyVault<PostgresStore>>),
}

impl DemoKeys {
    /// A fresh key, for a demo in memory.
    pub(super) fn fresh() -> Result<(Self, KeySet), StartError> {
        let kid = RandomSource::new().secret()?;
        let (key, _pkcs8) = SigningKey::generate(Algorithm::Es256, &kid[..16])?;
        Ok((Self::Fresh, KeySet::new(key)))
    }

    /// The key directory of the SQLite file at `db`: as kept, or on first start the
    /// legacy key file (keeping its `kid`), or a new ES256 key.
    pub(super) fn beside(db: &Path) -> Result<(Self, KeySet), StartError> {
        let dir = KeyDirectory::open(key_dir_path(db))?;
        let now = SystemClock.now();
        if let Some(keys) = dir.load()? {
            return Ok((Self::Directory(dir), keys));
        }
        let legacy = legacy_key_path(db);
        let keys = match std::fs::read(&legacy) {
            Ok(pkcs8) => {
                let keys = dir.import_current(Algorithm::Es256, &pkcs8, now)?;
                tracing::info!(
                    "adopted the signing key {} into {}",
                    legacy.display(),
                    dir.path().display()
                );
                keys
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let keys = dir.load_or_create(Algorithm::Es256, now)?;
                tracing::info!(
                    "generated a new ES256 signing key in {}",
                    dir.path().display()
                );
                keys
            }
            Err(error) => return Err(format!("{}: {error}", legacy.display()).into()),
        };
        Ok((Self::Directory(dir), keys))
    }

    /// The key set kept in `store`, sealed under `key_encryption_key` (base64url of 32
    /// bytes): as kept, or a new ES256 key when the database has none (of instances
    /// starting together, one creates it and the others load it).
    pub(super) async fn shared(
        store: PostgresStore,
        key_encryption_key: &str,
    ) -> Result<(Self, KeySet), StartError> {
        let key = KeyEncryptionKey::from_base64url(key_encryption_key)
            .map_err(|e| format!("FINRIFT_KEY_ENCRYPTION_KEY: {e}"))?;
        let vault = KeyVault::new(store, key);
        let keys = vault
            .load_or_create(Algorithm::Es256, SystemClock.now())
            .await?;
        Ok((Self::Shared(Box::new(vault)), keys))
    }

    /// Takes the step of the rotation procedure that is due
    /// ([`RotationSchedule::default`]); answers it, and the new key set when something
    /// changed.
    pub(super) async fn rotate(&self) -> Result<(RotationStep, Option<KeySet>), StartError> {
        let now = SystemClock.now();
        let schedule = RotationSchedule::default();
        match self {
            Self::Fresh => Ok((RotationStep::Nothing, None)),
            Self::Directory(dir) => {
                let step = dir.advance(Algorithm::Es256, &schedule, now)?;
                let keys = if step.changed() { dir.load()? } else { None };
                Ok((step, keys))
            }
            Self::Shared(vault) => {
                let step = vault.advance(Algorithm::Es256, &schedule, now).await?;
                // Whatever this or another instance changed, served now.
                Ok((step, vault.refresh().await?))
            }
        }
    }

    /// The key set, if another instance (or the admin CLI) changed it since this one
    /// last loaded it. Only shared keys change behind the demo's back.
    pub(super) async fn refresh(&self) -> Result<Option<KeySet>, StartError> {
        match self {
            Self::Shared(vault) => Ok(vault.refresh().await?),
            Self::Fresh | Self::Directory(_) => Ok(None),
        }
    }

    /// How often [`DemoKeys::refresh`] is worth calling: `poll` for shared keys, never
    /// otherwise.
    pub(super) fn poll_interval(&self, poll: Duration) -> Option<Duration> {
        matches!(self, Self::Shared(_)).then_some(poll)
    }
}
