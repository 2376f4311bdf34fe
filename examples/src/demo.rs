//! The demo's own part, the same for the axum and the actix-web server: configuration,
//! storage and signing key, seeded users and clients, the login and consent page, and the
//! protected API's answers. Everything answers the engine's plain [`Response`]; the
//! servers only copy it into their framework.
//!
//! The login and consent page is the embedder's job in finrift (the engine hands back a
//! pending request and waits for approve or deny), so it lives here, not in an adapter:
//!
//! - `GET /authorize` validates the request (`Engine::authorize_query`). A valid one shows
//!   one form on the engine's consent kit (`Engine::consent_form`): the request sealed by
//!   the engine and a CSRF token bound to that request and to the browser's `HttpOnly`,
//!   `SameSite=Lax` binding cookie (never a bare double submit).
//! - `POST /authorize` lets the kit check the CSRF token and open the sealed request
//!   (`Engine::open_consent` refuses anything altered), checks the password against a
//!   PBKDF2 hash (constant time, on the engine's hashing pool), then approves or denies
//!   and answers the engine's 303. Password guessing is limited by the engine's limiter
//!   (see [`FAILURE_BUDGET`]) before the password is checked, charged to the caller and
//!   to the pair of account and caller: never the account alone, so nobody can lock a
//!   user out by failing at their name.
//!
//! The engine is given a [`FailureLimiter`] (failed client authentications at the token,
//! introspection and revocation endpoints, charged to the caller and to the pair of
//! client and caller, answer `429` with `Retry-After` once over budget) and an event sink
//! that logs every audit event through `tracing` and counts it into the [`Metrics`]
//! served at `GET /metrics`.

use oauth_core::JwtAccessTokens;
use std::collections::BTreeMap;
use std::error::Error;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth_core::events::{Event, EventKind, TracingSink};
use oauth_core::jose::RotationStep;
use oauth_core::limits::FailureLimiter;
use oauth_core::{
    Authentication, AuthorizationResponse, AuthorizeOutcome, CallerKey, Client, Clock, Config,
    ConsentForm, Engine, Fault, GrantType, HashingPool, Interaction, Params, PendingAuthorization,
    Principal, RandomSource, RequiredScope, Response, ScopePolicy, ScopeSet, Storage, SystemClock,
    CSRF_FIELD, SEALED_REQUEST_FIELD,
};
use oauth_store_memory::MemoryStore;
use oauth_store_postgres::PostgresStore;
use oauth_store_sqlite::SqliteStore;

use crate::metrics::{Metrics, Tee, TimedGuard};
use oauth_core::BearerGuard;

/// Errors at start-up.
pub type StartError = Box<dyn Error + Send + Sync>;

/// The demo's engine: storage chosen at start-up (memory, a SQLite file or PostgreSQL),
/// system clock.
pub type DemoEngine = Engine<Arc<dyn Storage>, SystemClock>;

/// The client the demo registers for a browser app (public, PKCE).
pub const SPA_CLIENT: &str = "demo-spa";
/// The SPA's redirect URIs. Only the loopback IP literal: the engine refuses to register
/// `http://localhost/...` (RFC 8252 §8.3 advises against `localhost`: a name can resolve
/// elsewhere), and any port of `127.0.0.1` is accepted at request time (RFC 8252 §7.3).
pub const SPA_REDIRECT_URIS: [&str; 1] = ["http://127.0.0.1:3000/callback"];
/// The confidential client for machine-to-machine calls.
pub const SERVICE_CLIENT: &str = "demo-service";
/// Its secret: a human-chosen demo value, so it is kept as a salted PBKDF2 derivation.
pub const SERVICE_SECRET: &str = "demo-service-secret";
/// Every scope of the demo API.
pub const ALL_SCOPES: &str = "read:users write:users read:payments";
/// The OpenID Connect scopes: signing in (`openid`), and the user's name and email for
/// UserInfo and the ID token's audience. Every demo user may grant them; `demo-spa` may
/// ask for them besides the API's.
pub const OPENID_SCOPES: &str = "openid profile email";

