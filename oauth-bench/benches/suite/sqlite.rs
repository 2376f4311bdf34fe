//! SQLite on a file (WAL): the full flow one at a time against the durable commits it
//! makes, the two opt-ins for cheaper commits and reads, refresh, the opaque check, and
//! 16 concurrent flows sharing commits.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use oauth_bench::fixture::{self, FlowRequests, Tokens};
use oauth_bench::floor::CommitFloor;
use oauth_bench::measure;
use oauth_bench::report::{self, Row};
use oauth_core::ScopeSet;
use oauth_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use tokio::runtime::Runtime;

use crate::plan::Plan;

/// Durable commits in one full authorization-code flow on SQLite: the approval (its
/// single-use mark and the code) and the redemption (the code consumed and its tokens
/// stored in one transaction).
const COMMITS_PER_FLOW: u8 = 2;

/// What the SQLite section measured outside criterion, in nanoseconds per operation
/// (medians over rounds that interleave the flows with bare commits) and flows per second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqliteFigures {
    /// A full flow, one at a time, at the default durability.
    pub(crate) flow: f64,
    /// One bare durable commit on the same disk.
    pub(crate) commit: f64,
    /// A refresh with rotation, one at a time.
    pub(crate) refresh: f64,
    /// A flow in bare commits of its own round (the median of the rounds' ratios).
    pub(crate) flow_in_commits: f64,
    /// A full flow with `Durability::ProcessCrash`.
    pub(crate) normal_flow: f64,
    /// A full flow with `Durability::ProcessCrash` and `inline_reads(true)`.
    pub(crate) fast_flow: f64,
    /// Flows per second with 16 tasks on 2 workers, at the default durability.
    pub(crate) concurrent: f64,
}

