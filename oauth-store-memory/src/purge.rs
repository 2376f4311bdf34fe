//! Purging the memory store in steps whose cost follows their limit, never the store's size.
//!
//! The store keeps no expiry index (one would cost every record an entry, which the
//! per-grant memory figures cannot spare). Instead each purge call is one step of a sweep
//! over the four maps that hold expiring records: it looks at a bounded number of entries
//! from where the previous step stopped (see [`Shard`](crate::shard::Shard) for how a step
//! resumes), removes what expired, and reports `more` until the sweep has been over every
//! map. A whole purge thus costs the store's size, spread over many short steps, each
//! holding one shard's lock at a time.

use std::sync::{Arc, Mutex};

use oauth_core::storage::PurgeReport;
use oauth_core::StorageError;
use time::OffsetDateTime;

use crate::grant::{Grant, GrantKey};
use crate::moment::Moment;
use crate::sharded::Cursor;
use crate::store::MemoryStore;

/// How many entries of each map a step may look at per record its limit lets it remove.
/// Looking at an entry is a comparison of instants, so a step with limit 1,000 looks at
/// up to 16,000 entries per map, a fraction of a millisecond.
pub(crate) const VISITS_PER_REMOVAL: usize = 16;

/// Where the current sweep stands, and the instant it purges at.
#[derive(Debug, Default)]
pub(crate) struct Sweep {
    /// The earliest `before` of the sweep's steps so far, `None` when no sweep is under
    /// way: everything the sweep kept expires after it.
    lowest: Option<Moment>,
    /// A sweep ended at a step later than its earliest instant, which was this one: the
    /// next step, if at or before it, is told its purge is over; any other starts anew.
    ended: Option<Moment>,
    uses: Cursor,
    codes: Cursor,
    tokens: Cursor,
    grants: Cursor,
}

/// The sweep, one step at a time: purge calls take turns.
#[derive(Debug, Default)]
pub(crate) struct PurgeSweep(Mutex<Sweep>);

impl MemoryStore {
    /// One step of the purge at `before`: see the module docs. Steps at different instants
    /// share one sweep, each removing what expired by its own instant; what the sweep
    /// kept expires after the earliest of them. So when the sweep ends, it ends the purge
    /// of a step at that earliest instant (`more == false`), while a step at a later one
    /// answers `more`, and the next step either is at or before that earliest instant
    /// (the purge that ended the sweep's steps there is told it is over) or starts a new
    /// sweep at its own. Two purges at different instants thus never keep each other from
    /// finishing: the earlier finishes first, then the later with a sweep of its own.
    pub(crate) fn purge_step(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        let before = Moment::new(before)?;
        let limit = limit.max(1);
        let budget = limit.saturating_mul(VISITS_PER_REMOVAL);
        let mut sweep = self
            .purge
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(ended) = sweep.ended.take() {
            if before <= ended {
                // The sweep that just ended covered this instant too.
                self.profiles.forget_unused();
                return Ok(PurgeReport::default());
            }
            self.restart(&mut sweep, before);
        }
        match sweep.lowest {
            None => self.restart(&mut sweep, before),
            Some(lowest) => sweep.lowest = Some(lowest.min(before)),
        }
        let mut report = PurgeReport::default();
        let mut visited = 0;
        let step = self
            .uses
            .sweep(&mut sweep.uses, budget, limit, |_, expires_at| {
                *expires_at > before
            });
        report.uses = step.removed as u64;
        visited += step.visited;
        // The data of removed codes whose grant was never issued: registered in the grants
        // map for an issue that can no longer come, it goes with its code.
        let mut unissued = Vec::new();
        let step = self
            .codes
            .sweep(&mut sweep.codes, budget, limit, |_, grant| {
                let keep = grant.code_kept_until() > before;
                if !keep && !grant.is_issued() {
                    unissued.push(Arc::clone(grant));
                }
                keep
            });
        report.codes = step.removed as u64;
        visited += step.visited;
        // After the codes' shard locks are released: grant shards come first in the lock
        // order.
        for data in unissued {
            self.forget_unissued(data);
        }
        let step = self
            .tokens
            .sweep(&mut sweep.tokens, budget, limit, |_, token| {
                let keep = token.kept_until() > before;
                if !keep {
                    token.forget();
                }
                keep
            });
        report.tokens = step.removed as u64;
        visited += step.visited;
        let mut grants_removed = 0;
        let step = self
            .grants
            .sweep(&mut sweep.grants, budget, limit, |GrantKey(grant), ()| {
                if grant.is_issued() {
                    let keep = grant.expires_at() > before;
                    grants_removed += u64::from(!keep);
                    keep
                } else {
                    // A code's data waiting for its grant: kept while the code is (a code
                    // removed by this sweep took its data along, above). Only this
                    // shard's lock hands out new references to it, and it is held.
                    Arc::strong_count(grant) > 1
                }
            });
        report.grants = grants_removed;
        visited += step.visited;
        // Every removal counted above was a visit too.
        let removed = report.uses + report.codes + report.tokens + step.removed as u64;
        report.kept = (visited as u64).saturating_sub(removed);
        let finished = [&sweep.uses, &sweep.codes, &sweep.tokens, &sweep.grants]
            .iter()
            .all(|cursor| cursor.is_done());
        report.more = true;
        if finished {
            if sweep.lowest.is_some_and(|lowest| before <= lowest) {
                // The purge at `before` is over: the next step starts another sweep.
                report.more = false;
                sweep.lowest = None;
                // Once per whole purge: interned profiles no record uses any more.
                self.profiles.forget_unused();
            } else {
                // Kept by steps at an earlier instant, some records may have expired by
                // this one, which needs a sweep of its own; the next step decides.
                sweep.ended = sweep.lowest.take();
            }
        }
        Ok(report)
    }

    /// Starts a new sweep of every map, at `before`.
    fn restart(&self, sweep: &mut Sweep, before: Moment) {
        self.uses.restart_sweep(&mut sweep.uses);
        self.codes.restart_sweep(&mut sweep.codes);
        self.tokens.restart_sweep(&mut sweep.tokens);
        self.grants.restart_sweep(&mut sweep.grants);
        sweep.lowest = Some(before);
    }

    /// Removes `data`, a removed code's, from the grants map if it is still registered
    /// there, unissued, and nothing but the map and `data` itself refer to it.
    fn forget_unissued(&self, data: Arc<Grant>) {
        let id = data.id_bytes();
        let mut grants = self.grants.shard(id);
        let unclaimed = grants
            .get_key_value(id)
            .is_some_and(|(GrantKey(registered), ())| {
                Arc::ptr_eq(registered, &data)
                    && !registered.is_issued()
                    && Arc::strong_count(registered) == 2
            });
        if unclaimed {
            grants.remove(id);
        }
    }
}
