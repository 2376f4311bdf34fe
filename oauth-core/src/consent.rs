//! The login-and-consent kit: carry a pending authorization through the user's browser
//! between the two requests of a real login, with the consent form protected from
//! cross-site request forgery. The embedder renders the page and checks the password;
//! the kit does the parts that are easy to get wrong.
//!
//! 1. `GET /authorize`: [`Engine::authorize`](crate::Engine::authorize) answers
//!    [`AuthorizeOutcome::Pending`](crate::AuthorizeOutcome::Pending). Call
//!    [`Engine::consent_form`] with the request's `Cookie` header: it seals the pending
//!    request (HMAC under the engine's sealing key, so any change is detected) and binds
//!    a CSRF token to *that* sealed request and to this browser. Put
//!    [`ConsentForm::sealed_request`] and [`ConsentForm::csrf_token`] in hidden fields
//!    named [`SEALED_REQUEST_FIELD`] and [`CSRF_FIELD`], and send
//!    [`ConsentForm::set_cookie`] as a `Set-Cookie` header.
//! 2. `POST /authorize`: call [`Engine::open_consent`] with the submitted form and the
//!    `Cookie` header. It refuses a form whose CSRF token was made for another request or
//!    another browser, or whose cookie and field merely hold equal values (the token is an
//!    HMAC over the request's id and the browser's cookie, never the cookie itself), and
//!    answers the pending request. Check the user's credentials, then call
//!    [`Engine::approve`](crate::Engine::approve) or [`Engine::deny`](crate::Engine::deny):
//!    each request is answered once (a replayed form gets an error page) and expires after
//!    [`Config::pending_lifetime`](crate::Config::pending_lifetime).
//!
//! The cookie holds a random browser binding, not a secret of the user's: it is
//! `HttpOnly`, `SameSite=Lax` (a cross-site POST does not carry it, while the cross-site
//! navigation that brings the user to the page does, so a browser keeps one binding and
//! two tabs each with its own form both work), `Path=/`, and for
//! an `https` issuer `Secure` with the `__Host-` name prefix, so no other subdomain can
//! set it. A plain-http issuer (only allowed on loopback, for development) gets the same
//! cookie without `Secure`, under [`CONSENT_COOKIE`].
//!
//! ```
//! use oauth_core::{
//!     AuthorizeOutcome, Client, CodeChallenge, Config, Engine, Params, ScopeSet, SystemClock,
//!     CSRF_FIELD, SEALED_REQUEST_FIELD,
//! };
//! use oauth_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::builder("https://auth.example").build()?;
//! let engine = Engine::builder(MemoryStore::new(), SystemClock, config).build()?;
//! engine
//!     .register_client(
//!         Client::public("app")?
//!             .redirect_uri("https://app.example/cb")?
//!             .allowed_scopes(ScopeSet::parse("read")?)
//!             .build()?,
//!     )
//!     .await?;
//! let challenge = CodeChallenge::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
//! let query = format!(
//!     "response_type=code&client_id=app&scope=read&code_challenge={}&code_challenge_method=S256",
//!     challenge.as_str()
//! );
//!
//! // GET /authorize?...
//! let AuthorizeOutcome::Pending(pending) = engine.authorize(&Params::parse(&query)?).await? else {
//!     panic!("a valid request");
//! };
//! let form = engine.consent_form(&pending, None)?;
//! assert!(form.set_cookie.starts_with("__Host-finrift_csrf="));
//! // ... render the page with form.sealed_request and form.csrf_token in hidden fields,
//! // and send form.set_cookie as Set-Cookie.
//!
//! // POST /authorize, as the browser sends it back:
//! let cookie = form.set_cookie.split(';').next().unwrap_or_default();
//! let body = format!(
//!     "{SEALED_REQUEST_FIELD}={}&{CSRF_FIELD}={}",
//!     form.sealed_request, form.csrf_token
//! );
//! let pending = engine
//!     .open_consent(&Params::parse(&body)?, Some(cookie))
//!     .map_err(|refusal| refusal.description().to_owned())?;
//! // ... check the user's password here, then approve (or deny) once:
//! let answer = engine.approve(&pending, "alice", pending.scope()).await?;
//! # let _ = answer;
//! # Ok(())
//! # }
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use subtle::ConstantTimeEq;

use crate::authorization::PendingAuthorization;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{Fault, OAuthError};
use crate::request::Params;
use crate::storage::Storage;

/// The hidden form field that carries the sealed pending request.
pub const SEALED_REQUEST_FIELD: &str = "pending";
/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The browser-binding cookie's name under a plain-http (loopback) issuer.
pub const CONSENT_COOKIE: &str = "finrift_csrf";
/// The browser-binding cookie's name under an `https` issuer: the `__Host-` prefix makes
/// browsers refuse it unless it is `Secure`, `Path=/` and set without `Domain`.
pub const SECURE_CONSENT_COOKIE: &str = "__Host-finrift_csrf";

/// Separates this MAC's inputs from every other use of the sealing key.
const CSRF_CONTEXT: &[u8] = b"finrift consent csrf v1\0";

/// What a consent page needs: the values for its hidden fields and the cookie to set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsentForm {
    /// The pending request, sealed: the value of the [`SEALED_REQUEST_FIELD`] field.
    pub sealed_request: String,
    /// The CSRF token bound to this request and this browser: the [`CSRF_FIELD`] field.
    pub csrf_token: String,
    /// The `Set-Cookie` header value that binds the form to the browser.
    pub set_cookie: String,
}

