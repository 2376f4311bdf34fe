//! The OpenID Connect hot paths beside their floors: the code exchange of an `openid`
//! grant (a JWT access token and an ID token) in ES256 and RS256, and UserInfo with an
//! ES256 JWT access token.
//!
//! Each engine signs its access tokens and its clients' ID tokens with one key of one
//! algorithm, loaded from the same bytes as the bare floor's key, so that the floor signs
//! exactly what the engine signs: the access token's claims, then the ID token's claims
//! with the `at_hash` of that access token. (An ES256 provider holds an RS256 key set as
//! well, as every OpenID provider must; the bench client never asks for it.)

use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

use async_trait::async_trait;
use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::openid::{ClaimsError, ClaimsSource, OpenIdProvider, UserInfoRequest};
use oauth_core::storage::SignIn;
use oauth_core::{Client, Clock, Config, Engine, JwtAccessTokens, RandomSource, ScopeSet, Storage};
use oauth_store_memory::MemoryStore;
use ring::rand::SystemRandom;
use serde_json::{json, Map, Value};
use tokio::runtime::Runtime;

use crate::fixture::{
    self, maybe_recycle, BenchClock, BenchEngine, FlowRequests, AUDIENCE, ISSUER, PUBLIC_ID,
    REDIRECT_URI,
};
use crate::floor::{self, BareKey, BarePublic, Claims, IdClaims};
use crate::report::Row;

/// The scope of every OpenID Connect grant here: `openid`, and two scopes whose claims
/// UserInfo releases.
pub const OPENID_SCOPE: &str = "openid profile email";
/// The `nonce` of the authorization request behind every code.
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The ID-token algorithms measured at the code exchange, in table order.
pub const ID_TOKEN_ALGORITHMS: [Algorithm; 2] = [Algorithm::Es256, Algorithm::Rs256];

/// A directory held in memory: the same claims for every user, one of which (the phone
/// number) no granted scope releases, so UserInfo has something to filter out.
#[derive(Debug)]
pub struct Directory {
    claims: Map<String, Value>,
}

impl Default for Directory {
    fn default() -> Self {
        let Value::Object(claims) = json!({
            "name": "Alice Liddell",
            "preferred_username": "alice",
            "email": "alice@example.com",
            "email_verified": true,
            "phone_number": "+1 555 0100",
        }) else {
            unreachable!("a JSON object literal")
        };
        Self { claims }
    }
}

#[async_trait]
impl ClaimsSource for Directory {
    async fn claims(
        &self,
        _subject: &str,
        _scope: &ScopeSet,
    ) -> Result<Map<String, Value>, ClaimsError> {
        Ok(self.claims.clone())
    }
}

/// An OpenID provider over the memory store whose access tokens and whose client's ID
/// tokens are signed with `alg`, from `key` (the bytes of [`fixture::key_bytes`]). The
/// public client [`PUBLIC_ID`] may ask for [`OPENID_SCOPE`] and registers `alg` as its
/// `id_token_signed_response_alg`.
pub async fn engine(alg: Algorithm, key: &[u8]) -> BenchEngine<MemoryStore> {
    let config = Config::builder(ISSUER)
        .build()
        .expect("the issuer is valid");
    // The same key signs both kinds of token (one `kid`, one key: the engine allows it),
    // so the bare floor's key is the engine's for both mints.
    let signing = || KeySet::new(fixture::signing_key(alg, key));
    let provider = if alg == Algorithm::Rs256 {
        OpenIdProvider::new(signing(), Directory::default())
    } else {
        let rs256 = SigningKey::from_pkcs8(Algorithm::Rs256, "rsa", fixture::RSA_PKCS8)
            .expect("the RSA key");
        OpenIdProvider::new(KeySet::new(rs256), Directory::default()).signing_keys(signing())
    };
    let engine = Engine::builder(
        MemoryStore::new(),
        std::sync::Arc::new(BenchClock::new(fixture::START)),
        config,
    )
    .jwt_access_tokens(JwtAccessTokens::new(signing(), AUDIENCE))
    .openid(provider)
    .build()
    .expect("the engine is valid");
    let client = Client::public(PUBLIC_ID)
        .and_then(|c| c.redirect_uri(REDIRECT_URI))
        .and_then(|c| {
            c.allowed_scopes(ScopeSet::parse(OPENID_SCOPE).expect("valid scopes"))
                .id_token_signed_response_alg(alg)
                .build()
        })
        .expect("a valid OpenID client");
    engine.register_client(client).await.expect("register");
    engine
}

/// A code of an OpenID Connect request with [`NONCE`], signed in now, stored as the
/// approval stores it (untimed set-up). Returns the code.
pub async fn seed_code<S: Storage>(engine: &BenchEngine<S>, random: &RandomSource) -> String {
    let mut sign_in = SignIn::new(engine.clock().now());
    sign_in.nonce = Some(NONCE.to_owned());
    fixture::seed_code_with(engine, random, OPENID_SCOPE, Some(sign_in)).await
}

/// A UserInfo `GET` with `header` (`Bearer …`): the answer's body, checked to be a 200.
pub async fn userinfo<S: Storage>(engine: &BenchEngine<S>, header: &str) -> String {
    let response = engine
        .userinfo(&UserInfoRequest::new("GET", Some(header)))
        .await
        .expect("userinfo");
    assert_eq!(response.status, 200, "UserInfo refused: {}", response.body);
    response.body
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "es256",
        Algorithm::Rs256 => "rs256",
        Algorithm::EdDsa => "eddsa",
        _ => "other",
    }
}

