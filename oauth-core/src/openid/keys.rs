//! The keys that sign ID tokens: one [`KeySet`] per algorithm, so that each client gets
//! its `id_token_signed_response_alg`.

use std::sync::{RwLock, RwLockReadGuard};

use crate::error::Fault;
use crate::jose::{Algorithm, KeySet, SigningKey, VerificationKey, VerificationKeys};

/// The ID-token key sets of an engine, at most one per algorithm, RS256 always first.
#[derive(Debug)]
pub(crate) struct IdTokenKeys {
    sets: RwLock<Vec<KeySet>>,
}

impl IdTokenKeys {
    /// Checks the sets: the first signs with RS256 (the default of OpenID Connect
    /// Registration §2, which every client that names none gets), no algorithm twice,
    /// and no HS256 (a shared secret is no key a relying party can verify with).
    pub(crate) fn new(sets: Vec<KeySet>) -> Result<Self, Fault> {
        if sets.first().map(|set| set.active().algorithm()) != Some(Algorithm::Rs256) {
            return Err(Fault::Config(
                "the first ID-token key set must sign with RS256".into(),
            ));
        }
        for (index, set) in sets.iter().enumerate() {
            let alg = set.active().algorithm();
            if alg == Algorithm::Hs256 {
                return Err(Fault::Config("HS256 keys do not sign ID tokens".into()));
            }
            if sets[..index].iter().any(|s| s.active().algorithm() == alg) {
                return Err(Fault::Config(format!(
                    "two ID-token key sets sign with {alg}"
                )));
            }
        }
        Ok(Self {
            sets: RwLock::new(sets),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<KeySet>> {
        // Replacement is one assignment; a poisoned lock still holds whole sets.
        self.sets
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The algorithms there are keys for, RS256 first.
    pub(crate) fn algorithms(&self) -> Vec<Algorithm> {
        self.read()
            .iter()
            .map(|set| set.active().algorithm())
            .collect()
    }

    /// Whether a key signs with `alg`.
    pub(crate) fn has(&self, alg: Algorithm) -> bool {
        self.read()
            .iter()
            .any(|set| set.active().algorithm() == alg)
    }

    /// Runs `sign` with the active key of `alg`, or answers `None` when there is none.
    pub(crate) fn with_key<T>(
        &self,
        alg: Algorithm,
        sign: impl FnOnce(&SigningKey) -> T,
    ) -> Option<T> {
        self.read()
            .iter()
            .map(KeySet::active)
            .find(|key| key.algorithm() == alg)
            .map(sign)
    }

    /// Every key that verifies an ID token of this engine, each `kid` once.
    pub(crate) fn verification_keys(&self) -> VerificationKeys {
        let mut keys: Vec<VerificationKey> = Vec::new();
        for set in self.read().iter() {
            for key in set.verification_keys().iter() {
                if keys.iter().all(|k| k.kid() != key.kid()) {
                    keys.push(key.clone());
                }
            }
        }
        VerificationKeys::new(keys)
    }

    /// Replaces the set of the algorithm `keys` signs with (after a rotation); `Err` when
    /// there was none, since a new algorithm would change what the discovery document
    /// advertised.
    pub(crate) fn replace(&self, keys: KeySet) -> Result<(), Fault> {
        let alg = keys.active().algorithm();
        let mut sets = self
            .sets
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match sets.iter_mut().find(|set| set.active().algorithm() == alg) {
            Some(slot) => {
                *slot = keys;
                Ok(())
            }
            None => Err(Fault::Config(format!(
                "no ID-token key set signs with {alg}"
            ))),
        }
    }
}
