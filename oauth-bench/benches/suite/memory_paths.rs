//! The memory store's paths, each beside its floor: the full opaque flow (by criterion and
//! in interleaved rounds), refresh with rotation, client credentials, introspection,
//! revocation, and the resource server's check of an opaque token.

use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use oauth_bench::fixture::{
    self, maybe_recycle, BenchEngine, FlowRequests, Tokens, SERVICE_SECRET, VERIFIER,
};
use oauth_bench::floor::{self, Floor};
use oauth_bench::measure::{self, Paired};
use oauth_bench::report::Row;
use oauth_core::{CodeChallenge, ScopeSet};
use oauth_store_memory::MemoryStore;
use tokio::runtime::Runtime;

use crate::plan::{peer_plan, Plan};

/// What the memory paths measured outside criterion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryPaths {
    /// The full opaque flow against its floor, in interleaved rounds.
    pub(crate) flow_against_floor: Paired,
}

/// Registers the memory paths' criterion benchmarks in `group` and measures the flow
/// against its floor in interleaved rounds.
pub(crate) fn bench(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    plan: &Plan,
    requests: &FlowRequests,
    floors: &Floor,
) -> MemoryPaths {
    let memory = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let issued = Cell::new(0u64);
    let flow_against_floor = flow(group, rt, plan, requests, floors, &memory, &issued);
    refresh(group, rt, requests, floors);
    service_paths(group, rt, requests, floors);
    verify_opaque(group, rt, requests, &memory, &issued);
    MemoryPaths { flow_against_floor }
}

/// The full opaque flow and its floor, by criterion; then the same two in interleaved
/// rounds: both sides of a round see the same stretch of this shared machine, so their
/// ratio holds where criterion's estimates, taken minutes apart, drift with it.
fn flow(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    plan: &Plan,
    requests: &FlowRequests,
    floors: &Floor,
    memory: &BenchEngine<MemoryStore>,
    issued: &Cell<u64>,
) -> Paired {
    let challenge = CodeChallenge::from_verifier(VERIFIER);
    group.bench_function("floor_opaque_flow", |b| {
        b.iter(|| black_box(floors.opaque_flow(VERIFIER, challenge.as_str())))
    });
    group.bench_function("flow_opaque_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                maybe_recycle(memory, issued, iters).await;
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fixture::full_flow(memory, requests).await);
                }
                start.elapsed()
            })
        })
    });

    // 1b. The same two in interleaved rounds: both sides of a round see the same stretch of
    //     this shared machine, so their ratio holds where criterion's estimates, taken
    //     minutes apart, drift with it.
    let oauth_bench::peer::Plan { rounds, per_round } = peer_plan(plan);
    let flow_against_floor = rt.block_on(measure::interleaved(
        rounds,
        per_round,
        async |n| {
            maybe_recycle(memory, issued, n as u64).await;
            let start = Instant::now();
            for _ in 0..n {
                black_box(fixture::full_flow(memory, requests).await);
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
    flow_against_floor
}

/// Refresh with rotation, and its floor.
fn refresh(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    requests: &FlowRequests,
    floors: &Floor,
) {
    let refresh_engine = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let first = rt.block_on(fixture::full_flow(&refresh_engine, requests));
    let refresh_token = RefCell::new(first.refresh_token.expect("a refresh token"));
    let issued = Cell::new(0u64);
    group.bench_function("floor_refresh", |b| {
        let presented = refresh_token.borrow().clone();
        b.iter(|| black_box(floors.refresh(&presented)))
    });
    group.bench_function("refresh_rotation_memory", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                if maybe_recycle(&refresh_engine, &issued, iters).await {
                    let tokens = fixture::full_flow(&refresh_engine, requests).await;
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
}

/// Client credentials, introspection and revocation, each beside its floor.
fn service_paths(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    requests: &FlowRequests,
    floors: &Floor,
) {
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
                    black_box(fixture::client_credentials(&service, requests).await);
                }
                start.elapsed()
            })
        })
    });

    let inspected = rt.block_on(async {
        fixture::recycle(&service).await;
        issued.set(0);
        fixture::client_credentials(&service, requests)
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
                    assert!(fixture::introspect(&service, requests, &inspected).await);
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
                        fixture::client_credentials(&revoker, requests)
                            .await
                            .access_token,
                    );
                }
                let start = Instant::now();
                for token in &tokens {
                    fixture::revoke(&revoker, requests, token).await;
                }
                start.elapsed()
            })
        })
    });
}

/// The resource server's check of an opaque token through the memory store.
fn verify_opaque(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    requests: &FlowRequests,
    memory: &BenchEngine<MemoryStore>,
    issued: &Cell<u64>,
) {
    let required = ScopeSet::parse("read:users").expect("valid scope");
    let opaque_token = rt.block_on(async {
        fixture::recycle(memory).await;
        issued.set(0);
        fixture::full_flow(memory, requests).await.access_token
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
}

/// The memory paths' rows, from criterion's estimates (`est`) and `paths`.
pub(crate) fn rows(paths: &MemoryPaths, est: impl Fn(&str) -> f64) -> Vec<Row> {
    let flow_against_floor = paths.flow_against_floor;
    vec![
        Row::ratio(
            "Full authorization flow (authorize + approve + code exchange, PKCE), opaque, memory",
            est("flow_opaque_memory"),
            "3 random draws, 6 SHA-256, PKCE check",
            est("floor_opaque_flow"),
            Some(2.0),
        ),
        Row::paired(
            "Full authorization flow, opaque, memory, against its floor in interleaved rounds",
            flow_against_floor.first_ns,
            "the same floor; ratio: median over interleaved rounds",
            flow_against_floor.second_ns,
            flow_against_floor.ratio,
            Some(2.5),
        ),
        Row::ratio(
            "Refresh with rotation, opaque, memory",
            est("refresh_rotation_memory"),
            "1 random draw, 3 SHA-256",
            est("floor_refresh"),
            None,
        ),
        Row::ratio(
            "Client credentials, opaque, memory",
            est("client_credentials_memory"),
            "1 random draw, 2 SHA-256",
            est("floor_client_credentials"),
            None,
        ),
        Row::ratio(
            "Introspection (client secret + opaque token), memory",
            est("introspection_memory"),
            "2 SHA-256",
            est("floor_introspection"),
            None,
        ),
        Row::ratio(
            "Revocation of an access token (client secret), memory",
            est("revocation_memory"),
            "2 SHA-256",
            est("floor_revocation"),
            None,
        ),
        Row::under(
            "Resource server: verify opaque token through the memory store",
            est("verify_opaque_memory"),
            "1 SHA-256",
            est("floor_verify_opaque"),
            1_000.0,
        ),
    ]
}
