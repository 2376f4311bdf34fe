//! Tests of [`KeyVault`]: instances sharing one store agree on their keys and see each
//! other's rotations, races end with one key set, and the sealed value is refused when it
//! is not exactly what this deployment wrote, and holds no private key in clear.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::key_seal::KEY_ENCRYPTION_KEY_LEN;
use super::sealed_key_set::Contents;
use super::{
    pkcs8_to_pem, Algorithm, KeyDirectory, KeyEncryptionKey, KeyError, KeyRole, KeySet, KeyVault,
    RotationSchedule, RotationStep,
};
use crate::storage::{KeySetStore, StoredKeySet};
use crate::StorageError;

const T0: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

/// The smallest store that keeps the contract: one value behind a lock.
#[derive(Debug, Default)]
struct CellStore {
    cell: Mutex<Option<StoredKeySet>>,
    writes: Mutex<Vec<Vec<u8>>>,
}

impl CellStore {
    fn get(&self) -> Option<StoredKeySet> {
        self.cell.lock().unwrap().clone()
    }

    /// Overwrites the stored value behind the vaults' backs, as someone with write access
    /// to the database could.
    fn set(&self, version: u64, sealed: Vec<u8>) {
        *self.cell.lock().unwrap() = Some(StoredKeySet::new(version, sealed));
    }
}

#[async_trait]
impl KeySetStore for CellStore {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        // A store call takes a while, as a database's does: other tasks run meanwhile, so
        // racing vaults interleave even on one thread.
        tokio::task::yield_now().await;
        Ok(self.get())
    }

    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        tokio::task::yield_now().await;
        let mut cell = self.cell.lock().unwrap();
        if cell.as_ref().map(StoredKeySet::version) != expected_version {
            return Ok(false);
        }
        self.writes.lock().unwrap().push(sealed.clone());
        *cell = Some(StoredKeySet::new(
            expected_version.map_or(1, |v| v + 1),
            sealed,
        ));
        Ok(true)
    }
}

fn kek(seed: u8) -> KeyEncryptionKey {
    let bytes: Vec<u8> = (0..KEY_ENCRYPTION_KEY_LEN as u8)
        .map(|i| i.wrapping_mul(31) ^ seed)
        .collect();
    KeyEncryptionKey::from_bytes(&bytes).unwrap()
}

fn vault(store: &Arc<CellStore>) -> KeyVault<Arc<CellStore>> {
    KeyVault::new(store.clone(), kek(7))
}

fn kids(set: &KeySet) -> Vec<String> {
    set.verification_keys()
        .iter()
        .map(|k| k.kid().to_owned())
        .collect()
}

fn step_kid(step: &RotationStep) -> String {
    match step {
        RotationStep::Created { kid }
        | RotationStep::Published { kid }
        | RotationStep::Activated { kid }
        | RotationStep::Retired { kid } => kid.clone(),
        other => panic!("no kid in {other:?}"),
    }
}

/// Every private key of the stored set, opened with the deployment's key.
fn stored_ders(store: &CellStore) -> Vec<Vec<u8>> {
    let stored = store.get().unwrap();
    let plaintext = kek(7).open(stored.version(), stored.sealed()).unwrap();
    Contents::parse(&plaintext).unwrap().ders()
}

#[tokio::test]
async fn two_vaults_on_one_store_agree_on_the_current_key_and_jwks() {
    let store = Arc::new(CellStore::default());
    let (a, b) = (vault(&store), vault(&store));
    let first = a.load_or_create(Algorithm::Es256, T0).await.unwrap();
    let second = b.load_or_create(Algorithm::Es256, T0).await.unwrap();
    assert_eq!(first.active().kid(), second.active().kid());
    assert_eq!(first.jwks(), second.jwks());
    assert_eq!(
        store.get().unwrap().version(),
        1,
        "the second vault wrote nothing"
    );
    // A token signed through one instance verifies at the other.
    let signature = first.active().sign(b"message").unwrap();
    let keys = second.verification_keys();
    assert!(keys
        .get(first.active().kid())
        .unwrap()
        .verify(b"message", &signature));
    assert_eq!(b.load().await.unwrap().unwrap().jwks(), first.jwks());
}

