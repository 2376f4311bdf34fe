//! Properties of [`KeySetStore`]: versions, compare-and-swap, bytes kept exactly.
//!
//! Each property takes a store that holds no key set yet (the store keeps one value for
//! the whole database, so these properties cannot share a database with each other,
//! unlike the rest of the kit); [`key_set_store_conformance_tests!`](crate::key_set_store_conformance_tests)
//! gives each a fresh store.

use super::*;
use crate::jose::MAX_SEALED_KEY_SET_LEN;
use crate::storage::{KeySetStore, StoredKeySet};

async fn stored<S: KeySetStore + ?Sized>(store: &S) -> Option<StoredKeySet> {
    ok(store.load_key_set().await, "load_key_set")
}

async fn replace<S: KeySetStore + ?Sized>(store: &S, expected: Option<u64>, sealed: &[u8]) -> bool {
    ok(
        store.replace_key_set(expected, sealed.to_vec()).await,
        "replace_key_set",
    )
}

#[track_caller]
fn assert_stored(found: Option<StoredKeySet>, version: u64, sealed: &[u8], what: &str) {
    match found {
        Some(found) => {
            assert_eq!(
                found.version(),
                version,
                "storage conformance: {what}: the stored version"
            );
            assert!(
                found.sealed() == sealed,
                "storage conformance: {what}: the stored bytes are not the ones written \
                 ({} bytes read, {} written)",
                found.sealed().len(),
                sealed.len()
            );
        }
        None => panic!("storage conformance: {what}: no key set is stored"),
    }
}

/// `count` random bytes.
fn random_bytes(kit: &Kit, count: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(count + 32);
    while bytes.len() < count {
        bytes.extend_from_slice(kit.hash().as_bytes());
    }
    bytes.truncate(count);
    bytes
}

#[track_caller]
fn assert_fresh(found: &Option<StoredKeySet>) {
    assert!(
        found.is_none(),
        "storage conformance: a key-set property needs a store that holds no key set yet"
    );
}

/// A store never written holds no key set, and a write expecting a version writes
/// nothing there.
pub async fn key_set_store_starts_empty<S: KeySetStore>(store: S) {
    assert_fresh(&stored(&store).await);
    for expected in [0, 1, u64::MAX] {
        assert!(
            !replace(&store, Some(expected), b"sealed").await,
            "storage conformance: replace_key_set(Some({expected})) on an empty store must \
             answer false"
        );
        assert_eq!(
            stored(&store).await,
            None,
            "storage conformance: a refused replace_key_set must store nothing"
        );
    }
}

/// The first write (`expected_version: None`) stores version 1; a second `None` write is
/// refused and changes nothing.
pub async fn key_set_first_write_is_version_one<S: KeySetStore>(store: S) {
    assert_fresh(&stored(&store).await);
    assert!(
        replace(&store, None, b"first").await,
        "storage conformance: replace_key_set(None) on an empty store must answer true"
    );
    assert_stored(stored(&store).await, 1, b"first", "after the first write");
    assert!(
        !replace(&store, None, b"second").await,
        "storage conformance: replace_key_set(None) when a key set is stored must answer false"
    );
    assert_stored(
        stored(&store).await,
        1,
        b"first",
        "after a refused None write",
    );
}

/// Each write expecting the stored version stores that version plus one; a write
/// expecting any other version (older, newer, none) answers false and changes nothing.
pub async fn key_set_each_write_adds_one_to_the_version<S: KeySetStore>(store: S) {
    assert_fresh(&stored(&store).await);
    let kit = Kit::new();
    let mut current = random_bytes(&kit, 100);
    assert!(replace(&store, None, &current).await);
    for version in 1..=5u64 {
        for stale in [Some(version - 1), Some(version + 1), None] {
            assert!(
                !replace(&store, stale, b"stale").await,
                "storage conformance: replace_key_set({stale:?}) at version {version} must \
                 answer false"
            );
            assert_stored(
                stored(&store).await,
                version,
                &current,
                "after a write with a stale expected version",
            );
        }
        let next = random_bytes(&kit, 100 + version as usize);
        assert!(
            replace(&store, Some(version), &next).await,
            "storage conformance: replace_key_set(Some({version})) at version {version} must \
             answer true"
        );
        current = next;
        assert_stored(
            stored(&store).await,
            version + 1,
            &current,
            "after a write expecting the stored version",
        );
    }
}

