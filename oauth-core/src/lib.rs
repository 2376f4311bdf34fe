//! # finrift `oauth-core`
//!
//! An embeddable OAuth 2.0 authorization-server engine. It holds no HTTP types and reads no
//! wall clock: requests come in as plain values (query or form pairs and the
//! `Authorization` header), answers go out as plain values (a status, headers and a JSON
//! body, or a redirect URL), time comes from a [`Clock`], and data lives in any
//! [`Storage`]. Put it inside any web framework with a thin adapter, and test whole flows
//! in plain unit tests.
//!
//! Secure by default (RFC 9700, OAuth 2.1): PKCE with `S256` on every code request, exact
//! redirect URI matching, single-use codes that live 60 seconds, refresh tokens that
//! rotate on every use with reuse revoking the grant, `iss` in every authorization
//! response (RFC 9207), and codes, tokens and client secrets kept only as SHA-256 hashes.
//!
//! ## Quick start
//!
//! ```
//! use oauth_core::{
//!     AuthorizationResponse, AuthorizeOutcome, Client, CodeChallenge, Config, Engine,
//!     FormRequest, ManualClock, ScopeSet, TokenOutcome, FORM_CONTENT_TYPE,
//! };
//! use oauth_store_memory::MemoryStore;
//! use time::macros::datetime;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(datetime!(2030-01-01 00:00 UTC));
//! let config = Config::builder("https://auth.example").build()?;
//! let engine = Engine::builder(MemoryStore::new(), clock, config).build()?;
//! engine
//!     .register_client(
//!         Client::public("app")?
//!             .redirect_uri("https://app.example/cb")?
//!             .allowed_scopes(ScopeSet::parse("read:users write:users")?)
//!             .build()?,
//!     )
//!     .await?;
//!
//! // 1. The authorization request, as the browser brings it.
//! let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
//! let challenge = CodeChallenge::from_verifier(verifier);
//! let query = format!(
//!     "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb\
//!      &scope=read%3Ausers&state=xyz&code_challenge={}&code_challenge_method=S256",
//!     challenge.as_str()
//! );
//! let AuthorizeOutcome::Pending(pending) = engine.authorize_query(&query).await? else {
//!     panic!("a valid request is pending the user's decision");
//! };
//!
//! // 2. The user logged in and consented (your code): approve as that subject.
//! let AuthorizationResponse::Redirect(redirect) =
//!     engine.approve(&pending, "alice", pending.scope()).await?
//! else {
//!     panic!("approval redirects to the client");
//! };
//! let code = redirect.param("code").expect("a code");
//! assert_eq!(redirect.param("iss").as_deref(), Some("https://auth.example"));
//!
//! // 3. The client redeems the code at the token endpoint.
//! let body = format!(
//!     "grant_type=authorization_code&code={code}&client_id=app\
//!      &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier={verifier}"
//! );
//! let request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes());
//! let TokenOutcome::Issued(tokens) = engine.token(&request).await? else {
//!     panic!("tokens are issued");
//! };
//! assert_eq!(tokens.scope.to_string(), "read:users");
//! assert!(tokens.refresh_token.is_some());
//! # Ok(())
//! # }
//! ```
//!
//! ## Embedding it in a web application
//!
//! - **One entry point per endpoint.** The token, introspection and revocation endpoints
//!   each take one [`FormRequest`]: the body with its `Content-Type` (checked by the
//!   engine), the `Authorization` header and the caller's key for the failure limiter
//!   ([`CallerKey`], with [`TrustedProxies`] for servers behind a reverse proxy).
//! - **Login and consent** are yours, in two requests, and the [consent kit](Engine::consent_form)
//!   makes the secure way the easy way: it seals the pending request into the page and
//!   binds a CSRF token to that request and the browser ([`Engine::open_consent`]).
//! - **Protected routes** check bearer tokens through a [`BearerGuard`] (the engine, or a
//!   [`TokenVerifier`] for a resource server apart), answering [`BearerOutcome`].
//! - **Adapters** for axum (`oauth-axum`) and actix-web (`oauth-actix`) copy between the
//!   framework and these values, serve the machine endpoints, guard routes and set the
//!   server timeouts; each has a chapter with a complete application.
//!
//! ## Beyond the token endpoint
//!
//! - Access tokens may be signed JWTs (RFC 9068): [`EngineBuilder::jwt_access_tokens`],
//!   with keys from [`jose`] (kept across restarts and rotated by a
//!   [`jose::KeyDirectory`], or shared by every instance through the database by a
//!   [`jose::KeyVault`]) and the JWKS from [`Engine::jwks`].
//! - OpenID Connect: ID tokens, discovery and UserInfo with [`EngineBuilder::openid`]; see
//!   [`openid`].
//! - Resource servers verify tokens with a [`TokenVerifier`]: locally for JWTs, through the
//!   store for opaque tokens and revocations.
//! - [`Engine::introspect`] (RFC 7662), [`Engine::revoke`] (RFC 7009) and
//!   [`Engine::metadata`] (RFC 8414) answer like the token endpoint: plain values in, plain
//!   values out.
//! - Every security-relevant outcome is reported to an [`events::EventSink`]
//!   ([`EngineBuilder::event_sink`]); failed client authentications are limited per client
//!   and per caller by a [`limits::Limiter`] ([`EngineBuilder::limiter`]), answering `429`.
//! - With the `testing` feature, `oauth_core::testing` drives whole flows in your own
//!   tests, and its `guide` chapter shows how; with `conformance`, the storage
//!   conformance kit checks a backend of your own.
//!
//! ## Errors
//!
//! An OAuth error is an ordinary outcome ([`OAuthError`] inside [`AuthorizeOutcome`],
//! [`AuthorizationResponse`] or [`TokenOutcome`]) with its RFC code, HTTP status and
//! headers. `Err(`[`Fault`]`)` means the server itself failed (storage, configuration); an
//! adapter answers it with [`Response::from_fault`] and logs it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// docs.rs builds with `--cfg docsrs` on nightly: label the items each feature brings.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authentication;
mod authorization;
mod authorize;
mod authorize_oidc;
mod authorize_request;
mod caller;
mod client;
mod client_auth;
mod clock;
mod config;
mod consent;
mod dpop;
mod dpop_nonce;
mod engine;
mod error;
pub mod events;
mod form_request;
mod grant;
mod guard;
mod interaction;
mod introspect;
mod issuer_binding;
pub mod jose;
pub mod limits;
mod metadata;
pub mod openid;
mod pending_seal;
mod pkce;
mod pushed_request;
mod pushed_request_seal;
mod redirect_location;
mod redirect_uri;
mod request;
mod resource;
mod response;
mod revoke;
mod revoke_subject;
mod scope;
mod scope_resolution;
mod secret;
mod secret_cache;
mod slow_hashing;
pub mod storage;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod token;
mod token_lookup;

