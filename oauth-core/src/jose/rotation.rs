//! The rotation procedure's schedule, and which of its steps is due: shared by every place
//! that keeps a deployment's keys ([`KeyDirectory`](super::KeyDirectory) on disk,
//! [`KeyVault`](super::KeyVault) in a store), so both rotate the same way.

use time::{Duration, OffsetDateTime};

use super::key_error::KeyError;
use super::key_manifest::{KeyRole, Manifest};
use super::keys::MAX_JWKS_KEYS;

/// When [`KeyDirectory::advance`](super::KeyDirectory::advance) and
/// [`KeyVault::advance`](super::KeyVault::advance) take each step of a rotation.
///
/// Build it with [`RotationSchedule::new`], which refuses schedules that cannot work;
/// `advance` checks a schedule built field by field the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationSchedule {
    /// How long a key signs before the next key is published.
    pub publish_next_after: Duration,
    /// How long the next key is published before it signs. At least as long as resource
    /// servers cache the JWKS, and as long as every instance of the issuer takes to load
    /// the new key set (for instances sharing a [`KeyVault`](super::KeyVault): longer
    /// than their poll interval), or tokens signed by the new key are refused for a while.
    pub activate_after: Duration,
    /// How long a previous key verifies after it stopped signing. At least the longest
    /// access-token lifetime plus the verifiers' clock leeway, or live tokens stop
    /// verifying.
    pub retire_after: Duration,
}

impl Default for RotationSchedule {
    /// A new key every 31 days: each key signs for 30 days, the next key is published a
    /// day before it signs, and a previous key verifies for a day after it stops (well
    /// over finrift's default access-token lifetime of 10 minutes).
    fn default() -> Self {
        Self {
            publish_next_after: Duration::days(30),
            activate_after: Duration::days(1),
            retire_after: Duration::days(1),
        }
    }
}

impl RotationSchedule {
    /// A schedule; see the fields for what each duration means. Refused: a duration that
    /// is not positive, and a `retire_after` so long, compared with how often keys change,
    /// that the keys kept would not fit in one JWKS.
    pub fn new(
        publish_next_after: Duration,
        activate_after: Duration,
        retire_after: Duration,
    ) -> Result<Self, KeyError> {
        let schedule = Self {
            publish_next_after,
            activate_after,
            retire_after,
        };
        schedule.check()?;
        Ok(schedule)
    }

    pub(super) fn check(&self) -> Result<(), KeyError> {
        if !self.publish_next_after.is_positive()
            || !self.activate_after.is_positive()
            || !self.retire_after.is_positive()
        {
            return Err(KeyError::InvalidSchedule("every duration must be positive"));
        }
        // One key becomes previous per period; each stays `retire_after`. With the current
        // and the next key, they must fit in a JWKS that verifiers accept.
        let period = self.publish_next_after.checked_add(self.activate_after);
        let room = i32::try_from(MAX_JWKS_KEYS - 3).unwrap_or(i32::MAX);
        let fits = period
            .and_then(|p| p.checked_mul(room))
            .is_none_or(|most| self.retire_after <= most);
        if fits {
            Ok(())
        } else {
            Err(KeyError::InvalidSchedule(
                "retire_after is so long that the previous keys would not fit in a JWKS",
            ))
        }
    }

    /// The one step due at `now` for the keys of `manifest`, in the procedure's order of
    /// precedence:
    ///
    /// 1. retire the oldest previous key that stopped signing `retire_after` ago or more;
    /// 2. else activate the next key once it has been published `activate_after` or more;
    /// 3. else publish a next key once the current key has signed `publish_next_after` or
    ///    more, if there is no next key.
    pub(super) fn due(&self, manifest: &Manifest, now: OffsetDateTime) -> Due {
        let due_retirement = manifest
            .keys
            .iter()
            .filter(|k| k.role == KeyRole::Previous && now - k.since >= self.retire_after)
            .min_by_key(|k| k.since);
        if let Some(old) = due_retirement {
            return Due::Retire(old.kid.clone());
        }
        if let Some(next) = manifest.with_role(KeyRole::Next) {
            return if now - next.since >= self.activate_after {
                Due::Activate
            } else {
                Due::Nothing
            };
        }
        let current_since = manifest
            .with_role(KeyRole::Current)
            .map_or(now, |current| current.since);
        if now - current_since >= self.publish_next_after {
            Due::Publish
        } else {
            Due::Nothing
        }
    }
}

/// The step of the rotation that is due (see [`RotationSchedule::due`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Due {
    /// Nothing yet.
    Nothing,
    /// Drop the previous key with this id.
    Retire(String),
    /// The next key signs from now on.
    Activate,
    /// Generate a next key and publish it.
    Publish,
}

/// What a step of the rotation did: the answer of
/// [`KeyDirectory::advance`](super::KeyDirectory::advance) and of the
/// [`KeyVault`](super::KeyVault) operations.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotationStep {
    /// Nothing was due.
    Nothing,
    /// There were no keys; a current key was generated.
    Created {
        /// The new key's id.
        kid: String,
    },
    /// A next key was generated and published.
    Published {
        /// The next key's id.
        kid: String,
    },
    /// The next key became the current key; the former current key is now previous.
    Activated {
        /// The key that now signs.
        kid: String,
    },
    /// A previous key was dropped (in a key directory, its file deleted too).
    Retired {
        /// The dropped key's id.
        kid: String,
    },
}

impl RotationStep {
    /// Whether the key set changed, so that it should be loaded again and handed to the
    /// engine.
    pub fn changed(&self) -> bool {
        !matches!(self, Self::Nothing)
    }
}
