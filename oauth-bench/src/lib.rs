//! # finrift `oauth-bench`
//!
//! The benchmark suite of finrift (not published). `cargo bench -p oauth-bench` measures
//! every hot path of the engine together with its *floor*: the raw `ring` work the
//! operation cannot avoid (random draws, SHA-256 hashes, the PKCE check, a bare JWS sign
//! or verify of the same claims), in the same run, and writes `BENCHMARKS.md` and the
//! growth chart at the root of the workspace.
//!
//! This library holds what the suite is built from, so that each piece can be read (and
//! tested) on its own: [`floor`] (the raw work), [`fixture`] (engines, clients and the
//! requests of each flow), [`openid`] (the OpenID Connect code exchange and UserInfo), [`dpop`] (the
//! DPoP-bound code exchange and resource check), [`peer`] (the same flows through
//! oxide-auth, another Rust authorization server, measured in interleaved rounds),
//! [`populate`] (many live grants, fast), [`postgres`] (the flow on
//! PostgreSQL beside the database's own floor), [`measure`] (timing
//! loops and resident memory) and [`report`] (the Markdown table and the SVG chart).

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Benchmark code: a set-up step that fails is a broken benchmark, and a panic that says
// which step failed is the right report.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Measuring wall time is what a benchmark is for; the engine's Clock rule (clippy.toml)
// keeps the engine itself off the wall clock.
#![allow(clippy::disallowed_methods)]

pub mod dpop;
pub mod fixture;
pub mod floor;
pub mod measure;
pub mod openid;
pub mod peer;
pub mod populate;
pub mod postgres;
pub mod report;
