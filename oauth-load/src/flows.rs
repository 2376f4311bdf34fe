//! The HTTP exchanges of the scenarios, as the demo's clients make them, every answer
//! checked: a wrong status, a missing field or a broken redirect is an error.
//!
//! A [`Session`] is one keep-alive client: the workers use one each, so each holds one
//! connection to the server and sends its requests on it one after another.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use ring::rand::SystemRandom;

use crate::pkce::{random_token, Pkce};
use crate::Error;

/// The demo's confidential client.
pub const SERVICE_CLIENT: &str = "demo-service";
/// Its published demo secret (kept by the server as a PBKDF2 derivation).
pub const SERVICE_SECRET: &str = "demo-service-secret";
/// The demo's public browser client.
pub const SPA_CLIENT: &str = "demo-spa";
/// The SPA's registered redirect URI.
pub const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";
/// The demo user the code flows log in as, and the password.
pub const USER: (&str, &str) = ("alice", "alice-password");
/// The name of the consent form's CSRF binding cookie on plain `http`.
pub const CSRF_COOKIE: &str = "finrift_csrf";

/// No single request may take longer than this; a scenario's time bound is checked
/// between requests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One keep-alive HTTP client talking to the server at `base`. Not `Clone` on purpose: a
/// clone would share the connection pool, and each worker is to hold its own connection.
#[derive(Debug)]
pub struct Session {
    base: String,
    http: reqwest::Client,
    random: SystemRandom,
}

/// What a failed check says: the step and what was wrong.
fn fail(step: &str, what: impl std::fmt::Display) -> Error {
    format!("{step}: {what}").into()
}