#[tokio::test]
async fn a_rotation_by_one_vault_is_seen_by_the_others_refresh() {
    let store = Arc::new(CellStore::default());
    let (a, b) = (vault(&store), vault(&store));
    let first = a.load_or_create(Algorithm::EdDsa, T0).await.unwrap();
    b.load_or_create(Algorithm::EdDsa, T0).await.unwrap();
    assert!(b.refresh().await.unwrap().is_none(), "nothing changed yet");
    assert!(a.refresh().await.unwrap().is_none());

    let schedule = RotationSchedule::default();
    let published = a
        .advance(Algorithm::EdDsa, &schedule, T0 + Duration::days(30))
        .await
        .unwrap();
    let next = step_kid(&published);
    let seen = b.refresh().await.unwrap().expect("B sees A's rotation");
    assert_eq!(seen.active().kid(), first.active().kid());
    assert_eq!(seen.next().map(|k| k.kid().to_owned()), Some(next.clone()));
    assert_eq!(kids(&seen), [first.active().kid().to_owned(), next.clone()]);
    assert!(b.refresh().await.unwrap().is_none(), "seen once");
    // The writer's own refresh hands it the set it wrote.
    assert_eq!(a.refresh().await.unwrap().unwrap().jwks(), seen.jwks());

    a.advance(Algorithm::EdDsa, &schedule, T0 + Duration::days(31))
        .await
        .unwrap();
    let switched = b.refresh().await.unwrap().unwrap();
    assert_eq!(switched.active().kid(), next);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_load_or_create_yields_one_key_set() {
    const VAULTS: usize = 16;
    let store = Arc::new(CellStore::default());
    let barrier = Arc::new(tokio::sync::Barrier::new(VAULTS));
    let tasks: Vec<_> = (0..VAULTS)
        .map(|_| {
            let (vault, barrier) = (vault(&store), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let set = vault.load_or_create(Algorithm::Es256, T0).await.unwrap();
                (set.active().kid().to_owned(), set.jwks())
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
    assert_eq!(store.get().unwrap().version(), 1);
    assert_eq!(store.writes.lock().unwrap().len(), 1, "one write won");
}

#[tokio::test]
async fn a_wrong_encryption_key_is_refused_with_a_clear_error() {
    let store = Arc::new(CellStore::default());
    vault(&store)
        .load_or_create(Algorithm::Es256, T0)
        .await
        .unwrap();
    let other = KeyVault::new(store.clone(), kek(8));
    let error = other.load().await.unwrap_err();
    assert_eq!(error, KeyError::WrongEncryptionKey);
    assert!(error.to_string().contains("another key-encryption key"));
    assert_eq!(
        other.refresh().await.unwrap_err(),
        KeyError::WrongEncryptionKey
    );
    assert_eq!(
        other
            .load_or_create(Algorithm::Es256, T0)
            .await
            .unwrap_err(),
        KeyError::WrongEncryptionKey,
        "a wrong key never creates a set over the stored one"
    );
    assert_eq!(
        other
            .advance(Algorithm::Es256, &RotationSchedule::default(), T0)
            .await
            .unwrap_err(),
        KeyError::WrongEncryptionKey
    );
    assert_eq!(store.get().unwrap().version(), 1, "nothing was written");
}

#[tokio::test]
async fn tampered_sealed_bytes_are_refused() {
    let store = Arc::new(CellStore::default());
    let honest = vault(&store);
    honest.load_or_create(Algorithm::Es256, T0).await.unwrap();
    let original = store.get().unwrap();

    // Any byte of the value altered, header, nonce, ciphertext or tag.
    for at in [
        0,
        5,
        13,
        25,
        original.sealed().len() / 2,
        original.sealed().len() - 1,
    ] {
        let mut altered = original.sealed().to_vec();
        altered[at] ^= 0x80;
        store.set(1, altered);
        let error = vault(&store).load().await.unwrap_err();
        assert!(
            matches!(
                error,
                KeyError::UnreadableKeySet(_) | KeyError::WrongEncryptionKey
            ),
            "byte {at}: {error:?}"
        );
    }
    store.set(1, original.sealed()[..40].to_vec());
    assert!(matches!(
        vault(&store).load().await,
        Err(KeyError::UnreadableKeySet(_))
    ));
    store.set(1, vec![0u8; super::MAX_SEALED_KEY_SET_LEN + 1]);
    assert!(matches!(
        vault(&store).load().await,
        Err(KeyError::UnreadableKeySet(_))
    ));

    // An older value put back under a newer version (say, to bring back a retired key):
    // the version is authenticated with the bytes.
    store.set(1, original.sealed().to_vec());
    honest
        .advance(
            Algorithm::Es256,
            &RotationSchedule::default(),
            T0 + Duration::days(30),
        )
        .await
        .unwrap();
    store.set(2, original.sealed().to_vec());
    let error = vault(&store).refresh().await.unwrap_err();
    assert!(matches!(error, KeyError::UnreadableKeySet(_)), "{error:?}");
}

#[tokio::test]
async fn the_sealed_bytes_hold_no_private_key() {
    let store = Arc::new(CellStore::default());
    let vault = vault(&store);
    vault.load_or_create(Algorithm::Es256, T0).await.unwrap();
    vault.publish_next(Algorithm::EdDsa, T0).await.unwrap();
    vault.rotate_now(Algorithm::Es256, T0).await.unwrap();
    vault.rotate_now(Algorithm::Es256, T0).await.unwrap();
    let ders = stored_ders(&store);
    assert_eq!(ders.len(), 3);
    let writes = store.writes.lock().unwrap().clone();
    assert_eq!(writes.len(), 4);
    for sealed in &writes {
        for der in &ders {
            // No 16 bytes in a row of any key's DER, nor its PEM or base64 text.
            for window in der.windows(16) {
                assert!(
                    !sealed.windows(16).any(|w| w == window),
                    "a piece of a private key is in the sealed bytes"
                );
            }
            for text in [
                pkcs8_to_pem(der),
                STANDARD.encode(der),
                URL_SAFE_NO_PAD.encode(der),
            ] {
                let needle = &text.as_bytes()[..text.len().min(40)];
                assert!(!sealed.windows(needle.len()).any(|w| w == needle));
            }
        }
        assert!(
            !sealed.windows(5).any(|w| w == b"pkcs8"),
            "the JSON is in clear"
        );
    }
}

#[tokio::test]
async fn the_rotation_procedure_step_by_step_in_the_store() {
    let store = Arc::new(CellStore::default());
    let vault = vault(&store);
    let schedule = RotationSchedule::default();
    let advance = |at: OffsetDateTime| vault.advance(Algorithm::Es256, &schedule, at);
    let first = step_kid(&advance(T0).await.unwrap());
    assert_eq!(
        advance(T0 + Duration::days(29)).await.unwrap(),
        RotationStep::Nothing
    );
    let next = match advance(T0 + Duration::days(30)).await.unwrap() {
        RotationStep::Published { kid } => kid,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        advance(T0 + Duration::days(30) + Duration::hours(23))
            .await
            .unwrap(),
        RotationStep::Nothing
    );
    assert_eq!(
        advance(T0 + Duration::days(31)).await.unwrap(),
        RotationStep::Activated { kid: next.clone() }
    );
    assert_eq!(
        advance(T0 + Duration::days(32)).await.unwrap(),
        RotationStep::Retired { kid: first.clone() }
    );
    let set = vault.load().await.unwrap().unwrap();
    assert_eq!(kids(&set), [next]);
    // Created, published, activated, retired: four writes, one version each.
    assert_eq!(store.get().unwrap().version(), 4);
}

#[tokio::test]
async fn admin_operations_list_publish_rotate_and_retire() {
    let store = Arc::new(CellStore::default());
    let vault = vault(&store);
    assert!(vault.list().await.unwrap().is_empty());
    let first = step_kid(&vault.rotate_now(Algorithm::Es256, T0).await.unwrap());
    let t1 = T0 + Duration::hours(1);
    let next = step_kid(&vault.publish_next(Algorithm::Es256, t1).await.unwrap());
    assert_eq!(
        vault.publish_next(Algorithm::Es256, t1).await.unwrap(),
        RotationStep::Nothing,
        "one next key at a time"
    );
    let listed = vault.list().await.unwrap();
    let roles: Vec<_> = listed
        .iter()
        .map(|k| (k.kid().to_owned(), k.role(), k.since(), k.algorithm()))
        .collect();
    assert_eq!(
        roles,
        [
            (first.clone(), KeyRole::Current, T0, Algorithm::Es256),
            (next.clone(), KeyRole::Next, t1, Algorithm::Es256)
        ]
    );
    assert_eq!(
        vault.retire(&next).await.unwrap_err(),
        KeyError::NotRetirable {
            kid: next.clone(),
            role: KeyRole::Next
        }
    );
    let t2 = T0 + Duration::hours(2);
    assert_eq!(
        vault.rotate_now(Algorithm::Es256, t2).await.unwrap(),
        RotationStep::Activated { kid: next.clone() },
        "rotating now activates the published next key"
    );
    // With no next key, rotating now generates one and switches to it at once.
    let third = step_kid(&vault.rotate_now(Algorithm::EdDsa, t2).await.unwrap());
    let set = vault.load().await.unwrap().unwrap();
    assert_eq!(set.active().kid(), third);
    assert_eq!(set.active().algorithm(), Algorithm::EdDsa);
    assert_eq!(kids(&set).len(), 3);
    assert!(matches!(
        vault.retire(&third).await,
        Err(KeyError::NotRetirable {
            role: KeyRole::Current,
            ..
        })
    ));
    assert_eq!(
        vault.retire(&first).await.unwrap(),
        RotationStep::Retired { kid: first.clone() }
    );
    assert_eq!(
        vault.retire(&first).await.unwrap_err(),
        KeyError::UnknownKey { kid: first }
    );
    assert_eq!(kids(&vault.load().await.unwrap().unwrap()), [third, next]);
}

#[tokio::test]
async fn import_keeps_the_directorys_kids_roles_and_times() {
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path().join("keys")).unwrap();
    let store = Arc::new(CellStore::default());
    let vault = vault(&store);
    assert!(vault.import_directory(&dir).await.unwrap().is_none());
    assert!(store.get().is_none(), "an empty directory writes nothing");

    // A key of each role: A previous, B current, C next.
    let day = Duration::days(1);
    let schedule = RotationSchedule::new(day, day, Duration::days(10)).unwrap();
    for days in 0..4 {
        dir.advance(Algorithm::Es256, &schedule, T0 + day * days)
            .unwrap();
    }
    let roles: Vec<KeyRole> = dir.list().unwrap().iter().map(|k| k.role()).collect();
    assert_eq!(roles, [KeyRole::Previous, KeyRole::Current, KeyRole::Next]);
    let on_disk = dir.load().unwrap().unwrap();
    let imported = vault.import_directory(&dir).await.unwrap().unwrap();
    assert_eq!(imported.jwks(), on_disk.jwks());
    assert_eq!(imported.active().kid(), on_disk.active().kid());
    assert_eq!(vault.list().await.unwrap(), dir.list().unwrap());
    assert_eq!(
        vault.import_directory(&dir).await.unwrap_err(),
        KeyError::StoreInUse
    );
    // The rotation goes on where the directory left it: its next key activates.
    let step = vault
        .advance(Algorithm::Es256, &schedule, T0 + day * 4)
        .await
        .unwrap();
    assert_eq!(
        step,
        RotationStep::Activated {
            kid: on_disk.next().unwrap().kid().to_owned()
        }
    );
}

/// A store where another instance writes just before this one's every write (or first
/// write only), so that this one loses the race.
#[derive(Debug)]
struct Contested {
    inner: Arc<CellStore>,
    rival: KeyVault<Arc<CellStore>>,
    always: bool,
    rivals_done: Mutex<usize>,
}

#[async_trait]
impl KeySetStore for Contested {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        self.inner.load_key_set().await
    }

    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        let go = {
            let mut done = self.rivals_done.lock().unwrap();
            *done += 1;
            self.always || *done == 1
        };
        if go {
            self.rival.publish_next(Algorithm::EdDsa, T0).await.unwrap();
            self.rival.rotate_now(Algorithm::EdDsa, T0).await.unwrap();
        }
        self.inner.replace_key_set(expected_version, sealed).await
    }
}

#[tokio::test]
async fn a_lost_race_is_worked_out_again_on_the_winners_set() {
    let inner = Arc::new(CellStore::default());
    vault(&inner)
        .load_or_create(Algorithm::Es256, T0)
        .await
        .unwrap();
    let contested = KeyVault::new(
        Contested {
            inner: inner.clone(),
            rival: vault(&inner),
            always: false,
            rivals_done: Mutex::new(0),
        },
        kek(7),
    );
    // The rival activated a key of its own meanwhile; this call's rotation is worked
    // out again on top of the rival's set, and both are kept.
    let rival_set_before = vault(&inner).load().await.unwrap().unwrap();
    let step = contested
        .rotate_now(Algorithm::Es256, T0 + Duration::hours(1))
        .await
        .unwrap();
    let set = vault(&inner).load().await.unwrap().unwrap();
    assert_eq!(set.active().kid(), step_kid(&step));
    assert_eq!(
        kids(&set).len(),
        3,
        "the first, the rival's and this call's key"
    );
    assert_ne!(set.active().kid(), rival_set_before.active().kid());

    let always = KeyVault::new(
        Contested {
            inner: inner.clone(),
            rival: vault(&inner),
            always: true,
            rivals_done: Mutex::new(0),
        },
        kek(7),
    );
    let version = inner.get().unwrap().version();
    assert_eq!(
        always.retire("no-such-key").await.unwrap_err(),
        KeyError::UnknownKey {
            kid: "no-such-key".into()
        }
    );
    assert_eq!(
        always.publish_next(Algorithm::Es256, T0).await.unwrap_err(),
        KeyError::Contended
    );
    // Only the rival's writes went in: two per lost attempt.
    assert_eq!(inner.get().unwrap().version(), version + 4);
}

#[tokio::test]
async fn hmac_keys_are_not_kept_and_rsa_keys_are_not_generated() {
    let store = Arc::new(CellStore::default());
    let vault = vault(&store);
    assert_eq!(
        vault
            .load_or_create(Algorithm::Hs256, T0)
            .await
            .unwrap_err(),
        KeyError::NotStorable(Algorithm::Hs256)
    );
    assert_eq!(
        vault
            .load_or_create(Algorithm::Rs256, T0)
            .await
            .unwrap_err(),
        KeyError::CannotGenerate(Algorithm::Rs256)
    );
    assert!(store.get().is_none());
}
