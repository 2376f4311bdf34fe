//! The machine endpoints in process: what is mounted, the methods each takes, the headers
//! of every answer, and the caller key the engine's limiter is given.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use actix_web::http::{Method, StatusCode};
use actix_web::{test, web, App};
use oauth_actix::{caller_key, MachineEndpoints, OAuthResponse, METADATA_PATH};
use oauth_core::limits::Limiter;
use oauth_core::testing::{ManualClock, TEST_START};
use oauth_core::{Config, Endpoints, Engine, Response, TrustedProxies};
use oauth_store_memory::MemoryStore;
use time::{Duration, OffsetDateTime};

type TestEngine = Engine<MemoryStore, Arc<ManualClock>>;

fn engine_with(endpoints: Endpoints, limiter: Option<RecordingLimiter>) -> TestEngine {
    let config = Config::builder("https://auth.example")
        .endpoints(endpoints)
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::new(TEST_START));
    let mut builder = Engine::builder(MemoryStore::new(), clock, config);
    if let Some(limiter) = limiter {
        builder = builder.limiter(limiter);
    }
    builder.build().unwrap()
}

/// Remembers every key the engine asks about.
#[derive(Clone, Default)]
struct RecordingLimiter(Arc<Mutex<Vec<String>>>);

impl Limiter for RecordingLimiter {
    fn reserve(&self, keys: &[&str], _now: OffsetDateTime) -> Result<(), Duration> {
        let mut seen = self.0.lock().unwrap();
        seen.extend(keys.iter().map(|key| (*key).to_owned()));
        Ok(())
    }
    fn failed(&self, _key: &str, _now: OffsetDateTime) {}
    fn succeeded(&self, _key: &str, _forgive: bool, _now: OffsetDateTime) {}
}

fn assert_hardened(headers: &actix_web::http::header::HeaderMap) {
    assert_eq!(headers.get_all("content-type").count(), 1);
    let nosniff: Vec<_> = headers.get_all("x-content-type-options").collect();
    assert_eq!(nosniff, ["nosniff"]);
}

async fn status_of(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    method: Method,
    path: &str,
) -> (StatusCode, Option<String>) {
    let request = test::TestRequest::default()
        .method(method)
        .uri(path)
        .to_request();
    let response = test::call_service(app, request).await;
    if response.status() != StatusCode::NOT_FOUND {
        assert_hardened(response.headers());
    }
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), allow)
}

#[actix_web::test]
async fn every_endpoint_takes_its_methods_and_refuses_others_with_405() {
    let machine = MachineEndpoints::new(web::Data::new(engine_with(Endpoints::default(), None)));
    let app = test::init_service(App::new().configure(|config| machine.configure(config))).await;
    for path in ["/token", "/introspect", "/revoke"] {
        for method in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE] {
            let (status, allow) = status_of(&app, method.clone(), path).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_eq!(allow.as_deref(), Some("POST"));
        }
        // A POST reaches the engine, which refuses the empty body.
        let (status, _) = status_of(&app, Method::POST, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "POST {path}");
    }
    for path in ["/jwks.json", METADATA_PATH] {
        for method in [Method::GET, Method::HEAD] {
            let (status, _) = status_of(&app, method.clone(), path).await;
            assert_eq!(status, StatusCode::OK, "{method} {path}");
        }
        let (status, allow) = status_of(&app, Method::POST, path).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(allow.as_deref(), Some("GET, HEAD"));
    }
}

