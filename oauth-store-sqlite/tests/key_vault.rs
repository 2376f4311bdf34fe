//! Instances that share one database file share their signing keys through it: each
//! store here has its own pool of connections, as separate processes would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_core::jose::{Algorithm, KeyEncryptionKey, KeyError, KeyVault, RotationSchedule};
use oauth_store_sqlite::SqliteStore;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_on_one_file_share_their_signing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finrift.db");
    let text = KeyEncryptionKey::generate_text().unwrap();
    let instance = |path| {
        let text = text.clone();
        async move {
            let store = SqliteStore::open(path).await.unwrap();
            KeyVault::new(store, KeyEncryptionKey::from_base64url(&text).unwrap())
        }
    };
    let (a, b) = (instance(path.clone()).await, instance(path.clone()).await);

    // Both start at once on the empty database: one key set.
    let (first, second) = tokio::join!(
        a.load_or_create(Algorithm::Es256, START),
        b.load_or_create(Algorithm::Es256, START)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.active().kid(), second.active().kid());
    assert_eq!(first.jwks(), second.jwks());

    // A rotation step at one is served by the other at its next poll.
    assert!(b.refresh().await.unwrap().is_none());
    let step = a
        .advance(
            Algorithm::Es256,
            &RotationSchedule::default(),
            START + Duration::days(30),
        )
        .await
        .unwrap();
    assert!(step.changed());
    let seen = b
        .refresh()
        .await
        .unwrap()
        .expect("the other instance sees it");
    assert_eq!(seen.jwks()["keys"].as_array().unwrap().len(), 2);
    assert!(b.refresh().await.unwrap().is_none());

    // An instance configured with another key-encryption key is refused, clearly.
    let wrong = KeyVault::new(
        SqliteStore::open(&path).await.unwrap(),
        KeyEncryptionKey::from_base64url(&KeyEncryptionKey::generate_text().unwrap()).unwrap(),
    );
    assert_eq!(
        wrong.load().await.unwrap_err(),
        KeyError::WrongEncryptionKey
    );

    // After a restart, the same keys.
    drop((a, b, wrong));
    let again = instance(path).await.load().await.unwrap().unwrap();
    assert_eq!(again.jwks(), seen.jwks());
}
