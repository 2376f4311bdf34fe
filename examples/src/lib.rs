//! # finrift examples
//!
//! The two demo servers of finrift, one on axum and one on actix-web, and `flow`, a whole
//! OAuth session without HTTP. The demos are built on the adapter crates `oauth-axum`
//! and `oauth-actix`, which serve the engine's machine endpoints, copy its responses out
//! (with `X-Content-Type-Options: nosniff`), name the caller for the failure limiter, guard
//! the API with bearer tokens and hold connections to the server limits; what is left
//! here is the demo's own part.
//!
//! - [`demo`]: the same for both frameworks and free of either: configuration from the
//!   environment, storage and signing keys, seeded users and clients, the login and
//!   consent page on the engine's consent kit (password guessing limited per caller and
//!   per account and caller), the protected API's answers, the JSON 404.
//! - [`metrics`]: the demo's Prometheus metrics, fed by the engine's audit events.
//! - [`axum_demo`] and [`actix_demo`]: the two servers, same routes and behaviour.
//!
//! The binaries `axum-demo`, `actix-demo` and `flow` sit in `src/bin`.
//!
//! ## Size
//!
//! Counted as the lines of `src/` (binaries included, `tests/` not) that are neither blank
//! nor comments (doc comments included), `grep -v '^\s*$' | grep -v '^\s*//'`: 1,865
//! lines when the demos carried their own adapters (`plain.rs`, `axum_adapter.rs`,
//! `actix_adapter.rs`), 1,448 on the adapter crates; without the unit-test modules, 1,682
//! and 1,296. The two servers are now 100 (axum) and 87 (actix) lines; the rest is the
//! demo's own part (`demo.rs`, `metrics.rs`) and the binaries, `flow` among them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actix_demo;
pub mod axum_demo;
pub mod demo;
pub mod metrics;