pub use authentication::Authentication;
pub use authorization::{
    AuthorizationRedirect, AuthorizationResponse, AuthorizeOutcome, PendingAuthorization,
};
pub use authorize_oidc::{OpenIdRequest, Prompt, MAX_NONCE_LEN};
pub use caller::{CallerKey, TrustedProxies};
pub use client::{
    Client, ClientBuilder, ClientError, ClientId, ClientKind, GrantType,
    CLIENT_PASSWORD_ITERATIONS, MAX_CLIENT_ID_LEN, MIN_CLIENT_PASSWORD_LEN, MIN_CLIENT_SECRET_LEN,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Config, ConfigBuilder, Endpoints, ServedPaths, MAX_STATE_LEN, METADATA_WELL_KNOWN,
    OPENID_CONFIGURATION_WELL_KNOWN,
};
pub use consent::{
    ConsentForm, ConsentRefusal, CONSENT_COOKIE, CSRF_FIELD, SEALED_REQUEST_FIELD,
    SECURE_CONSENT_COOKIE,
};
pub use dpop::DEFAULT_DPOP_PROOF_WINDOW;
pub use engine::{Engine, EngineBuilder, JwtAccessTokens, PURGE_BATCH};
pub use error::{ErrorCode, Fault, OAuthError};
pub use form_request::{FormRequest, FORM_CONTENT_TYPE};
pub use grant::TokenOutcome;
pub use guard::{BearerGuard, RequiredScope};
pub use interaction::{Interaction, LoginReason};
pub use introspect::IntrospectionOutcome;
pub use metadata::Metadata;
pub use pending_seal::MAX_SEALED_LEN;
pub use pkce::{CodeChallenge, PkceError, CHALLENGE_LEN, MAX_VERIFIER_LEN, MIN_VERIFIER_LEN};
pub use pushed_request::{PushOutcome, PushedAuthorization};
pub use pushed_request_seal::{MAX_REQUEST_URI_LEN, REQUEST_URI_PREFIX};
pub use redirect_uri::{RedirectUri, RedirectUriError, MAX_REDIRECT_URI_LEN};
pub use request::{
    form_decode, Authorization, BasicCredentials, Params, MAX_AUTHORIZATION_LEN, MAX_PARAMS_BYTES,
    MAX_PARAM_COUNT, MAX_PARAM_LEN,
};
pub use resource::{
    BearerError, BearerErrorKind, BearerOutcome, BearerRequest, Principal, TokenVerifier,
    MAX_LEEWAY,
};
pub use response::Response;
pub use revoke::RevocationOutcome;
pub use scope::{Scope, ScopeError, ScopeSet, MAX_SCOPE_LEN};
pub use scope_resolution::{resolve_requested, PermitAll, ScopePolicy};
pub use secret::{RandomSource, SecretHash, SECRET_BYTES};
pub use secret_cache::{DEFAULT_SECRET_MEMORY, MAX_REMEMBERED_SECRETS};
pub use slow_hashing::{HashingPool, InPlace, SlowAnswer, SlowHashing, SlowWork};
pub use storage::{
    ClientStore, CodeStore, KeySetStore, Storage, StorageError, StorageErrorKind, StoredKeySet,
    TokenStore, MAX_CLIENT_PAGE,
};
pub use token::{AccessTokenFormat, AccessTokenType, IssuedTokens};