/// Failed attempts a key may make within [`FAILURE_WINDOW`] before it is blocked for
/// [`FAILURE_COOL_DOWN`]. The keys: at the token, introspection and revocation endpoints
/// (the engine's) the caller (its IP address, an IPv6 /64) and the pair of client id and
/// caller; at the login form (the demo's) the caller and the pair of username and caller.
/// While blocked, even the right secret or password is refused, with `429` and
/// `Retry-After`.
pub const FAILURE_BUDGET: u32 = 10;
/// The window in which failures add up: five minutes.
pub const FAILURE_WINDOW: time::Duration = time::Duration::minutes(5);
/// How long a key that spent its budget stays blocked: five minutes.
pub const FAILURE_COOL_DOWN: time::Duration = time::Duration::minutes(5);

/// The demo users: name, password, and the scopes each may grant.
const USERS: [(&str, &str, &str); 2] = [
    ("alice", "alice-password", ALL_SCOPES),
    ("bob", "bob-password", "read:users"),
];

/// `GET /api/users` needs `read:users`.
#[derive(Debug)]
pub struct ReadUsers;
impl RequiredScope for ReadUsers {
    const SCOPE: &'static str = "read:users";
}

/// `POST /api/users` needs `write:users`.
#[derive(Debug)]
pub struct WriteUsers;
impl RequiredScope for WriteUsers {
    const SCOPE: &'static str = "write:users";
}

/// `GET /api/payments` needs `read:payments`.
#[derive(Debug)]
pub struct ReadPayments;
impl RequiredScope for ReadPayments {
    const SCOPE: &'static str = "read:payments";
}

