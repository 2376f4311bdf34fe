//! The DPoP hot paths beside their floors (RFC 9449): the code exchange that binds the
//! tokens to the proof's key, and the resource server's check of a bound token with its
//! proof, for an ES256 JWT access token and for an opaque one kept in the memory store.
//!
//! The client's key is ES256, the algorithm most DPoP clients use. Every request needs a
//! proof it has not sent before (the engine marks each `jti` used), so the proofs of a
//! sample are signed before its clock starts, as a client signs them on its own side.
//! The floor of each operation is the bare proof check ([`floor::proof::verify_proof`])
//! and the token's own cryptography: the bare mint of the bound claims at the exchange
//! (one SHA-256 of the new secret for an opaque token), the bare verify of the token with
//! its `cnf.jkt` at the resource server (one SHA-256 for an opaque token).

use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use oauth_core::jose::Algorithm;
use oauth_core::testing::DpopKey;
use oauth_core::{
    AccessTokenType, BearerRequest, Clock, FormRequest, IssuedTokens, RandomSource, ScopeSet,
    Storage, TokenOutcome, FORM_CONTENT_TYPE,
};
use oauth_store_memory::MemoryStore;
use ring::rand::SystemRandom;
use tokio::runtime::Runtime;

use crate::fixture::{
    self, maybe_recycle, BenchEngine, FlowRequests, Tokens, AUDIENCE, ISSUER, PUBLIC_ID, SCOPE,
};
use crate::floor::proof::{verify_proof, ProofTarget};
use crate::floor::{self, BareKey, BarePublic, BoundClaims, Claims, Confirmation};
use crate::report::Row;

/// The token endpoint's URL, as the client addresses it (the proofs' `htu` there).
pub const TOKEN_URL: &str = "https://auth.example/token";
/// The protected resource's URL (the proofs' `htu` at the resource server).
pub const API_URL: &str = "https://api.example/users";

/// The code exchange with a DPoP proof: the tokens, checked to be bound (`DPoP`).
pub async fn exchange<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
    code: &str,
    proof: &str,
) -> IssuedTokens {
    let body = requests.exchange_body(code);
    let request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()).with_dpop(
        [proof],
        "POST",
        TOKEN_URL,
    );
    match engine.token(&request).await.expect("token") {
        TokenOutcome::Issued(tokens) => {
            assert_eq!(tokens.token_type, AccessTokenType::DPoP, "a bound token");
            tokens
        }
        TokenOutcome::Refused(error) => panic!("the DPoP exchange was refused: {error:?}"),
        other => panic!("an unknown token answer: {other:?}"),
    }
}

/// A resource server's check of the bound `token` with `proof`, through the store.
pub async fn verify<S: Storage>(engine: &BenchEngine<S>, token: &str, proof: &str) {
    let header = format!("DPoP {token}");
    let request = BearerRequest::new(Some(&header), None).with_dpop([proof], "GET", API_URL);
    let required = ScopeSet::parse("read:users").expect("a valid scope");
    engine
        .token_verifier()
        .verify_with_store(engine.storage(), &request, &required)
        .await
        .expect("verify")
        .into_result()
        .expect("the bound token and its proof are valid");
}

/// `iters` proofs of `key` for the token endpoint, issued now (untimed set-up).
fn token_proofs<S: Storage>(engine: &BenchEngine<S>, key: &DpopKey, iters: u64) -> Vec<String> {
    let now = engine.clock().now().unix_timestamp();
    (0..iters)
        .map(|_| key.next_proof("POST", TOKEN_URL, None, now))
        .collect()
}

/// `iters` proofs of `key` for the API with `token` (untimed set-up).
fn api_proofs<S: Storage>(
    engine: &BenchEngine<S>,
    key: &DpopKey,
    token: &str,
    iters: u64,
) -> Vec<String> {
    let now = engine.clock().now().unix_timestamp();
    (0..iters)
        .map(|_| key.next_proof("GET", API_URL, Some(token), now))
        .collect()
}

