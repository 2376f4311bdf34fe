//! A test kit: drive whole OAuth flows in your own unit tests, with no HTTP and no
//! sleeping. Enable the `testing` feature in your dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! oauth-core = { version = "0.1", features = ["testing"] }
//! ```
//!
//! - [`Flow`] walks an engine through authorize → approve → code exchange → refresh →
//!   introspect → revoke for one client, returning the typed result of every step, and
//!   lets a test stop or tamper at any step (replay a code, reuse a refresh token, change
//!   a parameter).
//! - [`PkcePair`] and [`random_state`] make the client-side values.
//! - [`form`], [`basic_auth`] and [`redirect_params`] build and read the plain values an
//!   adapter would.
//! - [`assert_token_error`], [`assert_redirect_error`], [`assert_error_page`],
//!   [`assert_bearer_error`] and [`expect_tokens`] check outcomes with messages that say
//!   what was expected and what came.
//! - [`test_engine`], [`public_client`] and [`confidential_client`] set a test up in a
//!   line each.
//! - [`ReferenceStore`] is a complete store in plain maps behind one lock: the template
//!   for a store of your own, and a store for tests.
//! - [`DpopKey`] is a client's DPoP key that signs its own proofs.
//! - [`Guarded`] keeps a temporary directory (or any guard) alive beside a store.
//! - [`ManualClock`] is re-exported: advance it to test expiry.
//!
//! The helpers panic with a descriptive message when a step does not go as the helper's
//! name says (`expect_…`, `…_pending`): that is how a test fails.
//!
//! See the [`guide`] chapter for worked examples.

mod assertions;
mod dpop_key;
mod driver;
mod guarded;
pub mod guide;
mod pkce_pair;
mod reference_store;
mod requests;
mod setup;

pub use crate::clock::ManualClock;
pub use assertions::{
    assert_bearer_error, assert_error_page, assert_redirect_error, assert_token_error,
    expect_tokens,
};
pub use dpop_key::DpopKey;
pub use driver::{Flow, FlowClient};
pub use guarded::Guarded;
pub use pkce_pair::{random_state, PkcePair};
pub use reference_store::ReferenceStore;
pub use requests::{basic_auth, form, redirect_params};
pub use setup::{confidential_client, public_client, test_engine, TEST_ISSUER, TEST_START};
