//! The goals the demo is held to over HTTP, each with what a run measured and whether it
//! is met: client-credentials tokens (ES256 JWT access tokens) at 16 connections, their
//! p99 latency, and the server's resident memory.

use std::fmt::Write as _;

use crate::report::{int, Row};
use crate::scenario::Scenario;
use crate::server::Store;

/// The connections the goals are stated at.
const CONNECTIONS: usize = 16;

/// One goal and what the run made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// What is measured.
    pub what: &'static str,
    /// The target, as the table prints it.
    pub target: &'static str,
    /// What the run measured, as the table prints it.
    pub measured: String,
    /// Whether the target is met; `None` when the run lacks the rows it needs.
    pub met: Option<bool>,
}

/// The goals, judged on `rows`.
pub fn judge(rows: &[Row]) -> Vec<Goal> {
    let credentials = |store| {
        rows.iter().find(|row| {
            row.store == store
                && row.outcome.scenario == Scenario::ClientCredentials
                && row.outcome.connections == CONNECTIONS
        })
    };
    let (memory, sqlite) = (credentials(Store::Memory), credentials(Store::Sqlite));
    let rate = |row: Option<&Row>, at_least: f64| match row {
        Some(row) => {
            let rate = row.outcome.per_second();
            (
                format!("{} requests/s", int(rate.round() as u64)),
                Some(rate >= at_least),
            )
        }
        None => ("not measured".to_owned(), None),
    };
    // A goal over both stores: met when both rows are there and both meet it.
    let both = |judge: &dyn Fn(&Row) -> (String, bool)| match (memory, sqlite) {
        (Some(memory), Some(sqlite)) => {
            let ((on_memory, memory_met), (on_sqlite, sqlite_met)) = (judge(memory), judge(sqlite));
            (
                format!("{on_memory} / {on_sqlite}"),
                Some(memory_met && sqlite_met),
            )
        }
        _ => ("not measured".to_owned(), None),
    };
    let (memory_rate, memory_met) = rate(memory, 6_000.0);
    let (sqlite_rate, sqlite_met) = rate(sqlite, 3_000.0);
    let (p99, p99_met) = both(&|row| {
        let p99 = row.outcome.latency.p99;
        (
            format!("{:.2} ms", p99.as_secs_f64() * 1000.0),
            p99.as_secs_f64() < 0.020,
        )
    });
    let (rss, rss_met) = both(&|row| {
        let mib = row.rss_kib as f64 / 1024.0;
        (format!("{mib:.1} MiB"), mib < 32.0)
    });
    vec![
        Goal {
            what: "Client credentials, memory store, 16 connections",
            target: "≥ 6,000 requests/s",
            measured: memory_rate,
            met: memory_met,
        },
        Goal {
            what: "Client credentials, SQLite (`synchronous = FULL`), 16 connections",
            target: "≥ 3,000 requests/s",
            measured: sqlite_rate,
            met: sqlite_met,
        },
        Goal {
            what: "p99 latency of client credentials at 16 connections, memory / SQLite",
            target: "< 20 ms",
            measured: p99,
            met: p99_met,
        },
        Goal {
            what: "The server's resident memory after the 16-connection client-credentials \
                   scenario (with every grant issued so far), memory / SQLite",
            target: "< 32 MiB",
            measured: rss,
            met: rss_met,
        },
    ]
}

/// The goals as a markdown table.
pub fn table(goals: &[Goal]) -> String {
    let mut out = String::from("| goal | target | measured | met? |\n|---|---|---|---|\n");
    for goal in goals {
        let met = match goal.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {met} |",
            goal.what, goal.target, goal.measured
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario::Outcome;
    use crate::stats::Latency;

    fn row(store: Store, per_second: u64, p99_ms: u64, rss_mib: u64) -> Row {
        Row {
            store,
            outcome: Outcome {
                scenario: Scenario::ClientCredentials,
                connections: CONNECTIONS,
                completed: per_second,
                errors: 0,
                first_error: None,
                elapsed: Duration::from_secs(1),
                latency: Latency {
                    p50: Duration::from_millis(1),
                    p99: Duration::from_millis(p99_ms),
                    max: Duration::from_millis(p99_ms),
                },
            },
            rss_kib: rss_mib * 1024,
        }
    }

    #[test]
    fn each_goal_is_judged_on_its_rows() {
        let goals = judge(&[
            row(Store::Memory, 7_000, 3, 20),
            row(Store::Sqlite, 2_999, 15, 12),
        ]);
        let met: Vec<_> = goals.iter().map(|goal| goal.met).collect();
        assert_eq!(met, [Some(true), Some(false), Some(true), Some(true)]);
        assert_eq!(goals[0].measured, "7,000 requests/s");
        assert_eq!(goals[2].measured, "3.00 ms / 15.00 ms");
        assert_eq!(goals[3].measured, "20.0 MiB / 12.0 MiB");

        // A goal over both stores fails when either store misses it.
        let goals = judge(&[
            row(Store::Memory, 7_000, 25, 40),
            row(Store::Sqlite, 3_000, 5, 12),
        ]);
        let met: Vec<_> = goals.iter().map(|goal| goal.met).collect();
        assert_eq!(met, [Some(true), Some(true), Some(false), Some(false)]);

        // Rows at other connection counts do not count; missing rows judge nothing.
        let mut elsewhere = row(Store::Memory, 9_000, 1, 1);
        elsewhere.outcome.connections = 64;
        let goals = judge(&[elsewhere]);
        assert!(goals.iter().all(|goal| goal.met.is_none()));
        assert!(table(&goals).contains("| not measured | — |"));
    }

    #[test]
    fn the_table_marks_misses() {
        let goals = judge(&[
            row(Store::Memory, 100, 3, 20),
            row(Store::Sqlite, 3_500, 5, 12),
        ]);
        let table = table(&goals);
        assert!(table.starts_with("| goal | target | measured | met? |\n|---|---|---|---|\n"));
        assert!(table.contains(
            "| Client credentials, memory store, 16 connections | ≥ 6,000 requests/s | 100 requests/s | **no** |"
        ));
        assert_eq!(table.lines().count(), 6);
    }
}