/// The engine's code exchange with a fresh proof per code, named `exchange_dpop_{name}`.
fn bench_exchange(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    engine: &BenchEngine<MemoryStore>,
    key: &DpopKey,
    name: &str,
) {
    let requests = FlowRequests::new();
    let random = RandomSource::new();
    let issued = Cell::new(0u64);
    group.bench_function(format!("exchange_dpop_{name}"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                maybe_recycle(engine, &issued, iters).await;
                let mut codes = Vec::with_capacity(iters as usize);
                for _ in 0..iters {
                    codes.push(fixture::seed_code(engine, &random).await);
                }
                let proofs = token_proofs(engine, key, iters);
                let start = Instant::now();
                for (code, proof) in codes.iter().zip(&proofs) {
                    black_box(exchange(engine, &requests, code, proof).await);
                }
                start.elapsed()
            })
        })
    });
}

/// The engine's check of a bound token with a fresh proof per request, named
/// `verify_dpop_{name}`. Each proof's `jti` is marked in the store, so the store is
/// recycled now and then and the token issued again (untimed).
fn bench_verify(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    engine: &BenchEngine<MemoryStore>,
    key: &DpopKey,
    name: &str,
) {
    let requests = FlowRequests::new();
    let random = RandomSource::new();
    let marked = Cell::new(0u64);
    let token = std::cell::RefCell::new(String::new());
    group.bench_function(format!("verify_dpop_{name}"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                if maybe_recycle(engine, &marked, iters).await || token.borrow().is_empty() {
                    let code = fixture::seed_code(engine, &random).await;
                    let proof = &token_proofs(engine, key, 1)[0];
                    *token.borrow_mut() =
                        exchange(engine, &requests, &code, proof).await.access_token;
                }
                let token = token.borrow().clone();
                let proofs = api_proofs(engine, key, &token, iters);
                let start = Instant::now();
                for proof in &proofs {
                    verify(engine, &token, proof).await;
                }
                start.elapsed()
            })
        })
    });
}

