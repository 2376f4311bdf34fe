//! A directory on disk that keeps a deployment's signing keys across restarts, and runs
//! the rotation procedure of [`KeySet`] on a schedule.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use super::algorithm::Algorithm;
use super::key_error::KeyError;
use super::key_files::{ensure_private_dir, read_bounded, remove, write_private_atomically};
use super::key_manifest::{file_name_for, Entry, KeyEntry, KeyRole, Manifest, MAX_MANIFEST_LEN};
use super::key_set::KeySet;
use super::keys::SigningKey;
use super::pem::{kid_for_pkcs8, pkcs8_from_file_bytes, pkcs8_to_pem, MAX_PEM_LEN};
use super::rotation::{Due, RotationSchedule, RotationStep};

/// A directory's manifest and, in its order, each key's PKCS#8 DER.
pub(super) type Exported = (Manifest, Vec<Vec<u8>>);

/// The manifest's file name inside a key directory.
pub const MANIFEST_FILE: &str = "keys.json";

/// A directory that keeps a deployment's signing keys across restarts.
///
/// Each key is one file of PKCS#8 PEM, named after its `kid` and readable by its owner
/// only (mode 0600 on unix; a directory created here is 0700). The manifest `keys.json`
/// says which key is `current` (signs), which is `next` (published, not signing yet) and
/// which are `previous` (verify tokens they signed), and since when. Every change writes
/// the manifest atomically, so a crash leaves the old manifest or the new one. Key ids are
/// [`kid_for_pkcs8`] of the key's DER, so a key keeps its `kid` wherever it is loaded.
///
/// Only asymmetric keys (ES256, EdDSA, PS256, RS256) are kept: an HS256 secret is refused.
///
/// Typical use: at start, [`KeyDirectory::load_or_create`] and hand the set to the
/// engine; then, every hour or so, [`KeyDirectory::advance`], and when it did something,
/// load the set again and give it to the engine (and to every other instance that serves
/// the same issuer). Only one process should advance a directory: this type serializes
/// its own calls, but not those of two processes. Several instances that share a database
/// keep their keys in it instead, with a [`KeyVault`](super::KeyVault), which can import a
/// directory's keys.
///
/// ```no_run
/// use oauth_core::jose::{Algorithm, KeyDirectory, RotationSchedule};
/// # fn main() -> Result<(), oauth_core::jose::KeyError> {
/// # let now = time::macros::datetime!(2030-01-01 00:00 UTC);
/// let dir = KeyDirectory::open("/var/lib/finrift/keys")?;
/// let keys = dir.load_or_create(Algorithm::Es256, now)?; // give to the engine
///
/// // Later, periodically, with the engine's clock:
/// let step = dir.advance(Algorithm::Es256, &RotationSchedule::default(), now)?;
/// if step.changed() {
///     let keys = dir.load_or_create(Algorithm::Es256, now)?; // give to the engine again
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct KeyDirectory {
    path: PathBuf,
    // Serializes read-modify-write cycles of the manifest within this process.
    lock: Mutex<()>,
}

