//! The oxide-auth side of the peer comparison: an authorization server built from
//! oxide-auth's own in-memory primitives behind its `Generic` endpoint, fed the same query
//! strings and form bodies as finrift.
//!
//! A request reaches oxide-auth as its frontends hand it over: the query string and the
//! form body decoded into [`NormalizedParameter`]s (which, like finrift, refuse a parameter
//! sent twice), the `Authorization` header as it is. Its answers are its own
//! `simple::request::Response`: a redirect `Url`, or the token endpoint's JSON body.

use std::borrow::Cow;

use oxide_auth::endpoint::{
    AccessTokenFlow, AuthorizationFlow, Issuer, NormalizedParameter, OwnerConsent, OwnerSolicitor,
    QueryParameter, RefreshFlow, ResourceFlow, Scope, Solicitation, WebRequest,
};
use oxide_auth::frontends::simple::endpoint::{Generic, Vacant};
use oxide_auth::frontends::simple::extensions::{AddonList, Extended, Pkce};
use oxide_auth::frontends::simple::request::{Body, NoError, Response, Status};
use oxide_auth::primitives::authorizer::AuthMap;
use oxide_auth::primitives::generator::{Assertion, AssertionKind, RandomGenerator};
use oxide_auth::primitives::issuer::{TokenMap, TokenSigner};
use oxide_auth::primitives::registrar::{Client, ClientMap, RegisteredUrl};

use crate::fixture::{FlowRequests, PUBLIC_ID, REDIRECT_URI, SCOPE};

/// Random bytes per code and per token: 32, finrift's 256 bits (oxide-auth's own examples
/// use 16). Its `RandomGenerator` answers them in standard base64, 44 characters.
pub const RANDOM_BYTES: usize = 32;

/// One request as oxide-auth's endpoint reads it.
#[derive(Debug, Default)]
pub struct OxideRequest {
    query: NormalizedParameter,
    body: NormalizedParameter,
    auth: Option<String>,
}

impl OxideRequest {
    /// A `GET` with this (`application/x-www-form-urlencoded`) query string.
    pub fn query(query: &str) -> Self {
        Self {
            query: decode(query),
            ..Self::default()
        }
    }

    /// A form `POST` with this body.
    pub fn form(body: &str) -> Self {
        Self {
            body: decode(body),
            ..Self::default()
        }
    }

    /// A request with this `Authorization` header only.
    pub fn authorization(header: &str) -> Self {
        Self {
            auth: Some(header.to_owned()),
            ..Self::default()
        }
    }
}

/// Percent-decodes `encoded` into oxide-auth's parameter map, as its frontends do.
fn decode(encoded: &str) -> NormalizedParameter {
    url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

impl WebRequest for OxideRequest {
    type Error = NoError;
    type Response = Response;

    fn query(&mut self) -> Result<Cow<'_, dyn QueryParameter + 'static>, NoError> {
        Ok(Cow::Borrowed(&self.query))
    }

    fn urlbody(&mut self) -> Result<Cow<'_, dyn QueryParameter + 'static>, NoError> {
        Ok(Cow::Borrowed(&self.body))
    }

    fn authheader(&mut self) -> Result<Option<Cow<'_, str>>, NoError> {
        Ok(self.auth.as_deref().map(Cow::Borrowed))
    }
}

/// The resource owner: alice approves every request, as finrift's bench approves as alice.
#[derive(Debug, Clone, Copy)]
pub struct Alice;

impl OwnerSolicitor<OxideRequest> for Alice {
    fn check_consent(
        &mut self,
        _: &mut OxideRequest,
        _: Solicitation<'_>,
    ) -> OwnerConsent<Response> {
        OwnerConsent::Authorized("alice".to_owned())
    }
}

/// oxide-auth's endpoint issuing with `I`: its client registry, its map of codes, the
/// issuer, alice's consent, and the scope its resource server requires.
type Endpoint<I> = Generic<ClientMap, AuthMap<RandomGenerator>, I, Alice, Vec<Scope>>;

/// An oxide-auth server issuing tokens with `I`: the public client [`PUBLIC_ID`]
/// registered in a `ClientMap`, codes in an `AuthMap` of random codes, PKCE required.
pub struct OxideServer<I> {
    endpoint: Extended<Endpoint<I>, AddonList>,
}

