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

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Decides whether keys may make another credential-bearing attempt.
///
/// An attempt is [reserved](Limiter::reserve) before the credential is checked and then
/// settled once: [`Limiter::failed`] or [`Limiter::succeeded`]. Reserved attempts count
/// against the budget while they run, so concurrent guesses cannot overrun it, but only
/// settled failures start a cool-down: many valid requests at once from one caller are
/// asked to retry in a second, never blocked for minutes.
pub trait Limiter: Send + Sync {
    /// Reserves one attempt at `now` for every key of `keys`, in one atomic step: if any key
    /// is blocked, or its budget is taken by failures and attempts under way, nothing is
    /// reserved and the answer is how long to wait.
    fn reserve(&self, keys: &[&str], now: OffsetDateTime) -> Result<(), Duration>;

    /// The attempt reserved for `key` failed: it counts as a failure from now on.
    fn failed(&self, key: &str, now: OffsetDateTime);

    /// The attempt reserved for `key` succeeded, or was never evaluated (the request was
    /// malformed, the server faulted): the reservation is released. With `forgive`, the
    /// key's earlier failures are forgiven too (a block still runs its cool-down). Forgive
    /// only a key that the success proves was the rightful owner's, such as the pair of
    /// client and caller, never the caller alone: one valid credential must not reset a
    /// caller's budget for guessing at others.
    fn succeeded(&self, key: &str, forgive: bool, now: OffsetDateTime);

    /// How long `key` stays blocked at `now`, if it is: a read for reports (which key of a
    /// refused attempt was the blocked one), never a check before an attempt, which is
    /// [`Limiter::reserve`]'s job. The default knows of no block.
    fn blocked_for(&self, _key: &str, _now: OffsetDateTime) -> Option<Duration> {
        None
    }
}

/// Never limits: the default until one is configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLimits;

impl Limiter for NoLimits {
    fn reserve(&self, _keys: &[&str], _now: OffsetDateTime) -> Result<(), Duration> {
        Ok(())
    }
    fn failed(&self, _key: &str, _now: OffsetDateTime) {}
    fn succeeded(&self, _key: &str, _forgive: bool, _now: OffsetDateTime) {}
}

/// Most keys a [`FailureLimiter`] tracks. Making room forgets keys whose window and block
/// are over, then the oldest unblocked ones, a sixteenth of the table at a time; a blocked
/// key is never forgotten. When every tracked key is blocked, a new key is charged to one
/// of [`OVERFLOW_BUCKETS`] shared budgets picked by a keyed hash of it, until room frees
/// up: a flood of fresh keys can neither exhaust memory nor unblock anyone, and a caller
/// shares its fate with a small random fraction of the others only.
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// Shared budgets for new keys while the table holds only blocked keys.
pub const OVERFLOW_BUCKETS: usize = 256;

/// How many times a key's budget an overflow bucket holds: it is shared by the keys that
/// hash to it, so one flooder's fresh keys must spend this much more to block it.
const OVERFLOW_BUDGET_FACTOR: u32 = 16;

/// How long a caller whose budget is taken by attempts still under way waits.
const BUSY_RETRY: Duration = Duration::seconds(1);

#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Settled failures in the window.
    failures: u32,
    /// Attempts reserved and not settled yet. Reset with the window, so attempts whose
    /// request was abandoned midway (never settled) cannot pile up.
    pending: u32,
    window_start: OffsetDateTime,
    blocked_until: Option<OffsetDateTime>,
}