impl Session {
    /// A client for the server at `base` (`http://127.0.0.1:<port>`), connecting from
    /// `source` when given (see [`crate::callers`]). It never follows redirects: the code
    /// flow reads the `Location` itself.
    pub fn new(base: &str, source: Option<IpAddr>) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .local_address(source)
            .build()?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            random: SystemRandom::new(),
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET <path>`: its status, once the whole body has been read.
    pub async fn status_of(&self, path: &str, bearer: Option<&str>) -> Result<StatusCode, Error> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }

    /// A client-credentials token for `demo-service` with `read:payments`: its access
    /// token, after checking for `200` and a JSON body that carries one.
    pub async fn client_credentials(&self) -> Result<String, Error> {
        let response = self
            .http
            .post(format!("{}/token", self.base))
            .basic_auth(SERVICE_CLIENT, Some(SERVICE_SECRET))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "read:payments"),
            ])
            .send()
            .await?;
        access_token("client credentials", response).await
    }

    /// `GET /api/payments` with `token`: checks for `200`.
    pub async fn api_call(&self, token: &str) -> Result<(), Error> {
        let status = self.status_of("/api/payments", Some(token)).await?;
        if status != StatusCode::OK {
            return Err(fail("GET /api/payments", format!("status {status}")));
        }
        Ok(())
    }

    /// `POST /revoke` of `token` as `demo-service`: checks for `200`.
    pub async fn revoke(&self, token: &str) -> Result<(), Error> {
        let response = self
            .http
            .post(format!("{}/revoke", self.base))
            .basic_auth(SERVICE_CLIENT, Some(SERVICE_SECRET))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if status != StatusCode::OK {
            return Err(fail("POST /revoke", format!("status {status}")));
        }
        Ok(())
    }

    /// A whole authorization-code flow for `demo-spa` as alice, with PKCE S256 and a
    /// state: the login page, the approved form (with its CSRF cookie), the code from
    /// the 303, and its exchange at `POST /token`. Returns the access token.
    pub async fn code_flow(&self) -> Result<String, Error> {
        let pkce = Pkce::new(&self.random)?;
        let state = random_token(&self.random)?;
        let authorize = format!("{}/authorize", self.base);
        let url = url::Url::parse_with_params(
            &authorize,
            &[
                ("response_type", "code"),
                ("client_id", SPA_CLIENT),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "read:users"),
                ("state", state.as_str()),
                ("code_challenge", pkce.challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )?;

        // The login page: the CSRF cookie and the form's hidden fields.
        let page = self.http.get(url).send().await?;
        if page.status() != StatusCode::OK {
            return Err(fail("GET /authorize", format!("status {}", page.status())));
        }
        let cookie = csrf_cookie(page.headers())
            .ok_or_else(|| fail("GET /authorize", "no finrift_csrf cookie"))?;
        let html = page.text().await?;
        let pending =
            hidden(&html, "pending").ok_or_else(|| fail("GET /authorize", "no pending field"))?;
        let csrf = hidden(&html, "csrf").ok_or_else(|| fail("GET /authorize", "no csrf field"))?;

        // The form, approved: a 303 to the client with the code, the state and iss.
        let answer = self
            .http
            .post(&authorize)
            .header(COOKIE, cookie)
            .form(&[
                ("pending", pending.as_str()),
                ("csrf", csrf.as_str()),
                ("username", USER.0),
                ("password", USER.1),
                ("decision", "approve"),
            ])
            .send()
            .await?;
        let status = answer.status();
        let location = answer
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        answer.bytes().await?;
        if status != StatusCode::SEE_OTHER {
            return Err(fail("POST /authorize", format!("status {status}")));
        }
        let location = location.ok_or_else(|| fail("POST /authorize", "no Location"))?;
        let code = code_from(&location, &state, &self.base)?;

        // The exchange, with the verifier.
        let response = self
            .http
            .post(format!("{}/token", self.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", SPA_CLIENT),
                ("code_verifier", pkce.verifier.as_str()),
            ])
            .send()
            .await?;
        access_token("code exchange", response).await
    }
}

/// Checks a token response for `200` and a non-empty `access_token`, and returns it.
async fn access_token(step: &str, response: reqwest::Response) -> Result<String, Error> {
    let status = response.status();
    let body = response.bytes().await?;
    if status != StatusCode::OK {
        return Err(fail(step, format!("status {status}")));
    }
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    match json.get("access_token").and_then(|token| token.as_str()) {
        Some(token) if !token.is_empty() => Ok(token.to_owned()),
        _ => Err(fail(step, "no access_token in the answer")),
    }
}

/// The `finrift_csrf=<value>` pair of the answer's `Set-Cookie` headers, as a browser
/// sends it back.
fn csrf_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.trim_start().starts_with(&format!("{CSRF_COOKIE}=")))
        .map(|pair| pair.trim().to_owned())
}

/// The value of the hidden form field `name` in the login page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_owned())
}

/// The code of the redirect to the client, after checking that it goes to the
/// registered redirect URI with our `state` and the server's `iss`.
fn code_from(location: &str, state: &str, issuer: &str) -> Result<String, Error> {
    const STEP: &str = "the 303 after approval";
    if !location.starts_with(REDIRECT_URI) {
        return Err(fail(STEP, format!("redirects to {location}")));
    }
    let url = url::Url::parse(location)?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if param("state").as_deref() != Some(state) {
        return Err(fail(STEP, "wrong or missing state"));
    }
    if param("iss").as_deref() != Some(issuer) {
        return Err(fail(STEP, "wrong or missing iss"));
    }
    param("code").ok_or_else(|| fail(STEP, "no code"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_form_fields_and_the_cookie() {
        let html = r#"<input type="hidden" name="pending" value="abc.def"><input type="hidden" name="csrf" value="xyz">"#;
        assert_eq!(hidden(html, "pending").as_deref(), Some("abc.def"));
        assert_eq!(hidden(html, "csrf").as_deref(), Some("xyz"));
        assert_eq!(hidden(html, "missing"), None);

        let mut headers = reqwest::header::HeaderMap::new();
        headers.append(SET_COOKIE, "other=1; Path=/".parse().unwrap());
        headers.append(
            SET_COOKIE,
            "finrift_csrf=v4lue; Path=/; HttpOnly; SameSite=Lax"
                .parse()
                .unwrap(),
        );
        assert_eq!(csrf_cookie(&headers).as_deref(), Some("finrift_csrf=v4lue"));
    }

    #[test]
    fn the_redirect_must_carry_state_and_iss() {
        let base = "http://127.0.0.1:9";
        let good = format!("{REDIRECT_URI}?code=C0de&state=s&iss=http%3A%2F%2F127.0.0.1%3A9");
        assert_eq!(code_from(&good, "s", base).unwrap(), "C0de");
        assert!(code_from(&good, "other", base).is_err());
        assert!(code_from(&good, "s", "http://127.0.0.1:10").is_err());
        assert!(code_from("http://evil.example/?code=C0de&state=s", "s", base).is_err());
        let no_code = format!("{REDIRECT_URI}?state=s&iss=http%3A%2F%2F127.0.0.1%3A9");
        assert!(code_from(&no_code, "s", base).is_err());
    }
}
