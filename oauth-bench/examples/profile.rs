//! Runs one benchmarked operation in a loop, for a profiler:
//!
//! ```sh
//! cargo build --release -p oauth-bench --example profile
//! valgrind --tool=callgrind target/release/examples/profile flow 20000
//! callgrind_annotate --inclusive=yes callgrind.out.* | head -60
//! ```
//!
//! Operations: `flow` (the full opaque flow on the memory store), `flow-sqlite` and
//! `flow-sqlite-normal` (on a SQLite file, synchronous FULL and NORMAL), `flow-sqlite-fast`
//! (NORMAL and inline reads), `growth-sqlite N`
//! (the NORMAL flow on a file bulk-populated with N grants), `verify-hs256`,
//! `verify-opaque`, `exchange-hs256`, `introspect`; and the floors `floor-flow` and
//! `floor-verify-hs256`, to compare instruction counts with; `peer-flow` (the same full flow
//! through oxide-auth, `oauth_bench::peer`); and `scale`, which prints the
//! memory-store flow's throughput with 1 and 2 worker threads (for `perf`, not callgrind);
//! `sqlite-concurrent N` prints the flows per second of N tasks on 2 workers on a SQLite
//! file at the default durability (for `perf` and `time`, not callgrind).

// A profiling harness: a step that fails is a broken harness, and a panic says which.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A timing harness times with the wall clock; the engine under test still reads its own.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;

use oauth_bench::fixture::{self, FlowRequests, Tokens};
use oauth_bench::floor::{self, BareKey, BarePublic, Floor};
use oauth_core::jose::Algorithm;
use oauth_core::{BearerRequest, CodeChallenge, RandomSource, ScopeSet};
use oauth_store_memory::MemoryStore;
use oauth_store_sqlite::{Durability, SqliteOptions, SqliteStore};

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "flow".to_owned());
    let iterations: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let requests = FlowRequests::new();
    if op == "scale" {
        scale(&rt, &requests, iterations);
        return;
    }
    if op == "sqlite-concurrent" {
        sqlite_concurrent(&rt, &requests, iterations);
        return;
    }
    let required = ScopeSet::parse("read:users").expect("scope");
    rt.block_on(async {
        match op.as_str() {
            "flow" => {
                let engine = fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]).await;
                for _ in 0..iterations {
                    black_box(fixture::full_flow(&engine, &requests).await);
                }
            }
            "flow-sqlite-normal" | "flow-sqlite" | "flow-sqlite-fast" => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let mut options = SqliteOptions::file(dir.path().join("p.db"));
                if op != "flow-sqlite" {
                    options = options.durability(Durability::ProcessCrash);
                }
                if op == "flow-sqlite-fast" {
                    options = options.inline_reads(true);
                }
                let store = SqliteStore::open_with(options).await.expect("open");
                let engine = fixture::engine(store, Tokens::Opaque, &[]).await;
                let start = std::time::Instant::now();
                for _ in 0..iterations {
                    black_box(fixture::full_flow(&engine, &requests).await);
                }
                let per_flow = start.elapsed().as_nanos() as f64 / iterations.max(1) as f64;
                println!("{per_flow:.0} ns per flow");
            }
            "growth-sqlite" => {
                // Flow cost on a SQLite file holding `iterations` bulk-populated grants.
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("g.db");
                drop(SqliteStore::open(&path).await.expect("open"));
                let populate_path = path.clone();
                tokio::task::spawn_blocking(move || {
                    oauth_bench::populate::sqlite_bulk(&populate_path, 0, iterations)
                })
                .await
                .expect("populated");
                let options = SqliteOptions::file(&path).durability(Durability::ProcessCrash);
                let store = SqliteStore::open_with(options).await.expect("open");
                let engine = fixture::engine(store, Tokens::Opaque, &[]).await;
                for round in 0..5 {
                    let start = std::time::Instant::now();
                    for _ in 0..500 {
                        black_box(fixture::full_flow(&engine, &requests).await);
                    }
                    let per_flow = start.elapsed().as_nanos() as f64 / 500.0;
                    println!("round {round}: {per_flow:.0} ns per flow");
                }
            }
            "verify-opaque" => {
                let engine = fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]).await;
                let token = fixture::full_flow(&engine, &requests).await.access_token;
                let header = format!("Bearer {token}");
                let verifier = engine.token_verifier();
                for _ in 0..iterations {
                    fixture::verify_with_store(&verifier, engine.storage(), &header, &required)
                        .await;
                }
            }
            "verify-hs256" | "exchange-hs256" => {
                let bytes = fixture::key_bytes(Algorithm::Hs256);
                let engine =
                    fixture::engine(MemoryStore::new(), Tokens::Jwt(Algorithm::Hs256), &bytes)
                        .await;
                if op == "exchange-hs256" {
                    let random = RandomSource::new();
                    let mut codes = Vec::new();
                    for _ in 0..iterations {
                        codes.push(fixture::seed_code(&engine, &random).await);
                    }
                    for code in &codes {
                        black_box(fixture::exchange(&engine, &requests, code).await);
                    }
                } else {
                    let token = fixture::full_flow(&engine, &requests).await.access_token;
                    let header = format!("Bearer {token}");
                    let verifier = engine.token_verifier();
                    for _ in 0..iterations {
                        black_box(
                            verifier
                                .verify(&BearerRequest::new(Some(&header), None), &required)
                                .expect("valid"),
                        );
                    }
                }
            }
            "introspect" => {
                let engine = fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]).await;
                let token = fixture::client_credentials(&engine, &requests)
                    .await
                    .access_token;
                for _ in 0..iterations {
                    assert!(fixture::introspect(&engine, &requests, &token).await);
                }
            }
            "floor-flow" => {
                let floors = Floor::new();
                let challenge = CodeChallenge::from_verifier(fixture::VERIFIER);
                for _ in 0..iterations {
                    assert!(floors.opaque_flow(fixture::VERIFIER, challenge.as_str()));
                }
            }
            "floor-verify-hs256" => {
                let bare = BareKey::new(Algorithm::Hs256, &fixture::key_bytes(Algorithm::Hs256));
                let claims = floor::Claims {
                    iss: fixture::ISSUER,
                    sub: "alice",
                    aud: fixture::AUDIENCE,
                    client_id: fixture::PUBLIC_ID,
                    scope: fixture::SCOPE,
                    iat: 0,
                    exp: i64::MAX / 2,
                    jti: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA",
                };
                let token = floor::mint(&bare, &ring::rand::SystemRandom::new(), &claims);
                let public = BarePublic::of(&bare);
                for _ in 0..iterations {
                    assert!(black_box(floor::verify(
                        &public,
                        &token,
                        1,
                        fixture::ISSUER,
                        fixture::AUDIENCE
                    )));
                }
            }
            "peer-flow" => {
                let mut peer = oauth_bench::peer::oxide::OpaqueServer::opaque();
                for i in 0..iterations {
                    // Its `TokenMap` keeps every token; drop them now and then, as the
                    // measurement does.
                    if i % fixture::RECYCLE_AFTER == 0 {
                        peer.recycle();
                    }
                    black_box(peer.full_flow(&requests));
                }
            }
            other => panic!("unknown operation {other}"),
        }
    });
}

