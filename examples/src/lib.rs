//! # finrift examples
//!
//! Thin web adapters for finrift's `oauth-core`, and the demo servers built on them.
//!
//! - [`plain`]: what both adapters share and no framework needs to know: the form body as
//!   the engine's parameters, the peer's caller key for the engine's limiter, and the
//!   resource-server guard ([`plain::check_bearer`]) with per-route scopes.
//! - [`axum_adapter`] and [`actix_adapter`]: each copies a framework request into the
//!   engine's plain values and the engine's [`oauth_core::Response`] back, serves the token,
//!   introspection, revocation, JWKS and metadata endpoints, and offers a `Bearer<R>`
//!   extractor that admits a request only with a live access token holding the scopes of
//!   the marker type `R`.
//! - [`demo`]: the demo's own part, the same for both frameworks: configuration from the
//!   environment, storage and signing key, seeded users and clients, the login and consent
//!   page (its password guessing limited), and the protected API's answers.
//! - [`metrics`]: the demo's Prometheus metrics, fed by the engine's audit events.
//! - [`axum_demo`] and [`actix_demo`]: the two demo servers, same routes and behaviour.
//!
//! The binaries `axum-demo`, `actix-demo` and `flow` (a whole session without HTTP) sit
//! in `src/bin`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actix_adapter;
pub mod actix_demo;
pub mod axum_adapter;
pub mod axum_demo;
pub mod demo;
pub mod metrics;
pub mod plain;
