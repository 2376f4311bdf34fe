//! Remembering, for a short while, that a client's password-style secret was right.
//!
//! A secret a person chose is kept as a PBKDF2 derivation, tens of milliseconds of work a
//! check. A service presenting the same secret on every token request would pay that on
//! each one. After a successful check the engine keeps an HMAC of the presented secret,
//! under a random key of this process, beside a digest of the registration it was checked
//! against; the same secret presented again within the lifetime costs one HMAC. Failures
//! are never remembered, so every wrong guess pays the full derivation. A registration
//! that changed (a new secret, new salt or rounds) no longer matches its entry, and a
//! removed client is refused before the cache is asked. The cache holds no secret: an
//! HMAC under a key that never leaves memory says nothing of the secret.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::{digest, hmac};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::client::{ClientId, ClientKind};
use crate::error::Fault;
use crate::secret::RandomSource;

/// Most clients remembered at once; past it, expired entries go first, then the oldest.
pub const MAX_REMEMBERED_SECRETS: usize = 10_000;

/// How long a successful check is remembered by default.
pub const DEFAULT_SECRET_MEMORY: Duration = Duration::minutes(5);

struct Remembered {
    presented: [u8; 32],
    registration: [u8; 32],
    expires_at: OffsetDateTime,
}

pub(crate) struct VerifiedSecrets {
    key: hmac::Key,
    lifetime: Duration,
    entries: Mutex<HashMap<ClientId, Remembered>>,
}

impl VerifiedSecrets {
    pub(crate) fn new(random: &RandomSource, lifetime: Duration) -> Result<Self, Fault> {
        let mut key = [0u8; 32];
        random.fill(&mut key)?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            lifetime,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn mac(&self, client: &ClientId, presented: &str) -> [u8; 32] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(client.as_str().as_bytes());
        context.update(b"\0");
        context.update(presented.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(context.sign().as_ref());
        out
    }

    /// Whether `presented` was checked right against this very registration recently.
    pub(crate) fn recalls(
        &self,
        client: &ClientId,
        kind: &ClientKind,
        presented: &str,
        now: OffsetDateTime,
    ) -> bool {
        if self.lifetime <= Duration::ZERO {
            return false;
        }
        let mac = self.mac(client, presented);
        let registration = registration_digest(kind);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(client).is_some_and(|entry| {
            entry.expires_at > now
                && bool::from(entry.registration.ct_eq(&registration))
                && bool::from(entry.presented.ct_eq(&mac))
        })
    }

    /// `presented` was checked right against `kind` at `now`.
    pub(crate) fn remember(
        &self,
        client: &ClientId,
        kind: &ClientKind,
        presented: &str,
        now: OffsetDateTime,
    ) {
        if self.lifetime <= Duration::ZERO {
            return;
        }
        let entry = Remembered {
            presented: self.mac(client, presented),
            registration: registration_digest(kind),
            expires_at: now + self.lifetime,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_REMEMBERED_SECRETS && !entries.contains_key(client) {
            entries.retain(|_, e| e.expires_at > now);
            if entries.len() >= MAX_REMEMBERED_SECRETS {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires_at)
                    .map(|(id, _)| id.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(client.clone(), entry);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A digest of what a secret is checked against: a new secret, salt or round count gives
/// another digest, so an entry made for the old registration no longer matches.
fn registration_digest(kind: &ClientKind) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    match kind {
        ClientKind::ConfidentialPassword {
            salt,
            iterations,
            derived,
        } => {
            context.update(b"pbkdf2\0");
            context.update(salt);
            context.update(&iterations.to_be_bytes());
            context.update(derived);
        }
        ClientKind::Confidential { secret_hash } => {
            context.update(b"sha256\0");
            context.update(secret_hash.as_bytes());
        }
        // No secret to remember; a digest all the same, so that no entry matches another
        // kind's.
        ClientKind::PrivateKeyJwt { jwks } => {
            context.update(b"private_key_jwt\0");
            context.update(jwks.to_jwks().to_string().as_bytes());
        }
        ClientKind::Public => context.update(b"public"),
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn password_kind(byte: u8) -> ClientKind {
        ClientKind::ConfidentialPassword {
            salt: [byte; 16],
            iterations: 1000,
            derived: [byte; 32],
        }
    }

    #[test]
    fn a_remembered_secret_matches_only_itself_its_registration_and_its_time() {
        let cache = VerifiedSecrets::new(&RandomSource::new(), Duration::minutes(5)).unwrap();
        let id = ClientId::new("svc").unwrap();
        let kind = password_kind(1);
        assert!(!cache.recalls(&id, &kind, "right", T0));
        cache.remember(&id, &kind, "right", T0);
        assert!(cache.recalls(&id, &kind, "right", T0 + Duration::minutes(4)));
        assert!(!cache.recalls(&id, &kind, "wrong", T0));
        assert!(
            !cache.recalls(&id, &password_kind(2), "right", T0),
            "a changed registration"
        );
        assert!(!cache.recalls(&ClientId::new("other").unwrap(), &kind, "right", T0));
        assert!(
            !cache.recalls(&id, &kind, "right", T0 + Duration::minutes(5)),
            "expired"
        );
    }

    #[test]
    fn the_cache_is_bounded_and_can_be_turned_off() {
        let cache = VerifiedSecrets::new(&RandomSource::new(), Duration::minutes(5)).unwrap();
        for i in 0..(MAX_REMEMBERED_SECRETS + 5) {
            let id = ClientId::new(format!("c{i}")).unwrap();
            cache.remember(
                &id,
                &password_kind(1),
                "s",
                T0 + Duration::seconds(i as i64),
            );
        }
        assert!(cache.len() <= MAX_REMEMBERED_SECRETS);
        let off = VerifiedSecrets::new(&RandomSource::new(), Duration::ZERO).unwrap();
        let id = ClientId::new("svc").unwrap();
        off.remember(&id, &password_kind(1), "right", T0);
        assert!(!off.recalls(&id, &password_kind(1), "right", T0));
    }
}