impl KeyDirectory {
    /// Opens the key directory at `path`, creating it (mode 0700 on unix) if it is missing.
    /// Nothing is read yet.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, KeyError> {
        let path = path.into();
        ensure_private_dir(&path)?;
        Ok(Self {
            path,
            lock: Mutex::new(()),
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key set kept here, or `None` when the directory holds no manifest yet. Every
    /// key file the manifest names is read and checked against its `kid`.
    pub fn load(&self) -> Result<Option<KeySet>, KeyError> {
        let _guard = self.guard();
        match self.read_manifest()? {
            Some(manifest) => self.key_set(&manifest).map(Some),
            None => Ok(None),
        }
    }

    /// The key set kept here; on first start (no manifest), a new `alg` key is generated
    /// and stored as the current key.
    pub fn load_or_create(&self, alg: Algorithm, now: OffsetDateTime) -> Result<KeySet, KeyError> {
        let _guard = self.guard();
        let manifest = match self.read_manifest()? {
            Some(manifest) => manifest,
            None => self.create(alg, now)?.0,
        };
        self.key_set(&manifest)
    }

    /// Adopts an existing key as the current key of an empty directory, such as the key
    /// file a deployment used before it kept a key directory. `pkcs8` is the file's
    /// bytes, DER or PEM; the key keeps its id, [`kid_for_pkcs8`] of the DER. A directory
    /// that already holds keys is refused ([`KeyError::DirectoryInUse`]): load it instead.
    pub fn import_current(
        &self,
        alg: Algorithm,
        pkcs8: &[u8],
        now: OffsetDateTime,
    ) -> Result<KeySet, KeyError> {
        check_storable(alg)?;
        let _guard = self.guard();
        if self.read_manifest()?.is_some() {
            return Err(KeyError::DirectoryInUse {
                path: self.path.display().to_string(),
            });
        }
        let der = pkcs8_from_file_bytes(pkcs8)?;
        let kid = kid_for_pkcs8(&der);
        // Load it before storing it, so a file that is no key is never adopted.
        SigningKey::from_pkcs8(alg, &kid, &der)?;
        let entry = self.store_key(alg, &der, KeyRole::Current, now)?;
        let manifest = Manifest { keys: vec![entry] };
        self.write_manifest(&manifest)?;
        self.key_set(&manifest)
    }

    /// Takes the one step of the rotation that is due at `now`, if any, and says which:
    ///
    /// 1. retire the oldest previous key that stopped signing `retire_after` ago or more,
    ///    deleting its file;
    /// 2. else activate the next key once it has been published `activate_after` or more;
    /// 3. else publish a new `alg` key as the next key once the current key has signed for
    ///    `publish_next_after` or more, if there is no next key.
    ///
    /// `alg` is the algorithm of the keys it generates (ES256 or EdDSA; RS256 keys cannot
    /// be generated, so a directory of RS256 keys can be loaded but not advanced). On an
    /// empty directory it creates the current key, as
    /// [`KeyDirectory::load_or_create`] does. One step per call keeps each change small
    /// and reported; call it periodically (every hour, say). When the step
    /// [`changed`](RotationStep::changed) the set, load it again and hand it to the engine
    /// at once: a published key only counts as known from the moment it is served.
    ///
    /// A retired key leaves the manifest before its file is deleted, so a crash never
    /// leaves a manifest naming a missing file; if the deletion fails, the error says so
    /// and the key, no longer used, stays on disk.
    pub fn advance(
        &self,
        alg: Algorithm,
        schedule: &RotationSchedule,
        now: OffsetDateTime,
    ) -> Result<RotationStep, KeyError> {
        schedule.check()?;
        check_storable(alg)?;
        let _guard = self.guard();
        let Some(mut manifest) = self.read_manifest()? else {
            let (_, kid) = self.create(alg, now)?;
            return Ok(RotationStep::Created { kid });
        };
        // Every key is read first: a directory with a broken key is not rotated further.
        self.key_set(&manifest)?;

        match schedule.due(&manifest, now) {
            Due::Nothing => Ok(RotationStep::Nothing),
            Due::Retire(kid) => {
                let old = manifest.remove(&kid);
                self.write_manifest(&manifest)?;
                if let Some(old) = old {
                    remove(&self.path.join(&old.file))?;
                }
                Ok(RotationStep::Retired { kid })
            }
            Due::Activate => match manifest.activate_next(now) {
                Some(kid) => {
                    self.write_manifest(&manifest)?;
                    Ok(RotationStep::Activated { kid })
                }
                None => Ok(RotationStep::Nothing),
            },
            Due::Publish => {
                let (der, kid) = generate(alg)?;
                // The key file is written before the manifest names it: a crash in between
                // leaves an unused file, never a manifest naming a missing one.
                let entry = self.store_key(alg, &der, KeyRole::Next, now)?;
                manifest.keys.push(entry);
                self.write_manifest(&manifest)?;
                Ok(RotationStep::Published { kid })
            }
        }
    }

    /// The keys kept here, with their roles and since when they have them (public data
    /// only), or an empty list when the directory holds no manifest yet.
    pub fn list(&self) -> Result<Vec<KeyEntry>, KeyError> {
        let _guard = self.guard();
        Ok(self
            .read_manifest()?
            .map(|manifest| manifest.entries())
            .unwrap_or_default())
    }

    /// The manifest and, in its order, each key's PKCS#8 DER, every key checked as
    /// [`KeyDirectory::load`] checks it; `None` for a directory without a manifest. For
    /// moving the keys elsewhere, kids and roles kept.
    pub(super) fn export(&self) -> Result<Option<Exported>, KeyError> {
        let _guard = self.guard();
        let Some(manifest) = self.read_manifest()? else {
            return Ok(None);
        };
        self.key_set(&manifest)?;
        let ders = manifest
            .keys
            .iter()
            .map(|entry| self.read_der(entry))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((manifest, ders)))
    }

    fn guard(&self) -> MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic elsewhere leaves nothing half-changed in it.
        self.lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn manifest_path(&self) -> PathBuf {
        self.path.join(MANIFEST_FILE)
    }

    fn read_manifest(&self) -> Result<Option<Manifest>, KeyError> {
        let path = self.manifest_path();
        match read_bounded(&path, MAX_MANIFEST_LEN)? {
            Some(bytes) => Manifest::parse(&bytes, &path).map(Some),
            None => Ok(None),
        }
    }

    fn write_manifest(&self, manifest: &Manifest) -> Result<(), KeyError> {
        write_private_atomically(&self.path, MANIFEST_FILE, &manifest.to_bytes()?)
    }

    /// Generates the first current key and writes the manifest naming it.
    fn create(&self, alg: Algorithm, now: OffsetDateTime) -> Result<(Manifest, String), KeyError> {
        check_storable(alg)?;
        let (der, kid) = generate(alg)?;
        let entry = self.store_key(alg, &der, KeyRole::Current, now)?;
        let manifest = Manifest { keys: vec![entry] };
        self.write_manifest(&manifest)?;
        Ok((manifest, kid))
    }

    /// Writes the key file for `der` and returns the manifest entry for it.
    fn store_key(
        &self,
        alg: Algorithm,
        der: &[u8],
        role: KeyRole,
        since: OffsetDateTime,
    ) -> Result<Entry, KeyError> {
        let kid = kid_for_pkcs8(der);
        let file = file_name_for(&kid);
        write_private_atomically(&self.path, &file, pkcs8_to_pem(der).as_bytes())?;
        Ok(Entry {
            kid,
            alg,
            file,
            role,
            since,
        })
    }

    fn load_key(&self, entry: &Entry) -> Result<SigningKey, KeyError> {
        let der = self.read_der(entry)?;
        SigningKey::from_pkcs8(entry.alg, &entry.kid, &der).map_err(|reason| KeyError::KeyFile {
            path: self.path.join(&entry.file).display().to_string(),
            reason: Box::new(reason),
        })
    }

    /// The PKCS#8 DER of the key file of `entry`, checked against its kid.
    fn read_der(&self, entry: &Entry) -> Result<Vec<u8>, KeyError> {
        let path = self.path.join(&entry.file);
        let bytes = read_bounded(&path, MAX_PEM_LEN)?.ok_or_else(|| KeyError::MissingKeyFile {
            path: path.display().to_string(),
            kid: entry.kid.clone(),
        })?;
        let der = pkcs8_from_file_bytes(&bytes).map_err(|reason| KeyError::KeyFile {
            path: path.display().to_string(),
            reason: Box::new(reason),
        })?;
        // The kid is derived from the contents, so a swapped or altered file is caught here
        // rather than publishing a key under another key's id.
        if kid_for_pkcs8(&der) != entry.kid {
            return Err(KeyError::KeyFileMismatch {
                path: path.display().to_string(),
                kid: entry.kid.clone(),
            });
        }
        Ok(der)
    }

    fn key_set(&self, manifest: &Manifest) -> Result<KeySet, KeyError> {
        let source = self.manifest_path().display().to_string();
        manifest.key_set(&source, |entry| self.load_key(entry))
    }
}

pub(super) fn check_storable(alg: Algorithm) -> Result<(), KeyError> {
    match alg {
        Algorithm::Hs256 => Err(KeyError::NotStorable(alg)),
        _ => Ok(()),
    }
}

/// A new key's PKCS#8 DER and its id.
pub(super) fn generate(alg: Algorithm) -> Result<(Vec<u8>, String), KeyError> {
    // The placeholder kid is never used: the key is reloaded under its derived id.
    let (_, der) = SigningKey::generate(alg, "new")?;
    let kid = kid_for_pkcs8(&der);
    Ok((der, kid))
}
