//! One-line set-up for tests: an engine on a manual clock, and client registrations.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::client::{Client, GrantType};
use crate::clock::ManualClock;
use crate::config::Config;
use crate::engine::Engine;
use crate::scope::ScopeSet;
use crate::storage::Storage;

/// The issuer of [`test_engine`].
pub const TEST_ISSUER: &str = "https://auth.example";
/// Where the clock of [`test_engine`] starts: 2030-01-01T00:00:00Z.
pub const TEST_START: OffsetDateTime = time::macros::datetime!(2030-01-01 0:00 UTC);

/// An engine over `store` with the default configuration, issuer [`TEST_ISSUER`], and a
/// [`ManualClock`] at [`TEST_START`] (move it with `engine.clock().advance(..)`).
pub fn test_engine<S: Storage>(store: S) -> Engine<S, Arc<ManualClock>> {
    let engine = Config::builder(TEST_ISSUER).build().and_then(|config| {
        Engine::builder(store, Arc::new(ManualClock::new(TEST_START)), config).build()
    });
    match engine {
        Ok(engine) => engine,
        Err(fault) => panic!("the test engine cannot be built: {fault}"),
    }
}

/// A public client allowed the code and refresh grants, `redirect_uri`, and the
/// space-separated `scopes`.
pub fn public_client(id: &str, redirect_uri: &str, scopes: &str) -> Client {
    let built = Client::public(id)
        .and_then(|c| c.redirect_uri(redirect_uri))
        .and_then(|c| c.allowed_scopes(parse(scopes)).build());
    match built {
        Ok(client) => client,
        Err(error) => panic!("invalid test client {id:?}: {error}"),
    }
}

/// A confidential client with `secret` (32 bytes or more), allowed every grant.
pub fn confidential_client(id: &str, secret: &str, redirect_uri: &str, scopes: &str) -> Client {
    let built = Client::confidential(id, secret)
        .and_then(|c| c.redirect_uri(redirect_uri))
        .and_then(|c| {
            c.allowed_scopes(parse(scopes))
                .grant_types([
                    GrantType::AuthorizationCode,
                    GrantType::RefreshToken,
                    GrantType::ClientCredentials,
                ])
                .build()
        });
    match built {
        Ok(client) => client,
        Err(error) => panic!("invalid test client {id:?}: {error}"),
    }
}

fn parse(scopes: &str) -> ScopeSet {
    match ScopeSet::parse(scopes) {
        Ok(set) => set,
        Err(error) => panic!("invalid test scopes {scopes:?}: {error}"),
    }
}
