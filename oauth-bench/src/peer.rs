//! finrift beside a peer: the same operations through oxide-auth 0.6 (another Rust
//! authorization-server library, [`oxide`]), in the same run, in memory on both sides.
//!
//! Five operations, each measured in interleaved rounds ([`measure::interleaved`]): a
//! round of finrift, a round of oxide-auth, and so on, the ratio being the median of the
//! per-round ratios (finrift / oxide-auth). Criterion runs its benchmarks one after
//! another, so two of them would each see a different stretch of this shared machine; the
//! rounds here see the same one.
//!
//! 1. the full flow: authorize, approve, exchange the code with PKCE S256, opaque tokens;
//! 2. the code exchange alone, the codes made untimed before each round;
//! 3. refresh with rotation;
//! 4. the resource server's check of an opaque access token;
//! 5. the code exchange with a signed access token: finrift's HS256 JWT against
//!    oxide-auth's `TokenSigner` (HMAC-SHA256 over its own serialization of the grant).
//!
//! finrift is driven as the rest of the suite drives it ([`fixture`]); oxide-auth is sent
//! the same query strings and form bodies. Both sides issue a refresh token at every
//! exchange. Before each measurement, every answer of both sides is checked once to be a
//! success (the tokens verify), and the timed loops panic on any refusal, so neither side
//! is measuring an error path.

pub mod oxide;

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use oauth_core::jose::Algorithm;
use oauth_core::{BearerRequest, RandomSource, ScopeSet, Storage};
use oauth_store_memory::MemoryStore;
use tokio::runtime::Runtime;

use crate::fixture::{self, maybe_recycle, BenchEngine, FlowRequests, Tokens, RECYCLE_AFTER};
use crate::measure::{self, Paired};
use crate::report::Row;
use oxide::{OpaqueServer, OxideServer, SignedServer};

/// How long each measurement runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Rounds per side (after one warm-up round each).
    pub rounds: usize,
    /// Operations per round.
    pub per_round: usize,
}

impl Plan {
    /// A smoke test of the module: a few short rounds.
    pub const QUICK: Self = Self {
        rounds: 5,
        per_round: 50,
    };
    /// The suite's full run.
    pub const FULL: Self = Self {
        rounds: 31,
        per_round: 500,
    };
}

/// The five measurements: finrift first, oxide-auth second in each [`Paired`].
#[derive(Debug, Clone, Copy)]
pub struct Results {
    /// Authorize + approve + code exchange with PKCE, opaque tokens.
    pub flow: Paired,
    /// The code exchange alone, opaque tokens.
    pub exchange: Paired,
    /// Refresh with rotation, opaque tokens.
    pub refresh: Paired,
    /// The resource server's check of an opaque access token.
    pub verify: Paired,
    /// The code exchange with an HS256 JWT (finrift) or a `TokenSigner` token (oxide-auth).
    pub exchange_signed: Paired,
    /// Characters in finrift's opaque access token and in oxide-auth's.
    pub opaque_len: (usize, usize),
    /// Characters in finrift's HS256 JWT and in oxide-auth's signed token.
    pub signed_len: (usize, usize),
}

/// An untimed check of the opaque tokens of both sides: each verifies at its own resource
/// server. Answers their lengths.
async fn check_opaque<S: Storage>(
    engine: &BenchEngine<S>,
    peer: &mut OpaqueServer,
    requests: &FlowRequests,
) -> (usize, usize) {
    let ours = fixture::full_flow(engine, requests).await;
    assert!(
        ours.refresh_token.is_some(),
        "finrift answers a refresh token"
    );
    let required = ScopeSet::parse("read:users").expect("a valid scope");
    fixture::verify_with_store(
        &engine.token_verifier(),
        engine.storage(),
        &format!("Bearer {}", ours.access_token),
        &required,
    )
    .await;
    let theirs = peer.full_flow(requests);
    assert!(
        peer.verify(&format!("Bearer {}", theirs.access_token)),
        "oxide-auth's token verifies"
    );
    (ours.access_token.len(), theirs.access_token.len())
}

/// `n` full flows on finrift, recycling the store (untimed) as the suite does.
async fn finrift_flows<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
    issued: &Cell<u64>,
    n: usize,
) -> Duration {
    maybe_recycle(engine, issued, n as u64).await;
    let start = Instant::now();
    for _ in 0..n {
        black_box(fixture::full_flow(engine, requests).await);
    }
    start.elapsed()
}

/// `n` code exchanges on finrift, the codes seeded untimed as the suite seeds them.
async fn finrift_exchanges<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
    random: &RandomSource,
    issued: &Cell<u64>,
    n: usize,
) -> Duration {
    maybe_recycle(engine, issued, n as u64).await;
    let mut codes = Vec::with_capacity(n);
    for _ in 0..n {
        codes.push(fixture::seed_code(engine, random).await);
    }
    let start = Instant::now();
    for code in &codes {
        black_box(fixture::exchange(engine, requests, code).await);
    }
    start.elapsed()
}