impl Budget {
    fn fresh(now: OffsetDateTime) -> Self {
        Self {
            failures: 0,
            pending: 0,
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
    /// Picks a key's overflow bucket; random per limiter, so nobody can aim at a bucket.
    overflow_hasher: RandomState,
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
            capacity: capacity.max(OVERFLOW_BUCKETS * 2),
            overflow_hasher: RandomState::new(),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Budget>> {
        // Every update replaces one entry whole; a poisoned map is still consistent.
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn overflow_name(&self, key: &str) -> String {
        let bucket = self.overflow_hasher.hash_one(key) as usize % OVERFLOW_BUCKETS;
        format!("\0overflow{bucket}")
    }

    /// The budget's state at `now`, its window restarted once it (and any block) is over.
    fn current(&self, budget: Option<&Budget>, now: OffsetDateTime) -> Budget {
        match budget {
            Some(b) if b.is_blocked(now) => *b,
            Some(b) if b.blocked_until.is_none() && now - b.window_start < self.window => *b,
            _ => Budget::fresh(now),
        }
    }

    /// Whether there is room for one more key, freeing some if needed: first what has
    /// lapsed, then the oldest unblocked keys, a sixteenth of the table at once so that
    /// the walk is paid once per many new keys. Room is kept for the overflow buckets.
    fn make_room(&self, keys: &mut HashMap<String, Budget>, now: OffsetDateTime) -> bool {
        let room = self.capacity - OVERFLOW_BUCKETS;
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
        let mut unblocked: Vec<(OffsetDateTime, String)> = keys
            .iter()
            .filter(|(k, b)| !b.is_blocked(now) && !k.starts_with('\0'))
            .map(|(k, b)| (b.window_start, k.clone()))
            .collect();
        if unblocked.is_empty() {
            return false;
        }
        let batch = (self.capacity / 16).clamp(1, unblocked.len());
        unblocked.select_nth_unstable(batch - 1);
        for (_, key) in unblocked.into_iter().take(batch) {
            keys.remove(&key);
        }
        true
    }

    /// The entry `key` is counted under: its own if tracked, else its own if room can be
    /// made, else its overflow bucket.
    fn charged_name(
        &self,
        table: &mut HashMap<String, Budget>,
        key: &str,
        now: OffsetDateTime,
    ) -> String {
        if table.contains_key(key) || self.make_room(table, now) {
            key.to_owned()
        } else {
            self.overflow_name(key)
        }
    }

    /// The entry a settled attempt of `key` belongs to: its own, or its overflow bucket.
    fn settled_name<'a>(
        &self,
        table: &HashMap<String, Budget>,
        key: &'a str,
    ) -> std::borrow::Cow<'a, str> {
        if table.contains_key(key) {
            std::borrow::Cow::Borrowed(key)
        } else {
            std::borrow::Cow::Owned(self.overflow_name(key))
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
        let mut charged: Vec<(String, Budget)> = Vec::with_capacity(keys.len());
        let mut wait = Duration::ZERO;
        for key in keys {
            let name = self.charged_name(&mut table, key, now);
            if charged.iter().any(|(seen, _)| *seen == name) {
                continue;
            }
            let mut budget = self.current(table.get(&name), now);
            let allowed = if name.starts_with('\0') {
                self.budget.saturating_mul(OVERFLOW_BUDGET_FACTOR)
            } else {
                self.budget
            };
            if !budget.is_blocked(now) && budget.failures >= allowed {
                // The budget is spent by settled failures: the cool-down starts now.
                budget.blocked_until = Some(now + self.cool_down);
            }
            if let Some(until) = budget.blocked_until.filter(|until| *until > now) {
                wait = wait.max(until - now);
            } else if budget.failures.saturating_add(budget.pending) >= allowed {
                // Taken by attempts still under way: retry shortly, no block.
                wait = wait.max(BUSY_RETRY);
            }
            charged.push((name, budget));
        }
        if wait > Duration::ZERO {
            // Nothing is reserved, and no new key is tracked; only blocks that started now
            // are recorded, on keys already tracked or on their bucket.
            for (name, budget) in charged {
                if budget.is_blocked(now) && table.contains_key(&name) {
                    table.insert(name, budget);
                }
            }
            return Err(wait);
        }
        for (name, mut budget) in charged {
            budget.pending = budget.pending.saturating_add(1);
            table.insert(name, budget);
        }
        Ok(())
    }

    fn failed(&self, key: &str, now: OffsetDateTime) {
        let mut table = self.lock();
        let name = self.settled_name(&table, key).into_owned();
        let mut budget = self.current(table.get(&name), now);
        budget.pending = budget.pending.saturating_sub(1);
        budget.failures = budget.failures.saturating_add(1);
        table.insert(name, budget);
    }

    fn succeeded(&self, key: &str, forgive: bool, now: OffsetDateTime) {
        let mut table = self.lock();
        let name = self.settled_name(&table, key).into_owned();
        let Some(budget) = table.get_mut(&name) else {
            return;
        };
        budget.pending = budget.pending.saturating_sub(1);
        if forgive && !budget.is_blocked(now) && name == key {
            // A block runs its cool-down, even when a guess during it succeeds; a shared
            // bucket is never forgiven for one caller's success.
            budget.failures = 0;
            if budget.pending == 0 {
                table.remove(&name);
            }
        }
    }

    fn blocked_for(&self, key: &str, now: OffsetDateTime) -> Option<Duration> {
        let table = self.lock();
        let budget = table.get(key)?;
        budget
            .blocked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    /// One attempt that fails.
    fn fail(limiter: &FailureLimiter, key: &str, now: OffsetDateTime) -> Result<(), Duration> {
        limiter.reserve(&[key], now)?;
        limiter.failed(key, now);
        Ok(())
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
    fn a_success_releases_or_forgives_but_never_lifts_a_block() {
        let limiter = FailureLimiter::new(2, Duration::minutes(1), Duration::minutes(1));
        // Successes never spend the budget.
        for _ in 0..10 {
            assert!(limiter.reserve(&["c"], T0).is_ok());
            limiter.succeeded("c", false, T0);
        }
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(limiter.reserve(&["c"], T0).is_err(), "spent");
        let limiter = FailureLimiter::new(2, Duration::minutes(1), Duration::minutes(1));
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(limiter.reserve(&["c"], T0).is_ok());
        limiter.succeeded("c", true, T0); // the earlier failure is forgiven
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(fail(&limiter, "c", T0).is_ok());
        assert!(limiter.reserve(&["c"], T0).is_err());
        limiter.succeeded("c", true, T0);
        assert!(limiter.reserve(&["c"], T0).is_err(), "the block stands");
    }

    #[test]
    fn blocked_for_reports_a_block_without_charging() {
        let limiter = FailureLimiter::new(1, Duration::minutes(1), Duration::minutes(1));
        assert!(fail(&limiter, "c", T0).is_ok());
        assert_eq!(limiter.blocked_for("c", T0), None, "spent, not yet blocked");
        assert!(fail(&limiter, "c", T0).is_err());
        assert_eq!(limiter.blocked_for("c", T0), Some(Duration::minutes(1)));
        assert_eq!(limiter.blocked_for("other", T0), None);
        assert!(
            fail(&limiter, "other", T0).is_ok(),
            "asking charged nothing"
        );
    }

    #[test]
    fn rl02_reservation_and_check_are_one_step() {
        // Two keys at once: when one is blocked, the other is not charged.
        let limiter = FailureLimiter::new(1, Duration::minutes(1), Duration::minutes(1));
        assert!(fail(&limiter, "a", T0).is_ok());
        assert!(limiter.reserve(&["b", "a"], T0).is_err());
        assert!(fail(&limiter, "b", T0).is_ok(), "b was not charged");
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
    fn many_valid_attempts_at_once_are_asked_to_retry_never_blocked() {
        let limiter = FailureLimiter::new(3, Duration::minutes(5), Duration::minutes(5));
        for _ in 0..3 {
            assert!(limiter.reserve(&["busy"], T0).is_ok());
        }
        // A fourth while three run: a short wait, not a cool-down.
        assert_eq!(limiter.reserve(&["busy"], T0), Err(BUSY_RETRY));
        for _ in 0..3 {
            limiter.succeeded("busy", false, T0);
        }
        assert!(limiter.reserve(&["busy"], T0).is_ok());
        assert_eq!(limiter.blocked_for("busy", T0), None);
    }

    #[test]
    fn rl03_memory_is_bounded_and_eviction_never_frees_a_blocked_key() {
        let capacity = OVERFLOW_BUCKETS * 4;
        let limiter =
            FailureLimiter::with_capacity(2, Duration::minutes(1), Duration::hours(1), capacity);
        assert!(fail(&limiter, "blocked", T0).is_ok());
        assert!(fail(&limiter, "blocked", T0).is_ok());
        assert!(fail(&limiter, "blocked", T0).is_err());
        // A flood of junk keys, each spending its budget.
        for i in 0..capacity {
            let key = format!("junk{i}");
            for _ in 0..3 {
                let _ = fail(&limiter, &key, T0);
            }
        }
        assert!(limiter.lock().len() <= capacity);
        assert!(fail(&limiter, "blocked", T0).is_err(), "still blocked");
        // A blocked caller trying fresh keys adds nothing to the table.
        let before = limiter.lock().len();
        for i in 0..100 {
            let _ = limiter.reserve(&["blocked", &format!("pair{i}")], T0);
        }
        assert_eq!(limiter.lock().len(), before);
        // Once the table is all blocked keys, newcomers are charged to buckets, not to
        // one shared budget: most still get their attempts.
        let later = T0 + Duration::seconds(1);
        let mut admitted = 0;
        for i in 0..100 {
            if limiter.reserve(&[&format!("new{i}")], later).is_ok() {
                admitted += 1;
                limiter.succeeded(&format!("new{i}"), false, later);
            }
        }
        assert!(admitted >= 50, "{admitted}");
        assert!(fail(&limiter, "blocked", later).is_err());
    }
}
