//! Limits on guessing: a failure budget per client and per caller, with a cool-down.
//!
//! Before the engine authenticates a client (token, introspection and revocation
//! endpoints) it asks its [`Limiter`] whether the client id, and the caller key the
//! embedder passed (for example the peer's IP address), may try. Each failed
//! authentication spends budget; once spent, the key is refused with `429` and
//! `Retry-After` until the cool-down passes. The embedder's own credential step (the login
//! form) can use the same limiter through [`Engine::limiter`](crate::Engine::limiter).
//!
//! [`FailureLimiter`] runs on the engine's clock (the instants are passed in), so a test
//! advances a `ManualClock` instead of sleeping.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Decides whether a key may make another credential-bearing attempt.
pub trait Limiter: Send + Sync {
    /// `Ok` if `key` may try at `now`; otherwise how long until it may.
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), Duration>;
    /// `key` failed to authenticate at `now`.
    fn record_failure(&self, key: &str, now: OffsetDateTime);
    /// `key` authenticated at `now`: its failures are forgiven.
    fn record_success(&self, key: &str, now: OffsetDateTime);
}

/// Never limits: the default until one is configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLimits;

impl Limiter for NoLimits {
    fn check(&self, _key: &str, _now: OffsetDateTime) -> Result<(), Duration> {
        Ok(())
    }
    fn record_failure(&self, _key: &str, _now: OffsetDateTime) {}
    fn record_success(&self, _key: &str, _now: OffsetDateTime) {}
}

/// Most keys a [`FailureLimiter`] tracks; past this, the oldest are forgotten first, so an
/// attacker cycling through keys cannot exhaust memory.
pub const MAX_TRACKED_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Budget {
    failures: u32,
    window_start: OffsetDateTime,
    blocked_until: Option<OffsetDateTime>,
}

/// An in-memory limiter: `budget` failures within `window` block the key for `cool_down`.
#[derive(Debug)]
pub struct FailureLimiter {
    budget: u32,
    window: Duration,
    cool_down: Duration,
    keys: Mutex<HashMap<String, Budget>>,
}

impl FailureLimiter {
    /// `budget` failures (at least 1) within `window` block a key for `cool_down`.
    pub fn new(budget: u32, window: Duration, cool_down: Duration) -> Self {
        Self {
            budget: budget.max(1),
            window,
            cool_down,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Budget>> {
        // Every update replaces one entry whole; a poisoned map is still consistent.
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for FailureLimiter {
    /// 10 failures within 5 minutes block a key for 5 minutes.
    fn default() -> Self {
        Self::new(10, Duration::minutes(5), Duration::minutes(5))
    }
}

impl Limiter for FailureLimiter {
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), Duration> {
        match self.lock().get(key).and_then(|b| b.blocked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    fn record_failure(&self, key: &str, now: OffsetDateTime) {
        let mut keys = self.lock();
        if keys.len() >= MAX_TRACKED_KEYS && !keys.contains_key(key) {
            // Forget the entries whose window and block are over; if none, the oldest.
            let horizon = now - self.window;
            keys.retain(|_, b| {
                b.window_start > horizon || b.blocked_until.is_some_and(|u| u > now)
            });
            if keys.len() >= MAX_TRACKED_KEYS {
                if let Some(oldest) = keys
                    .iter()
                    .min_by_key(|(_, b)| b.window_start)
                    .map(|(k, _)| k.clone())
                {
                    keys.remove(&oldest);
                }
            }
        }
        let entry = keys.entry(key.to_owned()).or_insert(Budget {
            failures: 0,
            window_start: now,
            blocked_until: None,
        });
        if now - entry.window_start >= self.window || entry.blocked_until.is_some_and(|u| u <= now)
        {
            *entry = Budget {
                failures: 0,
                window_start: now,
                blocked_until: None,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures >= self.budget {
            entry.blocked_until = Some(now + self.cool_down);
        }
    }

    fn record_success(&self, key: &str, _now: OffsetDateTime) {
        let mut keys = self.lock();
        // A blocked key stays blocked until its cool-down ends, even if a guess succeeds.
        if keys.get(key).is_some_and(|b| b.blocked_until.is_none()) {
            keys.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    #[test]
    fn budget_blocks_then_cool_down_frees() {
        let limiter = FailureLimiter::new(3, Duration::minutes(1), Duration::seconds(30));
        for _ in 0..2 {
            limiter.record_failure("c", T0);
        }
        assert!(limiter.check("c", T0).is_ok());
        limiter.record_failure("c", T0);
        assert_eq!(limiter.check("c", T0), Err(Duration::seconds(30)));
        assert_eq!(
            limiter.check("c", T0 + Duration::seconds(10)),
            Err(Duration::seconds(20))
        );
        assert!(limiter.check("other", T0).is_ok());
        assert!(limiter.check("c", T0 + Duration::seconds(30)).is_ok());
        // After the block, a new window starts.
        limiter.record_failure("c", T0 + Duration::seconds(31));
        assert!(limiter.check("c", T0 + Duration::seconds(31)).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let limiter = FailureLimiter::new(2, Duration::minutes(1), Duration::minutes(1));
        limiter.record_failure("c", T0);
        limiter.record_failure("c", T0 + Duration::minutes(2));
        assert!(limiter.check("c", T0 + Duration::minutes(2)).is_ok());
    }

    #[test]
    fn success_forgives_failures_but_not_a_block() {
        let limiter = FailureLimiter::new(2, Duration::minutes(1), Duration::minutes(1));
        limiter.record_failure("c", T0);
        limiter.record_success("c", T0);
        limiter.record_failure("c", T0);
        assert!(limiter.check("c", T0).is_ok());
        limiter.record_failure("c", T0);
        limiter.record_success("c", T0);
        assert!(limiter.check("c", T0).is_err());
    }

    #[test]
    fn tracked_keys_are_bounded() {
        let limiter = FailureLimiter::new(5, Duration::minutes(1), Duration::minutes(1));
        for i in 0..(MAX_TRACKED_KEYS + 10) {
            limiter.record_failure(&format!("k{i}"), T0);
        }
        assert!(limiter.lock().len() <= MAX_TRACKED_KEYS);
    }
}
