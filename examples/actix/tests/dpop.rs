//! DPoP (RFC 9449) through the adapter, in process: the token endpoint hands the engine every `DPoP`
//! header with its own URL, and the bearer guard checks proofs against the configured
//! public base, never the request's `Host`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App};
use oauth_actix::{Bearer, MachineEndpoints, PublicBase, RequireScope};
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::testing::{
    basic_auth, confidential_client, DpopKey, ManualClock, TEST_ISSUER, TEST_START,
};
use oauth_core::{BearerGuard, Clock, Config, Engine, JwtAccessTokens, RequiredScope};
use oauth_store_memory::MemoryStore;
use serde_json::{json, Value};

const SECRET: &str = "a-client-secret-of-at-least-32-bytes";
const TOKEN_URL: &str = "https://auth.example/token";
const API_BASE: &str = "https://api.example";

type TestEngine = Engine<MemoryStore, Arc<ManualClock>>;

struct ReadUsers;
impl RequiredScope for ReadUsers {
    const SCOPE: &'static str = "read:users";
}

async fn users(bearer: Bearer<ReadUsers>) -> String {
    bearer.principal.subject
}

/// An engine issuing JWT access tokens for the API, with one confidential client.
async fn engine() -> web::Data<TestEngine> {
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
    web::Data::new(engine)
}

/// The machine endpoints, and `/users` behind the extractor and `/layered/users` behind
/// the middleware, both with the API's public base; `/bare/users` has none.
async fn app(
    engine: &web::Data<TestEngine>,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    let guard: Arc<dyn BearerGuard> = engine.clone().into_inner();
    let machine = MachineEndpoints::new(engine.clone());
    let base = PublicBase::new(API_BASE).unwrap();
    test::init_service(
        App::new()
            .app_data(web::Data::from(guard.clone()))
            .configure(|config| machine.configure(config))
            .service(web::resource("/users").app_data(base.clone()).get(users))
            .service(
                web::resource("/layered/users")
                    .app_data(base)
                    .wrap(RequireScope::new(guard, "read:users"))
                    .get(|| async { "layered" }),
            )
            .service(web::resource("/bare/users").get(users)),
    )
    .await
}

/// The URL the test requests are sent to, from their `Host` header: not the issuer's.
const BY_HOST: &str = "http://localhost:8080";

/// `POST /token` for client credentials with these `DPoP` header values.
async fn token(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    proofs: &[&str],
) -> (u16, Value) {
    let mut request = test::TestRequest::post()
        .uri("/token")
        .insert_header(("authorization", basic_auth("server", SECRET)))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload("grant_type=client_credentials&scope=read%3Ausers");
    for proof in proofs {
        request = request.append_header(("dpop", *proof));
    }
    let answer = test::call_service(app, request.to_request()).await;
    let status = answer.status().as_u16();
    let body = test::read_body(answer).await;
    (status, serde_json::from_slice(&body).unwrap())
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

#[actix_web::test]
async fn the_token_endpoint_hands_the_engine_a_malformed_dpop_header() {
    let engine = engine().await;
    let app = app(&engine).await;
    assert_bad_proof(&token(&app, &["not-a-proof"]).await, "well-formed");
}

#[actix_web::test]
async fn the_token_endpoint_refuses_two_dpop_headers() {
    let engine = engine().await;
    let app = app(&engine).await;
    let holder = DpopKey::new();
    let (a, b) = (
        holder.proof("POST", TOKEN_URL, None, now(&engine), "a"),
        holder.proof("POST", TOKEN_URL, None, now(&engine), "b"),
    );
    assert_bad_proof(&token(&app, &[&a, &b]).await, "more than one");
}

#[actix_web::test]
async fn the_token_endpoint_binds_to_a_proof_for_the_issuers_url_not_the_host() {
    let engine = engine().await;
    let app = app(&engine).await;
    let holder = DpopKey::new();
    let by_host = holder.proof("POST", &format!("{BY_HOST}/token"), None, now(&engine), "h");
    assert_bad_proof(&token(&app, &[&by_host]).await, "another URL");

    let proof = holder.proof("POST", TOKEN_URL, None, now(&engine), "t");
    let (status, body) = token(&app, &[&proof]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");

    let (status, body) = token(&app, &[]).await;
    assert_eq!((status, &body["token_type"]), (200, &json!("Bearer")));
}

#[actix_web::test]
async fn the_guard_checks_a_bound_tokens_proof_against_the_public_base() {
    let engine = engine().await;
    let app = app(&engine).await;
    let holder = DpopKey::new();
    let proof = holder.proof("POST", TOKEN_URL, None, now(&engine), "t");
    let (_, body) = token(&app, &[&proof]).await;
    let access = body["access_token"].as_str().unwrap().to_owned();

    let call = |path: &str, proof: String| {
        let request = test::TestRequest::get()
            .uri(&format!("{path}?page=2"))
            .insert_header(("authorization", format!("DPoP {access}")))
            .insert_header(("dpop", proof))
            .to_request();
        test::call_service(&app, request)
    };
    let challenge = |answer: &ServiceResponse| {
        answer
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    for (path, jti) in [("/users", "u"), ("/layered/users", "l")] {
        let url = format!("{API_BASE}{path}");
        let proof = holder.proof("GET", &url, Some(&access), now(&engine), jti);
        let admitted = call(path, proof.clone()).await;
        assert_eq!(admitted.status(), 200, "{path}");
        // The same proof again is a replay.
        let replayed = call(path, proof).await;
        assert_eq!(replayed.status(), 401, "{path}");

        let by_host = format!("{BY_HOST}{path}");
        let jti = format!("{jti}h");
        let proof = holder.proof("GET", &by_host, Some(&access), now(&engine), &jti);
        let refused = call(path, proof).await;
        assert_eq!(refused.status(), 401, "{path}");
        assert!(challenge(&refused).contains("invalid_dpop_proof"));
    }

    // Without a public base no proof is checked, so the bound token is refused.
    let url = format!("{API_BASE}/bare/users");
    let proof = holder.proof("GET", &url, Some(&access), now(&engine), "b");
    let refused = call("/bare/users", proof).await;
    assert_eq!(refused.status(), 401);
    assert!(challenge(&refused).contains("invalid_dpop_proof"));
}
