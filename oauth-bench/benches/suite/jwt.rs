//! Signed access tokens per algorithm: the code exchange minting a JWT (beside the bare
//! mint of the same claims, and beside all of the exchange's ring work) and the resource
//! server's verification (beside the bare verify and claim parse).

use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use oauth_bench::fixture::{
    self, maybe_recycle, BenchEngine, FlowRequests, Tokens, ALGORITHMS, VERIFIER,
};
use oauth_bench::floor::{self, BareKey, BarePublic, Claims, Floor};
use oauth_bench::report::Row;
use oauth_core::jose::Algorithm;
use oauth_core::{BearerRequest, Clock, CodeChallenge, RandomSource, ScopeSet};
use oauth_store_memory::MemoryStore;
use tokio::runtime::Runtime;

use crate::plan::Plan;

/// One algorithm's engine and its bare key, shared by the exchange and the verification.
type SigningEngine = (Algorithm, BenchEngine<MemoryStore>, BareKey, Vec<u8>);

/// Registers the exchange and verification benchmarks of every algorithm in `group`.
pub(crate) fn bench(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    plan: &Plan,
    requests: &FlowRequests,
    floors: &Floor,
) {
    let engines = exchange(group, rt, plan, requests, floors);
    verify(group, rt, requests, &engines);
}

/// The code exchange minting a JWT, per algorithm; floors: the bare mint of the same
/// claims, and the bare mint plus the exchange's other ring work.
fn exchange(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    plan: &Plan,
    requests: &FlowRequests,
    floors: &Floor,
) -> Vec<SigningEngine> {
    let challenge = CodeChallenge::from_verifier(VERIFIER);
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
                        black_box(fixture::exchange(&engine, requests, code).await);
                    }
                    start.elapsed()
                })
            })
        });
        jwt_engines.push((alg, engine, bare, bytes));
    }
    group.sample_size(plan.samples);
    jwt_engines
}

/// The resource server's verification of each algorithm's access token.
fn verify(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    requests: &FlowRequests,
    engines: &[SigningEngine],
) {
    let required = ScopeSet::parse("read:users").expect("valid scope");
    for (alg, engine, bare, _) in engines {
        let name = alg_name(*alg);
        let token = rt.block_on(async {
            fixture::recycle(engine).await;
            fixture::full_flow(engine, requests).await.access_token
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
}

/// The rows of every algorithm, from criterion's estimates (`est`).
pub(crate) fn rows(est: impl Fn(&str) -> f64) -> Vec<Row> {
    let mut rows = Vec::new();
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
    rows
}

/// The name an algorithm's benchmarks carry.
fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "es256",
        Algorithm::EdDsa => "eddsa",
        Algorithm::Rs256 => "rs256",
        Algorithm::Hs256 => "hs256",
        _ => "other",
    }
}