/// Opaque random tokens kept in oxide-auth's `TokenMap`.
pub type OpaqueServer = OxideServer<TokenMap<RandomGenerator>>;

/// Self-contained tokens signed by oxide-auth's `TokenSigner` (HMAC-SHA256), refresh
/// tokens included.
pub type SignedServer = OxideServer<TokenSigner>;

/// A fresh `TokenMap` of [`RANDOM_BYTES`] tokens.
pub fn token_map() -> TokenMap<RandomGenerator> {
    TokenMap::new(RandomGenerator::new(RANDOM_BYTES))
}

impl OpaqueServer {
    /// A server keeping its tokens in a [`token_map`].
    pub fn opaque() -> Self {
        OxideServer::new(token_map())
    }

    /// Drops every token issued so far (untimed), so that a long measurement does not grow
    /// the maps without end: `TokenMap` never expires entries by itself.
    pub fn recycle(&mut self) {
        self.endpoint.inner.issuer = token_map();
    }
}

impl SignedServer {
    /// A server signing its tokens with the HMAC `key` (the bytes of finrift's HS256 key).
    pub fn signed(key: &[u8]) -> Self {
        let mut signer = TokenSigner::new(Assertion::new(AssertionKind::HmacSha256, key));
        // finrift's code exchange answers a refresh token as well; so does this one.
        signer.generate_refresh_tokens(true);
        OxideServer::new(signer)
    }
}

/// The tokens of a token endpoint answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OxideTokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
}

impl<I: Issuer> OxideServer<I> {
    /// A server issuing with `issuer`.
    pub fn new(issuer: I) -> Self {
        let mut registrar = ClientMap::new();
        registrar.register_client(Client::public(
            PUBLIC_ID,
            RegisteredUrl::Semantic(REDIRECT_URI.parse().expect("a valid redirect URI")),
            SCOPE.parse().expect("valid scopes"),
        ));
        let mut addons = AddonList::new();
        // S256 only: plain is refused unless allowed, as finrift refuses it.
        addons.push_code(Pkce::required());
        let generic = Generic {
            registrar,
            authorizer: AuthMap::new(RandomGenerator::new(RANDOM_BYTES)),
            issuer,
            solicitor: Alice,
            scopes: vec!["read:users".parse().expect("a valid scope")],
            response: Vacant,
        };
        Self {
            endpoint: Extended::extend_with(generic, addons),
        }
    }

    /// The authorization endpoint with alice's approval: the code, as the redirect carries
    /// it (percent-encoded, ready for a form body).
    pub fn authorize(&mut self, query: &str) -> String {
        let response = AuthorizationFlow::prepare(&mut self.endpoint)
            .unwrap_or_else(|_| panic!("an authorization endpoint"))
            .execute(OxideRequest::query(query))
            .unwrap_or_else(|_| panic!("the authorization flow ran"));
        assert_eq!(response.status, Status::Redirect, "the approval redirects");
        let location = response.location.expect("a redirect location");
        code_of(location.as_str()).to_owned()
    }

    /// The code exchange with this `code` (percent-encoded, as [`authorize`](Self::authorize)
    /// answers it), in the same body finrift is sent.
    pub fn exchange(&mut self, requests: &FlowRequests, code: &str) -> OxideTokens {
        let body = requests.exchange_body(code);
        let response = AccessTokenFlow::prepare(&mut self.endpoint)
            .unwrap_or_else(|_| panic!("a token endpoint"))
            .execute(OxideRequest::form(&body))
            .unwrap_or_else(|_| panic!("the token flow ran"));
        tokens(response)
    }

    /// One whole flow: authorize, approve, exchange the code with PKCE.
    pub fn full_flow(&mut self, requests: &FlowRequests) -> OxideTokens {
        let code = self.authorize(&requests.query);
        self.exchange(requests, &code)
    }

