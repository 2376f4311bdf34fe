//! Shared helpers for finrift's fuzz targets: a tiny executor for the engine's futures,
//! a fixed engine over a memory store with a few registered clients, and the invariants
//! every answer must keep.
//!
//! The memory store never waits (its locks are `std::sync::Mutex`), so polling a future
//! with a no-op waker until it is ready is enough; no async runtime is needed.

#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use oauth_core::{
    Client, Config, Engine, ErrorCode, GrantType, ManualClock, OAuthError, Response, ScopeSet,
};
use oauth_store_memory::MemoryStore;
use time::OffsetDateTime;

/// The issuer of every engine built here.
pub const ISSUER: &str = "https://auth.example";
/// The secret of the confidential clients `conf` and `svc`.
pub const SECRET: &str = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
/// The redirect URIs registered for the public client `app`.
pub const APP_REDIRECTS: [&str; 2] = ["https://app.example/cb", "http://127.0.0.1/cb"];
/// The redirect URI registered for the confidential client `conf`.
pub const CONF_REDIRECT: &str = "com.example.app:/oauth2redirect";
/// A fixed instant: fuzz runs are deterministic apart from the engine's random values.
pub const NOW_UNIX: i64 = 1_900_000_000;

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// Runs `future` to completion on this thread. Panics if it stays pending for long,
/// which for the memory store would mean a hang.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(NoopWake));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    for _ in 0..1_000_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("a future over the memory store never completed");
}

/// The engine the endpoint targets drive: a memory store holding a public client `app`
/// (two redirect URIs), a confidential client `conf` (code and refresh grants), and a
/// confidential client `svc` (client credentials only), on a manual clock.
pub fn engine() -> Engine<MemoryStore, ManualClock> {
    let clock = ManualClock::new(now());
    let config = Config::builder(ISSUER)
        .introspector(oauth_core::ClientId::new("svc").expect("a client id"))
        .build()
        .expect("a valid issuer");
    let engine = Engine::builder(MemoryStore::new(), clock, config)
        .sealing_key(&[7u8; 32])
        .build()
        .expect("a valid engine");
    let scopes = ScopeSet::parse("read write admin:all openid").expect("scopes");
    let app = Client::public("app")
        .expect("client")
        .redirect_uri(APP_REDIRECTS[0])
        .expect("uri")
        .redirect_uri(APP_REDIRECTS[1])
        .expect("uri")
        .allowed_scopes(scopes.clone())
        .build()
        .expect("client");
    let conf = Client::confidential("conf", SECRET)
        .expect("client")
        .redirect_uri(CONF_REDIRECT)
        .expect("uri")
        .allowed_scopes(scopes.clone())
        .build()
        .expect("client");
    let svc = Client::confidential("svc", SECRET)
        .expect("client")
        .grant_types([GrantType::ClientCredentials])
        .allowed_scopes(scopes)
        .build()
        .expect("client");
    for client in [app, conf, svc] {
        block_on(engine.register_client(client)).expect("registration");
    }
    engine
}

/// The engine's fixed time.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW_UNIX).expect("a valid instant")
}

/// The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1.
pub const RFC_CODES: [&str; 12] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "unsupported_response_type",
    "invalid_scope",
    "access_denied",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
];

/// Whether `c` may appear in `error_description` (RFC 6749 §5.2).
pub fn description_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

/// Checks an OAuth error: an RFC code, an allowed description, a sensible status.
pub fn check_error(error: &OAuthError) {
    assert!(RFC_CODES.contains(&error.code().as_str()), "{error:?}");
    assert!(
        error.description().chars().all(description_char),
        "description outside RFC 6749 §5.2: {error:?}"
    );
    assert!((400..600).contains(&error.status()), "{error:?}");
    if error.code() == ErrorCode::InvalidClient {
        assert_eq!(error.status(), 401, "{error:?}");
    }
}

/// Checks that no header value can split a response: no CR, LF or other control.
pub fn check_headers(response: &Response) {
    for (name, value) in &response.headers {
        assert!(
            !value.chars().any(char::is_control),
            "control character in header {name}: {value:?}"
        );
    }
}

/// Checks a token-endpoint style response: headers clean, `Cache-Control: no-store`, and
/// for an error a JSON body whose `error` is an RFC code.
pub fn check_no_store_json(response: &Response) {
    check_headers(response);
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("the body is JSON");
    if response.status != 200 {
        let code = body["error"].as_str().expect("an error code");
        assert!(RFC_CODES.contains(&code), "{code}");
    }
}

/// Checks a redirect `Location`: no control characters, and it is one of the registered
/// redirect URIs (a loopback one with any port, RFC 8252 §7.3) followed by its query.
pub fn check_location(location: &str) {
    assert!(
        !location.chars().any(char::is_control),
        "control character in Location: {location:?}"
    );
    let exact = [APP_REDIRECTS[0], CONF_REDIRECT]
        .iter()
        .any(|uri| location.starts_with(&format!("{uri}?")));
    let loopback = location
        .strip_prefix("http://127.0.0.1")
        .is_some_and(|rest| {
            let rest = match rest.strip_prefix(':') {
                Some(port) => port.trim_start_matches(|c: char| c.is_ascii_digit()),
                None => rest,
            };
            rest.starts_with("/cb?")
        });
    assert!(
        exact || loopback,
        "redirect to an unregistered place: {location}"
    );
}