/// Why a submitted consent form was refused. Nothing was approved or denied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentRefusal {
    /// The CSRF token is missing, or was not made for this request and this browser:
    /// answer `403` with a page saying to start again from the application.
    Forged,
    /// The sealed request is missing, altered or not this engine's: answer `400` with
    /// this error's description as a page (never a redirect).
    Invalid(OAuthError),
}

impl ConsentRefusal {
    /// The HTTP status to answer with: `403` for a forged form, `400` otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::Forged => 403,
            Self::Invalid(_) => 400,
        }
    }

    /// A description fit to show the user.
    pub fn description(&self) -> &str {
        match self {
            Self::Forged => {
                "This form expired or did not come from this site. Start again from the application."
            }
            Self::Invalid(error) => error.description(),
        }
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The hidden fields and cookie of the consent page for `pending`. `cookie_header` is
    /// the request's `Cookie` header: a browser that already holds a binding keeps it, so
    /// two tabs each with its own form both work.
    pub fn consent_form(
        &self,
        pending: &PendingAuthorization,
        cookie_header: Option<&str>,
    ) -> Result<ConsentForm, Fault> {
        let binding = match cookie_value(cookie_header, self.consent_cookie_name())
            .filter(|value| is_binding(value))
        {
            Some(kept) => kept.to_owned(),
            None => self.random.secret()?,
        };
        let sealed_request = self.seal_pending(pending)?;
        let csrf_token = self.csrf_token(pending, &binding);
        let secure = if self.is_secure_issuer() {
            "; Secure"
        } else {
            ""
        };
        let max_age = self.config.pending_lifetime().whole_seconds();
        Ok(ConsentForm {
            sealed_request,
            csrf_token,
            set_cookie: format!(
                "{}={binding}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
                self.consent_cookie_name()
            ),
        })
    }

    /// Checks a submitted consent form (`form` holds its fields, `cookie_header` is the
    /// request's `Cookie` header) and answers the pending request it carries. Approve or
    /// deny it next; those check again that it is unexpired, unanswered and that the client
    /// and redirect URI are still registered.
    pub fn open_consent(
        &self,
        form: &Params,
        cookie_header: Option<&str>,
    ) -> Result<PendingAuthorization, ConsentRefusal> {
        if !form.repeated().is_empty() {
            return Err(ConsentRefusal::Invalid(OAuthError::invalid_request(
                "a form field is repeated",
            )));
        }
        let Some(sealed) = form.get(SEALED_REQUEST_FIELD) else {
            return Err(ConsentRefusal::Invalid(OAuthError::invalid_request(
                "the authorization request is missing",
            )));
        };
        let pending = self.open_pending(sealed).map_err(ConsentRefusal::Invalid)?;
        let binding = cookie_value(cookie_header, self.consent_cookie_name())
            .filter(|value| is_binding(value))
            .ok_or(ConsentRefusal::Forged)?;
        let sent = form.get(CSRF_FIELD).ok_or(ConsentRefusal::Forged)?;
        let expected = self.csrf_token(&pending, binding);
        if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ConsentRefusal::Forged);
        }
        Ok(pending)
    }

    /// The name of the consent cookie for this engine's issuer.
    pub fn consent_cookie_name(&self) -> &'static str {
        if self.is_secure_issuer() {
            SECURE_CONSENT_COOKIE
        } else {
            CONSENT_COOKIE
        }
    }

    fn is_secure_issuer(&self) -> bool {
        // The scheme as the URL parser reads it: `HTTPS://` is https too.
        self.config
            .issuer()
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// HMAC over the request's random id and the browser binding: unique to the pair, and
    /// unforgeable without the sealing key.
    fn csrf_token(&self, pending: &PendingAuthorization, binding: &str) -> String {
        let mut context = hmac::Context::with_key(&self.sealing_key);
        context.update(CSRF_CONTEXT);
        // Tenants sharing a sealing key do not accept each other's forms.
        context.update(self.config.issuer().as_bytes());
        context.update(b"\0");
        context.update(pending.id.as_bytes());
        context.update(b"\0");
        context.update(binding.as_bytes());
        URL_SAFE_NO_PAD.encode(context.sign().as_ref())
    }
}

/// The value of cookie `name` in a `Cookie` header; the first one wins.
fn cookie_value<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A binding as [`RandomSource::secret`](crate::RandomSource::secret) makes it: base64url,
/// of a bounded length.
fn is_binding(value: &str) -> bool {
    (32..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn cookie_values_are_found_by_exact_name() {
        let header = Some("a=1; finrift_csrf=abc; xfinrift_csrf=evil");
        assert_eq!(cookie_value(header, CONSENT_COOKIE), Some("abc"));
        assert_eq!(
            cookie_value(Some("xfinrift_csrf=evil"), CONSENT_COOKIE),
            None
        );
        assert_eq!(cookie_value(None, CONSENT_COOKIE), None);
    }

    #[test]
    fn bindings_are_bounded_base64url() {
        assert!(is_binding(&"a".repeat(43)));
        assert!(!is_binding("short"));
        assert!(!is_binding(&"a".repeat(129)));
        assert!(!is_binding(&format!("{}\"", "a".repeat(43))));
    }
}
