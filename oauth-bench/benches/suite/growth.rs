//! Growth: the full flow, the opaque check and one purge step at stores of growing size
//! (memory and SQLite), and the memory each live grant takes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use oauth_bench::fixture::{self, BenchEngine, FlowRequests, Tokens};
use oauth_bench::floor::CommitFloor;
use oauth_bench::measure::{self, median_ns, resident_bytes};
use oauth_bench::populate;
use oauth_bench::report::{self, Row, Series};
use oauth_core::{Clock, ScopeSet, Storage};
use oauth_store_memory::MemoryStore;
use oauth_store_sqlite::SqliteStore;
use tokio::runtime::Runtime;

use crate::plan::Plan;

/// Resident bytes per live grant: RSS before and after `flows` real flows on a fresh
/// memory store.
pub(crate) fn bytes_per_grant(rt: &Runtime, requests: &FlowRequests, flows: u64) -> f64 {
    rt.block_on(async {
        let engine = fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]).await;
        fixture::full_flow(&engine, requests).await;
        let before = resident_bytes();
        for _ in 0..flows {
            black_box(fixture::full_flow(&engine, requests).await);
        }
        let after = resident_bytes();
        after.saturating_sub(before) as f64 / flows as f64
    })
}

/// What the growth test measured on both backends.
#[derive(Debug)]
pub(crate) struct GrowthFigures {
    memory: Growth,
    sqlite: Growth,
    /// The resident bytes before and after populating the memory store.
    rss_start: u64,
    rss_end: u64,
    /// How many grants the memory store was populated with at its largest.
    populated: u64,
    /// How long populating SQLite took, and the budget it had.
    sqlite_populate_time: Duration,
    budget: Duration,
    /// How many real flows the memory per live grant was measured over, and its figure.
    bytes_flows: u64,
    bytes_per_grant: f64,
}

/// Populates a memory store and a SQLite file to each of the plan's sizes and measures
/// there (the SQLite flows beside bare commits on `commit_db`, on the same disk);
/// `bytes_per_grant` is the memory per live grant measured before, on a fresh heap.
pub(crate) fn measure(
    rt: &Runtime,
    plan: &Plan,
    commit_db: &CommitFloor,
    bytes_per_grant: f64,
) -> GrowthFigures {
    let growth_memory = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let rss_start = resident_bytes();
    let memory_growth = rt.block_on(growth(
        &growth_memory,
        &plan.growth_sizes,
        5,
        2_000,
        20_000,
        None,
        |engine, from, to| {
            Box::pin(async move {
                populate::through_traits(engine.storage(), from, to).await;
                None
            })
        },
    ));
    let rss_end = resident_bytes();
    let populated = plan.growth_sizes.last().copied().unwrap_or(1);
    drop(growth_memory);
    let growth_dir = tempfile::tempdir().expect("a temporary directory");
    let growth_path = growth_dir.path().join("growth.db");
    let growth_sqlite = rt.block_on(async {
        fixture::engine(
            SqliteStore::open(&growth_path).await.expect("open"),
            Tokens::Opaque,
            &[],
        )
        .await
    });
    let budget_start = Instant::now();
    let budget = plan.sqlite_populate_budget;
    let path_for_populate = growth_path.clone();
    let sqlite_growth = rt.block_on(growth(
        &growth_sqlite,
        &plan.growth_sizes,
        if plan.quick { 3 } else { 15 },
        20,
        2_000,
        Some(commit_db),
        move |_, from, to| {
            let path = path_for_populate.clone();
            Box::pin(async move {
                let chunk = 50_000;
                let mut at = from;
                while at < to {
                    if budget_start.elapsed() > budget {
                        return Some(at);
                    }
                    let end = (at + chunk).min(to);
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || populate::sqlite_bulk(&path, at, end))
                        .await
                        .expect("populate");
                    at = end;
                }
                None
            })
        },
    ));
    let sqlite_populate_time = budget_start.elapsed();
    drop(growth_sqlite);
    GrowthFigures {
        memory: memory_growth,
        sqlite: sqlite_growth,
        rss_start,
        rss_end,
        populated,
        sqlite_populate_time,
        budget,
        bytes_flows: plan.bytes_flows,
        bytes_per_grant,
    }
}

