//! DPoP (RFC 9449) through the adapter: the token endpoint hands the engine every `DPoP`
//! header with its own URL, and the bearer guard checks proofs against the configured
//! public base, never the request's `Host`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::get;
use axum::{Extension, Router};
use oauth_axum::{Bearer, MachineEndpoints, PublicBase, RequireScope};
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::testing::{
    basic_auth, confidential_client, DpopKey, ManualClock, TEST_ISSUER, TEST_START,
};
use oauth_core::{BearerGuard, Clock, Config, Engine, JwtAccessTokens, RequiredScope};
use oauth_store_memory::MemoryStore;
use serde_json::{json, Value};

use common::{client, start};

const SECRET: &str = "a-client-secret-of-at-least-32-bytes";
const TOKEN_URL: &str = "https://auth.example/token";
const API_BASE: &str = "https://api.example";

type TestEngine = Engine<MemoryStore, Arc<ManualClock>>;

struct ReadUsers;
impl RequiredScope for ReadUsers {
    const SCOPE: &'static str = "read:users";
}

#[derive(Clone)]
struct Api(Arc<dyn BearerGuard>);

impl FromRef<Api> for Arc<dyn BearerGuard> {
    fn from_ref(state: &Api) -> Self {
        state.0.clone()
    }
}

async fn users(bearer: Bearer<ReadUsers>) -> String {
    bearer.principal.subject
}

/// An engine issuing JWT access tokens for the API, with one confidential client.
async fn engine() -> Arc<TestEngine> {
    let key = SigningKey::generate(Algorithm::Es256, "k1").unwrap().0;
    let engine = Engine::builder(
        MemoryStore::new(),
        Arc::new(ManualClock::new(TEST_START)),
        Config::builder(TEST_ISSUER).build().unwrap(),
    )
    .jwt_access_tokens(JwtAccessTokens::new(KeySet::new(key), API_BASE))
    .build()
    .unwrap();
    engine
        .register_client(confidential_client(
            "server",
            SECRET,
            "https://app.example/cb",
            "read:users",
        ))
        .await
        .unwrap();
    Arc::new(engine)
}

/// The machine endpoints, and `/users` behind the extractor and `/layered/users` behind
/// the layer, both with the API's public base; `/bare/users` has none.
async fn app(engine: &Arc<TestEngine>) -> String {
    let guard: Arc<dyn BearerGuard> = engine.clone();
    let based = Router::new()
        .route("/users", get(users))
        .route(
            "/layered/users",
            get(|| async { "layered" })
                .route_layer(RequireScope::new(guard.clone(), "read:users").unwrap()),
        )
        .layer(Extension(PublicBase::new(API_BASE).unwrap()));
    let bare = Router::new().route("/bare/users", get(users));
    let api = based.merge(bare).with_state(Api(guard));
    start(MachineEndpoints::new(engine.clone()).router().merge(api)).await
}

/// `POST /token` for client credentials with these `DPoP` header values.
async fn token(base: &str, proofs: &[&str]) -> (u16, Value) {
    let mut request = client()
        .post(format!("{base}/token"))
        .header("authorization", basic_auth("server", SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=read%3Ausers");
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (
        status,
        serde_json::from_str(&answer.text().await.unwrap()).unwrap(),
    )
}

fn now(engine: &TestEngine) -> i64 {
    engine.clock().now().unix_timestamp()
}

#[track_caller]
fn assert_bad_proof((status, body): &(u16, Value), says: &str) {
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(says), "{description}");
}

#[tokio::test]
async fn the_token_endpoint_hands_the_engine_a_malformed_dpop_header() {
    let engine = engine().await;
    let base = app(&engine).await;
    assert_bad_proof(&token(&base, &["not-a-proof"]).await, "well-formed");
}

#[tokio::test]
async fn the_token_endpoint_refuses_two_dpop_headers() {
    let engine = engine().await;
    let base = app(&engine).await;
    let holder = DpopKey::new();
    let (a, b) = (
        holder.proof("POST", TOKEN_URL, None, now(&engine), "a"),
        holder.proof("POST", TOKEN_URL, None, now(&engine), "b"),
    );
    assert_bad_proof(&token(&base, &[&a, &b]).await, "more than one");
}

#[tokio::test]
async fn the_token_endpoint_binds_to_a_proof_for_the_issuers_url_not_the_host() {
    let engine = engine().await;
    let base = app(&engine).await;
    let holder = DpopKey::new();
    // The URL the request was sent to, from its Host header: not the issuer's.
    let by_host = holder.proof("POST", &format!("{base}/token"), None, now(&engine), "h");
    assert_bad_proof(&token(&base, &[&by_host]).await, "another URL");

    let proof = holder.proof("POST", TOKEN_URL, None, now(&engine), "t");
    let (status, body) = token(&base, &[&proof]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");

    let (status, body) = token(&base, &[]).await;
    assert_eq!((status, &body["token_type"]), (200, &json!("Bearer")));
}

#[tokio::test]
async fn the_guard_checks_a_bound_tokens_proof_against_the_public_base() {
    let engine = engine().await;
    let base = app(&engine).await;
    let holder = DpopKey::new();
    let proof = holder.proof("POST", TOKEN_URL, None, now(&engine), "t");
    let (_, body) = token(&base, &[&proof]).await;
    let access = body["access_token"].as_str().unwrap().to_owned();

    let call = |path: &'static str, proof: Option<String>| {
        let mut request = client()
            .get(format!("{base}{path}?page=2"))
            .header("authorization", format!("DPoP {access}"));
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.send()
    };
    for (path, jti) in [("/users", "u"), ("/layered/users", "l")] {
        let url = format!("{API_BASE}{path}");
        let proof = holder.proof("GET", &url, Some(&access), now(&engine), jti);
        let admitted = call(path, Some(proof.clone())).await.unwrap();
        assert_eq!(admitted.status(), 200, "{path}");
        // The same proof again is a replay.
        let replayed = call(path, Some(proof)).await.unwrap();
        assert_eq!(replayed.status(), 401, "{path}");

        let by_host = format!("{base}{path}");
        let proof = holder.proof(
            "GET",
            &by_host,
            Some(&access),
            now(&engine),
            &format!("{jti}h"),
        );
        let refused = call(path, Some(proof)).await.unwrap();
        assert_eq!(refused.status(), 401, "{path}");
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    }

    // Without a public base no proof is checked, so the bound token is refused.
    let url = format!("{API_BASE}/bare/users");
    let proof = holder.proof("GET", &url, Some(&access), now(&engine), "b");
    let refused = call("/bare/users", Some(proof)).await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
}