/// `n` code exchanges on oxide-auth, the codes made untimed by its authorization endpoint.
fn oxide_exchanges<I: oxide_auth::endpoint::Issuer>(
    peer: &mut OxideServer<I>,
    requests: &FlowRequests,
    n: usize,
) -> Duration {
    let codes: Vec<String> = (0..n).map(|_| peer.authorize(&requests.query)).collect();
    let start = Instant::now();
    for code in &codes {
        black_box(peer.exchange(requests, code));
    }
    start.elapsed()
}

/// Issued tokens since `peer` was last recycled: [`OpaqueServer::recycle`]s it past
/// [`RECYCLE_AFTER`], as finrift's store is purged.
fn oxide_maybe_recycle(peer: &mut OpaqueServer, issued: &Cell<u64>, next: usize) {
    if issued.get() + next as u64 > RECYCLE_AFTER {
        peer.recycle();
        issued.set(0);
    }
    issued.set(issued.get() + next as u64);
}

/// Runs the five measurements with `plan` on `rt`.
pub fn measure(rt: &Runtime, plan: Plan) -> Results {
    let requests = FlowRequests::new();
    let random = RandomSource::new();
    let Plan { rounds, per_round } = plan;
    rt.block_on(async {
        // 1 and 2: the opaque flow and the exchange alone, on one engine per side.
        let engine = fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]).await;
        let mut peer = OpaqueServer::opaque();
        let opaque_len = check_opaque(&engine, &mut peer, &requests).await;
        let (ours, theirs) = (Cell::new(0u64), Cell::new(0u64));
        let flow = measure::interleaved(
            rounds,
            per_round,
            async |n| finrift_flows(&engine, &requests, &ours, n).await,
            async |n| {
                oxide_maybe_recycle(&mut peer, &theirs, n);
                let start = Instant::now();
                for _ in 0..n {
                    black_box(peer.full_flow(&requests));
                }
                start.elapsed()
            },
        )
        .await;
        let exchange = measure::interleaved(
            rounds,
            per_round,
            async |n| finrift_exchanges(&engine, &requests, &random, &ours, n).await,
            async |n| {
                oxide_maybe_recycle(&mut peer, &theirs, n);
                oxide_exchanges(&mut peer, &requests, n)
            },
        )
        .await;

        // 3: refresh with rotation, each side presenting the token it was last answered.
        fixture::recycle(&engine).await;
        ours.set(0);
        peer.recycle();
        let ours_first = fixture::full_flow(&engine, &requests).await;
        let mut our_token = ours_first.refresh_token.expect("a refresh token");
        let rotated = fixture::refresh(&engine, &our_token).await;
        our_token = rotated.refresh_token.expect("rotated");
        let theirs_first = peer.full_flow(&requests);
        let rotated = peer.refresh(&theirs_first.refresh_token);
        assert!(
            peer.verify(&format!("Bearer {}", rotated.access_token)),
            "oxide-auth's refreshed token verifies"
        );
        let mut their_token = rotated.refresh_token;
        let refresh = measure::interleaved(
            rounds,
            per_round,
            async |n| {
                if maybe_recycle(&engine, &ours, n as u64).await {
                    let tokens = fixture::full_flow(&engine, &requests).await;
                    our_token = tokens.refresh_token.expect("a refresh token");
                }
                let start = Instant::now();
                for _ in 0..n {
                    let next = fixture::refresh(&engine, &our_token).await;
                    our_token = next.refresh_token.expect("rotated");
                }
                start.elapsed()
            },
            // Rotation replaces a grant's two entries in its `TokenMap`: it does not grow.
            async |n| {
                let start = Instant::now();
                for _ in 0..n {
                    their_token = peer.refresh(&their_token).refresh_token;
                }
                start.elapsed()
            },
        )
        .await;

        // 4: the resource server's check of a fresh opaque token.
        fixture::recycle(&engine).await;
        peer.recycle();
        let our_header = format!(
            "Bearer {}",
            fixture::full_flow(&engine, &requests).await.access_token
        );
        let their_header = format!("Bearer {}", peer.full_flow(&requests).access_token);
        let required = ScopeSet::parse("read:users").expect("a valid scope");
        let verifier = engine.token_verifier();
        fixture::verify_with_store(&verifier, engine.storage(), &our_header, &required).await;
        assert!(peer.verify(&their_header), "oxide-auth's token verifies");
        let verify = measure::interleaved(
            rounds,
            per_round * 4,
            async |n| {
                let start = Instant::now();
                for _ in 0..n {
                    fixture::verify_with_store(&verifier, engine.storage(), &our_header, &required)
                        .await;
                }
                start.elapsed()
            },
            async |n| {
                let start = Instant::now();
                for _ in 0..n {
                    assert!(peer.verify(&their_header), "oxide-auth's token verifies");
                }
                start.elapsed()
            },
        )
        .await;
        drop(verifier);

        // 5: the code exchange with a signed token, both keyed with the same HMAC bytes.
        let key = fixture::key_bytes(Algorithm::Hs256);
        let jwt_engine =
            fixture::engine(MemoryStore::new(), Tokens::Jwt(Algorithm::Hs256), &key).await;
        let mut signer = SignedServer::signed(&key);
        let jwt = fixture::full_flow(&jwt_engine, &requests).await;
        assert_eq!(
            jwt.access_token.split('.').count(),
            3,
            "finrift answers a JWT"
        );
        assert!(
            jwt.refresh_token.is_some(),
            "finrift answers a refresh token"
        );
        jwt_engine
            .token_verifier()
            .verify(
                &BearerRequest::new(Some(&format!("Bearer {}", jwt.access_token)), None),
                &required,
            )
            .expect("finrift's JWT verifies");
        let signed = signer.full_flow(&requests);
        assert!(
            signer.verify(&format!("Bearer {}", signed.access_token)),
            "oxide-auth's signed token verifies"
        );
        let signed_len = (jwt.access_token.len(), signed.access_token.len());
        let issued = Cell::new(0u64);
        let exchange_signed = measure::interleaved(
            rounds,
            per_round,
            async |n| finrift_exchanges(&jwt_engine, &requests, &random, &issued, n).await,
            // A `TokenSigner` keeps nothing, so there is nothing to recycle.
            async |n| oxide_exchanges(&mut signer, &requests, n),
        )
        .await;

        Results {
            flow,
            exchange,
            refresh,
            verify,
            exchange_signed,
            opaque_len,
            signed_len,
        }
    })
}

