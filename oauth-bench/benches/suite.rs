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

use std::cell::Cell;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use oauth_bench::fixture::{
    self, maybe_recycle, BenchEngine, FlowRequests, Tokens, ALGORITHMS, SERVICE_SECRET, VERIFIER,
};
use oauth_bench::floor::{self, BareKey, BarePublic, Claims, CommitFloor, Floor};
use oauth_bench::measure::{self, median_ns, resident_bytes};
use oauth_bench::populate;
use oauth_bench::report::{self, Row, Series};
use oauth_core::jose::Algorithm;
use oauth_core::{BearerRequest, Clock, CodeChallenge, RandomSource, ScopeSet, Storage};
use oauth_store_memory::MemoryStore;
use oauth_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use tokio::runtime::Runtime;

/// Sizes and times of one run.
struct Plan {
    quick: bool,
    warm_up: Duration,
    measurement: Duration,
    samples: usize,
    bytes_flows: u64,
    growth_sizes: Vec<u64>,
    sqlite_populate_budget: Duration,
    throughput_time: Duration,
}

impl Plan {
    fn new() -> Self {
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

/// Memory-store flows per second with 1 and with 2 worker threads (8 tasks), and the
/// same for the flow's floor alone.
struct Scaling {
    one_thread: f64,
    two_threads: f64,
    floor_one: f64,
    floor_two: f64,
}

/// Measures [`Scaling`].
fn scaling(
    rt: &Runtime,
    shared_requests: &Arc<FlowRequests>,
    throughput_time: Duration,
) -> Scaling {
    let scaling_engine =
        Arc::new(rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[])));
    let mut one = Vec::new();
    let mut two = Vec::new();
    let mut floor_one = Vec::new();
    let mut floor_two = Vec::new();
    let bursts = 12;
    for round in 0..2 * bursts {
        let workers = if round % 2 == 0 { 1 } else { 2 };
        let (engine, requests) = (scaling_engine.clone(), shared_requests.clone());
        let rate = measure::throughput(workers, 8, throughput_time / bursts, move || {
            let (engine, requests) = (engine.clone(), requests.clone());
            async move {
                black_box(fixture::full_flow(&engine, &requests).await);
            }
        });
        rt.block_on(fixture::recycle(&scaling_engine));
        // The control: the flow's floor alone, which shares nothing between threads. What
        // it gains from a second thread is what this machine gave a second thread.
        let floor_rate = measure::throughput(workers, 8, throughput_time / bursts, || {
            let challenge = CodeChallenge::from_verifier(VERIFIER);
            async move {
                black_box(Floor::new().opaque_flow(VERIFIER, challenge.as_str()));
            }
        });
        if workers == 1 {
            one.push(rate);
            floor_one.push(floor_rate);
        } else {
            two.push(rate);
            floor_two.push(floor_rate);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let one_thread = one.iter().sum::<f64>() / one.len() as f64;
    let two_threads = two.iter().sum::<f64>() / two.len() as f64;
    Scaling {
        one_thread,
        two_threads,
        floor_one: mean(&floor_one),
        floor_two: mean(&floor_two),
    }
}

/// The rounds of the peer comparison for this run.
fn peer_plan(plan: &Plan) -> oauth_bench::peer::Plan {
    if plan.quick {
        oauth_bench::peer::Plan::QUICK
    } else {
        oauth_bench::peer::Plan::FULL
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the bench crate is in the workspace")
        .to_path_buf()
}

/// Criterion's median estimate of `id` in this run (ns per iteration).
fn estimate(dir: &Path, id: &str) -> f64 {
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

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Durable commits in one full authorization-code flow on SQLite: the approval (its
/// single-use mark and the code) and the redemption (the code consumed and its tokens
/// stored in one transaction).
const COMMITS_PER_FLOW: u8 = 2;

/// Resident bytes per live grant: RSS before and after `flows` real flows on a fresh
/// memory store.
fn bytes_per_grant(rt: &Runtime, requests: &FlowRequests, flows: u64) -> f64 {
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

fn main() {
    let plan = Plan::new();
    // `FINRIFT_BENCH_ONLY=scaling` measures the thread scaling alone, in a fresh process,
    // and writes nothing: to tell the engine's own scaling from what the suite's earlier
    // sections leave behind.
    if std::env::var("FINRIFT_BENCH_ONLY").as_deref() == Ok("scaling") {
        let alone = scaling(
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
        let bytes = bytes_per_grant(&runtime(), &FlowRequests::new(), plan.bytes_flows);
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
    let neighbours = busy_neighbours();
    let rt = runtime();
    let requests = FlowRequests::new();
    let challenge = CodeChallenge::from_verifier(VERIFIER);
    let floors = Floor::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // Bytes per live grant, first, on a fresh heap: RSS before and after real flows.
    let bytes_per_grant = bytes_per_grant(&rt, &requests, plan.bytes_flows);
    eprintln!("bytes per live grant: {bytes_per_grant:.0}");

    let mut c = Criterion::default()
        .output_directory(&criterion_dir)
        .warm_up_time(plan.warm_up)
        .measurement_time(plan.measurement)
        .sample_size(plan.samples)
        .without_plots();
    let mut group = c.benchmark_group("finrift");

    // 1. The full opaque flow on the memory store, and its floor.
    let memory = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let issued = Cell::new(0u64);
    group.bench_function("floor_opaque_flow", |b| {
        b.iter(|| black_box(floors.opaque_flow(VERIFIER, challenge.as_str())))
    });
    group.bench_function("flow_opaque_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                maybe_recycle(&memory, &issued, iters).await;
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fixture::full_flow(&memory, &requests).await);
                }
                start.elapsed()
            })
        })
    });

    // 1b. The same two in interleaved rounds: both sides of a round see the same stretch of
    //     this shared machine, so their ratio holds where criterion's estimates, taken
    //     minutes apart, drift with it.
    let oauth_bench::peer::Plan { rounds, per_round } = peer_plan(&plan);
    let flow_against_floor = rt.block_on(measure::interleaved(
        rounds,
        per_round,
        async |n| {
            maybe_recycle(&memory, &issued, n as u64).await;
            let start = Instant::now();
            for _ in 0..n {
                black_box(fixture::full_flow(&memory, &requests).await);
            }
            start.elapsed()
        },
        async |n| {
            let start = Instant::now();
            for _ in 0..n {
                black_box(floors.opaque_flow(VERIFIER, challenge.as_str()));
            }
            start.elapsed()
        },
    ));
    eprintln!("flow against its floor, interleaved: {flow_against_floor:?}");

    // 2. Code exchange with a JWT access token, per algorithm; floors: the bare mint of the
    //    same claims, and the bare mint plus the exchange's other ring work.
    let random = RandomSource::new();
    let rng = ring::rand::SystemRandom::new();
    let mut jwt_engines = Vec::new();
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        let bytes = fixture::key_bytes(alg);
        let engine = rt.block_on(fixture::engine(
            MemoryStore::new(),
            Tokens::Jwt(alg),
            &bytes,
        ));
        let bare = BareKey::new(alg, &bytes);
        assert!(floor::self_check(&bare), "the bare {name} floor verifies");
        let jti = random.secret().expect("random");
        let now = engine.clock().now().unix_timestamp();
        let claims = Claims {
            iss: fixture::ISSUER,
            sub: "alice",
            aud: fixture::AUDIENCE,
            client_id: fixture::PUBLIC_ID,
            scope: fixture::SCOPE,
            iat: now,
            exp: now + 600,
            jti: &jti,
        };
        let slow = alg == Algorithm::Rs256;
        group.sample_size(if slow { 10 } else { plan.samples });
        group.bench_function(format!("floor_mint_{name}"), |b| {
            b.iter(|| black_box(floor::mint(&bare, &rng, &claims)))
        });
        let code = random.secret().expect("random");
        group.bench_function(format!("floor_exchange_ring_{name}"), |b| {
            b.iter(|| {
                let jti = floors.exchange_besides_mint(&code, VERIFIER, challenge.as_str());
                let claims = Claims {
                    jti: &jti,
                    ..claims
                };
                black_box(floor::mint(&bare, &rng, &claims))
            })
        });
        let issued = Cell::new(0u64);
        group.bench_function(format!("exchange_jwt_{name}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    maybe_recycle(&engine, &issued, iters).await;
                    let mut codes = Vec::with_capacity(iters as usize);
                    for _ in 0..iters {
                        codes.push(fixture::seed_code(&engine, &random).await);
                    }
                    let start = Instant::now();
                    for code in &codes {
                        black_box(fixture::exchange(&engine, &requests, code).await);
                    }
                    start.elapsed()
                })
            })
        });
        jwt_engines.push((alg, engine, bare, bytes));
    }
    group.sample_size(plan.samples);

    // 3. Refresh with rotation, client credentials, introspection, revocation.
    let refresh_engine = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let first = rt.block_on(fixture::full_flow(&refresh_engine, &requests));
    let refresh_token = std::cell::RefCell::new(first.refresh_token.expect("a refresh token"));
    let issued = Cell::new(0u64);
    group.bench_function("floor_refresh", |b| {
        let presented = refresh_token.borrow().clone();
        b.iter(|| black_box(floors.refresh(&presented)))
    });
    group.bench_function("refresh_rotation_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                if maybe_recycle(&refresh_engine, &issued, iters).await {
                    let tokens = fixture::full_flow(&refresh_engine, &requests).await;
                    *refresh_token.borrow_mut() = tokens.refresh_token.expect("a refresh token");
                }
                let mut current = refresh_token.borrow().clone();
                let start = Instant::now();
                for _ in 0..iters {
                    let next = fixture::refresh(&refresh_engine, &current).await;
                    current = next.refresh_token.expect("rotated");
                }
                let elapsed = start.elapsed();
                *refresh_token.borrow_mut() = current;
                elapsed
            })
        })
    });

    let service = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let issued = Cell::new(0u64);
    group.bench_function("floor_client_credentials", |b| {
        b.iter(|| black_box(floors.client_credentials(SERVICE_SECRET)))
    });
    group.bench_function("client_credentials_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                maybe_recycle(&service, &issued, iters).await;
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fixture::client_credentials(&service, &requests).await);
                }
                start.elapsed()
            })
        })
    });

    let inspected = rt.block_on(async {
        fixture::recycle(&service).await;
        issued.set(0);
        fixture::client_credentials(&service, &requests)
            .await
            .access_token
    });
    group.bench_function("floor_introspection", |b| {
        b.iter(|| black_box(floor::authenticated_lookup(SERVICE_SECRET, &inspected)))
    });
    group.bench_function("introspection_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    assert!(fixture::introspect(&service, &requests, &inspected).await);
                }
                start.elapsed()
            })
        })
    });
    let revoker = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let issued = Cell::new(0u64);
    group.bench_function("floor_revocation", |b| {
        b.iter(|| black_box(floor::authenticated_lookup(SERVICE_SECRET, &inspected)))
    });
    group.bench_function("revocation_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                maybe_recycle(&revoker, &issued, iters).await;
                let mut tokens = Vec::with_capacity(iters as usize);
                for _ in 0..iters {
                    tokens.push(
                        fixture::client_credentials(&revoker, &requests)
                            .await
                            .access_token,
                    );
                }
                let start = Instant::now();
                for token in &tokens {
                    fixture::revoke(&revoker, &requests, token).await;
                }
                start.elapsed()
            })
        })
    });

    // 4. Resource-server verification: JWT per algorithm, opaque through the memory store.
    let required = ScopeSet::parse("read:users").expect("valid scope");
    for (alg, engine, bare, _) in &jwt_engines {
        let name = alg_name(*alg);
        let token = rt.block_on(async {
            fixture::recycle(engine).await;
            fixture::full_flow(engine, &requests).await.access_token
        });
        let header = format!("Bearer {token}");
        let verifier = engine.token_verifier();
        let public = BarePublic::of(bare);
        let now = engine.clock().now().unix_timestamp();
        assert!(floor::verify(
            &public,
            &token,
            now,
            fixture::ISSUER,
            fixture::AUDIENCE
        ));
        group.bench_function(format!("floor_verify_{name}"), |b| {
            b.iter(|| {
                black_box(floor::verify(
                    &public,
                    &token,
                    now,
                    fixture::ISSUER,
                    fixture::AUDIENCE,
                ))
            })
        });
        group.bench_function(format!("verify_jwt_{name}"), |b| {
            b.iter(|| {
                black_box(
                    verifier
                        .verify(&BearerRequest::new(Some(&header), None), &required)
                        .expect("valid"),
                )
            })
        });
    }
    let opaque_token = rt.block_on(async {
        fixture::recycle(&memory).await;
        issued.set(0);
        fixture::full_flow(&memory, &requests).await.access_token
    });
    let opaque_header = format!("Bearer {opaque_token}");
    let memory_verifier = memory.token_verifier();
    group.bench_function("floor_verify_opaque", |b| {
        b.iter(|| black_box(floor::hash(opaque_token.as_bytes())))
    });
    group.bench_function("verify_opaque_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    fixture::verify_with_store(
                        &memory_verifier,
                        memory.storage(),
                        &opaque_header,
                        &required,
                    )
                    .await;
                }
                start.elapsed()
            })
        })
    });

    // 4b. OpenID Connect: the code exchange answering an ID token (ES256, RS256), and
    //     UserInfo with an ES256 access token, each beside its bare JWS work.
    oauth_bench::openid::bench(&mut group, &rt, plan.samples);

    // 4c. DPoP: the code exchange binding the tokens to the proof's key, and the resource
    //     server's check of a bound token with its proof (ES256 JWT, opaque), each beside
    //     the bare proof check and the token's own cryptography.
    oauth_bench::dpop::bench(&mut group, &rt);

    // 4d. The peer: the full flow, the code exchange (opaque and signed), refresh and the
    //     opaque check through oxide-auth beside finrift, in interleaved rounds of each.
    let peer = oauth_bench::peer::measure(&rt, peer_plan(&plan));
    eprintln!("peer (finrift / oxide-auth): {peer:?}");

    // Shared by the multi-threaded measurements below.
    let shared_requests = Arc::new(requests.clone());

    // 7. Memory-store flow throughput with 1 and 2 worker threads (8 tasks), in short
    //    bursts that alternate between the two, with a purge after each burst: the store
    //    stays at a steady size (as a server that purges does) instead of growing by
    //    hundreds of megabytes, whose page faults and rehashes would be measured instead.
    let Scaling {
        one_thread,
        two_threads,
        floor_one,
        floor_two,
    } = scaling(&rt, &shared_requests, plan.throughput_time);
    eprintln!("memory flows/s: 1 thread {one_thread:.0}, 2 threads {two_threads:.0}");
    let floor_scaling = floor_two / floor_one;

    // 5. SQLite, a file in a temporary directory, WAL: one flow at a time, and the cost of
    //    one durable commit on the same disk (the floor a durable store cannot go under).
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite_path = dir.path().join("bench.db");
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
    let commit_db = CommitFloor::new(&dir.path().join("commit.db"));
    // The same flow with `Durability::ProcessCrash` (synchronous = NORMAL), the store's
    // opt-in for cheaper commits, on a database file of its own.
    let sqlite_normal = rt.block_on(async {
        let options =
            SqliteOptions::file(dir.path().join("normal.db")).durability(Durability::ProcessCrash);
        fixture::engine(
            SqliteStore::open_with(options).await.expect("open"),
            Tokens::Opaque,
            &[],
        )
        .await
    });
    // And with reads on the caller's thread as well (`inline_reads`), both opt-ins.
    let sqlite_fast = rt.block_on(async {
        let options = SqliteOptions::file(dir.path().join("fast.db"))
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
        .block_on(fixture::full_flow(&sqlite, &requests))
        .access_token;
    let sqlite_fast_token = rt
        .block_on(fixture::full_flow(&sqlite_fast, &requests))
        .access_token;
    let (
        sqlite_flow,
        commit,
        sqlite_refresh,
        flow_in_commits,
        sqlite_normal_flow,
        sqlite_fast_flow,
    ) = rt.block_on(async {
        let mut refresh_token = fixture::full_flow(&sqlite, &requests)
            .await
            .refresh_token
            .expect("refresh");
        fixture::full_flow(&sqlite_normal, &requests).await;
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
                black_box(fixture::full_flow(&sqlite, &requests).await);
            }
            flows.push(start.elapsed().as_nanos() as f64 / per_round as f64);
            if let (Some(flow), Some(commit)) = (flows.last(), commits.last()) {
                ratios.push(flow / commit);
            }
            let start = Instant::now();
            for _ in 0..per_round * 4 {
                black_box(fixture::full_flow(&sqlite_normal, &requests).await);
            }
            normal.push(start.elapsed().as_nanos() as f64 / (per_round * 4) as f64);
            let start = Instant::now();
            for _ in 0..per_round * 4 {
                black_box(fixture::full_flow(&sqlite_fast, &requests).await);
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
    group.finish();
    drop(memory_verifier);
    drop(sqlite_fast);

    // Concurrent tasks on SQLite: flows per second with 16 tasks on 2 workers.
    let sqlite = Arc::new(sqlite);
    let sqlite_concurrent = {
        let (engine, requests) = (sqlite.clone(), shared_requests.clone());
        measure::throughput(2, 16, plan.throughput_time * 2, move || {
            let (engine, requests) = (engine.clone(), requests.clone());
            async move {
                black_box(fixture::full_flow(&engine, &requests).await);
            }
        })
    };
    eprintln!("sqlite concurrent flows/s: {sqlite_concurrent:.0}");

    // 5b. PostgreSQL (the workspace's throwaway server on loopback): one flow at a time and
    //     16 at once, beside the database's floor measured in the same run.
    let pg = oauth_bench::postgres::measure(&shared_requests, plan.throughput_time);
    eprintln!(
        "postgres flows/s: 1 task {:.0}, {} tasks {:.0}; floor pairs/s: {:.0}, {:.0}",
        pg.flows_one,
        oauth_bench::postgres::TASKS,
        pg.flows_many,
        pg.floor_one,
        pg.floor_many
    );

    // 6. Growth: flow and opaque verification with many live grants, on both backends.
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
        Some(&commit_db),
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

    // The table.
    let est = |id: &str| estimate(&criterion_dir, id);
    rows.push(Row::ratio(
        "Full authorization flow (authorize + approve + code exchange, PKCE), opaque, memory",
        est("flow_opaque_memory"),
        "3 random draws, 6 SHA-256, PKCE check",
        est("floor_opaque_flow"),
        Some(2.0),
    ));
    rows.push(Row::paired(
        "Full authorization flow, opaque, memory, against its floor in interleaved rounds",
        flow_against_floor.first_ns,
        "the same floor; ratio: median over interleaved rounds",
        flow_against_floor.second_ns,
        flow_against_floor.ratio,
        Some(2.5),
    ));
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        rows.push(Row::ratio(
            &format!("Code exchange, JWT access token {}", alg.as_str()),
            est(&format!("exchange_jwt_{name}")),
            &format!("bare {} JWS mint of the same claims", alg.as_str()),
            est(&format!("floor_mint_{name}")),
            Some(1.15),
        ));
    }
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        rows.push(Row::ratio(
            &format!(
                "Code exchange, JWT {} (against all its ring work)",
                alg.as_str()
            ),
            est(&format!("exchange_jwt_{name}")),
            "bare mint + code hash, PKCE, one draw for jti + refresh, their 2 hashes",
            est(&format!("floor_exchange_ring_{name}")),
            None,
        ));
    }
    rows.push(Row::ratio(
        "Refresh with rotation, opaque, memory",
        est("refresh_rotation_memory"),
        "1 random draw, 3 SHA-256",
        est("floor_refresh"),
        None,
    ));
    rows.push(Row::ratio(
        "Client credentials, opaque, memory",
        est("client_credentials_memory"),
        "1 random draw, 2 SHA-256",
        est("floor_client_credentials"),
        None,
    ));
    rows.push(Row::ratio(
        "Introspection (client secret + opaque token), memory",
        est("introspection_memory"),
        "2 SHA-256",
        est("floor_introspection"),
        None,
    ));
    rows.push(Row::ratio(
        "Revocation of an access token (client secret), memory",
        est("revocation_memory"),
        "2 SHA-256",
        est("floor_revocation"),
        None,
    ));
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        rows.push(Row::ratio(
            &format!("Resource server: verify JWT {}", alg.as_str()),
            est(&format!("verify_jwt_{name}")),
            &format!("bare {} verify + typed claim parse", alg.as_str()),
            est(&format!("floor_verify_{name}")),
            match alg {
                Algorithm::Hs256 => Some(1.5),
                Algorithm::Rs256 => None,
                _ => Some(1.1),
            },
        ));
    }
    rows.push(Row::under(
        "Resource server: verify opaque token through the memory store",
        est("verify_opaque_memory"),
        "1 SHA-256",
        est("floor_verify_opaque"),
        1_000.0,
    ));
    rows.extend(oauth_bench::openid::rows(est));
    rows.extend(oauth_bench::dpop::rows(est));
    rows.extend(oauth_bench::peer::rows(&peer));
    notes.push(oauth_bench::peer::note(&peer));
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
    rows.push(Row::per_second(
        "Full flow on PostgreSQL (loopback, durability off), one at a time",
        pg.flows_one,
        "—",
        None,
    ));
    rows.push(Row::ratio(
        "Full flow on PostgreSQL, one at a time (against the database's floor)",
        1e9 / pg.flows_one,
        "one bare single-row INSERT + UPDATE … RETURNING (two round trips) on one connection",
        1e9 / pg.floor_one,
        None,
    ));
    rows.push(Row::per_second(
        &format!(
            "Full flow on PostgreSQL, {} concurrent tasks on a pool of as many, 2 workers",
            oauth_bench::postgres::TASKS
        ),
        pg.flows_many,
        "—",
        None,
    ));
    rows.push(Row::ratio(
        &format!(
            "Full flow on PostgreSQL, {} concurrent tasks (against the database's floor)",
            oauth_bench::postgres::TASKS
        ),
        1e9 / pg.flows_many,
        &format!(
            "the same INSERT + UPDATE pair, {} tasks on a connection each",
            oauth_bench::postgres::TASKS
        ),
        1e9 / pg.floor_many,
        None,
    ));
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
    // SQLite's flow cost at each size in units of a bare commit measured in the same round
    // (the median over the rounds), scaled back to ns by the median commit of the whole
    // growth test: the flow "at one disk speed".
    let mut commits: Vec<f64> = sqlite_growth.commit.iter().map(|p| p.1).collect();
    let typical_commit = measure::median(&mut commits);
    let sqlite_adjusted: Vec<(u64, f64)> = sqlite_growth
        .in_commits
        .iter()
        .map(|&(size, commits)| (size, commits * typical_commit))
        .collect();
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
            report::ns(plan.bytes_flows as f64)
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
    rows.push(Row::per_second(
        "Memory-store flow, 1 worker thread (8 tasks)",
        one_thread,
        "—",
        None,
    ));
    let scaling = two_threads / one_thread;
    rows.push(Row {
        operation: "Memory-store flow, 2 worker threads (8 tasks)".to_owned(),
        ..Row::per_second("", two_threads, "1 worker thread", None)
    });
    rows.push(Row {
        operation: "Scaling from 1 to 2 worker threads".to_owned(),
        value: format!("{scaling:.2}×"),
        floor: "1 worker thread".to_owned(),
        floor_value: format!("{} flows/s", report::ns(one_thread)),
        ratio: format!("{scaling:.2}×"),
        target: "≥ 1.7×".to_owned(),
        met: Some(scaling >= 1.7),
    });
    rows.push(Row {
        operation: "Control: scaling of the flow's floor alone (shares nothing)".to_owned(),
        value: format!("{floor_scaling:.2}×"),
        floor: "what this machine gave a second thread".to_owned(),
        floor_value: format!(
            "{} → {} floors/s",
            report::ns(floor_one),
            report::ns(floor_two)
        ),
        ratio: format!("{floor_scaling:.2}×"),
        target: "—".to_owned(),
        met: None,
    });
    rows.push(Row {
        operation: "Flow scaling relative to the control".to_owned(),
        value: format!("{:.2}", scaling / floor_scaling),
        floor: "1.00 = scales as well as work that shares nothing".to_owned(),
        floor_value: "—".to_owned(),
        ratio: format!("{:.2}", scaling / floor_scaling),
        target: "—".to_owned(),
        met: None,
    });
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

    let series = vec![
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
    ];
    let svg = report::growth_svg(&series, "finrift: cost versus live grants stored");
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let (md_path, svg_path, svg_link) = if plan.quick {
        (
            root.join("target").join("BENCHMARKS.quick.md"),
            root.join("target").join("growth.quick.svg"),
            "growth.quick.svg".to_owned(),
        )
    } else {
        (
            root.join("BENCHMARKS.md"),
            root.join("oauth-bench").join("growth.svg"),
            "oauth-bench/growth.svg".to_owned(),
        )
    };
    std::fs::write(&svg_path, svg).expect("write the chart");
    let markdown = document(&DocumentParts {
        rows: &rows,
        series: &series,
        notes: &notes,
        svg_link: &svg_link,
        load_before: load_before.trim(),
        neighbours: &neighbours,
        load_after: load_after.trim(),
        minutes: started.elapsed().as_secs_f64() / 60.0,
    });
    // The HTTP load section (oauth-load's) is not the suite's to drop.
    let previous = std::fs::read_to_string(&md_path).unwrap_or_default();
    let markdown = report::keep_http_load_section(&previous, markdown);
    std::fs::write(&md_path, markdown).expect("write BENCHMARKS.md");
    eprintln!("wrote {} and {}", md_path.display(), svg_path.display());
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "es256",
        Algorithm::EdDsa => "eddsa",
        Algorithm::Rs256 => "rs256",
        Algorithm::Hs256 => "hs256",
        _ => "other",
    }
}