#[actix_web::test]
async fn endpoints_configured_none_are_not_mounted_nor_advertised() {
    let mut endpoints = Endpoints::default();
    endpoints.introspection = None;
    endpoints.revocation = None;
    let machine = MachineEndpoints::new(web::Data::new(engine_with(endpoints, None)));
    let app = test::init_service(App::new().configure(|config| machine.configure(config))).await;
    for path in ["/introspect", "/revoke"] {
        let (status, _) = status_of(&app, Method::POST, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let request = test::TestRequest::get().uri(METADATA_PATH).to_request();
    let metadata: serde_json::Value = test::call_and_read_body_json(&app, request).await;
    assert!(metadata.get("introspection_endpoint").is_none());
    assert!(metadata.get("revocation_endpoint").is_none());
    assert_eq!(metadata["token_endpoint"], "https://auth.example/token");
}

#[actix_web::test]
async fn paths_follow_the_engine_configuration() {
    let mut endpoints = Endpoints::default();
    endpoints.token = "/oauth/token".into();
    endpoints.jwks = "/keys".into();
    let machine = MachineEndpoints::new(web::Data::new(engine_with(endpoints, None)));
    let app = test::init_service(App::new().configure(|config| machine.configure(config))).await;
    assert_eq!(
        status_of(&app, Method::GET, "/keys").await.0,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, Method::POST, "/oauth/token").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status_of(&app, Method::POST, "/token").await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn caller_key_believes_forwarded_for_only_from_a_trusted_proxy() {
    let request = |peer: &str, forwarded: &[&str]| {
        let mut request = test::TestRequest::default().peer_addr(peer.parse().unwrap());
        for value in forwarded {
            request = request.append_header(("X-Forwarded-For", *value));
        }
        request.to_http_request()
    };
    let key = |request, proxies: &TrustedProxies| caller_key(&request, proxies).unwrap();
    let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();

    // By default the peer is the caller, whatever it claims.
    let claimed = request("192.0.2.1:5000", &["203.0.113.9"]);
    assert_eq!(key(claimed, &TrustedProxies::none()).as_str(), "192.0.2.1");
    // A peer that is not a proxy cannot name another caller either.
    let claimed = request("192.0.2.1:5000", &["203.0.113.9"]);
    assert_eq!(key(claimed, &proxies).as_str(), "192.0.2.1");
    // A trusted proxy's header names the caller.
    let proxied = request("10.1.2.3:5000", &["203.0.113.9"]);
    assert_eq!(key(proxied, &proxies).as_str(), "203.0.113.9");
    // Two header lines are one list: the proxy's own line (the last) is read first, so a
    // line the caller sent cannot win.
    let proxied = request("10.1.2.3:5000", &["198.51.100.66", "203.0.113.9"]);
    assert_eq!(key(proxied, &proxies).as_str(), "203.0.113.9");
    // IPv6 callers are keyed by their /64.
    let v6 = request("[2001:db8:1:2::7]:5000", &[]);
    assert_eq!(key(v6, &proxies).as_str(), "2001:db8:1:2::/64");
    // Without a peer address there is no key.
    let none = test::TestRequest::default().to_http_request();
    assert!(caller_key(&none, &proxies).is_none());
}

#[actix_web::test]
async fn the_token_endpoint_gives_the_limiter_the_caller_key() {
    for (proxies, expected) in [
        (TrustedProxies::none(), "caller:10.1.2.3"),
        (
            TrustedProxies::new(["10.0.0.0/8"]).unwrap(),
            "caller:203.0.113.9",
        ),
    ] {
        let limiter = RecordingLimiter::default();
        let engine = engine_with(Endpoints::default(), Some(limiter.clone()));
        let machine = MachineEndpoints::new(web::Data::new(engine)).trusted_proxies(proxies);
        let app =
            test::init_service(App::new().configure(|config| machine.configure(config))).await;
        let request = test::TestRequest::post()
            .uri("/token")
            .peer_addr("10.1.2.3:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("grant_type=client_credentials&client_id=nobody&client_secret=x")
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let keys = limiter.0.lock().unwrap().clone();
        assert!(keys.contains(&expected.to_owned()), "{keys:?}");
        assert_eq!(keys.iter().filter(|k| k.starts_with("caller:")).count(), 1);
    }
}

#[actix_web::test]
async fn an_oauth_response_has_one_content_type_and_one_nosniff() {
    let app = test::init_service(
        App::new()
            .route(
                "/doubled",
                web::get().to(|| async {
                    OAuthResponse(Response {
                        status: 200,
                        headers: vec![
                            ("Content-Type", "application/json".into()),
                            ("X-Content-Type-Options", "nosniff".into()),
                            ("Content-Type", "application/json".into()),
                            ("Set-Cookie", "a=1".into()),
                            ("Set-Cookie", "b=2".into()),
                        ],
                        body: "{}".into(),
                    })
                }),
            )
            .route(
                "/bare",
                web::get().to(|| async {
                    OAuthResponse(Response {
                        status: 200,
                        headers: Vec::new(),
                        body: "hi".into(),
                    })
                }),
            )
            .route(
                "/broken",
                web::get().to(|| async {
                    OAuthResponse(Response {
                        status: 200,
                        headers: vec![("Location", "bad\nvalue".into())],
                        body: String::new(),
                    })
                }),
            ),
    )
    .await;
    let get = |path: &str| test::TestRequest::get().uri(path).to_request();

    let doubled = test::call_service(&app, get("/doubled")).await;
    assert_hardened(doubled.headers());
    assert_eq!(doubled.headers().get_all("set-cookie").count(), 2);

    let bare = test::call_service(&app, get("/bare")).await;
    assert_hardened(bare.headers());
    assert_eq!(
        bare.headers().get("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );

    let broken = test::call_service(&app, get("/broken")).await;
    assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_hardened(broken.headers());
    assert!(broken.headers().get("location").is_none());
}

#[actix_web::test]
async fn ir08_an_issuer_with_a_path_is_served_under_it_with_rfc8414_discovery() {
    let config = oauth_core::Config::builder("https://auth.example/tenant-a")
        .build()
        .unwrap();
    let engine = oauth_core::Engine::builder(
        oauth_store_memory::MemoryStore::new(),
        oauth_core::SystemClock,
        config,
    )
    .build()
    .unwrap();
    let machine = MachineEndpoints::new(web::Data::new(engine));
    let app = test::init_service(App::new().configure(|config| machine.configure(config))).await;
    let request = test::TestRequest::get()
        .uri("/.well-known/oauth-authorization-server/tenant-a")
        .to_request();
    let metadata: serde_json::Value = test::call_and_read_body_json(&app, request).await;
    assert_eq!(metadata["issuer"], "https://auth.example/tenant-a");
    assert_eq!(
        metadata["token_endpoint"],
        "https://auth.example/tenant-a/token"
    );
    let (status, _) = status_of(&app, Method::POST, "/tenant-a/token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "served where advertised");
    let (status, _) = status_of(&app, Method::GET, METADATA_PATH).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not at the root");
}