/// The peer: what is measured on the oxide-auth side.
const PEER: &str = "oxide-auth 0.6 (its `Generic` endpoint";

/// The table's rows for [`measure()`]'s results: one per operation, finrift in the value
/// column, oxide-auth in the floor's, the ratio finrift / oxide-auth.
pub fn rows(results: &Results) -> Vec<Row> {
    let row = |operation: &str, peer: &str, paired: &Paired, max: f64| {
        Row::paired(
            operation,
            paired.first_ns,
            &format!("{PEER}, {peer}); ratio: median over interleaved rounds"),
            paired.second_ns,
            paired.ratio,
            Some(max),
        )
    };
    vec![
        row(
            "Peer: full flow (authorize + approve + code exchange, PKCE S256), opaque, memory",
            "`AuthMap` + `TokenMap`, PKCE required",
            &results.flow,
            0.8,
        ),
        row(
            "Peer: code exchange (PKCE S256), opaque, memory",
            "`AuthMap` + `TokenMap`",
            &results.exchange,
            0.8,
        ),
        row(
            "Peer: refresh with rotation, opaque, memory",
            "`TokenMap`",
            &results.refresh,
            0.8,
        ),
        row(
            "Peer: resource server, verify opaque token, memory",
            "`ResourceFlow` over its `TokenMap`",
            &results.verify,
            1.0,
        ),
        row(
            "Peer: code exchange with a signed access token (finrift: JWT HS256)",
            "`TokenSigner`, HMAC-SHA256, refresh tokens on",
            &results.exchange_signed,
            0.8,
        ),
    ]
}

/// A line for the report's notes: the token sizes of both sides.
pub fn note(results: &Results) -> String {
    format!(
        "Against oxide-auth: finrift's opaque access token has {} characters, oxide-auth's \
         {} ({} random bytes, standard base64); finrift's HS256 JWT has {}, oxide-auth's \
         `TokenSigner` token {}.",
        results.opaque_len.0,
        results.opaque_len.1,
        oxide::RANDOM_BYTES,
        results.signed_len.0,
        results.signed_len.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measurement_runs_and_pairs_up() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let results = measure(
            &rt,
            Plan {
                rounds: 1,
                per_round: 3,
            },
        );
        let rows = rows(&results);
        assert_eq!(rows.len(), 5);
        for paired in [
            results.flow,
            results.exchange,
            results.refresh,
            results.verify,
            results.exchange_signed,
        ] {
            assert!(paired.first_ns > 0.0 && paired.second_ns > 0.0 && paired.ratio > 0.0);
        }
        assert_eq!(results.opaque_len.1, 44);
        assert!(note(&results).contains("oxide-auth"));
    }
}