/// The bytes read back are the bytes written, whatever they are: every byte value,
/// NULs included, and a value of `MAX_SEALED_KEY_SET_LEN` bytes.
pub async fn key_set_bytes_round_trip_exactly<S: KeySetStore>(store: S) {
    assert_fresh(&stored(&store).await);
    let kit = Kit::new();
    let every_byte: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    assert!(replace(&store, None, &every_byte).await);
    assert_stored(stored(&store).await, 1, &every_byte, "every byte value");
    let largest = random_bytes(&kit, MAX_SEALED_KEY_SET_LEN);
    assert!(replace(&store, Some(1), &largest).await);
    assert_stored(
        stored(&store).await,
        2,
        &largest,
        "MAX_SEALED_KEY_SET_LEN bytes",
    );
    let mut zeros = vec![0u8; 4096];
    zeros[4095] = 1;
    assert!(replace(&store, Some(2), &zeros).await);
    assert_stored(
        stored(&store).await,
        3,
        &zeros,
        "mostly zeros, a shorter value",
    );
}

/// SC-06: [`RACERS`] writers at once with the same expected version (none, on the empty
/// store; then version 1), each with bytes of its own: exactly one answers true, and the
/// store then holds that one's bytes at the next version.
pub async fn sc06_concurrent_key_set_writers_have_one_winner<S: KeySetStore + 'static>(store: S) {
    let store = Arc::new(store);
    assert_fresh(&stored(&*store).await);
    let kit = Kit::new();
    for (expected, next_version) in [(None, 1), (Some(1), 2)] {
        let candidates: Vec<Vec<u8>> = (0..RACERS).map(|_| random_bytes(&kit, 200)).collect();
        let mut offers = candidates.clone().into_iter();
        let outcomes = race(|| {
            let (store, sealed) = (store.clone(), offers.next().unwrap_or_default());
            async move { store.replace_key_set(expected, sealed).await }
        })
        .await;
        let winners: Vec<usize> = outcomes
            .into_iter()
            .enumerate()
            .filter_map(|(i, outcome)| ok(outcome, "replace_key_set (racing)").then_some(i))
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "storage conformance: exactly one of {RACERS} racing replace_key_set({expected:?}) \
             calls must answer true"
        );
        assert_stored(
            stored(&*store).await,
            next_version,
            &candidates[winners[0]],
            "after the race: the winner's bytes",
        );
    }
}

/// Loads racing a stream of writes see whole values: the bytes of the write that made
/// the version they read, never those of one write with the version of another.
pub async fn key_set_reads_racing_writes_see_whole_values<S: KeySetStore + 'static>(store: S) {
    const WRITES: u64 = 20;
    let store = Arc::new(store);
    assert_fresh(&stored(&*store).await);
    // The bytes of version v say v, over a length that varies with it.
    let bytes_of = |version: u64| -> Vec<u8> {
        let len = 1000 + (version as usize % 7) * 500;
        version
            .to_be_bytes()
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect()
    };
    assert!(replace(&*store, None, &bytes_of(1)).await);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for version in 1..WRITES {
                let written = store
                    .replace_key_set(Some(version), bytes_of(version + 1))
                    .await;
                assert!(
                    ok(written, "replace_key_set"),
                    "storage conformance: the only writer's replace_key_set must answer true"
                );
            }
        })
    };
    let readers = race(|| {
        let store = store.clone();
        async move {
            let mut last = 0;
            for _ in 0..10 {
                let found = ok(store.load_key_set().await, "load_key_set (racing)");
                let Some(found) = found else {
                    panic!("storage conformance: a key set written must stay stored");
                };
                assert!(
                    found.sealed() == bytes_of(found.version()).as_slice(),
                    "storage conformance: a load answered version {} with the bytes of \
                     another write",
                    found.version()
                );
                assert!(
                    found.version() >= last,
                    "storage conformance: one reader saw the version go back"
                );
                last = found.version();
            }
        }
    });
    readers.await;
    writer
        .await
        .unwrap_or_else(|e| panic!("storage conformance: the writer failed: {e}"));
    assert_stored(
        stored(&*store).await,
        WRITES,
        &bytes_of(WRITES),
        "after the writes",
    );
}
