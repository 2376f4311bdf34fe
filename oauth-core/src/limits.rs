//! Limits on guessing: failure budgets charged to what the caller controls, with a
//! cool-down.
//!
//! Before the engine checks a client's credentials (token, introspection and revocation
//! endpoints) it reserves one attempt with its [`Limiter`] for two keys: the caller (the
//! [`CallerKey`](crate::CallerKey) the adapter passed, an IP address or an IPv6 /64) and
//! the pair of the client id and that caller. Never the client id alone: a budget every
//! caller shares is one a stranger can spend to lock the client's legitimate callers out.
//! A reserved attempt counts as a failure until it is settled as a success, and
//! reservation is one atomic step, so `N` concurrent guesses against a budget of `B`
//! evaluate at most `B` credentials. Once a key's budget is spent it is refused with `429`
//! and `Retry-After` until the cool-down passes, before any secret is checked.
//!
//! Without a caller key (a request whose peer is unknown) nothing is charged: every
//! adapter in this workspace passes one.
//!
//! The embedder's own credential step (the login form) uses the same limiter through
//! [`Engine::limiter`](crate::Engine::limiter), with the same rule: charge the pair of
//! account and caller, and the caller, never the account alone.
//!
//! [`FailureLimiter`] runs on the engine's clock (the instants are passed in), so a test
//! advances a `ManualClock` instead of sleeping. Its memory is bounded
//! ([`MAX_TRACKED_KEYS`]) and making room never forgets a blocked key.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Decides whether keys may make another credential-bearing attempt.
pub trait Limiter: Send + Sync {
    /// Reserves one attempt at `now` for every key of `keys`, in one atomic step: if any key
    /// is blocked, nothing is reserved and the answer is how long until all may try. A
    /// reserved attempt counts as a failure until [`Limiter::succeeded`] settles it, so a
    /// failed attempt needs no second call.
    fn reserve(&self, keys: &[&str], now: OffsetDateTime) -> Result<(), Duration>;

    /// The attempt reserved for `key` succeeded: its reservation is refunded. With
    /// `forgive`, the key's earlier failures are forgiven too (a block still runs its
    /// cool-down). Forgive only a key that the success proves was the rightful owner's,
    /// such as the pair of client and caller, never the caller alone: one valid credential
    /// must not reset a caller's budget for guessing at others.
    fn succeeded(&self, key: &str, forgive: bool, now: OffsetDateTime);
}

/// Never limits: the default until one is configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLimits;

impl Limiter for NoLimits {
    fn reserve(&self, _keys: &[&str], _now: OffsetDateTime) -> Result<(), Duration> {
        Ok(())
    }
    fn succeeded(&self, _key: &str, _forgive: bool, _now: OffsetDateTime) {}
}

/// Most keys a [`FailureLimiter`] tracks. Making room forgets keys whose window and block
/// are over, then the oldest unblocked ones; a blocked key is never forgotten. When every
/// tracked key is blocked, new keys share one overflow budget until room frees up, so a
/// flood of fresh keys can neither exhaust memory nor unblock anyone.
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// The shared key for new keys while the table holds only blocked keys.
const OVERFLOW_KEY: &str = "\0overflow";

#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Failures in the window, reserved attempts included.
    failures: u32,
    window_start: OffsetDateTime,
    blocked_until: Option<OffsetDateTime>,
}

impl Budget {
    fn fresh(now: OffsetDateTime) -> Self {
        Self {
            failures: 0,
            window_start: now,
            blocked_until: None,
        }
    }

    fn is_blocked(&self, now: OffsetDateTime) -> bool {
        self.blocked_until.is_some_and(|until| until > now)
    }
}

/// An in-memory limiter: `budget` failures within `window` block a key for `cool_down`.
///
/// It counts the attempts of one process. Instances behind a load balancer each count
/// their own, so a caller gets up to `budget` attempts per instance.
#[derive(Debug)]
pub struct FailureLimiter {
    budget: u32,
    window: Duration,
    cool_down: Duration,
    capacity: usize,
    keys: Mutex<HashMap<String, Budget>>,
}

