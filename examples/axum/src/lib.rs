//! # finrift on axum
//!
//! The axum adapter of the finrift OAuth 2.0 engine ([`oauth_core`]): it copies requests
//! into the engine's plain values and the engine's answers back, and decides nothing
//! about OAuth itself. It gives:
//!
//! - [`MachineEndpoints`]: the token, introspection, revocation, JWKS and metadata
//!   endpoints as one [`Router`](axum::Router), at the configured paths;
//! - [`Bearer`] (an extractor) and [`RequireScope`] (a layer): the bearer guard for
//!   resource routes, answering RFC 6750 challenges;
//! - [`PublicBase`]: the protected API's public URL, which DPoP proofs (RFC 9449) at
//!   its routes are checked against; the token endpoint checks them against the
//!   issuer's token endpoint URL, never the request's `Host`;
//! - [`Caller`]: the caller key for the engine's failure limiter;
//! - [`OAuthResponse`]: any engine [`Response`](oauth_core::Response) as an axum response;
//! - [`serve`]: a server with the timeouts a public server needs.
//!
//! The authorization endpoint's page (login and consent) is the application's: the
//! [`embed_in_axum`] chapter builds one on the engine's consent kit.
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use oauth_axum::{serve, MachineEndpoints, ServerLimits};
//! use oauth_core::{Config, Engine, SystemClock};
//! use oauth_store_memory::MemoryStore;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::builder("http://127.0.0.1:3000").build()?;
//! let engine = Arc::new(Engine::builder(MemoryStore::new(), SystemClock, config).build()?);
//! let app = MachineEndpoints::new(engine).router();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! serve(listener, app, ServerLimits::default(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await;
//! # Ok(())
//! # }
//! ```
//!
//! ## Limits
//!
//! The machine endpoints read at most [`MAX_BODY_BYTES`] (64 KiB) of body and answer 413
//! beyond. [`serve`] holds each connection to [`ServerLimits`]; the defaults:
//!
//! | limit | default | beyond it |
//! |---|---|---|
//! | `header_read_timeout` | 10 s | the connection is closed |
//! | `body_read_timeout` | 30 s | 408, and the connection is closed |
//! | `idle_timeout` (kept-alive, between requests) | 60 s | the connection is closed |
//! | `max_connections` | 4,096 | new connections wait in the listen queue |
//!
//! [`serve`] also records each request's peer address (`ConnectInfo<SocketAddr>`), which
//! [`Caller`] needs; a router served by other means must be served with connect info.
//!
//! ## Behind a reverse proxy
//!
//! The caller key is the peer's address. Behind a proxy every request comes from the
//! proxy, so name it: its `X-Forwarded-For` header is then believed, and only its.
//!
//! ```
//! # fn routes<S: oauth_core::Storage + 'static, C: oauth_core::Clock + 'static>(
//! #     engine: std::sync::Arc<oauth_core::Engine<S, C>>,
//! # ) -> Result<axum::Router, oauth_core::Fault> {
//! use oauth_axum::MachineEndpoints;
//! use oauth_core::TrustedProxies;
//!
//! let router = MachineEndpoints::new(engine)
//!     .trusted_proxies(TrustedProxies::new(["10.0.0.0/8", "fd00::/8"])?)
//!     .router();
//! # Ok(router)
//! # }
//! ```
//!
//! ## Size
//!
//! About 870 lines of code outside tests, counted as the lines of `src/` that are not
//! blank, not comments (doc comments included) and not in a `#[cfg(test)]` module
//! (`grep -v '^\s*$' | grep -v '^\s*//'` over each file up to its test module). Most of
//! them are the server: the accept loop, the per-connection timers and the body wrappers
//! (about 400); the adapter itself (responses, caller key, bearer guard, machine
//! endpoints, and the DPoP public base) is about 470.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bearer;
mod body;
mod caller;
mod connection;
mod layer;
mod machine;
mod public_base;
mod response;
mod server;
mod watchdog;

pub use bearer::Bearer;
pub use caller::Caller;
pub use layer::{RequireScope, RequireScopeService};
pub use machine::{MachineEndpoints, MAX_BODY_BYTES, METADATA_PATH};
pub use public_base::PublicBase;
pub use response::{harden_response, OAuthResponse};
pub use server::{serve, ServerLimits};

/// # Embed in axum
///
/// A whole authorization server with one protected API, in one file
/// (`examples/embed.rs`; run it with `cargo run -p oauth-axum --example embed`): an
/// engine on the memory store signing ES256 JWT access tokens, one public client, the
/// authorization endpoint with a login-and-consent page on the engine's consent kit, the
/// machine endpoints, and `GET /api/users`, which needs `read:users`.
///
/// - `GET /authorize` asks the engine; a valid request gets the page, whose hidden
///   fields and cookie come from [`Engine::consent_form`](oauth_core::Engine::consent_form).
/// - `POST /authorize` hands the form and cookie to
///   [`Engine::open_consent`](oauth_core::Engine::open_consent), which refuses a forged
///   or altered form; then the password is compared in constant time, and the request
///   approved or denied, once.
///
/// ```no_run
#[doc = include_str!("../examples/embed.rs")]
/// ```
pub mod embed_in_axum {}
