//! The machine endpoints, the caller key and the bearer extractor, over real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use oauth_axum::{Bearer, Caller, MachineEndpoints, MAX_BODY_BYTES};
use oauth_core::testing::{public_client, test_engine, Flow, FlowClient};
use oauth_core::{BearerGuard, Config, Endpoints, Engine, RequiredScope, TrustedProxies};
use oauth_store_memory::MemoryStore;
use serde_json::Value;

use common::{assert_hardened, client, start};

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn every_machine_endpoint_is_mounted_at_its_configured_path() {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    let base = start(MachineEndpoints::new(engine).router()).await;
    let http = client();
    let metadata = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);
    assert_hardened(&metadata);
    let document: Value = serde_json::from_str(&metadata.text().await.unwrap()).unwrap();
    assert!(document["introspection_endpoint"].is_string());
    assert!(document["revocation_endpoint"].is_string());
    for path in ["/introspect", "/revoke", "/token"] {
        // No client authentication: refused by the engine, not missing.
        let answer = http
            .post(format!("{base}{path}"))
            .header("content-type", FORM)
            .body("token=abc")
            .send()
            .await
            .unwrap();
        assert!(
            [400, 401].contains(&answer.status().as_u16()),
            "{path}: {}",
            answer.status()
        );
        assert_hardened(&answer);
    }
    let jwks = http.get(format!("{base}/jwks.json")).send().await.unwrap();
    assert_eq!(jwks.status(), 200);
    let head = http.head(format!("{base}/jwks.json")).send().await.unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn form_endpoints_take_post_only() {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    let base = start(MachineEndpoints::new(engine).router()).await;
    for path in ["/token", "/introspect", "/revoke"] {
        let answer = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 405, "{path}");
        assert_hardened(&answer);
    }
}

#[tokio::test]
async fn endpoints_not_configured_are_neither_advertised_nor_mounted() {
    let mut endpoints = Endpoints::default();
    endpoints.introspection = None;
    endpoints.revocation = None;
    let config = Config::builder("http://127.0.0.1:9")
        .endpoints(endpoints)
        .build()
        .unwrap();
    let engine = Engine::builder(MemoryStore::new(), oauth_core::SystemClock, config)
        .build()
        .unwrap();
    let base = start(MachineEndpoints::new(Arc::new(engine)).router()).await;
    let http = client();
    let metadata = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let document: Value = serde_json::from_str(&metadata).unwrap();
    assert!(
        document.get("introspection_endpoint").is_none(),
        "{document}"
    );
    assert!(document.get("revocation_endpoint").is_none(), "{document}");
    assert!(document["token_endpoint"].is_string());
    for path in ["/introspect", "/revoke"] {
        let answer = http
            .post(format!("{base}{path}"))
            .header("content-type", FORM)
            .body("token=abc")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn a_json_body_at_the_token_endpoint_is_invalid_request_naming_the_media_type() {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    let base = start(MachineEndpoints::new(engine).router()).await;
    let answer = client()
        .post(format!("{base}/token"))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_hardened(&answer);
    let error: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert_eq!(error["error"], "invalid_request");
    let description = error["error_description"].as_str().unwrap();
    assert!(description.contains(FORM), "{description}");
}

#[tokio::test]
async fn a_body_beyond_64_kib_gets_413() {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    let base = start(MachineEndpoints::new(engine).router()).await;
    let http = client();
    let send = |size: usize| {
        http.post(format!("{base}/token"))
            .header("content-type", FORM)
            .body(format!("grant_type=x&pad={}", "a".repeat(size - 17)))
            .send()
    };
    let over = send(65 * 1024).await.unwrap();
    assert_eq!(over.status(), 413);
    assert_hardened(&over);
    let error: Value = serde_json::from_str(&over.text().await.unwrap()).unwrap();
    assert_eq!(error["error"], "invalid_request");
    // At the limit the engine reads it (and refuses the grant type, not the size).
    let at = send(MAX_BODY_BYTES).await.unwrap();
    assert_eq!(at.status(), 400);
}

/// State for the routes under test: the guard and the trusted proxies.
#[derive(Clone)]
struct AppState {
    guard: Arc<dyn BearerGuard>,
    proxies: TrustedProxies,
}

impl FromRef<AppState> for Arc<dyn BearerGuard> {
    fn from_ref(state: &AppState) -> Self {
        state.guard.clone()
    }
}

impl FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.proxies.clone()
    }
}

