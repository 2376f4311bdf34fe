//! How far a commit is on disk before the store answers: SQLite's `synchronous` setting.

/// What a commit survives once the store has answered. Set with
/// [`SqliteOptions::durability`](crate::SqliteOptions::durability).
///
/// Both keep the database consistent (WAL mode never leaves a half-written transaction).
/// They differ in what a machine failure can take back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous = FULL`, the default: every commit is flushed to the disk (`fsync`)
    /// before the call returns. A consumed code, a rotated refresh token or a revocation
    /// stays so across a crash of the process and across a power loss or an operating
    /// system crash.
    #[default]
    PowerLoss,
    /// `synchronous = NORMAL`: a commit is written to the write-ahead log before the call
    /// returns, and the log is flushed only at checkpoints. Every commit survives a crash
    /// of the process; a power loss or an operating system crash may take back the last
    /// commits before it.
    ///
    /// The trade: each write costs a write to the page cache instead of a flush, several
    /// times faster on most disks. What can be taken back is recent: a code consumed in
    /// the last moments before a power loss could be redeemed once more while it is
    /// still valid (codes live a minute by default), a revocation could be undone, and
    /// tokens issued in those moments are forgotten (so they stop working). Choose it
    /// when those risks are acceptable, or when the disk's flush is not trustworthy
    /// anyway (some virtual disks acknowledge a flush they have not done).
    ProcessCrash,
}

impl Durability {
    /// The `PRAGMA synchronous` value.
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Durability::PowerLoss => "FULL",
            Durability::ProcessCrash => "NORMAL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteOptions;

    fn synchronous_of(durability: Option<Durability>) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let mut options = SqliteOptions::file(dir.path().join("d.db"));
        if let Some(durability) = durability {
            options = options.durability(durability);
        }
        let connection = options.connect().unwrap();
        connection
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn sc03_commits_are_flushed_unless_the_embedder_opts_out() {
        // SQLite's codes: 2 is FULL, 1 is NORMAL.
        assert_eq!(synchronous_of(None), 2, "the default flushes every commit");
        assert_eq!(synchronous_of(Some(Durability::PowerLoss)), 2);
        assert_eq!(synchronous_of(Some(Durability::ProcessCrash)), 1);
    }
}
