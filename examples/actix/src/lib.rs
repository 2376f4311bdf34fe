//! # finrift `oauth-actix`
//!
//! [finrift](oauth_core)'s authorization server in an [actix-web](actix_web) application.
//! The engine decides everything; this crate copies between actix-web and the engine's
//! plain values:
//!
//! - [`MachineEndpoints`]: token, introspection and revocation (`POST`), the JWKS and the
//!   metadata document (`GET` and `HEAD`), at the engine's configured paths, as one
//!   `ServiceConfig` function;
//! - [`Bearer<R>`](Bearer) (an extractor) and [`RequireScope`] (a middleware) for resource
//!   routes, with the RFC 6750 challenges;
//! - [`PublicBase`]: the protected API's public URL, which DPoP proofs (RFC 9449) at
//!   its routes are checked against; the token endpoint checks them against the
//!   issuer's token endpoint URL, never the request's `Host`;
//! - [`OAuthResponse`]: any engine [`Response`](oauth_core::Response) as an actix-web
//!   answer, with one `Content-Type` and `X-Content-Type-Options: nosniff`;
//! - [`ServerLimits`]: the timeouts and sizes a server on the public internet needs;
//! - [`caller_key`]: who the caller is, for the engine's failure limiter.
//!
//! The authorization endpoint's page (login and consent) is the application's own: see
//! [the chapter](embed_in_actix_web) for a whole one on the engine's consent kit.
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use actix_web::{web, App, HttpServer};
//! use oauth_actix::{MachineEndpoints, RequireScope, ServerLimits};
//! use oauth_core::{BearerGuard, Config, Engine, Principal, SystemClock};
//! use oauth_store_memory::MemoryStore;
//!
//! async fn users(principal: web::ReqData<Principal>) -> String {
//!     format!("hello {}", principal.subject)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = Config::builder("https://auth.example").build()?;
//!     let engine = web::Data::new(Engine::builder(MemoryStore::new(), SystemClock, config).build()?);
//!     let guard: Arc<dyn BearerGuard> = engine.clone().into_inner();
//!     let limits = ServerLimits::default();
//!     let machine = MachineEndpoints::new(engine).limits(limits);
//!     let server = HttpServer::new(move || {
//!         App::new()
//!             .configure(|config| machine.configure(config))
//!             .service(
//!                 web::resource("/api/users")
//!                     .wrap(RequireScope::new(guard.clone(), "read:users"))
//!                     .get(users),
//!             )
//!     });
//!     limits.apply(server).bind("127.0.0.1:8080")?.run().await?;
//!     Ok(())
//! }
//! ```
//!
//! ## Timeouts and the body limit
//!
//! actix-web's own defaults suit a server behind a proxy that already bounds its clients;
//! a server on the public internet needs [`ServerLimits::apply`]. Its defaults:
//!
//! | limit | default | what happens |
//! |---|---|---|
//! | `header_timeout` | 10 s | a connection that has not sent its request headers gets `408` and is closed |
//! | `body_timeout` | 30 s | a body still arriving gets `408` (actix-web has no body timeout: the form handlers read under [`actix_web::rt::time::timeout`]) |
//! | `idle_timeout` | 60 s | an idle kept-alive connection is closed |
//! | `disconnect_timeout` | 2 s | a closing connection is dropped if it has not finished |
//! | `max_connections` | 10,000 per worker | the listener stops accepting until one closes |
//! | `max_body_bytes` | [`MAX_BODY_BYTES`] (64 KiB) | `413`, before reading when `Content-Length` says so |
//!
//! Give [`MachineEndpoints::limits`] the same value, and read your own form bodies with
//! [`ServerLimits::read_body`], as the chapter's consent form does.
//!
//! ```
//! use std::time::Duration;
//!
//! let mut limits = oauth_actix::ServerLimits::default();
//! limits.header_timeout = Duration::from_secs(5);
//! limits.max_connections = 2_000;
//! ```
//!
//! ## Behind a reverse proxy
//!
//! The engine counts failed client authentications per caller. The caller is the peer of
//! the connection; `X-Forwarded-For` is read only when that peer is a proxy you name,
//! since anyone can send the header:
//!
//! ```
//! # fn machine<S: oauth_core::Storage + 'static, C: oauth_core::Clock + 'static>(
//! #     engine: actix_web::web::Data<oauth_core::Engine<S, C>>,
//! # ) -> Result<(), oauth_core::Fault> {
//! use oauth_core::TrustedProxies;
//!
//! let machine = oauth_actix::MachineEndpoints::new(engine)
//!     .trusted_proxies(TrustedProxies::new(["10.0.0.0/8", "fd00::/8"])?);
//! # let _ = machine;
//! # Ok(())
//! # }
//! ```
//!
//! ## Size
//!
//! 575 lines of Rust in `src/` that are neither blank nor comments (documentation is
//! comments), counted with `grep -cvE '^\s*$|^\s*//' src/*.rs`; 993 lines with the
//! documentation. There are no tests in `src/`: they are in `tests/`. Most of the code is
//! actix-web's shapes as rustfmt lays them out: the middleware's `Transform` and `Service`
//! pair, the bounds of `HttpServer`, and the method guards of each endpoint. The chapter's
//! application is 151 lines (130 without blanks and comments).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bearer;
mod endpoints;
mod limits;
mod public_base;
mod request;
mod require_scope;
mod response;

pub use bearer::Bearer;
pub use endpoints::{MachineEndpoints, METADATA_PATH};
pub use limits::{ServerLimits, MAX_BODY_BYTES};
pub use public_base::PublicBase;
pub use request::caller_key;
pub use require_scope::{RequireScope, RequireScopeService};
pub use response::{hardening, OAuthResponse};

/// # Embed in actix-web
///
/// A whole application on this crate (`examples/embed.rs`, run it with
/// `cargo run -p oauth-actix --example embed`): the engine on the memory store with an
/// ES256 key for JWT access tokens, one public client, the authorization endpoint with a
/// login-and-consent page on the engine's consent kit, the machine endpoints, and
/// `GET /api/users` for tokens holding `read:users`.
///
/// - `GET /authorize` asks the engine about the request; a valid one gets the form, whose
///   hidden fields ([`SEALED_REQUEST_FIELD`](oauth_core::SEALED_REQUEST_FIELD),
///   [`CSRF_FIELD`](oauth_core::CSRF_FIELD)) and `Set-Cookie` come from
///   `Engine::consent_form`.
/// - `POST /authorize` reads the body within the [`ServerLimits`], lets
///   `Engine::open_consent` refuse a forged or altered form, compares the password in
///   constant time, then approves or denies once and answers the engine's `303`.
///
/// A real application checks a password hash and limits guessing (the engine's limiter
/// is at hand as `Engine::limiter`); its tests, `tests/embed.rs`, drive this one over
/// real sockets.
///
#[doc = concat!("```no_run\n", include_str!("../examples/embed.rs"), "```")]
pub mod embed_in_actix_web {}
