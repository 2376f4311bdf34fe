//! # Testing your integration
//!
//! Everything here runs in a plain `#[tokio::test]`: no HTTP server, no sleeping. Each
//! example below is a doctest, compiled and run with finrift's own tests.
//!
//! ## A custom scope policy for roles
//!
//! Your [`ScopePolicy`](crate::ScopePolicy) decides what each user may grant. Drive a
//! login per role and assert on the scope of the tokens:
//!
//! ```
//! use async_trait::async_trait;
//! use oauth_core::testing::{Flow, FlowClient, ManualClock};
//! use oauth_core::{Client, Config, Engine, ScopePolicy, ScopeSet};
//! use oauth_store_memory::MemoryStore;
//!
//! /// Only admins may write.
//! struct Roles;
//!
//! #[async_trait]
//! impl ScopePolicy for Roles {
//!     async fn permitted(&self, _: &Client, subject: Option<&str>, asked: &ScopeSet) -> ScopeSet {
//!         asked.iter().filter(|s| !s.as_str().starts_with("write:") || subject == Some("admin")).cloned().collect()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let clock = ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC));
//! let config = Config::builder("https://auth.example").build().unwrap();
//! let engine = Engine::builder(MemoryStore::new(), clock, config)
//!     .scope_policy(Roles)
//!     .build()
//!     .unwrap();
//! engine.register_client(
//!     Client::public("app").unwrap()
//!         .redirect_uri("https://app.example/cb").unwrap()
//!         .allowed_scopes(ScopeSet::parse("read:users write:users").unwrap())
//!         .build().unwrap(),
//! ).await.unwrap();
//!
//! let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
//! let admin = flow.login("admin", "read:users write:users").await;
//! let alice = flow.login("alice", "read:users write:users").await;
//! assert_eq!(admin.scope.to_string(), "read:users write:users");
//! assert_eq!(alice.scope.to_string(), "read:users");
//! # }
//! ```
//!
//! ## Expiry, with a clock you move
//!
//! The engine reads time only from its [`Clock`](crate::Clock). Share a
//! [`ManualClock`](super::ManualClock) with it and advance it: codes expire after 60
//! seconds, access tokens after 10 minutes, refresh tokens rotate.
//!
//! ```
//! use std::sync::Arc;
//! use oauth_core::testing::{assert_token_error, expect_tokens, Flow, FlowClient, ManualClock};
//! use oauth_core::{Client, Config, Engine, ErrorCode, GrantType, ScopeSet};
//! use oauth_store_memory::MemoryStore;
//! use time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let clock = Arc::new(ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC)));
//! let config = Config::builder("https://auth.example").build().unwrap();
//! let engine = Engine::builder(MemoryStore::new(), clock.clone(), config).build().unwrap();
//! let secret = "a-confidential-client-secret-of-32-bytes-or-more";
//! engine.register_client(
//!     Client::confidential("web", secret).unwrap()
//!         .redirect_uri("https://web.example/cb").unwrap()
//!         .allowed_scopes(ScopeSet::parse("read:users").unwrap())
//!         .build().unwrap(),
//! ).await.unwrap();
//! let flow = Flow::new(&engine, FlowClient::confidential("web", "https://web.example/cb", secret));
//!
//! // A code redeemed a minute late is refused.
//! let code = flow.code("alice", "read:users").await;
//! clock.advance(Duration::seconds(60));
//! assert_token_error(&flow.exchange(&code).await, ErrorCode::InvalidGrant);
//!
//! // An access token is active for 10 minutes; the refresh token still works after.
//! let tokens = flow.login("alice", "read:users").await;
//! assert!(flow.introspect_active(&tokens.access_token).await.is_some());
//! clock.advance(Duration::minutes(10));
//! assert!(flow.introspect_active(&tokens.access_token).await.is_none());
//! let refresh = tokens.refresh_token.unwrap();
//! let next = expect_tokens(flow.refresh(&refresh, None).await);
//!
//! // The old refresh token was rotated away: presenting it again revokes the grant.
//! assert_token_error(&flow.refresh(&refresh, None).await, ErrorCode::InvalidGrant);
//! assert!(flow.introspect_active(&next.access_token).await.is_none());
//! # }
//! ```
//!
//! ## A resource server's scope requirements
//!
//! Mint a real token through a login, then check what your API's guard answers for it:
//!
//! ```
//! use oauth_core::jose::{Algorithm, KeySet, SigningKey};
//! use oauth_core::testing::{assert_bearer_error, Flow, FlowClient, ManualClock};
//! use oauth_core::{BearerRequest, Client, Config, Engine, JwtAccessTokens, ScopeSet};
//! use oauth_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (key, _pkcs8) = SigningKey::generate(Algorithm::EdDsa, "test-key").unwrap();
//! let engine = Engine::builder(
//!     MemoryStore::new(),
//!     ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC)),
//!     Config::builder("https://auth.example").build().unwrap(),
//! )
//! .jwt_access_tokens(JwtAccessTokens::new(KeySet::new(key), "https://api.example"))
//! .build()
//! .unwrap();
//! engine.register_client(
//!     Client::public("app").unwrap()
//!         .redirect_uri("https://app.example/cb").unwrap()
//!         .allowed_scopes(ScopeSet::parse("read:users write:users").unwrap())
//!         .build().unwrap(),
//! ).await.unwrap();
//! let tokens = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"))
//!     .login("alice", "read:users")
//!     .await;
//!
//! let verifier = engine.token_verifier();
//! let header = format!("Bearer {}", tokens.access_token);
//! let request = BearerRequest::new(Some(&header), None);
//! // GET /users needs read:users: allowed.
//! let principal = verifier.verify(&request, &ScopeSet::parse("read:users").unwrap()).unwrap();
//! assert_eq!(principal.subject, "alice");
//! // POST /users needs write:users: 403 insufficient_scope, naming the scope.
//! let refusal = verifier.verify(&request, &ScopeSet::parse("write:users").unwrap());
//! let error = assert_bearer_error(&refusal, 403);
//! assert!(error.www_authenticate().contains("scope=\"write:users\""));
//! // No token at all: 401 with a bare challenge.
//! let none = verifier.verify(&BearerRequest::new(None, None), &ScopeSet::parse("read:users").unwrap());
//! assert_eq!(assert_bearer_error(&none, 401).www_authenticate(), "Bearer");
//! # }
//! ```
//!
//! ## Tampering with a step
//!
//! Every step has a `*_form` method giving the pairs it would send; change them and send
//! them yourself:
//!
//! ```
//! use oauth_core::testing::{assert_redirect_error, assert_token_error, expect_tokens, Flow, FlowClient, ManualClock};
//! use oauth_core::{Client, Config, Engine, ErrorCode, ScopeSet};
//! use oauth_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let engine = Engine::builder(MemoryStore::new(), ManualClock::new(time::OffsetDateTime::UNIX_EPOCH), Config::builder("https://auth.example").build().unwrap()).build().unwrap();
//! # engine.register_client(Client::public("app").unwrap().redirect_uri("https://app.example/cb").unwrap()
//! #     .allowed_scopes(ScopeSet::parse("read:users").unwrap()).build().unwrap()).await.unwrap();
//! let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
//!
//! // PKCE downgrade: the challenge method changed to plain.
//! let mut request = flow.authorize_form(Some("read:users"));
//! for (name, value) in &mut request {
//!     if name == "code_challenge_method" { *value = "plain".into(); }
//! }
//! assert_redirect_error(&flow.authorize_with(&request).await, ErrorCode::InvalidRequest);
//!
//! // A code replayed: refused, and the first tokens are revoked.
//! let code = flow.code("alice", "read:users").await;
//! let first = expect_tokens(flow.exchange(&code).await);
//! assert_token_error(&flow.exchange(&code).await, ErrorCode::InvalidGrant);
//! assert_token_error(&flow.refresh(first.refresh_token.as_deref().unwrap(), None).await, ErrorCode::InvalidGrant);
//! # }
//! ```
//!
//! ## A custom store
//!
//! Start from [`ReferenceStore`](super::ReferenceStore): the whole storage contract in
//! one file, `oauth-core/src/testing/reference_store.rs`, written to be copied.
//!
//! - **Its state** is one struct of plain maps, one per table: clients by id (a
//!   `BTreeMap`, so `list_clients` pages in id order), codes by hash with a `consumed`
//!   flag, tokens by hash, grants by id with a `revoked` flag, the ids of grants revoked
//!   before they were stored, and one-time-use marks by key with their expiry. Replace
//!   each map with a table whose primary key is the map's key.
//! - **Each operation is one critical section**: a method takes the store's one `Mutex`,
//!   checks, writes, and lets go, so no other call comes between what it read and what it
//!   wrote. That is why `consume_code`, `use_once`, `use_once_and_insert_code`,
//!   `redeem_code` and `rotate_refresh` each succeed for exactly one caller, and why `issue` and
//!   `revoke_grant` never leave a live token of a revoked grant. In your database, keep
//!   each method one transaction (or one conditional statement); two steps with a round
//!   trip between them let racers through, and the kit's races catch that.
//! - **Purge** removes at most `limit` records of each kind per call and reports `more`;
//!   its comments say what the contract keeps (a consumed code and a refresh token until
//!   their grant ends, a revocation mark for good). Where it scans a map, use an index.
//!
//! Then check your store as `ReferenceStore` is checked: in `tests/conformance.rs`,
//! `oauth_core::storage_conformance_tests!(async { MyStore::new() });` makes each
//! property of the [kit](crate::storage::conformance) a test; and drive flows on it:
//!
//! ```
//! use oauth_core::storage::conformance;
//! use oauth_core::testing::{Flow, FlowClient, ManualClock, ReferenceStore};
//! use oauth_core::{Client, Config, Engine, ScopeSet};
//!
//! # fn main() {
//! let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//! runtime.block_on(async {
//!     // The whole kit at once, each property on a fresh store (your MyStore::new()).
//!     conformance::run_all(|| async { ReferenceStore::new() }).await;
//!
//!     // And a whole flow on it.
//!     let engine = Engine::builder(
//!         ReferenceStore::new(),
//!         ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC)),
//!         Config::builder("https://auth.example").build().unwrap(),
//!     ).build().unwrap();
//!     engine.register_client(
//!         Client::public("app").unwrap()
//!             .redirect_uri("https://app.example/cb").unwrap()
//!             .allowed_scopes(ScopeSet::parse("read:users").unwrap())
//!             .build().unwrap(),
//!     ).await.unwrap();
//!     let tokens = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"))
//!         .login("alice", "read:users")
//!         .await;
//!     assert!(tokens.refresh_token.is_some());
//! });
//! # }
//! ```
