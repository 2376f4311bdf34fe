//! The OpenID Connect parameters of an authorization request (OpenID Connect Core 1.0
//! §3.1.2.1), read when the requested scope has `openid`.
//!
//! What the engine acts on: `nonce` (into the ID token, exactly), `prompt` and `max_age`
//! (whether the user must log in or consent again: [`Engine::interaction`]), and
//! `id_token_hint` (the user the client expects). What it passes to the embedder's login
//! page unread: `login_hint`, `display`, `ui_locales`, `claims_locales`, `acr_values`.
//!
//! [`Engine::interaction`]: crate::Engine::interaction

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::MAX_STATE_LEN;
use crate::error::OAuthError;
use crate::jose::MAX_TOKEN_LEN;
use crate::request::Params;

/// The longest `nonce` accepted: as long as a `state`. It travels in the pending request
/// and into the ID token, so it is bounded like every other value the engine keeps.
pub const MAX_NONCE_LEN: usize = MAX_STATE_LEN;

/// The longest hint or locale list accepted (`login_hint`, `ui_locales`, `acr_values`, …).
const MAX_HINT_LEN: usize = 512;

/// What a request's `prompt` asks for (§3.1.2.1). Empty when it sent none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    none: bool,
    login: bool,
    consent: bool,
    select_account: bool,
}

impl Prompt {
    /// `prompt=none`: show no page at all; answer `login_required`, `consent_required`
    /// or `interaction_required` rather than ask the user anything.
    pub fn is_none(&self) -> bool {
        self.none
    }

    /// `prompt=login`: the user must log in again, even with a session.
    pub fn login(&self) -> bool {
        self.login
    }

    /// `prompt=consent`: the user must be asked for consent, even if it was given before.
    pub fn consent(&self) -> bool {
        self.consent
    }

    /// `prompt=select_account`: the user should be offered a choice of account.
    pub fn select_account(&self) -> bool {
        self.select_account
    }

    /// Reads the space-separated values; `none` with any other value, and a value the
    /// specification does not define, are refused.
    fn parse(text: &str) -> Result<Self, OAuthError> {
        let mut prompt = Self::default();
        for value in text.split(' ').filter(|value| !value.is_empty()) {
            let flag = match value {
                "none" => &mut prompt.none,
                "login" => &mut prompt.login,
                "consent" => &mut prompt.consent,
                "select_account" => &mut prompt.select_account,
                _ => return Err(OAuthError::invalid_request("unknown prompt value")),
            };
            *flag = true;
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with another prompt value",
            ));
        }
        Ok(prompt)
    }
}

/// The OpenID Connect part of a pending authorization: what the engine will act on, and
/// the hints for the login page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default)]
    prompt: Prompt,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age: Option<u64>,
    /// The `sub` of a verified `id_token_hint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hinted_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    login_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ui_locales: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claims_locales: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acr_values: Option<String>,
    /// When the request was made: a login for `prompt=login` must be at least as recent.
    #[serde(with = "time::serde::timestamp")]
    requested_at: OffsetDateTime,
}

impl OpenIdRequest {
    /// The `nonce`, echoed exactly in the ID token.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// What `prompt` asks for.
    pub fn prompt(&self) -> Prompt {
        self.prompt
    }

    /// `max_age`: the most seconds since the user's last login that the client accepts.
    pub fn max_age(&self) -> Option<u64> {
        self.max_age
    }

    /// The user the client expects, from a verified `id_token_hint`.
    pub fn hinted_subject(&self) -> Option<&str> {
        self.hinted_subject.as_deref()
    }

    /// `login_hint`, for the login page (an email address or a name the user typed at
    /// the client), unverified.
    pub fn login_hint(&self) -> Option<&str> {
        self.login_hint.as_deref()
    }

    /// `display` (`page`, `popup`, `touch` or `wap`), for the login page; another value
    /// is dropped.
    pub fn display(&self) -> Option<&str> {
        self.display.as_deref()
    }

    /// `ui_locales`, the user's preferred languages for the pages, most preferred first.
    pub fn ui_locales(&self) -> Option<&str> {
        self.ui_locales.as_deref()
    }

    /// `claims_locales`, the preferred languages of the claims.
    pub fn claims_locales(&self) -> Option<&str> {
        self.claims_locales.as_deref()
    }

    /// `acr_values`, the authentication context classes the client asks for, in order.
    pub fn acr_values(&self) -> Option<&str> {
        self.acr_values.as_deref()
    }

    /// When the request was made.
    pub fn requested_at(&self) -> OffsetDateTime {
        self.requested_at
    }

