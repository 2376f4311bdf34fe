//! The run's plan: its sizes and times (full or quick), where criterion writes, and the
//! small helpers every section shares.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::runtime::Runtime;

/// Sizes and times of one run.
pub(crate) struct Plan {
    pub(crate) quick: bool,
    pub(crate) warm_up: Duration,
    pub(crate) measurement: Duration,
    pub(crate) samples: usize,
    pub(crate) bytes_flows: u64,
    pub(crate) growth_sizes: Vec<u64>,
    pub(crate) sqlite_populate_budget: Duration,
    pub(crate) throughput_time: Duration,
}

impl Plan {
    pub(crate) fn new() -> Self {
        // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) gets the
        // smoke test, which proves the suite runs without taking minutes.
        let benching = std::env::args().any(|arg| arg == "--bench");
        if std::env::var_os("FINRIFT_BENCH_QUICK").is_some() || !benching {
            Self {
                quick: true,
                warm_up: Duration::from_millis(100),
                measurement: Duration::from_millis(300),
                samples: 10,
                bytes_flows: 2_000,
                growth_sizes: vec![1_000, 3_000, 10_000],
                sqlite_populate_budget: Duration::from_secs(60),
                throughput_time: Duration::from_millis(300),
            }
        } else {
            Self {
                quick: false,
                warm_up: Duration::from_secs(1),
                measurement: Duration::from_secs(3),
                samples: 30,
                bytes_flows: 200_000,
                growth_sizes: vec![10_000, 100_000, 1_000_000],
                sqlite_populate_budget: Duration::from_secs(600),
                throughput_time: Duration::from_secs(3),
            }
        }
    }
}

/// The rounds of the peer comparison for this run.
pub(crate) fn peer_plan(plan: &Plan) -> oauth_bench::peer::Plan {
    if plan.quick {
        oauth_bench::peer::Plan::QUICK
    } else {
        oauth_bench::peer::Plan::FULL
    }
}

/// The workspace's root directory, where `BENCHMARKS.md` goes.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the bench crate is in the workspace")
        .to_path_buf()
}

/// Criterion's median estimate of `id` in this run (ns per iteration).
pub(crate) fn estimate(dir: &Path, id: &str) -> f64 {
    let path = dir
        .join("finrift")
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("criterion wrote no estimate for {id} ({e})"));
    let json: serde_json::Value = serde_json::from_str(&text).expect("criterion's JSON");
    json["median"]["point_estimate"]
        .as_f64()
        .expect("a median estimate")
}

/// The single-threaded runtime the one-at-a-time measurements run on.
pub(crate) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}
