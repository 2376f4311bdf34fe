//! Runs one benchmarked operation in a loop, for a profiler:
//!
//! ```sh
//! cargo build --release -p oauth-bench --example profile
//! valgrind --tool=callgrind target/release/examples/profile flow 20000
//! callgrind_annotate --inclusive=yes callgrind.out.* | head -60
//! ```
//!
//! Operations: `flow` (the full opaque flow on the memory store), `verify-hs256`,
//! `verify-opaque`, `exchange-hs256`, `introspect`.

// A profiling harness: a step that fails is a broken harness, and a panic says which.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use oauth_bench::fixture::{self, FlowRequests, Tokens};
use oauth_core::jose::Algorithm;
use oauth_core::{BearerRequest, RandomSource, ScopeSet};
use oauth_store_memory::MemoryStore;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "flow".to_owned());
    let iterations: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let requests = FlowRequests::new();
    let required = ScopeSet::parse("read:users").expect("scope");
    rt.block_on(async {
        match op.as_str() {
            "flow" => {
                let engine = fixture::engine(MemoryStore::new(), Tokens::Opaque, &[]).await;
                for _ in 0..iterations {
                    black_box(fixture::full_flow(&engine, &requests).await);
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
            other => panic!("unknown operation {other}"),
        }
    });
}