    /// Whether a login at `auth_time` satisfies this request at `now`: not older than
    /// the request when it said `prompt=login`, and not older than `max_age`.
    pub(crate) fn accepts_login(&self, auth_time: OffsetDateTime, now: OffsetDateTime) -> bool {
        if self.prompt.login && auth_time < self.requested_at {
            return false;
        }
        match self.max_age {
            Some(max_age) => {
                let age = (now - auth_time).whole_seconds();
                age <= i64::try_from(max_age).unwrap_or(i64::MAX)
            }
            None => true,
        }
    }

    /// Reads the OpenID Connect parameters of `params`, at `now`. `hinted_subject` is
    /// the `sub` of the request's `id_token_hint`, already verified by the caller.
    pub(crate) fn read(
        params: &Params,
        hinted_subject: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Self, OAuthError> {
        let nonce = params.get("nonce");
        if nonce.is_some_and(|nonce| nonce.len() > MAX_NONCE_LEN) {
            return Err(OAuthError::invalid_request("the nonce is too long"));
        }
        let prompt = match params.get("prompt") {
            Some(text) => Prompt::parse(text)?,
            None => Prompt::default(),
        };
        let max_age = match params.get("max_age") {
            Some(text) => Some(parse_max_age(text)?),
            None => None,
        };
        let hint = |name: &str| -> Result<Option<String>, OAuthError> {
            match params.get(name) {
                Some(value) if value.len() > MAX_HINT_LEN => Err(OAuthError::invalid_request(
                    format!("the {name} parameter is too long"),
                )),
                value => Ok(value.map(str::to_owned)),
            }
        };
        let display = hint("display")?
            .filter(|display| matches!(display.as_str(), "page" | "popup" | "touch" | "wap"));
        Ok(Self {
            nonce: nonce.map(str::to_owned),
            prompt,
            max_age,
            hinted_subject,
            login_hint: hint("login_hint")?,
            display,
            ui_locales: hint("ui_locales")?,
            claims_locales: hint("claims_locales")?,
            acr_values: hint("acr_values")?,
            requested_at: now,
        })
    }
}

/// `max_age`: a non-negative integer number of seconds, digits only.
fn parse_max_age(text: &str) -> Result<u64, OAuthError> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OAuthError::invalid_request(
            "max_age must be a non-negative integer",
        ));
    }
    text.parse()
        .map_err(|_| OAuthError::invalid_request("max_age must be a non-negative integer"))
}

/// The longest `id_token_hint` read: the verifier's bound on any token.
pub(crate) const MAX_ID_TOKEN_HINT_LEN: usize = MAX_TOKEN_LEN;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2030-01-01 12:00 UTC);

    fn read(query: &str) -> Result<OpenIdRequest, OAuthError> {
        OpenIdRequest::read(&Params::parse(query).unwrap(), None, NOW)
    }

    #[test]
    fn prompt_values_are_read_and_none_stands_alone() {
        let prompt = read("prompt=login%20consent").unwrap().prompt();
        assert!(prompt.login() && prompt.consent() && !prompt.is_none());
        assert!(read("prompt=none").unwrap().prompt().is_none());
        assert!(read("prompt=none%20login").is_err());
        assert!(read("prompt=sometimes").is_err());
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        assert_eq!(read("max_age=0").unwrap().max_age(), Some(0));
        assert_eq!(read("max_age=3600").unwrap().max_age(), Some(3600));
        for bad in ["-1", "1.5", "+1", "abc", "99999999999999999999", "1%20"] {
            assert!(read(&format!("max_age={bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_login_must_be_fresh_enough_for_prompt_login_and_max_age() {
        let fresh = read("prompt=login").unwrap();
        assert!(!fresh.accepts_login(NOW - time::Duration::seconds(1), NOW));
        assert!(fresh.accepts_login(NOW, NOW));
        let aged = read("max_age=60").unwrap();
        assert!(aged.accepts_login(NOW - time::Duration::seconds(60), NOW));
        assert!(!aged.accepts_login(NOW - time::Duration::seconds(61), NOW));
        assert!(read("")
            .unwrap()
            .accepts_login(NOW - time::Duration::days(30), NOW));
    }

    #[test]
    fn hints_are_kept_and_bounded() {
        let request =
            read("login_hint=alice%40example.com&display=popup&ui_locales=fr%20en").unwrap();
        assert_eq!(request.login_hint(), Some("alice@example.com"));
        assert_eq!(request.display(), Some("popup"));
        assert_eq!(request.ui_locales(), Some("fr en"));
        assert_eq!(read("display=hologram").unwrap().display(), None);
        assert!(read(&format!("login_hint={}", "a".repeat(600))).is_err());
        assert!(read(&format!("nonce={}", "n".repeat(MAX_NONCE_LEN + 1))).is_err());
    }
}
