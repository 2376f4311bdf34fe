//! # finrift load
//!
//! A load generator for finrift as its users see it: over HTTP. The binary
//! `finrift-load` starts a release build of the axum demo (`axum-demo`) as a child
//! process on a free loopback port, once on the memory store and once on a SQLite file,
//! drives it with keep-alive clients at 1, 16 and 64 concurrent connections, and stops
//! it. Every scenario is bounded in requests and in time, whichever comes first.
//!
//! Run it with
//!
//! ```sh
//! cargo run --release -p oauth-load            # a few seconds per scenario, writes BENCHMARKS.md
//! cargo run --release -p oauth-load -- --quick # a few hundred requests per scenario, prints only
//! ```
//!
//! It builds the demo first (`cargo build --release -p examples --bin axum-demo`, a no-op
//! when it is up to date); `--demo <path>` runs a given binary instead and builds nothing.
//! A full run writes its section of `BENCHMARKS.md` between the markers
//! `<!-- HTTP-LOAD-START -->` and `<!-- HTTP-LOAD-END -->` and leaves the rest alone.
//!
//! The scenarios ([`Scenario`]):
//!
//! - client-credentials tokens for `demo-service` (HTTP Basic);
//! - JWT-protected API calls (`GET /api/payments`) with one token got beforehand;
//! - revocations (`POST /revoke`), each of a distinct live token minted beforehand;
//! - full authorization-code flows with PKCE through the login form: `GET /authorize`,
//!   the form posted with its CSRF cookie, the code read from the 303, `POST /token`.
//!
//! Every response is checked (status and body); a scenario reports operations per
//! second, p50 and p99 latency, and its errors, which must be zero. The binary adds the
//! server's resident memory after each scenario.
//!
//! The load code takes a base URL ([`run`]), so it can be pointed at any server: the
//! smoke test (`tests/smoke.rs`) runs every scenario against the demo served in process.
//!
//! - [`callers`]: a loopback source address per connection, so each is its own caller.
//! - [`flows`]: the HTTP exchanges of each scenario, every answer checked.
//! - [`pkce`]: random values and the PKCE S256 challenge.
//! - [`scenario`]: the scenarios, their bounds, and [`run`], which drives one with its
//!   workers and collects its samples.
//! - [`stats`]: latency percentiles.
//! - [`server`]: the demo as a child process, and its resident memory.
//! - [`machine`]: what the report says about the machine.
//! - [`pinning`]: the server on one CPU and the generator on the others.
//! - [`goals`]: the performance goals over HTTP, each met or not.
//! - [`report`]: the markdown table and chart, and their place in `BENCHMARKS.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// A load generator measures wall time: it has no engine `Clock` to read it through.
#![allow(clippy::disallowed_methods)]

pub mod callers;
pub mod flows;
pub mod goals;
pub mod machine;
pub mod pinning;
pub mod pkce;
pub mod report;
pub mod scenario;
pub mod server;
pub mod stats;

pub use scenario::{run, Bounds, Outcome, Scenario};

/// Any failure of the load generator itself (not a failed request under load, which is
/// counted in [`Outcome::errors`]).
pub type Error = Box<dyn std::error::Error + Send + Sync>;
