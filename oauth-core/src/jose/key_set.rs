//! The issuer's key set: the key that signs, the next key, and keys kept to verify.

use serde_json::Value;

use super::keys::{SigningKey, VerificationKey, VerificationKeys};

/// The issuer's keys: one active key that signs, at most one *next* key that is published
/// but does not sign yet, and retired keys kept so tokens they signed still verify until
/// they expire.
///
/// # Rotating without breaking a token
///
/// Resource servers cache the JWKS, and tokens stay live after they are issued, so a key
/// must be known to every verifier before it signs, and trusted until the last token it
/// signed has expired. The procedure:
///
/// 1. Publish the next key with [`KeySet::publish_next`]. It is in the JWKS
///    ([`KeySet::jwks`]) but signs nothing.
/// 2. Wait at least as long as resource servers cache the JWKS (their cache lifetime or
///    refresh period), so that every one of them has fetched the next key.
/// 3. Switch with [`KeySet::activate_next`]: the next key signs, and the previous one
///    stays for verification.
/// 4. Once the longest access-token lifetime plus the verifiers' clock leeway has passed,
///    drop the previous key with [`KeySet::retire`]: no live token was signed by it.
///
/// [`KeySet::rotate`] does steps 1 and 3 at once: tokens signed by the new key are refused
/// by resource servers whose cached JWKS predates it, until they refresh. To keep keys on
/// disk across restarts and run the steps on a schedule, see
/// [`KeyDirectory`](super::KeyDirectory).
#[derive(Debug)]
pub struct KeySet {
    active: SigningKey,
    next: Option<SigningKey>,
    retired: Vec<VerificationKey>,
}

impl KeySet {
    /// A set whose active key is `active`.
    pub fn new(active: SigningKey) -> Self {
        Self {
            active,
            next: None,
            retired: Vec::new(),
        }
    }

    /// Makes `next` the signing key at once; the previous one stays for verification.
    /// A published next key stays published, unless it is the key now signing.
    pub fn rotate(&mut self, next: SigningKey) {
        let previous = std::mem::replace(&mut self.active, next);
        if self
            .next
            .as_ref()
            .is_some_and(|n| n.kid() == self.active.kid())
        {
            self.next = None;
        }
        self.retired.retain(|k| k.kid() != previous.kid());
        self.retired.insert(0, previous.verification_key().clone());
    }

    /// Publishes `next`: it joins the JWKS now and signs once [`KeySet::activate_next`] is
    /// called. It replaces a next key published before (which never signed, so no token
    /// depends on it).
    pub fn publish_next(&mut self, next: SigningKey) {
        self.retired.retain(|k| k.kid() != next.kid());
        self.next = Some(next);
    }

    /// The key published to sign next, if any.
    pub fn next(&self) -> Option<&SigningKey> {
        self.next.as_ref()
    }

    /// Makes the next key the signing key, keeping the previous one for verification (as
    /// [`KeySet::rotate`] does). Returns `false`, changing nothing, when no next key was
    /// published.
    pub fn activate_next(&mut self) -> bool {
        match self.next.take() {
            Some(next) => {
                self.rotate(next);
                true
            }
            None => false,
        }
    }

    /// Keeps a retired key for verification (for example one loaded from a JWKS backup).
    pub fn keep_for_verification(&mut self, key: VerificationKey) {
        self.retired.retain(|k| k.kid() != key.kid());
        self.retired.push(key);
    }

    /// Drops the retired key `kid`; tokens it signed stop verifying. The active and the
    /// next key are not retired this way.
    pub fn retire(&mut self, kid: &str) {
        self.retired.retain(|k| k.kid() != kid);
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// Every key that verifies: the active one first, then the next one, then the
    /// retired ones, each `kid` once.
    pub fn verification_keys(&self) -> VerificationKeys {
        let mut keys = vec![self.active.verification_key().clone()];
        let candidates = self
            .next
            .iter()
            .map(SigningKey::verification_key)
            .chain(self.retired.iter());
        for key in candidates {
            if keys.iter().all(|k| k.kid() != key.kid()) {
                keys.push(key.clone());
            }
        }
        VerificationKeys::new(keys)
    }

    /// The JWKS document to publish at `jwks_uri`: public keys only, the next key
    /// included.
    pub fn jwks(&self) -> Value {
        self.verification_keys().to_jwks()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::Algorithm;

    fn key(kid: &str) -> SigningKey {
        SigningKey::generate(Algorithm::EdDsa, kid).unwrap().0
    }

    fn kids(set: &KeySet) -> Vec<String> {
        set.verification_keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    }

    #[test]
    fn next_key_is_published_before_it_signs() {
        let mut set = KeySet::new(key("a"));
        assert!(set.next().is_none());
        assert!(!set.activate_next());
        set.publish_next(key("b"));
        assert_eq!(set.active().kid(), "a");
        assert_eq!(set.next().map(SigningKey::kid), Some("b"));
        assert_eq!(kids(&set), ["a", "b"]);
        assert_eq!(set.jwks()["keys"].as_array().map(Vec::len), Some(2));

        assert!(set.activate_next());
        assert_eq!(set.active().kid(), "b");
        assert!(set.next().is_none());
        assert_eq!(kids(&set), ["b", "a"]);

        set.retire("a");
        assert_eq!(kids(&set), ["b"]);
    }

    #[test]
    fn rotate_still_switches_at_once_and_keeps_other_next_keys() {
        let mut set = KeySet::new(key("a"));
        set.publish_next(key("b"));
        set.rotate(key("c"));
        assert_eq!(set.active().kid(), "c");
        assert_eq!(kids(&set), ["c", "b", "a"]);
        // Rotating to the published next key consumes it.
        let mut set = KeySet::new(key("a"));
        set.publish_next(key("b"));
        set.rotate(key("b"));
        assert!(set.next().is_none());
        assert_eq!(kids(&set), ["b", "a"]);
    }

    #[test]
    fn a_kid_appears_once() {
        let mut set = KeySet::new(key("a"));
        set.keep_for_verification(key("b").verification_key().clone());
        set.publish_next(key("b"));
        set.keep_for_verification(key("a").verification_key().clone());
        assert_eq!(kids(&set), ["a", "b"]);
    }
}
