//! A deployment's signing keys kept sealed in a [`KeySetStore`] that every instance
//! shares, with the rotation procedure of [`KeyDirectory`] run on it.

use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use super::algorithm::Algorithm;
use super::key_directory::{check_storable, generate, KeyDirectory};
use super::key_error::KeyError;
use super::key_manifest::{KeyEntry, KeyRole};
use super::key_seal::KeyEncryptionKey;
use super::key_set::KeySet;
use super::rotation::{Due, RotationSchedule, RotationStep};
use super::sealed_key_set::Contents;
use crate::storage::KeySetStore;

/// How many times an update reads the set and tries to write its change before it
/// reports [`KeyError::Contended`]: once, and once more after losing a race.
const ATTEMPTS: usize = 2;

/// A deployment's signing keys, kept in a [`KeySetStore`] that every instance of the
/// service shares (the SQLite file or PostgreSQL database they all use), sealed under the
/// deployment's [`KeyEncryptionKey`].
///
/// It does for a store what [`KeyDirectory`] does for a directory, with the same roles
/// (current, next, previous), the same [`RotationSchedule`] and the same
/// [`RotationStep`]s, so that every instance signs with the same key and publishes the
/// same JWKS:
///
/// - At start, each instance calls [`KeyVault::load_or_create`] and hands the set to its
///   engine. When several start at once on an empty store, one creates the first key and
///   the others load it (the store's compare-and-swap picks one).
/// - Every few seconds, each instance calls [`KeyVault::refresh`], which reads only the
///   stored version unless it changed, and hands a set it answers to the engine
///   ([`Engine::replace_signing_keys`](crate::Engine::replace_signing_keys)). A change
///   made by one instance is served by all within one poll interval, so
///   [`RotationSchedule::activate_after`] must be well over that interval (it is a day by
///   default): a next key is then in every instance's JWKS long before any signs with it.
/// - Every hour or so, any instance (or all: each step is one compare-and-swap, so two
///   instances never both take it) calls [`KeyVault::advance`].
/// - An admin tool calls [`KeyVault::list`], [`KeyVault::publish_next`],
///   [`KeyVault::rotate_now`] and [`KeyVault::retire`], and moves a [`KeyDirectory`]'s
///   keys into the store with [`KeyVault::import_directory`].
///
/// Every change is a new sealed value written over the old one only if nobody else wrote
/// meanwhile; a change that loses that race reads the winner's set and is worked out
/// again, once, before [`KeyError::Contended`] is reported. The store sees only sealed
/// bytes: the private keys never reach it, or a dump of it, in clear. A set sealed under
/// another key-encryption key is refused with [`KeyError::WrongEncryptionKey`], altered
/// bytes with [`KeyError::UnreadableKeySet`].
///
/// ```no_run
/// use std::time::Duration;
///
/// use oauth_core::jose::{Algorithm, KeyEncryptionKey, KeyVault, RotationSchedule};
/// use oauth_core::{Clock, Engine, KeySetStore, Storage, SystemClock};
///
/// async fn serve_keys<S: Storage + 'static>(
///     engine: &Engine<S, SystemClock>,
///     store: impl KeySetStore,
/// ) -> Result<(), oauth_core::jose::KeyError> {
///     // The same key in every instance's configuration (say FINRIFT_KEY_ENCRYPTION_KEY).
///     let text = std::env::var("FINRIFT_KEY_ENCRYPTION_KEY").unwrap_or_default();
///     let vault = KeyVault::new(store, KeyEncryptionKey::from_base64url(&text)?);
///     engine.replace_signing_keys(vault.load_or_create(Algorithm::Es256, SystemClock.now()).await?);
///
///     let schedule = RotationSchedule::default(); // activate_after: a day, >> 5 s
///     let mut polls = 0u32;
///     loop {
///         tokio::time::sleep(Duration::from_secs(5)).await;
///         polls += 1;
///         if polls % 720 == 0 {
///             // About hourly; a step taken here is served below, by every instance.
///             vault.advance(Algorithm::Es256, &schedule, SystemClock.now()).await?;
///         }
///         if let Some(keys) = vault.refresh().await? {
///             engine.replace_signing_keys(keys);
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct KeyVault<S> {
    store: S,
    key: KeyEncryptionKey,
    /// The version of the set this vault last handed out, for [`KeyVault::refresh`].
    served: Mutex<Option<u64>>,
}

/// What an update makes of the set it read: the contents to write (`None`: nothing to
/// write) and the step to report.
type Change = (Option<Contents>, RotationStep);