/// Cost against stored grants, for one backend.
/// The limit of the purge step the growth test measures at each size.
const PURGE_STEP_LIMIT: usize = 50;

#[derive(Default)]
struct Growth {
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

struct DocumentParts<'a> {
    rows: &'a [Row],
    series: &'a [Series],
    notes: &'a [String],
    svg_link: &'a str,
    load_before: &'a str,
    neighbours: &'a str,
    load_after: &'a str,
    minutes: f64,
}

fn document(parts: &DocumentParts<'_>) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
    let mut growth_table = String::from("| series | ");
    let sizes: Vec<u64> = parts
        .series
        .first()
        .map(|s| s.points.iter().map(|p| p.0).collect())
        .unwrap_or_default();
    growth_table.push_str(
        &sizes
            .iter()
            .map(|s| format!("{} grants", report::ns(*s as f64)))
            .collect::<Vec<_>>()
            .join(" | "),
    );
    growth_table.push_str(" |\n|---|");
    growth_table.push_str(&"---:|".repeat(sizes.len()));
    growth_table.push('\n');
    for s in parts.series {
        growth_table.push_str(&format!(
            "| {} | {} |\n",
            s.name,
            s.points
                .iter()
                .map(|p| format!("{} ns", report::ns(p.1)))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    let notes: String = parts.notes.iter().map(|n| format!("- {n}\n")).collect();
    format!(
        "# finrift benchmarks\n\n\
         Generated by the benchmark suite (`oauth-bench/benches/suite.rs`); do not edit by hand.\n\
         Every operation is measured in the same run as its *floor*: the raw `ring` work it cannot\n\
         avoid (see `oauth-bench/src/floor.rs`). Compare ratios, not absolute times across runs.\n\n\
         ## Results\n\n{table}\n\
         ns/op is criterion's median per-sample estimate; flows/s are counted over a fixed time.\n\n\
         ## Cost versus stored grants\n\n\
         ![cost versus live grants stored]({link})\n\n{growth_table}\n{notes}\n\
         ## Where targets are missed, and why\n\n{FINDINGS}\n\
         ## Machine and conditions\n\n\
         - CPU: {cpu}, {cores} cores (`nproc`)\n\
         - {rustc}, `--release` (criterion's bench profile)\n\
         - Load average before the run: `{before}`; after: `{after}` (a shared VM: other builds\n  \
           and fuzzers may run beside it).\n\
         - Running beside it at the start: {neighbours}\n\
         - The whole run took {minutes:.1} minutes.\n\n\
         ## Reproduce\n\n\
         ```sh\ncargo bench -p oauth-bench --bench suite\n```\n\n\
         It rewrites this file and `oauth-bench/growth.svg`.\n",
        table = report::table(parts.rows),
        link = parts.svg_link,
        before = parts.load_before,
        neighbours = parts.neighbours,
        after = parts.load_after,
        minutes = parts.minutes,
    )
}

/// Other processes on the CPU when the run starts (niced ones included), and whether the
/// kernel groups processes by session: with `sched_autogroup_enabled`, a process at nice 19
/// in another session still competes as an equal group, so it can take a whole core.
fn busy_neighbours() -> String {
    let me = std::process::id();
    let mut busy = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if pid == me {
                continue;
            }
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            // fields[0] is the state; fields[16] the nice value.
            if fields.first() == Some(&"R") {
                let nice = fields.get(16).copied().unwrap_or("?");
                busy.push(format!("`{name}` (nice {nice})"));
            }
        }
    }
    let autogroup = std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled")
        .map(|v| v.trim() == "1")
        .unwrap_or(false);
    format!(
        "{}{}",
        if busy.is_empty() {
            "nothing else runnable".to_owned()
        } else {
            busy.join(", ")
        },
        if autogroup {
            "; the kernel's autogroup scheduling is on, so a niced process of another \
             session still takes an equal share of the CPU"
        } else {
            ""
        }
    )
}

/// What profiling found where targets are missed (instruction counts from
/// `valgrind --tool=callgrind` on `oauth-bench/examples/profile.rs`, which repeat exactly):
/// `findings.md` beside this file, one paragraph per line, copied into `BENCHMARKS.md` as
/// it is. Edit it when a run changes what it says.
const FINDINGS: &str = include_str!("findings.md");