/// Adds the benchmarks to `group`: per algorithm of [`ID_TOKEN_ALGORITHMS`],
/// `floor_mint_pair_{alg}` (the bare access-token mint, then the bare ID-token mint with
/// its `at_hash`) and `exchange_openid_{alg}` (the engine's code exchange, codes seeded
/// untimed); then `floor_verify_userinfo_es256` (the bare verify of the access token) and
/// `userinfo_jwt_es256`. `samples` is the sample size of the run (RS256 takes 10, as
/// the suite's other RS256 mints do).
pub fn bench(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, samples: usize) {
    let requests = FlowRequests::new();
    let random = RandomSource::new();
    let rng = SystemRandom::new();
    let mut userinfo_engine = None;
    for alg in ID_TOKEN_ALGORITHMS {
        let name = alg_name(alg);
        let bytes = fixture::key_bytes(alg);
        let engine = rt.block_on(engine(alg, &bytes));
        let bare = BareKey::new(alg, &bytes);
        let jti = random.secret().expect("random");
        let now = engine.clock().now().unix_timestamp();
        let claims = Claims {
            iss: ISSUER,
            sub: "alice",
            aud: AUDIENCE,
            client_id: PUBLIC_ID,
            scope: OPENID_SCOPE,
            iat: now,
            exp: now + 600,
            jti: &jti,
        };
        let id_claims = IdClaims {
            iss: ISSUER,
            sub: "alice",
            client_id: PUBLIC_ID,
            iat: now,
            exp: now + 300,
            auth_time: now,
            nonce: NONCE,
        };
        // Untimed: the engine answers an ID token for these codes, and it verifies.
        let tokens = rt.block_on(async {
            let code = seed_code(&engine, &random).await;
            fixture::exchange(&engine, &requests, &code).await
        });
        let id_token = tokens.id_token.as_deref().expect("an ID token");
        engine
            .verify_id_token(id_token, &oauth_core::ClientId::new(PUBLIC_ID).expect("id"))
            .expect("the ID token verifies");
        // The floor signs as many bytes as the engine: the same claims and headers.
        let access = floor::mint(&bare, &rng, &claims);
        assert_eq!(
            access.len(),
            tokens.access_token.len(),
            "{name} access token"
        );
        let bare_id = floor::mint_id_token(&bare, &rng, &id_claims, &access);
        assert_eq!(bare_id.len(), id_token.len(), "{name} ID token");
        group.sample_size(if alg == Algorithm::Rs256 { 10 } else { samples });
        group.bench_function(format!("floor_mint_pair_{name}"), |b| {
            b.iter(|| {
                let access = floor::mint(&bare, &rng, &claims);
                black_box(floor::mint_id_token(&bare, &rng, &id_claims, &access))
            })
        });
        let issued = Cell::new(0u64);
        group.bench_function(format!("exchange_openid_{name}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    maybe_recycle(&engine, &issued, iters).await;
                    let mut codes = Vec::with_capacity(iters as usize);
                    for _ in 0..iters {
                        codes.push(seed_code(&engine, &random).await);
                    }
                    let start = Instant::now();
                    for code in &codes {
                        black_box(fixture::exchange(&engine, &requests, code).await);
                    }
                    start.elapsed()
                })
            })
        });
        if alg == Algorithm::Es256 {
            userinfo_engine = Some((engine, bare));
        }
    }
    group.sample_size(samples);

    let (engine, bare) = userinfo_engine.expect("an ES256 provider");
    let token = rt.block_on(async {
        fixture::recycle(&engine).await;
        let code = seed_code(&engine, &random).await;
        fixture::exchange(&engine, &requests, &code)
            .await
            .access_token
    });
    let header = format!("Bearer {token}");
    let public = BarePublic::of(&bare);
    let now = engine.clock().now().unix_timestamp();
    assert!(floor::verify(&public, &token, now, ISSUER, AUDIENCE));
    let body = rt.block_on(userinfo(&engine, &header));
    assert!(
        body.contains("alice@example.com") && !body.contains("phone_number"),
        "UserInfo releases what the scope allows: {body}"
    );
    group.bench_function("floor_verify_userinfo_es256", |b| {
        b.iter(|| black_box(floor::verify(&public, &token, now, ISSUER, AUDIENCE)))
    });
    group.bench_function("userinfo_jwt_es256", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(userinfo(&engine, &header).await);
                }
                start.elapsed()
            })
        })
    });
}

/// The table's rows for the benchmarks of [`bench()`], from `est` (criterion's estimate of
/// a bench id, in ns).
pub fn rows(est: impl Fn(&str) -> f64) -> Vec<Row> {
    let mut rows = Vec::new();
    for alg in ID_TOKEN_ALGORITHMS {
        let name = alg_name(alg);
        rows.push(Row::ratio(
            &format!(
                "Code exchange, JWT access token + ID token {} (against both bare mints)",
                alg.as_str()
            ),
            est(&format!("exchange_openid_{name}")),
            &format!(
                "bare {} mints of the access token's claims and of the ID token's \
                 (with the at_hash SHA-256)",
                alg.as_str()
            ),
            est(&format!("floor_mint_pair_{name}")),
            None,
        ));
    }
    rows.push(Row::ratio(
        "UserInfo with a JWT access token ES256 (against the bare verify)",
        est("userinfo_jwt_es256"),
        "bare ES256 verify + typed claim parse of the same token",
        est("floor_verify_userinfo_es256"),
        None,
    ));
    rows
}