/// The demo: its engine, users, and the pages of the authorization endpoint.
pub struct Demo {
    engine: Arc<DemoEngine>,
    /// Where the signing keys live.
    keys: DemoKeys,
    /// How often shared keys are looked at for changes.
    key_refresh: std::time::Duration,
    guard: Arc<dyn BearerGuard>,
    metrics: Arc<Metrics>,
    users: Arc<Users>,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("issuer", &self.engine.config().issuer())
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// Opens the storage, loads or creates the signing key, builds the engine for the
    /// issuer (`http://<local>` unless the settings name one) and seeds the demo clients.
    /// `local` is the address the server actually listens on (so a port 0 resolves to
    /// the real port).
    pub async fn start(settings: &Settings, local: SocketAddr) -> Result<Self, StartError> {
        let issuer = settings
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        // Config refuses plain http except on a loopback address.
        let config = Config::builder(&issuer)
            .scopes_supported(&ScopeSet::parse(&format!("{OPENID_SCOPES} {ALL_SCOPES}"))?)
            .build()
            .map_err(|e| {
                format!("{e} (the demo serves plain http, so it must listen on a loopback address)")
            })?;
        let (storage, (demo_keys, keys)): (Arc<dyn Storage>, _) = match &settings.database {
            Database::Memory => (Arc::new(MemoryStore::new()), DemoKeys::fresh()?),
            Database::File(path) => (
                Arc::new(SqliteStore::open(path).await?),
                DemoKeys::beside(path)?,
            ),
            Database::Postgres {
                url,
                key_encryption_key,
            } => {
                let store = PostgresStore::open(url).await?;
                let keys = DemoKeys::shared(store.clone(), &key_encryption_key.0).await?;
                (Arc::new(store), keys)
            }
        };
        let metrics = Arc::new(Metrics::new()?);
        let mut builder = Engine::builder(storage, SystemClock, config);
        if let Some(text) = &settings.sealing_key {
            let key = URL_SAFE_NO_PAD
                .decode(text.0.trim())
                .ok()
                .filter(|key| key.len() >= 32)
                .ok_or("FINRIFT_SEALING_KEY must be base64url (no padding) of at least 32 bytes")?;
            builder = builder.sealing_key(&key);
        }
        let engine = builder
            .jwt_access_tokens(JwtAccessTokens::new(keys, format!("{issuer}/api")))
            .openid(openid::provider(settings.rs256_key.as_deref())?)
            .scope_policy(DemoScopes::new()?)
            .limiter(FailureLimiter::new(
                FAILURE_BUDGET,
                FAILURE_WINDOW,
                FAILURE_COOL_DOWN,
            ))
            .event_sink(Tee(TracingSink, metrics.clone()))
            // PBKDF2 (the login form, demo-service's secret) on two threads of its own.
            .slow_hashing(HashingPool::default())
            .build()?;
        seed_clients(&engine).await?;
        let engine = Arc::new(engine);
        let guard = Arc::new(TimedGuard::new(engine.clone(), metrics.clone()));
        Ok(Self {
            engine,
            keys: demo_keys,
            key_refresh: settings.key_refresh,
            guard,
            metrics,
            users: Arc::new(Users::new()?),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<DemoEngine> {
        &self.engine
    }

    /// Where the protected API (`/api/...`) is reached from outside: the issuer's origin.
    /// DPoP proofs for the API name URLs under it, never under the request's `Host`.
    pub fn api_base(&self) -> String {
        url::Url::parse(self.engine.config().issuer())
            .map(|issuer| issuer.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// The engine as the protected API's guard, each check timed into the metrics.
    pub fn guard(&self) -> Arc<dyn BearerGuard> {
        self.guard.clone()
    }

    /// The metrics the engine's events feed.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// `GET /metrics`: the metrics in the Prometheus text format.
    pub fn metrics_page(&self) -> Response {
        self.metrics.render()
    }

    /// Logs where the demo listens and how to use it. The credentials logged are the
    /// published demo ones.
    pub fn log_startup(&self, database: &Database) {
        let issuer = self.engine.config().issuer();
        tracing::info!("finrift demo listening on {issuer}");
        tracing::info!(
            "plain http is allowed only because {issuer} is a loopback address; \
             anything else needs https"
        );
        match database {
            Database::Memory => tracing::info!("storage: in memory (FINRIFT_DB=:memory:)"),
            Database::File(path) => tracing::info!(
                "storage: SQLite file {}, signing keys in {}",
                path.display(),
                key_dir_path(path).display()
            ),
            // Not the URL: it may hold a password.
            Database::Postgres { .. } => tracing::info!(
                "storage: PostgreSQL, signing keys sealed in it and looked at every {:?}",
                self.key_refresh
            ),
        }
        tracing::info!("metadata: {issuer}/.well-known/oauth-authorization-server");
        tracing::info!("metrics (Prometheus text format): {issuer}/metrics");
        tracing::info!(
            "demo users: alice / alice-password (read:users write:users read:payments), \
             bob / bob-password (read:users)"
        );
        tracing::info!(
            "demo clients: {SPA_CLIENT} (public, PKCE, redirect {}), \
             {SERVICE_CLIENT} / {SERVICE_SECRET} (client_credentials, read:payments)",
            SPA_REDIRECT_URIS[0]
        );
    }

    /// `GET /authorize?...`: the login and consent page for a valid request, an error
    /// redirect to the client, or an error page (400) that never redirects. `cookie` is the
    /// request's `Cookie` header.
    pub async fn authorize_page(&self, query: &str, cookie: Option<&str>) -> Response {
        let outcome = self.engine.authorize_query(query).await;
        self.answer_authorization_request(outcome, cookie).await
    }

    /// The login page for a valid request (the demo keeps no sessions, so every request
    /// needs a login: a `prompt=none` one is answered `login_required` at once), or the
    /// engine's error redirect or page.
    async fn answer_authorization_request(
        &self,
        outcome: Result<AuthorizeOutcome, Fault>,
        cookie: Option<&str>,
    ) -> Response {
        match outcome {
            Ok(AuthorizeOutcome::Pending(pending)) => {
                match self.engine.interaction(&pending, None, false).await {
                    Ok(Interaction::Answer(answer)) => return authorization_answer(answer),
                    Ok(_) => {}
                    Err(fault) => return fault_response(&fault),
                }
                match self.engine.consent_form(&pending, cookie) {
                    Ok(form) => self.login_form(&pending, &form, None),
                    Err(fault) => fault_response(&fault),
                }
            }
            Ok(AuthorizeOutcome::Redirect(redirect)) => redirect.to_response(),
            Ok(AuthorizeOutcome::ErrorPage(error)) => error_page(400, error.description()),
            Ok(_) => error_page(400, "This request cannot be completed."),
            Err(fault) => fault_response(&fault),
        }
    }

    /// `POST /authorize`: the login form submitted. `content_type` and `body` are the
    /// request's, `cookie` its `Cookie` header, `caller` the adapter's key for who sent it
    /// (an IP address, an IPv6 /64), for the limit on password guessing.
    pub async fn authorize_submit(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        cookie: Option<&str>,
        caller: Option<&CallerKey>,
    ) -> Response {
        let Ok(form) = Params::parse_form_body(content_type, body) else {
            return error_page(400, "The form could not be read.");
        };
        // An authorization request sent as a form (OpenID Connect Core 1.0 §3.1.2.1 lets a
        // client POST it), not the login form: it carries no sealed request.
        if form.get(SEALED_REQUEST_FIELD).is_none() && form.get("response_type").is_some() {
            let outcome = self.engine.authorize(&form).await;
            return self.answer_authorization_request(outcome, cookie).await;
        }
        // The kit refuses a CSRF token made for another request or browser (403) and an
        // altered or foreign sealed request (400); nothing is approved either way.
        let pending = match self.engine.open_consent(&form, cookie) {
            Ok(pending) => pending,
            Err(refusal) => return error_page(refusal.status(), refusal.description()),
        };
        let answer = match form.get("decision") {
            Some("deny") => self.engine.deny(&pending).await,
            Some("approve") => {
                let username = form.get("username").unwrap_or_default();
                let password = form.get("password").unwrap_or_default();
                let limiter = self.engine.limiter();
                let now = self.engine.clock().now();
                // Charged to what the caller controls: its address, and its attempts at
                // this account from that address. Never the account alone, or anyone
                // could lock a user out by failing at their name.
                let account_key =
                    caller.map(|ip| format!("{}|{ip}", self.users.limit_key(username)));
                let caller_key = caller.map(|ip| format!("login-ip:{ip}"));
                let keys: Vec<&str> = [account_key.as_deref(), caller_key.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                if let Err(wait) = limiter.reserve(&keys, now) {
                    return self.too_many_attempts(&keys, wait, now);
                }
                // PBKDF2 runs on the engine's hashing pool, never on an async worker.
                let users = self.users.clone();
                let (name, typed) = (username.to_owned(), password.to_owned());
                let checked = self
                    .engine
                    .slow_hashing()
                    .run(Box::new(move || users.check(&name, &typed)))
                    .await;
                match checked {
                    Some(true) => {}
                    Some(false) => {
                        keys.iter().for_each(|key| limiter.failed(key, now));
                        return match self.engine.consent_form(&pending, cookie) {
                            Ok(again) => self.login_form(
                                &pending,
                                &again,
                                Some("Wrong username or password."),
                            ),
                            Err(fault) => fault_response(&fault),
                        };
                    }
                    None => {
                        // Not evaluated: nothing is charged for the server being busy.
                        keys.iter()
                            .for_each(|key| limiter.succeeded(key, false, now));
                        return fault_response(&Fault::Busy);
                    }
                }
                // The account's failures from this address are forgiven; the address's
                // are not, or one account of one's own would reset the budget between
                // guesses at everyone else's.
                if let Some(key) = &account_key {
                    limiter.succeeded(key, true, now);
                }
                if let Some(key) = &caller_key {
                    limiter.succeeded(key, false, now);
                }
                // The scope policy narrows what this user may grant (bob: read:users).
                // Logged in just now, with a password.
                let user = Authentication::new(username).amr(["pwd"]);
                self.engine.approve(&pending, &user, pending.scope()).await
            }
            _ => return error_page(400, "Choose approve or deny."),
        };
        match answer {
            Ok(answer) => authorization_answer(answer),
            Err(fault) => fault_response(&fault),
        }
    }

    /// The answer to a login attempt refused for `wait` because one of `keys` is blocked:
    /// `429` with `Retry-After`, reported as a rate-limit event naming the blocked keys.
    fn too_many_attempts(
        &self,
        keys: &[&str],
        wait: time::Duration,
        now: time::OffsetDateTime,
    ) -> Response {
        let seconds = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
        let seconds = u64::try_from(seconds).unwrap_or(1).max(1);
        // Which key is blocked, for the event (and the metrics' label).
        let limiter = self.engine.limiter();
        let blocked: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|key| limiter.blocked_for(key, now).is_some())
            .collect();
        self.engine.event_sink().emit(&Event {
            at: now,
            kind: EventKind::RateLimited {
                key: blocked.join(" "),
                retry_after: seconds,
            },
        });
        let minutes = seconds.div_ceil(60);
        let mut response = error_page(
            429,
            &format!(
                "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ),
        );
        response.headers.push(("Retry-After", seconds.to_string()));
        response
    }

    fn login_form(
        &self,
        pending: &PendingAuthorization,
        form: &ConsentForm,
        message: Option<&str>,
    ) -> Response {
        let action = &self.engine.config().served_paths().authorization;
        let scopes: String = pending
            .scope()
            .iter()
            .map(|scope| format!("<li><code>{}</code></li>", escape(scope.as_str())))
            .collect();
        let message = message
            .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
            .unwrap_or_default();
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Sign in - finrift demo</title>{STYLE}</head><body><main>\
             <h1>Sign in to finrift demo</h1>\
             <p>The application <strong>{client}</strong> asks for:</p><ul>{scopes}</ul>\
             {message}\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"{SEALED_REQUEST_FIELD}\" value=\"{sealed}\">\
             <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\
             <label>Username <input name=\"username\" autocomplete=\"username\" required></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\
             </form><p class=\"hint\">Demo users: alice / alice-password, bob / bob-password \
             (bob may grant read:users only).</p></main></body></html>\n",
            client = escape(pending.client_id().as_str()),
            action = escape(action),
            sealed = escape(&form.sealed_request),
            csrf = escape(&form.csrf_token),
        );
        let mut response = html(200, body);
        response
            .headers
            .push(("Set-Cookie", form.set_cookie.clone()));
        response
    }
}

pub mod api;
mod keys;
mod openid;
mod pages;
mod running;
mod settings;
mod users;

pub use keys::key_dir_path;
use keys::DemoKeys;
pub use running::{init_tracing, purge_periodically, rotate_keys_periodically, shutdown_signal};
pub use settings::{Database, Secret, Settings};

use pages::{error_page, escape, html, STYLE};
pub use pages::{fault_response, not_found};
pub use users::DemoScopes;
use users::Users;

/// An approval, denial or `prompt=none` answer: the 303 to the client, or an error page.
fn authorization_answer(answer: AuthorizationResponse) -> Response {
    match answer {
        AuthorizationResponse::Redirect(redirect) => redirect.to_response(),
        AuthorizationResponse::ErrorPage(error) => error_page(400, error.description()),
        _ => error_page(400, "This request cannot be completed."),
    }
}

/// Registers (or re-registers, which replaces) the demo clients.
async fn seed_clients(engine: &DemoEngine) -> Result<(), StartError> {
    let mut spa = Client::public(SPA_CLIENT)?;
    for uri in SPA_REDIRECT_URIS {
        spa = spa.redirect_uri(uri)?;
    }
    engine
        .register_client(
            spa.grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
                .allowed_scopes(ScopeSet::parse(&format!("{OPENID_SCOPES} {ALL_SCOPES}"))?)
                .build()?,
        )
        .await?;
    engine
        .register_client(
            Client::confidential_with_password(SERVICE_CLIENT, SERVICE_SECRET)?
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(ScopeSet::parse("read:payments")?)
                .default_scopes(ScopeSet::parse("read:payments")?)
                .build()?,
        )
        .await?;
    Ok(())
}

impl Demo {
    /// Takes the step of the key rotation procedure that is due (publish the next key,
    /// switch to it, retire the previous one;
    /// [`RotationSchedule::default`](oauth_core::jose::RotationSchedule::default)) and hands the
    /// engine the new key set when something changed. Nothing for an in-memory demo.
    pub async fn rotate_keys(&self) -> Result<RotationStep, StartError> {
        let (step, keys) = self.keys.rotate().await?;
        if let Some(keys) = keys {
            self.engine.replace_signing_keys(keys);
        }
        if step.changed() {
            tracing::info!(?step, "signing keys rotated");
        }
        Ok(step)
    }

    /// Hands the engine the shared key set if another instance changed it.
    async fn refresh_keys(&self) -> Result<(), StartError> {
        if let Some(keys) = self.keys.refresh().await? {
            tracing::info!("signing keys changed elsewhere; serving the new set");
            self.engine.replace_signing_keys(keys);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    // Tests: a failed step should stop the test with its message.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[tokio::test]
    async fn signing_keys_are_kept_private_and_reused_on_restart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.sqlite3");
        let settings = Settings::new(Database::File(db.clone()));
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let first = Demo::start(&settings, local).await.unwrap();
        let key_dir = key_dir_path(&db);
        assert!(key_dir.ends_with("demo.sqlite3.keys"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key_dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        // Nothing of the rotation procedure is due for a key made a moment ago.
        assert_eq!(first.rotate_keys().await.unwrap(), RotationStep::Nothing);
        let jwks = first.engine().jwks();
        drop(first);
        let second = Demo::start(&settings, local).await.unwrap();
        assert_eq!(second.engine().jwks(), jwks, "the same key after a restart");
    }

    #[tokio::test]
    async fn a_key_file_of_an_earlier_demo_is_adopted_with_its_kid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.sqlite3");
        let (_, pkcs8) =
            oauth_core::jose::SigningKey::generate(oauth_core::jose::Algorithm::Es256, "old")
                .unwrap();
        std::fs::write(keys::legacy_key_path(&db), &pkcs8).unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let demo = Demo::start(&Settings::new(Database::File(db)), local)
            .await
            .unwrap();
        let jwks = demo.engine().jwks();
        assert_eq!(
            jwks["keys"][0]["kid"],
            oauth_core::jose::kid_for_pkcs8(&pkcs8).as_str(),
            "tokens signed before the upgrade still name a published key"
        );
    }

    #[tokio::test]
    async fn a_non_loopback_address_is_refused() {
        let local: SocketAddr = "192.0.2.1:8080".parse().unwrap();
        let error = Demo::start(&Settings::new(Database::Memory), local)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("loopback"), "{error}");
    }

    #[test]
    fn passwords_are_checked_against_their_hashes() {
        let users = Users::new().unwrap();
        assert!(users.check("alice", "alice-password"));
        assert!(users.check("bob", "bob-password"));
        assert!(!users.check("alice", "bob-password"));
        assert!(!users.check("carol", "alice-password"));
        assert!(!users.check("alice", ""));
    }

    #[test]
    fn login_limit_keys_name_demo_users_and_digest_anything_else() {
        let users = Users::new().unwrap();
        assert_eq!(users.limit_key("alice"), "login:alice");
        let typed = "alice-password".repeat(500);
        let key = users.limit_key(&typed);
        assert!(key.starts_with("login:#") && key.len() < 32, "{key}");
        assert!(!key.contains("password"));
        assert_eq!(key, users.limit_key(&typed), "the same name, the same key");
        assert_ne!(key, users.limit_key("mallory"));
    }

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert!(!error_page(400, "<script>").body.contains("<script>"));
    }
}