impl GrowthFigures {
    /// SQLite's flow cost at each size in units of a bare commit measured in the same
    /// round (the median over the rounds), scaled back to ns by the median commit of the
    /// whole growth test: the flow "at one disk speed".
    fn sqlite_adjusted(&self) -> Vec<(u64, f64)> {
        let mut commits: Vec<f64> = self.sqlite.commit.iter().map(|p| p.1).collect();
        let typical_commit = measure::median(&mut commits);
        self.sqlite
            .in_commits
            .iter()
            .map(|&(size, commits)| (size, commits * typical_commit))
            .collect()
    }

    /// The growth rows, and the memory per live grant.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let (memory_growth, sqlite_growth) = (&self.memory, &self.sqlite);
        let sqlite_adjusted = self.sqlite_adjusted();
        let (bytes_per_grant, populated) = (self.bytes_per_grant, self.populated);
        let (rss_start, rss_end) = (self.rss_start, self.rss_end);
        let mut rows = Vec::new();
        for (name, points, target) in [
            ("memory: full flow", &memory_growth.flow, true),
            ("memory: opaque verification", &memory_growth.verify, true),
            ("memory: one purge step", &memory_growth.purge_step, true),
            ("SQLite: full flow, as measured", &sqlite_growth.flow, false),
            (
                "SQLite: full flow at one disk speed (÷ a bare commit measured beside it)",
                &sqlite_adjusted,
                true,
            ),
            ("SQLite: opaque verification", &sqlite_growth.verify, true),
            ("SQLite: one purge step", &sqlite_growth.purge_step, true),
        ] {
            if let (Some(first), Some(last)) = (points.first(), points.last()) {
                let ratio = last.1 / first.1;
                rows.push(Row {
                    operation: format!(
                        "Growth, {name}, {} vs {} live grants",
                        report::ns(last.0 as f64),
                        report::ns(first.0 as f64)
                    ),
                    value: report::ns(last.1),
                    floor: format!("the same with {} grants", report::ns(first.0 as f64)),
                    floor_value: report::ns(first.1),
                    ratio: format!("{ratio:.2}×"),
                    target: if target { "≤ 1.3×" } else { "—" }.to_owned(),
                    met: target.then_some(ratio <= 1.3),
                });
            }
        }
        rows.push(Row {
            operation: format!(
                "Memory per live grant (RSS after {} real flows)",
                report::ns(self.bytes_flows as f64)
            ),
            value: format!("{bytes_per_grant:.0} bytes"),
            floor: "—".to_owned(),
            floor_value: "—".to_owned(),
            ratio: "—".to_owned(),
            target: "≤ 512 bytes".to_owned(),
            met: Some(bytes_per_grant <= 512.0),
        });
        let populated_bytes = rss_end.saturating_sub(rss_start) as f64 / populated as f64;
        rows.push(Row {
            operation: format!(
                "Memory per live grant (RSS over the {} populated grants of the growth test)",
                report::ns(populated as f64)
            ),
            value: format!("{populated_bytes:.0} bytes"),
            floor: "—".to_owned(),
            floor_value: "—".to_owned(),
            ratio: "—".to_owned(),
            target: "≤ 512 bytes".to_owned(),
            met: Some(populated_bytes <= 512.0),
        });
        rows
    }

    /// What the reader should know about the growth test's run.
    pub(crate) fn notes(&self) -> Vec<String> {
        let (sqlite_growth, budget, sqlite_populate_time) =
            (&self.sqlite, self.budget, self.sqlite_populate_time);
        let mut notes = Vec::new();
        if let Some(reached) = sqlite_growth.reached {
            notes.push(format!(
                "SQLite was populated only to {} grants within the {} s budget.",
                report::ns(reached as f64),
                budget.as_secs()
            ));
        }
        notes.push(format!(
            "A bare durable commit on this disk, measured beside the SQLite flows at each size: {}.",
            sqlite_growth
                .commit
                .iter()
                .map(|(size, ns)| format!(
                    "{} ns with {} grants",
                    report::ns(*ns),
                    report::ns(*size as f64)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        notes.push(format!(
            "Populating SQLite to {} grants (bulk, outside the store) took {:.0} s.",
            report::ns(sqlite_growth.flow.last().map_or(0.0, |p| p.0 as f64)),
            sqlite_populate_time.as_secs_f64()
        ));
        notes
    }

    /// The chart's lines.
    pub(crate) fn series(&self) -> Vec<Series> {
        let (memory_growth, sqlite_growth) = (&self.memory, &self.sqlite);
        let sqlite_adjusted = self.sqlite_adjusted();
        vec![
            Series {
                name: "memory: full flow".into(),
                colour: "#1f77b4",
                points: memory_growth.flow.clone(),
            },
            Series {
                name: "memory: opaque verification".into(),
                colour: "#6baed6",
                points: memory_growth.verify.clone(),
            },
            Series {
                name: "SQLite: full flow (at one disk speed)".into(),
                colour: "#d62728",
                points: sqlite_adjusted.clone(),
            },
            Series {
                name: "SQLite: opaque verification".into(),
                colour: "#ff9896",
                points: sqlite_growth.verify.clone(),
            },
        ]
    }
}

/// The limit of the purge step the growth test measures at each size.
const PURGE_STEP_LIMIT: usize = 50;

#[derive(Debug, Default)]
pub(crate) struct Growth {
    flow: Vec<(u64, f64)>,
    verify: Vec<(u64, f64)>,
    /// One purge step ([`PURGE_STEP_LIMIT`], nothing expired) at each size.
    purge_step: Vec<(u64, f64)>,
    /// A bare durable commit's cost at each size, for SQLite.
    commit: Vec<(u64, f64)>,
    /// The flow's cost in bare commits measured in the same rounds (median of the rounds).
    in_commits: Vec<(u64, f64)>,
    /// Where populating stopped, when it ran out of time.
    reached: Option<u64>,
}

/// Populates `engine` to each size in turn and measures there the full flow (`flows` per
/// round) and the opaque verification (`verifies` per round), 5 rounds each; between two
/// rounds the clock moves on and the flows' own records are purged, so the count stays
/// that of the populated grants. With `commit`, each flow round is preceded by a round of
/// bare durable commits on the same disk, to tell the store's growth from the disk's moods.
async fn growth<'a, S: Storage, P>(
    engine: &'a BenchEngine<S>,
    sizes: &[u64],
    rounds: usize,
    flows: usize,
    verifies: usize,
    commit: Option<&CommitFloor>,
    populate: P,
) -> Growth
where
    P: Fn(
        &'a BenchEngine<S>,
        u64,
        u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<u64>> + 'a>>,
{
    let requests = FlowRequests::new();
    let required = ScopeSet::parse("read:users").expect("valid scope");
    let mut out = Growth::default();
    let mut stored = 0;
    for &size in sizes {
        let started = Instant::now();
        let stopped = populate(engine, stored, size).await;
        let size = stopped.unwrap_or(size);
        eprintln!(
            "populated {size} grants in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        if size == stored {
            out.reached = Some(size);
            break;
        }
        stored = size;
        fixture::recycle(engine).await;
        let (mut flow_rounds, mut commit_rounds, mut in_commits) =
            (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let commit_ns = commit.map(|c| c.ns_per_commit(flows.div_ceil(2)));
            let start = Instant::now();
            for _ in 0..flows {
                black_box(fixture::full_flow(engine, &requests).await);
            }
            let flow_ns = start.elapsed().as_nanos() as f64 / flows as f64;
            flow_rounds.push(flow_ns);
            if let Some(commit_ns) = commit_ns {
                commit_rounds.push(commit_ns);
                in_commits.push(flow_ns / commit_ns);
            }
            fixture::recycle(engine).await;
        }
        let flow = measure::median(&mut flow_rounds);
        let token = fixture::full_flow(engine, &requests).await.access_token;
        let header = format!("Bearer {token}");
        let verifier = engine.token_verifier();
        let verify = median_ns(
            5,
            verifies,
            async || {
                fixture::verify_with_store(&verifier, engine.storage(), &header, &required).await
            },
            async || {},
        )
        .await;
        // One purge step with nothing that has expired: what a periodic purge costs a
        // store of this size per call. Its limit keeps what the memory store looks at per
        // step (16 records of each kind per record of the limit) below the smallest size,
        // so every size does the same work and only the store's size differs.
        let now = engine.clock().now();
        let purge_step = median_ns(
            5,
            20,
            async || {
                black_box(
                    engine
                        .storage()
                        .purge_expired_batch(now, PURGE_STEP_LIMIT)
                        .await
                        .expect("purge step"),
                );
            },
            async || {},
        )
        .await;
        eprintln!(
            "{size} grants: flow {flow:.0} ns, verify {verify:.0} ns, purge step {purge_step:.0} ns"
        );
        out.flow.push((size, flow));
        out.verify.push((size, verify));
        out.purge_step.push((size, purge_step));
        if commit.is_some() {
            out.commit.push((size, measure::median(&mut commit_rounds)));
            out.in_commits
                .push((size, measure::median(&mut in_commits)));
        }
        if stopped.is_some() {
            out.reached = Some(size);
            break;
        }
    }
    out
}
