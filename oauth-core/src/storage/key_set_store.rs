//! The store of a deployment's signing keys, shared by every instance: one sealed value
//! and its version, replaced by compare-and-swap.

use std::fmt;

use async_trait::async_trait;

use super::StorageError;

/// The key set as a [`KeySetStore`] keeps it: the sealed bytes and their version.
///
/// The bytes are opaque to the store: [`KeyVault`](crate::jose::KeyVault) seals them
/// (AES-256-GCM under the deployment's key-encryption key) before they reach it, and opens
/// them after. `Debug` shows the version and the length, not the bytes.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredKeySet {
    version: u64,
    sealed: Vec<u8>,
}

impl StoredKeySet {
    /// The key set stored at `version`, as a backend reads it back.
    pub fn new(version: u64, sealed: Vec<u8>) -> Self {
        Self { version, sealed }
    }

    /// The version: 1 for the first key set written, one more for every write since.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The sealed bytes, exactly as written.
    pub fn sealed(&self) -> &[u8] {
        &self.sealed
    }

    /// The sealed bytes, taken.
    pub fn into_sealed(self) -> Vec<u8> {
        self.sealed
    }
}

impl fmt::Debug for StoredKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKeySet")
            .field("version", &self.version)
            .field("sealed_len", &self.sealed.len())
            .finish()
    }
}

/// Where the instances of a deployment keep their shared signing keys: one value (sealed
/// bytes) with a version, replaced only by compare-and-swap.
///
/// It is not part of [`Storage`](super::Storage): the engine signs with the
/// [`KeySet`](crate::jose::KeySet) it is handed and never reads this store. A backend
/// implements it beside the other traits, and a [`KeyVault`](crate::jose::KeyVault) on it
/// does the rest (sealing, the rotation procedure, polling for changes); the store only
/// keeps bytes and a number.
///
/// The contract, which every process sharing the store must see hold (a database row, not
/// a value cached in one process's memory):
///
/// - **Empty at first.** A store that was never written holds no key set:
///   [`load_key_set`](KeySetStore::load_key_set) answers `None`.
/// - **Versions.** The first write stores version 1; every later successful write stores
///   the version it expected plus one. Nothing else changes a version, and no write
///   leaves the store empty again. Versions fit comfortably in a signed 64-bit column
///   (one write per rotation step).
/// - **Compare-and-swap.** [`replace_key_set`](KeySetStore::replace_key_set) writes only
///   if the stored version is the one expected (`None`: only if the store holds no key
///   set), atomically: of any number of callers racing with the same expectation, in any
///   number of processes, exactly one gets `true`, and the store then holds that caller's
///   bytes at the next version. One conditional statement (`UPDATE … WHERE version = ?`,
///   `INSERT … ON CONFLICT DO NOTHING`) or one transaction does it; a read followed by a
///   write does not.
/// - **Read your writes, and everyone else's.** A load that starts after a write answered
///   `true` sees that write or a later one, and a load never sees an older version than
///   one that finished before it started: reads go to the shared database (its primary,
///   not a lagging replica), never to a cache.
/// - **Bytes exactly.** The bytes read back are the bytes written, whole (never those of
///   one write with the version of another). They are at most
///   [`MAX_SEALED_KEY_SET_LEN`](crate::jose::MAX_SEALED_KEY_SET_LEN) bytes long; a store
///   must keep that many.
///
/// The storage conformance kit (the `conformance` feature) checks all of this, a race of
/// 50 writers included: `oauth_core::key_set_store_conformance_tests!` in a backend's tests.
#[async_trait]
pub trait KeySetStore: Send + Sync {
    /// The stored key set and its version, or `None` when none was ever written.
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError>;

    /// Stores `sealed` as the key set, if and only if the stored version is
    /// `expected_version` (`None`: if no key set is stored yet), in one atomic step; the
    /// new version is then `expected_version + 1` (1 for `None`). Answers whether this
    /// call wrote: `false` means the stored key set is not the one expected (another
    /// writer won), and nothing was changed. An error means this call wrote nothing
    /// (or, if the connection broke while committing, maybe wrote: a later load tells).
    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError>;
}

#[async_trait]
impl<T: KeySetStore + ?Sized> KeySetStore for std::sync::Arc<T> {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        (**self).load_key_set().await
    }
    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        (**self).replace_key_set(expected_version, sealed).await
    }
}
