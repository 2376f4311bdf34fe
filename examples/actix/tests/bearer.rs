//! The bearer guard on resource routes: the `Bearer<R>` extractor and the `RequireScope`
//! middleware admit a live token with the scope, and refuse everything else with the
//! RFC 6750 challenge before the handler runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use oauth_actix::{Bearer, RequireScope};
use oauth_core::testing::{public_client, test_engine, Flow, FlowClient, ManualClock};
use oauth_core::{BearerGuard, Engine, Principal, RequiredScope};
use oauth_store_memory::MemoryStore;

type TestEngine = Engine<MemoryStore, Arc<ManualClock>>;

struct ReadUsers;
impl RequiredScope for ReadUsers {
    const SCOPE: &'static str = "read:users";
}

struct Malformed;
impl RequiredScope for Malformed {
    const SCOPE: &'static str = "read\"users";
}

/// An engine with one client, and a token of `scope` for alice.
async fn engine_and_token(scope: &str) -> (Arc<TestEngine>, String) {
    let engine = test_engine(MemoryStore::new());
    engine
        .register_client(public_client(
            "app",
            "https://app.example/cb",
            "read:users write:users",
        ))
        .await
        .unwrap();
    let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
    let token = flow.login("alice", scope).await.access_token;
    (Arc::new(engine), token)
}

async fn get(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    path: &str,
    token: Option<&str>,
) -> ServiceResponse {
    let mut request = test::TestRequest::get().uri(path);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    test::call_service(app, request.to_request()).await
}

fn challenge(response: &ServiceResponse) -> String {
    let headers = response.headers();
    assert_eq!(headers.get_all("content-type").count(), 1);
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    headers
        .get("www-authenticate")
        .expect("a challenge")
        .to_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn the_extractor_admits_a_live_token_with_the_scope_and_refuses_the_rest() {
    let (engine, token) = engine_and_token("read:users").await;
    let (_, narrow) = engine_and_token("write:users").await;
    let guard: Arc<dyn BearerGuard> = engine;
    let app = test::init_service(App::new().app_data(web::Data::from(guard)).route(
        "/users",
        web::get().to(|bearer: Bearer<ReadUsers>| async move { bearer.principal.subject }),
    ))
    .await;

    let admitted = get(&app, "/users", Some(&token)).await;
    assert_eq!(admitted.status(), StatusCode::OK);
    assert_eq!(test::read_body(admitted).await, "alice");

    let anonymous = get(&app, "/users", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&anonymous), "Bearer");

    let unknown = get(&app, "/users", Some("not-a-token")).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&unknown).contains("invalid_token"));

    // A token of another engine's store (the guard's engine never issued it).
    let foreign = get(&app, "/users", Some(&narrow)).await;
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_extractor_refuses_a_token_without_the_scope_with_403() {
    let engine = test_engine(MemoryStore::new());
    engine
        .register_client(public_client(
            "app",
            "https://app.example/cb",
            "read:users write:users",
        ))
        .await
        .unwrap();
    let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
    let write_only = flow.login("alice", "write:users").await.access_token;
    let guard: Arc<dyn BearerGuard> = Arc::new(engine);
    let app = test::init_service(App::new().app_data(web::Data::from(guard)).route(
        "/users",
        web::get().to(|bearer: Bearer<ReadUsers>| async move { bearer.principal.subject }),
    ))
    .await;
    let refused = get(&app, "/users", Some(&write_only)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&refused).contains("insufficient_scope"));
}

#[actix_web::test]
async fn the_extractor_without_a_guard_or_with_a_bad_scope_is_a_500() {
    let (engine, token) = engine_and_token("read:users").await;
    let guard: Arc<dyn BearerGuard> = engine;
    let app = test::init_service(
        App::new()
            .route(
                "/unguarded",
                web::get().to(|_: Bearer<ReadUsers>| async { "ran" }),
            )
            .service(
                web::scope("/guarded")
                    .app_data(web::Data::from(guard))
                    .route(
                        "/bad",
                        web::get().to(|_: Bearer<Malformed>| async { "ran" }),
                    ),
            ),
    )
    .await;
    for path in ["/unguarded", "/guarded/bad"] {
        let response = get(&app, path, Some(&token)).await;
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let body = test::read_body(response).await;
        assert!(std::str::from_utf8(&body).unwrap().contains("server_error"));
    }
}

#[actix_web::test]
async fn the_middleware_refuses_before_the_handler_and_hands_it_the_principal() {
    let (engine, token) = engine_and_token("read:users").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let guard: Arc<dyn BearerGuard> = engine;
    let app = test::init_service(
        App::new()
            .service(
                web::scope("/api")
                    .wrap(RequireScope::new(guard.clone(), "read:users"))
                    .route(
                        "/users",
                        web::get().to(move |principal: web::ReqData<Principal>| {
                            counted.fetch_add(1, Ordering::SeqCst);
                            async move { principal.subject.clone() }
                        }),
                    ),
            )
            .service(
                web::resource("/admin")
                    .wrap(RequireScope::new(guard.clone(), "admin"))
                    .get(|| async { "ran" }),
            )
            .service(
                web::resource("/misconfigured")
                    .wrap(RequireScope::new(guard, "bad\"scope"))
                    .get(|| async { "ran" }),
            ),
    )
    .await;

    let admitted = get(&app, "/api/users", Some(&token)).await;
    assert_eq!(admitted.status(), StatusCode::OK);
    assert_eq!(test::read_body(admitted).await, "alice");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let anonymous = get(&app, "/api/users", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&anonymous), "Bearer");
    let forged = get(&app, "/api/users", Some("forged.token.value")).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the handler never ran for a refusal"
    );

    let narrow = get(&app, "/admin", Some(&token)).await;
    assert_eq!(narrow.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&narrow).contains("insufficient_scope"));

    let misconfigured = get(&app, "/misconfigured", Some(&token)).await;
    assert_eq!(misconfigured.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[actix_web::test]
async fn two_authorization_headers_are_not_read_as_the_first() {
    let (engine, token) = engine_and_token("read:users").await;
    let guard: Arc<dyn BearerGuard> = engine;
    let app = test::init_service(App::new().app_data(web::Data::from(guard)).route(
        "/users",
        web::get().to(|bearer: Bearer<ReadUsers>| async move { bearer.principal.subject }),
    ))
    .await;
    let request = test::TestRequest::get()
        .uri("/users")
        .append_header(("Authorization", format!("Bearer {token}")))
        .append_header(("Authorization", "Bearer other"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