/// Flows per second on 1 and then 2 worker threads, `rounds` times each, alternating.
fn scale(rt: &tokio::runtime::Runtime, requests: &FlowRequests, rounds: u64) {
    let engine =
        std::sync::Arc::new(rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[])));
    let requests = std::sync::Arc::new(requests.clone());
    let (mut one, mut two) = (0.0, 0.0);
    for round in 0..2 * rounds.max(1) {
        let workers = 1 + (round % 2) as usize;
        let (e, r) = (engine.clone(), requests.clone());
        let rate = oauth_bench::measure::throughput(
            workers,
            8,
            std::time::Duration::from_millis(250),
            move || {
                let (e, r) = (e.clone(), r.clone());
                async move {
                    black_box(fixture::full_flow(&e, &r).await);
                }
            },
        );
        rt.block_on(fixture::recycle(&engine));
        if workers == 1 {
            one += rate;
        } else {
            two += rate;
        }
    }
    println!("1 thread {one:.0}, 2 threads {two:.0}: {:.2}x", two / one);
}

fn sqlite_concurrent(rt: &tokio::runtime::Runtime, requests: &FlowRequests, tasks: u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("c.db");
    let engine = rt.block_on(async {
        let store = SqliteStore::open(&path).await.expect("open");
        std::sync::Arc::new(fixture::engine(store, Tokens::Opaque, &[]).await)
    });
    let requests = std::sync::Arc::new(requests.clone());
    for _ in 0..3 {
        let (e, r) = (engine.clone(), requests.clone());
        let rate = oauth_bench::measure::throughput(
            2,
            tasks.max(1) as usize,
            std::time::Duration::from_secs(2),
            move || {
                let (e, r) = (e.clone(), r.clone());
                async move {
                    black_box(fixture::full_flow(&e, &r).await);
                }
            },
        );
        println!("{tasks} tasks: {rate:.0} flows/s");
    }
}
