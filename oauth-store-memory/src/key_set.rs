//! The shared key set ([`KeySetStore`]) of the in-memory store: one value behind a lock,
//! read and compared-and-swapped under it.

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use oauth_core::{KeySetStore, StorageError, StoredKeySet};

use crate::store::MemoryStore;

/// The key set and its version, if one was written.
#[derive(Default)]
pub(crate) struct KeySetCell(Mutex<Option<StoredKeySet>>);

impl KeySetCell {
    fn lock(&self) -> MutexGuard<'_, Option<StoredKeySet>> {
        // The value is replaced whole under the lock: a panic cannot leave half of one.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for KeySetCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `StoredKeySet`'s own Debug shows the version and the length, never the bytes.
        f.debug_tuple("KeySetCell").field(&*self.lock()).finish()
    }
}

/// One process's memory: the key set is shared by the vaults of this process only, which
/// is what tests and single-process servers need.
#[async_trait]
impl KeySetStore for MemoryStore {
    async fn load_key_set(&self) -> Result<Option<StoredKeySet>, StorageError> {
        Ok(self.key_set.lock().clone())
    }

    async fn replace_key_set(
        &self,
        expected_version: Option<u64>,
        sealed: Vec<u8>,
    ) -> Result<bool, StorageError> {
        let mut stored = self.key_set.lock();
        if stored.as_ref().map(StoredKeySet::version) != expected_version {
            return Ok(false);
        }
        let Some(version) = expected_version.map_or(Some(1), |v| v.checked_add(1)) else {
            return Ok(false);
        };
        *stored = Some(StoredKeySet::new(version, sealed));
        Ok(true)
    }
}
