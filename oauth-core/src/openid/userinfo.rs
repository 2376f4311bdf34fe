//! The UserInfo endpoint (Core §5.3): the bearer token checked as at any protected
//! resource (RFC 6750, the engine's own guard), the user's claims from the embedder's
//! [`ClaimsSource`], and only those the token's scopes release (Core §5.4).

use std::fmt;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::claims_error::ClaimsError;
use super::issue::OPENID_SCOPE;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::Fault;
use crate::form_request::FORM_CONTENT_TYPE;
use crate::request::Params;
use crate::resource::{BearerOutcome, BearerRequest};
use crate::response::Response;
use crate::scope::ScopeSet;
use crate::storage::Storage;

/// The claims each standard scope releases (Core §5.4). The source's other claims are
/// never sent: a claim reaches a client only through a scope the user granted.
pub const SCOPE_CLAIMS: [(&str, &[&str]); 4] = [
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// Where the users' claims come from: your directory or database.
///
/// The engine asks for the user `subject` with the access token's `scope`, and keeps only
/// the claims that scope releases ([`SCOPE_CLAIMS`]); `sub` is always the token's own, so
/// a `sub` in the answer is ignored.
#[async_trait]
pub trait ClaimsSource: Send + Sync {
    /// The claims of `subject`, by their OpenID Connect names (`name`, `email`,
    /// `email_verified`, `address`, ...). An `Err` is answered `server_error`, with no
    /// claim.
    async fn claims(
        &self,
        subject: &str,
        scope: &ScopeSet,
    ) -> Result<Map<String, Value>, ClaimsError>;
}

/// A request to the UserInfo endpoint, as the adapter received it.
#[derive(Clone, Copy)]
pub struct UserInfoRequest<'a> {
    method: &'a str,
    authorization: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
}

impl fmt::Debug for UserInfoRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The header and the body may hold the access token.
        f.debug_struct("UserInfoRequest")
            .field("method", &self.method)
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl<'a> UserInfoRequest<'a> {
    /// A request with HTTP `method` (`GET` or `POST`) and the `Authorization` header.
    pub fn new(method: &'a str, authorization: Option<&'a str>) -> Self {
        Self {
            method,
            authorization,
            content_type: None,
            body: &[],
        }
    }

    /// The body of a `POST` with its `Content-Type`: a form body may carry the token as
    /// `access_token` (RFC 6750 §2.2). A `GET`'s body is never read.
    pub fn with_body(mut self, content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        self.content_type = content_type;
        self.body = body;
        self
    }
}

/// Whether `content_type` is the form media type, parameters aside.
fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE))
}

/// A refusal of RFC 6750 §3.1 `invalid_request` for a malformed request.
fn invalid_request(description: &str) -> Response {
    Response {
        status: 400,
        headers: vec![
            (
                "WWW-Authenticate",
                format!("Bearer error=\"invalid_request\", error_description=\"{description}\""),
            ),
            ("Cache-Control", "no-store".to_owned()),
        ],
        body: String::new(),
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Answers a UserInfo request (Core §5.3): `GET` or `POST` with
    /// `Authorization: Bearer`, or `POST` with `access_token` in a form body, exactly one
    /// of them (else `invalid_request`). The token must be live (else 401 `invalid_token`)
    /// and hold `openid` (else 403 `insufficient_scope`), each with its `WWW-Authenticate`
    /// challenge. The answer is `sub` and the [`ClaimsSource`]'s claims the token's scopes
    /// release, with `Cache-Control: no-store`. Another method is 405 with `Allow`; an
    /// engine that is no OpenID provider answers 404.
    ///
    /// `Err` is a fault of the server: the store, or the claims source failing
    /// ([`Fault::Claims`]); answer it with [`Response::from_fault`] (`server_error`).
    pub async fn userinfo(&self, request: &UserInfoRequest<'_>) -> Result<Response, Fault> {
        let Some(openid) = &self.openid else {
            return Ok(Response {
                status: 404,
                headers: vec![("Cache-Control", "no-store".to_owned())],
                body: String::new(),
            });
        };
        let params;
        let form_token = match request.method {
            "GET" => None,
            "POST" if is_form(request.content_type) => {
                params = match Params::parse_form_body(request.content_type, request.body) {
                    Ok(params) => params,
                    Err(_) => return Ok(invalid_request("the form body is malformed")),
                };
                if !params.repeated().is_empty() {
                    return Ok(invalid_request("a parameter is repeated"));
                }
                params.get("access_token")
            }
            "POST" => None,
            _ => {
                return Ok(Response {
                    status: 405,
                    headers: vec![
                        ("Allow", "GET, POST".to_owned()),
                        ("Cache-Control", "no-store".to_owned()),
                    ],
                    body: String::new(),
                })
            }
        };
        let bearer = BearerRequest::new(request.authorization, form_token);
        let required = ScopeSet::from_strs([OPENID_SCOPE])
            .map_err(|e| Fault::Config(format!("the openid scope: {e}")))?;
        let principal = match self.verify_bearer(&bearer, &required).await? {
            BearerOutcome::Admitted(principal) => principal,
            BearerOutcome::Refused(error) => return Ok(error.to_response()),
        };
        let claims = openid
            .claims
            .claims(&principal.subject, &principal.scope)
            .await
            .map_err(Fault::Claims)?;
        let mut released = released_claims(claims, &principal.scope);
        released.insert("sub".into(), Value::String(principal.subject));
        Ok(Response::json_no_store(200, &Value::Object(released)))
    }
}

/// The claims of `claims` that `scope` releases; every other one is dropped.
fn released_claims(mut claims: Map<String, Value>, scope: &ScopeSet) -> Map<String, Value> {
    let mut released = Map::new();
    for (scope_name, names) in SCOPE_CLAIMS {
        if !scope.contains(scope_name) {
            continue;
        }
        for name in names {
            if let Some(value) = claims.remove(*name) {
                released.insert((*name).to_owned(), value);
            }
        }
    }
    released
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn oi03_only_the_granted_scopes_claims_are_released() {
        let Value::Object(claims) = json!({
            "sub": "mallory", "name": "Alice", "email": "a@example.com",
            "email_verified": true, "phone_number": "+1 555", "ssn": "000-00-0000",
            "address": {"country": "FR"},
        }) else {
            unreachable!()
        };
        let scope = ScopeSet::parse("openid email").unwrap();
        let released = released_claims(claims.clone(), &scope);
        assert_eq!(
            Value::Object(released),
            json!({"email": "a@example.com", "email_verified": true})
        );
        let all = ScopeSet::parse("openid profile email address phone").unwrap();
        let released = released_claims(claims, &all);
        assert!(!released.contains_key("ssn") && !released.contains_key("sub"));
        assert_eq!(released.len(), 5);
    }

    #[test]
    fn only_the_form_media_type_is_a_form() {
        assert!(is_form(Some(FORM_CONTENT_TYPE)));
        assert!(is_form(Some(
            "Application/X-WWW-Form-Urlencoded; charset=utf-8"
        )));
        assert!(!is_form(Some("application/json")));
        assert!(!is_form(None));
    }
}