impl FailureLimiter {
    /// `budget` failures (at least 1) within `window` block a key for `cool_down`.
    pub fn new(budget: u32, window: Duration, cool_down: Duration) -> Self {
        Self::with_capacity(budget, window, cool_down, MAX_TRACKED_KEYS)
    }

    fn with_capacity(budget: u32, window: Duration, cool_down: Duration, capacity: usize) -> Self {
        Self {
            budget: budget.max(1),
            window,
            cool_down,
            capacity: capacity.max(2),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Budget>> {
        // Every update replaces one entry whole; a poisoned map is still consistent.
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The budget's state at `now`, its window restarted once it (and any block) is over.
    fn current(&self, budget: Option<&Budget>, now: OffsetDateTime) -> Budget {
        match budget {
            Some(b) if b.is_blocked(now) => *b,
            Some(b) if b.blocked_until.is_none() && now - b.window_start < self.window => *b,
            _ => Budget::fresh(now),
        }
    }

    /// Frees room for one more key: first what has lapsed, then the oldest unblocked key.
    /// Answers whether there is room.
    fn make_room(&self, keys: &mut HashMap<String, Budget>, now: OffsetDateTime) -> bool {
        // One place stays free for the overflow budget.
        let room = self.capacity - 1;
        if keys.len() < room {
            return true;
        }
        let horizon = now - self.window;
        keys.retain(|_, b| {
            b.is_blocked(now) || (b.blocked_until.is_none() && b.window_start > horizon)
        });
        if keys.len() < room {
            return true;
        }
        let oldest_unblocked = keys
            .iter()
            .filter(|(k, b)| !b.is_blocked(now) && k.as_str() != OVERFLOW_KEY)
            .min_by_key(|(_, b)| b.window_start)
            .map(|(k, _)| k.clone());
        match oldest_unblocked {
            Some(oldest) => {
                keys.remove(&oldest);
                true
            }
            None => false,
        }
    }
}

impl Default for FailureLimiter {
    /// 10 failures within 5 minutes block a key for 5 minutes.
    fn default() -> Self {
        Self::new(10, Duration::minutes(5), Duration::minutes(5))
    }
}

impl Limiter for FailureLimiter {
    fn reserve(&self, keys: &[&str], now: OffsetDateTime) -> Result<(), Duration> {
        let mut table = self.lock();
        // Which entry each key is charged to: its own, or the overflow budget when no room
        // can be made without forgetting a blocked key.
        let mut charged: Vec<(String, Budget)> = Vec::with_capacity(keys.len());
        let mut wait = Duration::ZERO;
        for key in keys {
            let name = if table.contains_key(*key) {
                (*key).to_owned()
            } else if self.make_room(&mut table, now) {
                // Held now, so the next key of this call sees the room it takes.
                table.insert((*key).to_owned(), Budget::fresh(now));
                (*key).to_owned()
            } else {
                OVERFLOW_KEY.to_owned()
            };
            if charged.iter().any(|(charged, _)| *charged == name) {
                continue;
            }
            let mut budget = self.current(table.get(&name), now);
            if !budget.is_blocked(now) && budget.failures >= self.budget {
                budget.blocked_until = Some(now + self.cool_down);
            }
            if let Some(until) = budget.blocked_until.filter(|until| *until > now) {
                wait = wait.max(until - now);
            }
            charged.push((name, budget));
        }
        if wait > Duration::ZERO {
            // Record the blocks that started now, reserve nothing.
            for (name, budget) in charged {
                if budget.is_blocked(now) {
                    table.insert(name, budget);
                }
            }
            return Err(wait);
        }
        for (name, mut budget) in charged {
            budget.failures = budget.failures.saturating_add(1);
            table.insert(name, budget);
        }
        Ok(())
    }

    fn succeeded(&self, key: &str, forgive: bool, now: OffsetDateTime) {
        let mut table = self.lock();
        let Some(budget) = table.get_mut(key) else {
            return;
        };
        if budget.is_blocked(now) {
            // A block runs its cool-down, even when a guess during it succeeds.
            return;
        }
        if forgive {
            table.remove(key);
        } else {
            budget.failures = budget.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn fail(limiter: &FailureLimiter, key: &str, now: OffsetDateTime) -> Result<(), Duration> {
        limiter.reserve(&[key], now)
    }

    #[test]
    fn budget_blocks_then_cool_down_frees() {
        let limiter = FailureLimiter::new(3, Duration::minutes(1), Duration::seconds(30));
        for _ in 0..3 {
            assert!(fail(&limiter, "c", T0).is_ok());
        }
        // The budget is spent: the next attempt is refused and starts the cool-down.
        assert_eq!(fail(&limiter, "c", T0), Err(Duration::seconds(30)));
        assert_eq!(
            fail(&limiter, "c", T0 + Duration::seconds(10)),
            Err(Duration::seconds(20))
        );
        assert!(fail(&limiter, "other", T0).is_ok());
        // After the block, a new window starts.
        assert!(fail(&limiter, "c", T0 + Duration::seconds(30)).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let limiter = FailureLimiter::new(2, Duration::minutes(1), Duration::minutes(1));
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(fail(&limiter, "c", T0 + Duration::seconds(59)).is_ok());
        assert!(fail(&limiter, "c", T0 + Duration::minutes(2)).is_ok());
        assert!(fail(&limiter, "c", T0 + Duration::minutes(2)).is_ok());
    }

    #[test]
    fn a_success_refunds_or_forgives_but_never_lifts_a_block() {
        let limiter = FailureLimiter::new(2, Duration::minutes(1), Duration::minutes(1));
        // Refunded successes never spend the budget.
        for _ in 0..10 {
            assert!(fail(&limiter, "c", T0).is_ok());
            limiter.succeeded("c", false, T0);
        }
        assert!(fail(&limiter, "c", T0).is_ok()); // one real failure
        assert!(fail(&limiter, "c", T0).is_ok());
        limiter.succeeded("c", true, T0); // forgiven, both
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(fail(&limiter, "c", T0).is_err());
        limiter.succeeded("c", true, T0);
        assert!(fail(&limiter, "c", T0).is_err(), "the block stands");
    }

    #[test]
    fn rl02_reservation_and_check_are_one_step() {
        // Two keys at once: when one is blocked, the other is not charged.
        let limiter = FailureLimiter::new(1, Duration::minutes(1), Duration::minutes(1));
        assert!(limiter.reserve(&["a"], T0).is_ok());
        assert!(limiter.reserve(&["b", "a"], T0).is_err());
        assert!(limiter.reserve(&["b"], T0).is_ok(), "b was not charged");
        // Many threads guessing at once evaluate at most the budget.
        let limiter = std::sync::Arc::new(FailureLimiter::new(
            10,
            Duration::minutes(1),
            Duration::minutes(1),
        ));
        let admitted = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|scope| {
            for _ in 0..200 {
                scope.spawn(|| {
                    if limiter.reserve(&["caller", "pair"], T0).is_ok() {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 10);
    }

    #[test]
    fn rl03_memory_is_bounded_and_eviction_never_frees_a_blocked_key() {
        let limiter =
            FailureLimiter::with_capacity(2, Duration::minutes(1), Duration::hours(1), 100);
        // The victim of a lockout... rather, an attacker's blocked key.
        assert!(fail(&limiter, "blocked", T0).is_ok());
        assert!(fail(&limiter, "blocked", T0).is_ok());
        assert!(fail(&limiter, "blocked", T0).is_err());
        // A flood of junk keys, each spending its budget.
        for i in 0..1_000 {
            let key = format!("junk{i}");
            let _ = fail(&limiter, &key, T0);
            let _ = fail(&limiter, &key, T0);
            let _ = fail(&limiter, &key, T0);
        }
        assert!(limiter.lock().len() <= 100);
        assert!(fail(&limiter, "blocked", T0).is_err(), "still blocked");
        // Once the table is all blocked keys, newcomers share one overflow budget.
        let later = T0 + Duration::seconds(1);
        let mut admitted = 0;
        for i in 0..10 {
            if fail(&limiter, &format!("new{i}"), later).is_ok() {
                admitted += 1;
            }
        }
        assert!(admitted <= 2, "{admitted}");
        assert!(fail(&limiter, "blocked", later).is_err());
    }
}