/// Measures the SQLite figures on files in `dir` (the bare commits on `commit_db`, on the
/// same disk), and registers the opaque checks in `group`.
pub(crate) fn bench(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    plan: &Plan,
    requests: &Arc<FlowRequests>,
    dir: &Path,
    commit_db: &CommitFloor,
) -> SqliteFigures {
    let required = ScopeSet::parse("read:users").expect("valid scope");
    let sqlite_path = dir.join("bench.db");
    let sqlite = rt.block_on(async {
        fixture::engine(
            SqliteStore::open(&sqlite_path).await.expect("open"),
            Tokens::Opaque,
            &[],
        )
        .await
    });
    // The disk's fsync time swings by 10× or more on this shared VM within minutes, so the
    // flow, the refresh and the bare commit are measured in interleaved rounds (medians),
    // not one after the other.
    // The same flow with `Durability::ProcessCrash` (synchronous = NORMAL), the store's
    // opt-in for cheaper commits, on a database file of its own.
    let sqlite_normal = rt.block_on(async {
        let options =
            SqliteOptions::file(dir.join("normal.db")).durability(Durability::ProcessCrash);
        fixture::engine(
            SqliteStore::open_with(options).await.expect("open"),
            Tokens::Opaque,
            &[],
        )
        .await
    });
    // And with reads on the caller's thread as well (`inline_reads`), both opt-ins.
    let sqlite_fast = rt.block_on(async {
        let options = SqliteOptions::file(dir.join("fast.db"))
            .durability(Durability::ProcessCrash)
            .inline_reads(true);
        fixture::engine(
            SqliteStore::open_with(options).await.expect("open"),
            Tokens::Opaque,
            &[],
        )
        .await
    });
    let sqlite_token = rt
        .block_on(fixture::full_flow(&sqlite, requests))
        .access_token;
    let sqlite_fast_token = rt
        .block_on(fixture::full_flow(&sqlite_fast, requests))
        .access_token;
    let (
        sqlite_flow,
        commit,
        sqlite_refresh,
        flow_in_commits,
        sqlite_normal_flow,
        sqlite_fast_flow,
    ) = rt.block_on(async {
        let mut refresh_token = fixture::full_flow(&sqlite, requests)
            .await
            .refresh_token
            .expect("refresh");
        fixture::full_flow(&sqlite_normal, requests).await;
        let (mut flows, mut commits, mut refreshes, mut ratios, mut normal, mut fast) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let per_round = if plan.quick { 5 } else { 25 };
        for _ in 0..if plan.quick { 3 } else { 9 } {
            commits.push(commit_db.ns_per_commit(per_round));
            let start = Instant::now();
            for _ in 0..per_round {
                black_box(fixture::full_flow(&sqlite, requests).await);
            }
            flows.push(start.elapsed().as_nanos() as f64 / per_round as f64);
            if let (Some(flow), Some(commit)) = (flows.last(), commits.last()) {
                ratios.push(flow / commit);
            }
            let start = Instant::now();
            for _ in 0..per_round * 4 {
                black_box(fixture::full_flow(&sqlite_normal, requests).await);
            }
            normal.push(start.elapsed().as_nanos() as f64 / (per_round * 4) as f64);
            let start = Instant::now();
            for _ in 0..per_round * 4 {
                black_box(fixture::full_flow(&sqlite_fast, requests).await);
            }
            fast.push(start.elapsed().as_nanos() as f64 / (per_round * 4) as f64);
            let start = Instant::now();
            for _ in 0..per_round {
                refresh_token = fixture::refresh(&sqlite, &refresh_token)
                    .await
                    .refresh_token
                    .expect("rotated");
            }
            refreshes.push(start.elapsed().as_nanos() as f64 / per_round as f64);
        }
        (
            measure::median(&mut flows),
            measure::median(&mut commits),
            measure::median(&mut refreshes),
            measure::median(&mut ratios),
            measure::median(&mut normal),
            measure::median(&mut fast),
        )
    });
    drop(sqlite_normal);
    eprintln!(
        "sqlite: flow {sqlite_flow:.0} ns, commit {commit:.0} ns, refresh {sqlite_refresh:.0} ns"
    );
    for (name, engine, token) in [
        ("verify_opaque_sqlite", &sqlite, &sqlite_token),
        (
            "verify_opaque_sqlite_inline",
            &sqlite_fast,
            &sqlite_fast_token,
        ),
    ] {
        let header = format!("Bearer {token}");
        let verifier = engine.token_verifier();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        fixture::verify_with_store(&verifier, engine.storage(), &header, &required)
                            .await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    drop(sqlite_fast);

    // Concurrent tasks on SQLite: flows per second with 16 tasks on 2 workers.
    let sqlite = Arc::new(sqlite);
    let sqlite_concurrent = {
        let (engine, requests) = (sqlite.clone(), requests.clone());
        measure::throughput(2, 16, plan.throughput_time * 2, move || {
            let (engine, requests) = (engine.clone(), requests.clone());
            async move {
                black_box(fixture::full_flow(&engine, &requests).await);
            }
        })
    };
    eprintln!("sqlite concurrent flows/s: {sqlite_concurrent:.0}");
    SqliteFigures {
        flow: sqlite_flow,
        commit,
        refresh: sqlite_refresh,
        flow_in_commits,
        normal_flow: sqlite_normal_flow,
        fast_flow: sqlite_fast_flow,
        concurrent: sqlite_concurrent,
    }
}

/// The SQLite rows, from `figures` and criterion's estimates (`est`).
pub(crate) fn rows(figures: &SqliteFigures, est: impl Fn(&str) -> f64) -> Vec<Row> {
    let SqliteFigures {
        flow: sqlite_flow,
        commit,
        refresh: sqlite_refresh,
        flow_in_commits,
        normal_flow: sqlite_normal_flow,
        fast_flow: sqlite_fast_flow,
        concurrent: sqlite_concurrent,
    } = *figures;
    let mut rows = Vec::new();
    rows.push(Row::per_second(
        "Full flow on SQLite (file, WAL, synchronous=FULL, the default), one at a time",
        1e9 / sqlite_flow,
        &format!(
            "{COMMITS_PER_FLOW} durable commits per flow; one bare commit on this disk: {} ns",
            report::ns(commit)
        ),
        Some(5_000.0),
    ));
    rows.push(Row {
        ratio: format!("{:.2}×", flow_in_commits / f64::from(COMMITS_PER_FLOW)),
        ..Row::ratio(
            "Full flow on SQLite, one at a time (against its durable floor)",
            sqlite_flow,
            &format!(
                "{COMMITS_PER_FLOW} bare SQLite commits (WAL, FULL); ratio: median over rounds \
                 that interleave both"
            ),
            f64::from(COMMITS_PER_FLOW) * commit,
            None,
        )
    });
    rows.push(Row::per_second(
        "Full flow on SQLite with Durability::ProcessCrash (synchronous=NORMAL), one at a time",
        1e9 / sqlite_normal_flow,
        "no flush per commit: durable across a process crash, not a power loss",
        Some(5_000.0),
    ));
    rows.push(Row::per_second(
        "Full flow on SQLite with ProcessCrash durability and inline_reads(true), one at a time",
        1e9 / sqlite_fast_flow,
        "no flush per commit, and reads on the caller's thread (both opt-ins)",
        Some(5_000.0),
    ));
    rows.push(Row::per_second(
        "Full flow on SQLite, 16 concurrent tasks on 2 workers (synchronous=FULL, the default)",
        sqlite_concurrent,
        "group commit: the writes waiting together share one transaction and one flush",
        Some(5_000.0),
    ));
    let gain = sqlite_concurrent * sqlite_flow / 1e9;
    rows.push(Row {
        operation: "Full flow on SQLite: 16 concurrent tasks against one at a time".to_owned(),
        value: format!("{} flows/s", report::ns(sqlite_concurrent)),
        floor: "one at a time, the same store and run".to_owned(),
        floor_value: format!("{} flows/s", report::ns(1e9 / sqlite_flow)),
        ratio: format!("{gain:.2}×"),
        target: "well above 1× (≥ 2×)".to_owned(),
        met: Some(gain >= 2.0),
    });
    rows.push(Row::ratio(
        "Refresh with rotation on SQLite, one at a time",
        sqlite_refresh,
        "1 bare SQLite commit + the refresh's ring work",
        commit + est("floor_refresh"),
        None,
    ));
    rows.push(Row::ratio(
        "Resource server: verify opaque token through SQLite",
        est("verify_opaque_sqlite"),
        "1 SHA-256",
        est("floor_verify_opaque"),
        None,
    ));
    rows.push(Row::ratio(
        "Resource server: verify opaque token through SQLite, inline_reads(true)",
        est("verify_opaque_sqlite_inline"),
        "1 SHA-256",
        est("floor_verify_opaque"),
        None,
    ));
    rows
}
