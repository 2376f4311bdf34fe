//! Interning of what many grants share: client, scope and redirect URI.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use oauth_core::{ClientId, ScopeSet};

use crate::digest_hash::DigestHashing;
use crate::sharded::ShardedMap;

/// What the grants of one client usually have in common: the client, the scope granted,
/// and the redirect URI sent with the authorization request (for a code; `None`
/// otherwise). Kept once per distinct value and shared: a `ScopeSet` alone is a B-tree
/// node and a string per scope, too much to copy into every grant.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Profile {
    pub(crate) client_id: ClientId,
    pub(crate) scope: ScopeSet,
    pub(crate) redirect_uri: Option<Box<str>>,
}

impl Profile {
    fn is(&self, client_id: &ClientId, scope: &ScopeSet, redirect_uri: Option<&str>) -> bool {
        self.client_id == *client_id
            && self.scope == *scope
            && self.redirect_uri.as_deref() == redirect_uri
    }
}

/// How many copies of one profile may be kept (see [`Profiles`]).
pub(crate) const LANES: u8 = 16;

/// The interned profiles, sharded like the store's maps so that interning takes no
/// global lock. Keyed by a hash of the borrowed parts, so that finding a profile
/// allocates nothing; the few whose hashes collide share a bucket.
///
/// Each profile is kept once per *lane* (one of [`LANES`], which the caller picks from a
/// random byte of the record it stores): otherwise every flow of a busy client would
/// take the same shard's lock and count references on the same profile, and threads
/// would queue at that one lock and one cache line. At most [`LANES`] copies of a
/// profile exist.
///
/// A profile stays while a grant, code or token refers to it; [`Profiles::forget_unused`]
/// drops the others, and the store calls it at the end of each purge, so the interner
/// holds at most the profiles of what was live at the last purge plus those made since.
#[derive(Debug)]
pub(crate) struct Profiles {
    /// Keyed by the output of `hasher`, randomly keyed SipHash: unpredictable and uniform
    /// already, so its bytes place it as a digest's would, without hashing it again.
    by_hash: ShardedMap<u64, Vec<Arc<Profile>>, DigestHashing>,
    hasher: RandomState,
}

impl Profiles {
    pub(crate) fn new() -> Self {
        Self {
            by_hash: ShardedMap::new(),
            hasher: RandomState::new(),
        }
    }

    /// The shared profile with these parts in `lane` (taken modulo [`LANES`]), made if
    /// new.
    ///
    /// Lock order: a profiles shard is always the last lock taken.
    pub(crate) fn intern(
        &self,
        lane: u8,
        client_id: &ClientId,
        scope: &ScopeSet,
        redirect_uri: Option<&str>,
    ) -> Arc<Profile> {
        let hash = self
            .hasher
            .hash_one((lane % LANES, client_id, scope, redirect_uri));
        let mut shard = self.by_hash.shard(&hash);
        let bucket = shard.get_or_insert_with(hash, Vec::new);
        if let Some(found) = bucket
            .iter()
            .find(|profile| profile.is(client_id, scope, redirect_uri))
        {
            return Arc::clone(found);
        }
        let profile = Arc::new(Profile {
            client_id: client_id.clone(),
            scope: scope.clone(),
            redirect_uri: redirect_uri.map(Box::from),
        });
        bucket.push(Arc::clone(&profile));
        profile
    }

    /// Drops the profiles nothing else refers to. Sound under concurrent interning: a
    /// profile is only handed out (cloned) under its shard's lock, which this holds while
    /// it counts, so a count of one means that nobody holds or is about to get it.
    pub(crate) fn forget_unused(&self) {
        for mut shard in self.by_hash.each_shard() {
            shard.retain(|_, bucket| {
                bucket.retain(|profile| Arc::strong_count(profile) > 1);
                !bucket.is_empty()
            });
        }
    }

    /// How many profiles are interned.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_hash
            .each_shard()
            .map(|shard| shard.values().map(Vec::len).sum::<usize>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> ClientId {
        ClientId::new(id).unwrap()
    }

    #[test]
    fn equal_parts_share_one_profile() {
        let profiles = Profiles::new();
        let scope = ScopeSet::parse("read write").unwrap();
        let first = profiles.intern(0, &client("app"), &scope, Some("https://app.example/cb"));
        let again = profiles.intern(
            0,
            &client("app"),
            &ScopeSet::parse("write read").unwrap(),
            Some("https://app.example/cb"),
        );
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(profiles.len(), 1);
        for other in [
            profiles.intern(0, &client("other"), &scope, Some("https://app.example/cb")),
            profiles.intern(
                0,
                &client("app"),
                &ScopeSet::empty(),
                Some("https://app.example/cb"),
            ),
            profiles.intern(0, &client("app"), &scope, None),
        ] {
            assert!(!Arc::ptr_eq(&first, &other));
        }
        assert_eq!(profiles.len(), 4);
    }

    #[test]
    fn each_lane_keeps_its_own_copy() {
        let profiles = Profiles::new();
        let scope = ScopeSet::parse("read").unwrap();
        let copies: Vec<_> = (0..2 * LANES)
            .map(|lane| profiles.intern(lane, &client("app"), &scope, None))
            .collect();
        assert_eq!(profiles.len(), usize::from(LANES));
        for lane in 0..usize::from(LANES) {
            assert!(Arc::ptr_eq(
                &copies[lane],
                &copies[lane + usize::from(LANES)]
            ));
            assert!(!Arc::ptr_eq(
                &copies[lane],
                &copies[(lane + 1) % usize::from(LANES)]
            ));
        }
    }

    #[test]
    fn unused_profiles_are_forgotten() {
        let profiles = Profiles::new();
        let kept = profiles.intern(0, &client("kept"), &ScopeSet::empty(), None);
        drop(profiles.intern(0, &client("dropped"), &ScopeSet::empty(), None));
        profiles.forget_unused();
        assert_eq!(profiles.len(), 1);
        let again = profiles.intern(0, &client("kept"), &ScopeSet::empty(), None);
        assert!(Arc::ptr_eq(&kept, &again), "a profile in use is kept");
    }
}
