//! The finrift benchmark suite: every hot path against its floor, in one run, then
//! `BENCHMARKS.md` and `oauth-bench/growth.svg` at the root of the workspace.
//!
//! `cargo bench -p oauth-bench --bench suite` (about 5 minutes on 2 cores, most of it
//! populating the stores to a million grants).
//! `FINRIFT_BENCH_QUICK=1`, or running it as a test (`cargo test --benches`), runs every
//! part briefly with small stores and writes the report under `target/` instead (a smoke
//! test of the suite itself, under a minute).

// Benchmark code: a step that fails is a broken benchmark, and a panic that names the
// step is the right report. Its items are not a public API.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
// Measuring wall time is what a benchmark is for (clippy.toml keeps the engine off it).
#![allow(clippy::disallowed_methods)]

mod document;
mod growth;
mod jwt;
mod memory_paths;
mod plan;
mod scaling;
mod sqlite;

use std::sync::Arc;
use std::time::Instant;

use criterion::Criterion;
use oauth_bench::fixture::FlowRequests;
use oauth_bench::floor::{CommitFloor, Floor};
use oauth_bench::report::Row;

use crate::document::DocumentParts;
use crate::plan::{estimate, peer_plan, runtime, workspace_root, Plan};

/// Every section in turn, then the report. The order matters where sections share the
/// machine's state: memory per grant first, on a fresh heap; the growth test last, since
/// it leaves a million grants behind.
fn main() {
    let plan = Plan::new();
    // `FINRIFT_BENCH_ONLY=scaling` measures the thread scaling alone, in a fresh process,
    // and writes nothing: to tell the engine's own scaling from what the suite's earlier
    // sections leave behind.
    if std::env::var("FINRIFT_BENCH_ONLY").as_deref() == Ok("scaling") {
        let alone = scaling::measure(
            &runtime(),
            &Arc::new(FlowRequests::new()),
            plan.throughput_time,
        );
        eprintln!(
            "scaling alone: 1 thread {:.0}, 2 threads {:.0} flows/s: {:.2}x (floor {:.2}x)",
            alone.one_thread,
            alone.two_threads,
            alone.two_threads / alone.one_thread,
            alone.floor_two / alone.floor_one
        );
        return;
    }
    // `FINRIFT_BENCH_ONLY=peer` measures finrift beside oxide-auth alone, in a fresh
    // process, and writes nothing.
    if std::env::var("FINRIFT_BENCH_ONLY").as_deref() == Ok("peer") {
        let peer = oauth_bench::peer::measure(&runtime(), peer_plan(&plan));
        for row in oauth_bench::peer::rows(&peer) {
            eprintln!(
                "{}: finrift {} ns, oxide-auth {} ns, {}",
                row.operation, row.value, row.floor_value, row.ratio
            );
        }
        return;
    }
    // `FINRIFT_BENCH_ONLY=bytes` measures the memory per live grant alone, in a fresh
    // process, and writes nothing.
    if std::env::var("FINRIFT_BENCH_ONLY").as_deref() == Ok("bytes") {
        let bytes = growth::bytes_per_grant(&runtime(), &FlowRequests::new(), plan.bytes_flows);
        eprintln!(
            "bytes per live grant after {} flows: {bytes:.0}",
            plan.bytes_flows
        );
        return;
    }
    let root = workspace_root();
    let criterion_dir = root.join("target").join("finrift-criterion");
    let _ = std::fs::remove_dir_all(&criterion_dir);
    let started = Instant::now();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let neighbours = document::busy_neighbours();
    let rt = runtime();
    let requests = FlowRequests::new();
    let floors = Floor::new();

    // Bytes per live grant, first, on a fresh heap: RSS before and after real flows.
    let bytes_per_grant = growth::bytes_per_grant(&rt, &requests, plan.bytes_flows);
    eprintln!("bytes per live grant: {bytes_per_grant:.0}");

    let mut c = Criterion::default()
        .output_directory(&criterion_dir)
        .warm_up_time(plan.warm_up)
        .measurement_time(plan.measurement)
        .sample_size(plan.samples)
        .without_plots();
    let mut group = c.benchmark_group("finrift");

    // The memory store's paths, then signed tokens per algorithm, OpenID Connect and
    // DPoP, each beside its floor.
    let memory = memory_paths::bench(&mut group, &rt, &plan, &requests, &floors);
    jwt::bench(&mut group, &rt, &plan, &requests, &floors);
    oauth_bench::openid::bench(&mut group, &rt, plan.samples);
    oauth_bench::dpop::bench(&mut group, &rt);

    // The peer: the full flow, the code exchange (opaque and signed), refresh and the
    // opaque check through oxide-auth beside finrift, in interleaved rounds of each.
    let peer = oauth_bench::peer::measure(&rt, peer_plan(&plan));
    eprintln!("peer (finrift / oxide-auth): {peer:?}");

    // Shared by the multi-threaded measurements below.
    let shared_requests = Arc::new(requests.clone());
    let scaling = scaling::measure(&rt, &shared_requests, plan.throughput_time);
    eprintln!(
        "memory flows/s: 1 thread {:.0}, 2 threads {:.0}",
        scaling.one_thread, scaling.two_threads
    );

    // SQLite, and the bare durable commit its flows are measured against (the floor a
    // durable store cannot go under), on the same disk; the growth test uses it too.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let commit_db = CommitFloor::new(&dir.path().join("commit.db"));
    let sqlite = sqlite::bench(
        &mut group,
        &rt,
        &plan,
        &shared_requests,
        dir.path(),
        &commit_db,
    );
    group.finish();

    // PostgreSQL (the workspace's throwaway server on loopback): one flow at a time and
    // 16 at once, beside the database's floor measured in the same run.
    let pg = oauth_bench::postgres::measure(&shared_requests, plan.throughput_time);
    eprintln!(
        "postgres flows/s: 1 task {:.0}, {} tasks {:.0}; floor pairs/s: {:.0}, {:.0}",
        pg.flows_one,
        oauth_bench::postgres::TASKS,
        pg.flows_many,
        pg.floor_one,
        pg.floor_many
    );

    // Growth: flow and opaque verification with many live grants, on both backends.
    let growth = growth::measure(&rt, &plan, &commit_db, bytes_per_grant);

    // The table, in the order of the sections above.
    let est = |id: &str| estimate(&criterion_dir, id);
    let mut rows: Vec<Row> = Vec::new();
    rows.extend(memory_paths::rows(&memory, est));
    rows.extend(jwt::rows(est));
    rows.extend(oauth_bench::openid::rows(est));
    rows.extend(oauth_bench::dpop::rows(est));
    rows.extend(oauth_bench::peer::rows(&peer));
    rows.extend(sqlite::rows(&sqlite, est));
    rows.extend(oauth_bench::postgres::rows(&pg));
    rows.extend(growth.rows());
    rows.extend(scaling.rows());
    let mut notes = vec![oauth_bench::peer::note(&peer)];
    notes.extend(growth.notes());

    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    document::write(
        &root,
        plan.quick,
        DocumentParts {
            rows: &rows,
            series: &growth.series(),
            notes: &notes,
            load_before: load_before.trim(),
            neighbours: &neighbours,
            load_after: load_after.trim(),
            minutes: started.elapsed().as_secs_f64() / 60.0,
        },
    );
}