impl<S: KeySetStore> KeyVault<S> {
    /// A vault on `store`, sealing with `key`. Nothing is read yet.
    pub fn new(store: S, key: KeyEncryptionKey) -> Self {
        Self {
            store,
            key,
            served: Mutex::new(None),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The stored key set, or `None` when the store holds none yet. Every key is checked
    /// (opened, its DER against its kid, loaded).
    pub async fn load(&self) -> Result<Option<KeySet>, KeyError> {
        match self.read().await? {
            Some((version, contents)) => self.serve(version, &contents).map(Some),
            None => Ok(None),
        }
    }

    /// The stored key set; when the store holds none, a new `alg` key (ES256 or EdDSA) is
    /// generated and stored as the current key. Of several vaults that find the store
    /// empty at once, in any number of processes, one stores its key and every one of
    /// them answers that key set.
    pub async fn load_or_create(
        &self,
        alg: Algorithm,
        now: OffsetDateTime,
    ) -> Result<KeySet, KeyError> {
        for _ in 0..ATTEMPTS {
            if let Some((version, contents)) = self.read().await? {
                return self.serve(version, &contents);
            }
            check_storable(alg)?;
            let (der, _) = generate(alg)?;
            let contents = Contents::first(alg, der, now);
            if self.write(None, &contents).await? {
                return self.serve(1, &contents);
            }
            // Another vault stored the first set meanwhile: the next read finds it.
        }
        Err(KeyError::Contended)
    }

    /// A new key set when the stored one changed since this vault last answered one (from
    /// any method that answers a [`KeySet`]), else `None`. Cheap when nothing changed:
    /// one read of the store and a comparison of versions, nothing decrypted. Call it
    /// every few seconds and hand what it answers to the engine. `None` also when the
    /// store holds no key set (the engine keeps the keys it has).
    pub async fn refresh(&self) -> Result<Option<KeySet>, KeyError> {
        let Some(stored) = self.store.load_key_set().await? else {
            return Ok(None);
        };
        if *self.served() == Some(stored.version()) {
            return Ok(None);
        }
        let contents = self.open(stored.version(), stored.sealed())?;
        self.serve(stored.version(), &contents).map(Some)
    }

    /// The keys of the stored set, with their roles and since when they have them (public
    /// data only), or an empty list when the store holds none.
    pub async fn list(&self) -> Result<Vec<KeyEntry>, KeyError> {
        Ok(self
            .read()
            .await?
            .map(|(_, contents)| contents.manifest.entries())
            .unwrap_or_default())
    }

    /// Takes the one step of the rotation that is due at `now`, if any, and says which,
    /// exactly as [`KeyDirectory::advance`] does: retire the oldest previous key past
    /// `retire_after`; else activate the next key past `activate_after`; else publish a
    /// new `alg` key as the next key once the current one has signed `publish_next_after`.
    /// On an empty store it creates the current key ([`RotationStep::Created`]).
    ///
    /// Any number of instances may call it: when two take a step at once, one writes it,
    /// and the other works the step out again from the winner's set (finding, usually,
    /// that nothing more is due). The set it wrote reaches every instance's engine
    /// through [`KeyVault::refresh`].
    pub async fn advance(
        &self,
        alg: Algorithm,
        schedule: &RotationSchedule,
        now: OffsetDateTime,
    ) -> Result<RotationStep, KeyError> {
        schedule.check()?;
        check_storable(alg)?;
        self.update(|stored| {
            let Some(mut contents) = stored else {
                return created(alg, now);
            };
            let step = match schedule.due(&contents.manifest, now) {
                Due::Nothing => return Ok((None, RotationStep::Nothing)),
                Due::Retire(kid) => {
                    contents.remove(&kid);
                    RotationStep::Retired { kid }
                }
                Due::Activate => match contents.manifest.activate_next(now) {
                    Some(kid) => RotationStep::Activated { kid },
                    None => return Ok((None, RotationStep::Nothing)),
                },
                Due::Publish => {
                    let (der, _) = generate(alg)?;
                    let kid = contents.add(alg, der, KeyRole::Next, now);
                    RotationStep::Published { kid }
                }
            };
            Ok((Some(contents), step))
        })
        .await
    }

    /// Publishes a new `alg` key as the next key now, whatever the schedule: it joins the
    /// JWKS at once, and [`KeyVault::advance`] makes it sign once it has been published
    /// `activate_after`. When a next key is published already, nothing is done
    /// ([`RotationStep::Nothing`]): that key's turn comes first.
    pub async fn publish_next(
        &self,
        alg: Algorithm,
        now: OffsetDateTime,
    ) -> Result<RotationStep, KeyError> {
        check_storable(alg)?;
        self.update(|stored| {
            let Some(mut contents) = stored else {
                return created(alg, now);
            };
            if contents.manifest.with_role(KeyRole::Next).is_some() {
                return Ok((None, RotationStep::Nothing));
            }
            let (der, _) = generate(alg)?;
            let kid = contents.add(alg, der, KeyRole::Next, now);
            Ok((Some(contents), RotationStep::Published { kid }))
        })
        .await
    }

    /// Switches keys now, whatever the schedule: the next key signs (one is generated,
    /// for `alg`, if none is published), and the current key becomes previous. For when a
    /// key must stop signing at once (it may have leaked): tokens signed by the new key
    /// are refused by resource servers whose cached JWKS predates it, until they fetch it
    /// again, and by this deployment's instances until their next
    /// [`KeyVault::refresh`]. To take a compromised key out of the JWKS as well, then
    /// [`KeyVault::retire`] it.
    pub async fn rotate_now(
        &self,
        alg: Algorithm,
        now: OffsetDateTime,
    ) -> Result<RotationStep, KeyError> {
        check_storable(alg)?;
        self.update(|stored| {
            let Some(mut contents) = stored else {
                return created(alg, now);
            };
            if contents.manifest.with_role(KeyRole::Next).is_none() {
                let (der, _) = generate(alg)?;
                contents.add(alg, der, KeyRole::Next, now);
            }
            match contents.manifest.activate_next(now) {
                Some(kid) => Ok((Some(contents), RotationStep::Activated { kid })),
                None => Ok((None, RotationStep::Nothing)),
            }
        })
        .await
    }

    /// Drops the previous key `kid` now, whatever the schedule: it leaves the JWKS, and
    /// tokens it signed stop verifying (at each resource server once it fetches the
    /// JWKS again). The current and the next key are refused
    /// ([`KeyError::NotRetirable`]), an unknown kid too ([`KeyError::UnknownKey`]).
    pub async fn retire(&self, kid: &str) -> Result<RotationStep, KeyError> {
        self.update(|stored| {
            let unknown = || KeyError::UnknownKey {
                kid: kid.to_owned(),
            };
            let mut contents = stored.ok_or_else(unknown)?;
            let role = contents.manifest.get(kid).ok_or_else(unknown)?.role;
            if role != KeyRole::Previous {
                return Err(KeyError::NotRetirable {
                    kid: kid.to_owned(),
                    role,
                });
            }
            contents.remove(kid);
            Ok((
                Some(contents),
                RotationStep::Retired {
                    kid: kid.to_owned(),
                },
            ))
        })
        .await
    }

    /// Moves the keys of `directory` into an empty store: every key with its kid, role
    /// and since, so tokens they signed keep verifying and the rotation goes on where the
    /// directory left it. Answers the set, or `None` when the directory holds no keys
    /// (nothing is written). A store that holds a key set already is refused
    /// ([`KeyError::StoreInUse`]). The directory is left as it is: delete it once every
    /// instance uses the store. It reads files, blocking, as [`KeyDirectory`] does.
    pub async fn import_directory(
        &self,
        directory: &KeyDirectory,
    ) -> Result<Option<KeySet>, KeyError> {
        let Some((manifest, ders)) = directory.export()? else {
            return Ok(None);
        };
        let contents = Contents::from_parts(manifest, ders)?;
        // Every key loads before anything is written.
        contents.key_set()?;
        if self.store.load_key_set().await?.is_some() || !self.write(None, &contents).await? {
            return Err(KeyError::StoreInUse);
        }
        self.serve(1, &contents).map(Some)
    }

    /// Reads the set, works out `change` on it, and writes the result if nobody wrote
    /// meanwhile; after a lost race, once more on the winner's set.
    async fn update(
        &self,
        change: impl Fn(Option<Contents>) -> Result<Change, KeyError>,
    ) -> Result<RotationStep, KeyError> {
        for _ in 0..ATTEMPTS {
            let stored = self.read().await?;
            let version = stored.as_ref().map(|(version, _)| *version);
            if let Some((_, contents)) = &stored {
                // A set with a key that does not load is not changed further.
                contents.key_set()?;
            }
            let (contents, step) = change(stored.map(|(_, contents)| contents))?;
            let Some(contents) = contents else {
                return Ok(step);
            };
            if self.write(version, &contents).await? {
                return Ok(step);
            }
        }
        Err(KeyError::Contended)
    }

    /// The stored set, opened and parsed, with its version.
    async fn read(&self) -> Result<Option<(u64, Contents)>, KeyError> {
        match self.store.load_key_set().await? {
            Some(stored) => Ok(Some((
                stored.version(),
                self.open(stored.version(), stored.sealed())?,
            ))),
            None => Ok(None),
        }
    }

    fn open(&self, version: u64, sealed: &[u8]) -> Result<Contents, KeyError> {
        Contents::parse(&self.key.open(version, sealed)?)
    }

    /// Seals `contents` for the version after `expected` and writes it if the store still
    /// holds `expected`; answers whether it did.
    async fn write(&self, expected: Option<u64>, contents: &Contents) -> Result<bool, KeyError> {
        let version = match expected {
            None => 1,
            Some(version) => version.checked_add(1).ok_or(KeyError::UnreadableKeySet(
                "its version cannot grow further",
            ))?,
        };
        let sealed = self.key.seal(version, &contents.to_bytes()?)?;
        Ok(self.store.replace_key_set(expected, sealed).await?)
    }

    /// The key set of `contents`, noted as the one served at `version`.
    fn serve(&self, version: u64, contents: &Contents) -> Result<KeySet, KeyError> {
        let set = contents.key_set()?;
        *self.served() = Some(version);
        Ok(set)
    }

    fn served(&self) -> MutexGuard<'_, Option<u64>> {
        // The guarded value is a plain number, whole whatever a panic interrupted.
        self.served
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The change that creates the first set: one new `alg` key, current since `now`.
fn created(alg: Algorithm, now: OffsetDateTime) -> Result<Change, KeyError> {
    let (der, kid) = generate(alg)?;
    Ok((
        Some(Contents::first(alg, der, now)),
        RotationStep::Created { kid },
    ))
}