async fn caller(Caller(key): Caller) -> String {
    key.map(|key| key.to_string())
        .unwrap_or_else(|| "none".into())
}

fn caller_app(proxies: TrustedProxies) -> Router {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    Router::new()
        .route("/caller", get(caller))
        .with_state(AppState {
            guard: engine,
            proxies,
        })
}

#[tokio::test]
async fn forwarded_for_names_the_caller_only_from_a_trusted_proxy() {
    let forwarded = "203.0.113.9";
    let ask = |base: String| async move {
        client()
            .get(format!("{base}/caller"))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let untrusted = start(caller_app(TrustedProxies::none())).await;
    assert_eq!(ask(untrusted).await, "127.0.0.1");
    let trusted = start(caller_app(TrustedProxies::new(["127.0.0.0/8"]).unwrap())).await;
    assert_eq!(ask(trusted).await, forwarded);
}

#[tokio::test]
async fn without_connect_info_there_is_no_caller_key() {
    use tower::ServiceExt;
    let request = axum::http::Request::get("/caller")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = caller_app(TrustedProxies::none())
        .oneshot(request)
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"none");
}

struct ReadUsers;
impl RequiredScope for ReadUsers {
    const SCOPE: &'static str = "read:users";
}

struct BadScope;
impl RequiredScope for BadScope {
    const SCOPE: &'static str = "read\"users";
}

async fn users(bearer: Bearer<ReadUsers>) -> String {
    bearer.principal.subject
}

async fn misconfigured(_: Bearer<BadScope>) -> &'static str {
    "reached"
}

#[tokio::test]
async fn the_bearer_extractor_admits_a_live_token_and_challenges_the_rest() {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    engine
        .register_client(public_client(
            "app",
            "https://app.example/cb",
            "read:users write:users",
        ))
        .await
        .unwrap();
    let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
    let read = flow.login("alice", "read:users").await.access_token;
    let write = flow.login("alice", "write:users").await.access_token;
    let app = Router::new()
        .route("/api/users", get(users))
        .route("/bad", get(misconfigured))
        .with_state(AppState {
            guard: engine.clone(),
            proxies: TrustedProxies::none(),
        });
    let base = start(app).await;
    let get = |path: &str, token: Option<&str>| {
        let request = client().get(format!("{base}{path}"));
        match token {
            Some(token) => request.bearer_auth(token).send(),
            None => request.send(),
        }
    };
    let admitted = get("/api/users", Some(&read)).await.unwrap();
    assert_eq!(admitted.status(), 200);
    assert_eq!(admitted.text().await.unwrap(), "alice");

    let missing = get("/api/users", None).await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_hardened(&missing);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");

    let wrong = get("/api/users", Some("not-a-token")).await.unwrap();
    assert_eq!(wrong.status(), 401);
    let challenge = wrong.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("invalid_token"),
        "{challenge}"
    );

    let scope = get("/api/users", Some(&write)).await.unwrap();
    assert_eq!(scope.status(), 403);
    let challenge = scope.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");

    let bad = get("/bad", Some(&read)).await.unwrap();
    assert_eq!(bad.status(), 500);
    assert_ne!(bad.text().await.unwrap(), "reached");
}

#[tokio::test]
async fn ir08_an_issuer_with_a_path_is_served_under_it_with_rfc8414_discovery() {
    let config = Config::builder("http://127.0.0.1/tenant-a")
        .build()
        .unwrap();
    let engine = Engine::builder(MemoryStore::new(), oauth_core::SystemClock, config)
        .build()
        .unwrap();
    let base = start(MachineEndpoints::new(Arc::new(engine)).router()).await;
    let http = client();
    let metadata = http
        .get(format!(
            "{base}/.well-known/oauth-authorization-server/tenant-a"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);
    let document: Value = serde_json::from_str(&metadata.text().await.unwrap()).unwrap();
    assert_eq!(document["issuer"], "http://127.0.0.1/tenant-a");
    assert_eq!(
        document["token_endpoint"],
        "http://127.0.0.1/tenant-a/token"
    );
    // Every advertised endpoint is where the router serves it.
    let token = http
        .post(format!("{base}/tenant-a/token"))
        .header("content-type", FORM)
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);
    let jwks = http
        .get(format!("{base}/tenant-a/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let root = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404, "not at the root");
}