    /// The refresh grant (public client, the same body as finrift's): the new tokens.
    pub fn refresh(&mut self, refresh_token: &str) -> OxideTokens {
        // Its tokens are standard base64 ('+', '/', '='), which a client percent-encodes.
        let encoded: String =
            url::form_urlencoded::byte_serialize(refresh_token.as_bytes()).collect();
        let body =
            format!("grant_type=refresh_token&client_id={PUBLIC_ID}&refresh_token={encoded}");
        let response = RefreshFlow::prepare(&mut self.endpoint)
            .unwrap_or_else(|_| panic!("a refresh endpoint"))
            .execute(OxideRequest::form(&body))
            .unwrap_or_else(|_| panic!("the refresh flow ran"));
        tokens(response)
    }

    /// A resource server's check of `header` (`Bearer …`) for `read:users`: whether it
    /// passed.
    pub fn verify(&mut self, header: &str) -> bool {
        ResourceFlow::prepare(&mut self.endpoint)
            .unwrap_or_else(|_| panic!("a resource endpoint"))
            .execute(OxideRequest::authorization(header))
            .is_ok()
    }
}

/// The value of `code` in a redirect location, as finrift's fixture reads its own.
fn code_of(location: &str) -> &str {
    let start = location.find("code=").expect("the redirect carries a code") + 5;
    let rest = &location[start..];
    &rest[..rest.find('&').unwrap_or(rest.len())]
}

/// The tokens of a successful token answer; a refusal is a broken benchmark.
fn tokens(response: Response) -> OxideTokens {
    let body = match &response.body {
        Some(Body::Json(body)) => body.as_str(),
        other => panic!("a token answer without JSON: {other:?}"),
    };
    assert_eq!(
        response.status,
        Status::Ok,
        "the token request was refused: {body}"
    );
    OxideTokens {
        access_token: json_string(body, "access_token").to_owned(),
        refresh_token: json_string(body, "refresh_token").to_owned(),
    }
}

/// The string member `name` of a token answer, read as a client's JSON parser would find
/// it: oxide-auth's tokens are base64, which JSON does not escape.
fn json_string<'a>(body: &'a str, name: &str) -> &'a str {
    let key = format!("\"{name}\":\"");
    let start = body
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        + key.len();
    let rest = &body[start..];
    &rest[..rest.find('"').expect("a terminated string")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opaque_server_answers_every_operation() {
        let requests = FlowRequests::new();
        let mut server = OpaqueServer::opaque();
        let tokens = server.full_flow(&requests);
        assert_eq!(tokens.access_token.len(), 44, "32 random bytes in base64");
        assert!(server.verify(&format!("Bearer {}", tokens.access_token)));
        let rotated = server.refresh(&tokens.refresh_token);
        assert_ne!(rotated.refresh_token, tokens.refresh_token);
        assert!(server.verify(&format!("Bearer {}", rotated.access_token)));
        assert!(!server.verify(&format!("Bearer {}", tokens.access_token)));
        // A code is good once.
        let code = server.authorize(&requests.query);
        server.exchange(&requests, &code);
        let replay = requests.exchange_body(&code);
        let response = AccessTokenFlow::prepare(&mut server.endpoint)
            .unwrap_or_else(|_| panic!("a token endpoint"))
            .execute(OxideRequest::form(&replay))
            .unwrap_or_else(|_| panic!("the token flow ran"));
        assert_eq!(response.status, Status::BadRequest);
    }

    #[test]
    fn a_wrong_verifier_is_refused() {
        let requests = FlowRequests::new();
        let mut server = OpaqueServer::opaque();
        let code = server.authorize(&requests.query);
        let body = requests.exchange_body(&code).replace(
            crate::fixture::VERIFIER,
            "wrong-verifier-wrong-verifier-wrong-verifier",
        );
        let response = AccessTokenFlow::prepare(&mut server.endpoint)
            .unwrap_or_else(|_| panic!("a token endpoint"))
            .execute(OxideRequest::form(&body))
            .unwrap_or_else(|_| panic!("the token flow ran"));
        assert_eq!(response.status, Status::BadRequest);
    }

    #[test]
    fn the_signed_server_issues_tokens_it_verifies() {
        let requests = FlowRequests::new();
        let mut server = SignedServer::signed(&[7; 32]);
        let code = server.authorize(&requests.query);
        let tokens = server.exchange(&requests, &code);
        assert!(tokens.access_token.len() > 44);
        assert!(server.verify(&format!("Bearer {}", tokens.access_token)));
    }
}