/// Adds the benchmarks to `group`: with an ES256 JWT access token,
/// `floor_exchange_dpop_es256` (the bare proof check, then the bare mint of the bound
/// claims) and `exchange_dpop_es256`, then `floor_verify_dpop_es256` (the bare proof check
/// with `ath`, then the bare verify of the token and its `cnf.jkt`) and
/// `verify_dpop_es256`; with an opaque token in the memory store, the same four named
/// `…_opaque`, whose floors hash the token instead of signing or verifying it.
pub fn bench(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime) {
    let requests = FlowRequests::new();
    let random = RandomSource::new();
    let rng = SystemRandom::new();
    let key = DpopKey::new();
    let jkt = key.thumbprint();
    let bytes = fixture::key_bytes(Algorithm::Es256);
    let jwt = rt.block_on(fixture::engine(
        MemoryStore::new(),
        Tokens::Jwt(Algorithm::Es256),
        &bytes,
    ));
    let opaque = rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]));
    let bare = BareKey::new(Algorithm::Es256, &bytes);
    let public = BarePublic::of(&bare);
    let now = jwt.clock().now().unix_timestamp();
    let jti = random.secret().expect("random");
    let claims = BoundClaims {
        claims: Claims {
            iss: ISSUER,
            sub: "alice",
            aud: AUDIENCE,
            client_id: PUBLIC_ID,
            scope: SCOPE,
            iat: now,
            exp: now + 600,
            jti: &jti,
        },
        cnf: Confirmation { jkt: &jkt },
    };

    // Untimed: the engine binds what it issues to the proof's key, the floor checks the
    // same proofs and mints as many bytes, and the bare verify accepts the engine's token.
    let token = rt.block_on(async {
        let code = fixture::seed_code(&jwt, &random).await;
        let proof = &token_proofs(&jwt, &key, 1)[0];
        exchange(&jwt, &requests, &code, proof).await.access_token
    });
    let at_token = ProofTarget {
        method: "POST",
        url: TOKEN_URL,
        access_token: None,
        now,
    };
    let token_proof = key.next_proof("POST", TOKEN_URL, None, now);
    assert_eq!(verify_proof(&token_proof, &at_token), Some(jkt.clone()));
    let bare_token = floor::mint_bound(&bare, &rng, &claims);
    assert_eq!(
        bare_token.len(),
        token.len(),
        "the bound ES256 access token"
    );
    assert!(floor::verify_bound(
        &public,
        &token,
        now,
        (ISSUER, AUDIENCE),
        &jkt
    ));
    let at_api = |token| ProofTarget {
        method: "GET",
        url: API_URL,
        access_token: Some(token),
        now,
    };
    let api_proof = key.next_proof("GET", API_URL, Some(&token), now);
    assert_eq!(verify_proof(&api_proof, &at_api(&token)), Some(jkt.clone()));
    assert_eq!(verify_proof(&api_proof, &at_api("another token")), None);

    group.bench_function("floor_exchange_dpop_es256", |b| {
        b.iter(|| {
            let jkt = verify_proof(&token_proof, &at_token).expect("a valid proof");
            let mut claims = claims;
            claims.cnf.jkt = &jkt;
            black_box(floor::mint_bound(&bare, &rng, &claims))
        })
    });
    bench_exchange(group, rt, &jwt, &key, "es256");
    group.bench_function("floor_verify_dpop_es256", |b| {
        b.iter(|| {
            let jkt = verify_proof(&api_proof, &at_api(&token)).expect("a valid proof");
            black_box(floor::verify_bound(
                &public,
                &token,
                now,
                (ISSUER, AUDIENCE),
                &jkt,
            ))
        })
    });
    bench_verify(group, rt, &jwt, &key, "es256");

    let opaque_token = rt.block_on(async {
        let code = fixture::seed_code(&opaque, &random).await;
        let proof = &token_proofs(&opaque, &key, 1)[0];
        exchange(&opaque, &requests, &code, proof)
            .await
            .access_token
    });
    let opaque_proof = key.next_proof("GET", API_URL, Some(&opaque_token), now);
    let draws = floor::Floor::new();
    group.bench_function("floor_exchange_dpop_opaque", |b| {
        b.iter(|| {
            let jkt = verify_proof(&token_proof, &at_token).expect("a valid proof");
            black_box((jkt, draws.minted_secret()))
        })
    });
    bench_exchange(group, rt, &opaque, &key, "opaque");
    group.bench_function("floor_verify_dpop_opaque", |b| {
        b.iter(|| {
            let jkt = verify_proof(&opaque_proof, &at_api(&opaque_token)).expect("a valid proof");
            black_box((jkt, floor::hash(opaque_token.as_bytes())))
        })
    });
    bench_verify(group, rt, &opaque, &key, "opaque");
}

/// The table's rows for the benchmarks of [`bench()`], from `est` (criterion's estimate of
/// a bench id, in ns). The target, 1.25× the floor, is the FAPI 2.0 work's.
pub fn rows(est: impl Fn(&str) -> f64) -> Vec<Row> {
    let kinds = [
        (
            "es256",
            "JWT ES256",
            "bare mint of the bound claims (cnf.jkt)",
            "bare verify + typed claim parse, cnf.jkt compared",
        ),
        (
            "opaque",
            "opaque, memory",
            "1 random draw + SHA-256",
            "1 SHA-256",
        ),
    ];
    let mut rows = Vec::new();
    for (name, token, mint, check) in kinds {
        rows.push(Row::ratio(
            &format!("Code exchange with a DPoP proof (ES256), {token} bound to its key"),
            est(&format!("exchange_dpop_{name}")),
            &format!("bare ES256 proof check (signature, claims, thumbprint) + {mint}"),
            est(&format!("floor_exchange_dpop_{name}")),
            Some(1.25),
        ));
        rows.push(Row::ratio(
            &format!("Resource server: DPoP-bound {token} with its proof"),
            est(&format!("verify_dpop_{name}")),
            &format!("bare ES256 proof check with ath + {check}"),
            est(&format!("floor_verify_dpop_{name}")),
            Some(1.25),
        ));
    }
    rows
}
