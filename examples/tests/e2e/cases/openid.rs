//! The demos as OpenID providers, driven by an independent relying party (the
//! `openidconnect` crate): one case per module of the OpenID Foundation's Basic OP test
//! plan that applies to the code flow, named after it.

use std::time::Duration;

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata,
    CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId as OidcClientId, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LanguageTag, LoginHint, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope as OidcScope, TokenResponse,
};

use super::*;

type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The relying party `demo-spa`, configured from the demo's discovery document.
async fn relying_party(base: &str) -> Rp {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(base.into()).unwrap(), &http())
            .await
            .expect("discovery and the JWKS");
    CoreClient::from_provider_metadata(metadata, OidcClientId::new("demo-spa".into()), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
}

/// One authorization request of the relying party, as the browser follows it.
struct Request {
    url: url::Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

/// The relying party's authorization request builder.
type Builder<'a> = openidconnect::AuthorizationRequest<
    'a,
    openidconnect::core::CoreAuthDisplay,
    CoreAuthPrompt,
    openidconnect::core::CoreResponseType,
>;

/// Builds an authorization request for `scopes` (besides `openid`), adjusted by `adjust`.
fn request<'a>(
    rp: &'a Rp,
    scopes: &[&str],
    adjust: impl FnOnce(Builder<'a>) -> Builder<'a>,
) -> Request {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut builder = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        builder = builder.add_scope(OidcScope::new((*scope).into()));
    }
    let (url, state, nonce) = adjust(builder).url();
    Request {
        url,
        state,
        nonce,
        verifier,
    }
}

/// Follows `request` to the login page, logs alice in, approves: the code.
async fn login(base: &str, request: &Request) -> String {
    let location = approve_as_alice(base, request.url.clone()).await;
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(request.state.secret().as_str())
    );
    query_param(&location, "code").expect("a code")
}

async fn exchange(rp: &Rp, code: &str, verifier: &PkceCodeVerifier) -> CoreTokenResponse {
    rp.exchange_code(AuthorizationCode::new(code.into()))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&http())
        .await
        .expect("tokens")
}

/// A whole sign-in as alice: the tokens, after the relying party checked the ID token
/// (signature against the JWKS, `iss`, `aud`, `exp`, `nonce`) and its `at_hash`.
async fn sign_in(base: &str, rp: &Rp, scopes: &[&str]) -> (CoreTokenResponse, Request) {
    let request = request(rp, scopes, |r| r);
    let code = login(base, &request).await;
    let tokens = exchange(rp, &code, &request.verifier).await;
    check_id_token(rp, &tokens, Some(&request.nonce));
    (tokens, request)
}

/// The relying party's checks of the ID token in `tokens`.
fn check_id_token(rp: &Rp, tokens: &CoreTokenResponse, nonce: Option<&Nonce>) {
    let id_token: &CoreIdToken = tokens.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier();
    let claims = match nonce {
        Some(nonce) => id_token.claims(&verifier, nonce),
        None => id_token.claims(&verifier, |sent: Option<&Nonce>| match sent {
            None => Ok(()),
            Some(_) => Err("a nonce nobody sent".to_owned()),
        }),
    }
    .expect("a valid ID token");
    assert_eq!(claims.subject().as_str(), "alice");
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected);
}

/// The claims of the ID token in `tokens`, as JSON.
fn id_token_claims(tokens: &CoreTokenResponse) -> Value {
    use base64::Engine as _;
    let token = tokens.id_token().unwrap().to_string();
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// `oidcc-server`: discovery, the code flow with PKCE and nonce, the ID token checked by
/// an independent relying party against the JWKS, RS256 (the default).
pub async fn oidcc_server(base: &str) {
    let rp = relying_party(base).await;
    let (tokens, _) = sign_in(base, &rp, &[]).await;
    let header = tokens.id_token().unwrap().to_string();
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["iss"], base);
    assert_eq!(claims["aud"], "demo-spa");
    assert!(claims["iat"].is_u64() && claims["exp"].is_u64() && claims["auth_time"].is_u64());
    assert!(!header.is_empty());
    let alg = tokens.id_token().unwrap().signing_alg().unwrap();
    assert_eq!(serde_json::to_value(alg).unwrap(), "RS256");
}

/// `oidcc-discovery-*`: the document's required values, and honest ones.
pub async fn oidcc_discovery_document_is_complete_and_honest(base: &str) {
    let response = http()
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(document["issuer"], base);
    assert_eq!(document["userinfo_endpoint"], format!("{base}/userinfo"));
    assert_eq!(document["response_types_supported"], json_array(&["code"]));
    assert_eq!(document["request_uri_parameter_supported"], false);
    assert_eq!(document["request_parameter_supported"], false);
    assert_eq!(document["claims_parameter_supported"], false);
    assert!(document["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|alg| alg == "RS256"));
    for scope in ["openid", "profile", "email"] {
        assert!(document["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == scope));
    }
    // The RFC 8414 document stays as it was.
    let oauth = http()
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth.status(), StatusCode::OK);
}

fn json_array(values: &[&str]) -> Value {
    Value::Array(values.iter().map(|v| Value::String((*v).into())).collect())
}

/// `oidcc-ensure-request-without-nonce-succeeds-for-code-flow`.
pub async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow(base: &str) {
    let rp = relying_party(base).await;
    let mut request = request(&rp, &[], |r| r);
    // The same request without its nonce.
    let pairs: Vec<(String, String)> = request
        .url
        .query_pairs()
        .filter(|(name, _)| name != "nonce")
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    request.url.query_pairs_mut().clear().extend_pairs(pairs);
    let code = login(base, &request).await;
    let tokens = exchange(&rp, &code, &request.verifier).await;
    check_id_token(&rp, &tokens, None);
    assert!(id_token_claims(&tokens).get("nonce").is_none());
}

/// `oidcc-scope-profile`, `oidcc-scope-email`: UserInfo releases what the scopes allow.
pub async fn oidcc_scope_profile_and_email(base: &str) {
    let rp = relying_party(base).await;
    let (tokens, _) = sign_in(base, &rp, &["profile", "email"]).await;
    let claims: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http())
        .await
        .expect("UserInfo");
    assert_eq!(claims.subject().as_str(), "alice");
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, Some("Alice Example"));

    // Only profile: no email.
    let (tokens, _) = sign_in(base, &rp, &["profile"]).await;
    let body = userinfo_get(base, tokens.access_token().secret()).await;
    assert_eq!(body["name"], "Alice Example");
    assert!(body.get("email").is_none(), "{body}");
}

async fn userinfo_get(base: &str, token: &str) -> Value {
    let response = http()
        .get(format!("{base}/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// `oidcc-userinfo-get`, `oidcc-userinfo-post-header`, `oidcc-userinfo-post-body`: the
/// same claims three ways, and `sub` equal to the ID token's.
pub async fn oidcc_userinfo_get_post_header_and_post_body(base: &str) {
    let rp = relying_party(base).await;
    let (tokens, _) = sign_in(base, &rp, &["email"]).await;
    let token = tokens.access_token().secret();
    let by_get = userinfo_get(base, token).await;
    let by_header: Value = {
        let response = http()
            .post(format!("{base}/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    };
    let by_body: Value = {
        let response = http()
            .post(format!("{base}/userinfo"))
            .form(&[("access_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    };
    assert_eq!(by_get, by_header);
    assert_eq!(by_get, by_body);
    assert_eq!(by_get["sub"], id_token_claims(&tokens)["sub"]);
    assert_eq!(by_get["email"], "alice@example.com");
}

/// UserInfo with a token that lacks `openid` is `insufficient_scope`; without a token,
/// a bearer challenge.
pub async fn oidcc_userinfo_needs_an_openid_token(base: &str) {
    let plain = alice_tokens(base, "read:users").await;
    let response = http()
        .get(format!("{base}/userinfo"))
        .bearer_auth(plain.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&response).contains("insufficient_scope"));
    let anonymous = http().get(format!("{base}/userinfo")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&anonymous).starts_with("Bearer"));
}

/// `oidcc-prompt-none-not-logged-in`: the demo keeps no session, so `prompt=none` is
/// answered `login_required` at the redirect URI, with no page.
pub async fn oidcc_prompt_none_not_logged_in(base: &str) {
    let rp = relying_party(base).await;
    let request = request(&rp, &[], |r| r.add_prompt(CoreAuthPrompt::None));
    let response = http().get(request.url.clone()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT_URI));
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(request.state.secret().as_str())
    );
}

/// `oidcc-prompt-login`, `oidcc-max-age-1`, `oidcc-max-age-10000`: the login page is
/// shown, and the ID token's `auth_time` is the login's, within `max_age`.
pub async fn oidcc_prompt_login_and_max_age(base: &str) {
    let rp = relying_party(base).await;
    let adjustments: [fn(Builder<'_>) -> Builder<'_>; 3] = [
        |r| r.add_prompt(CoreAuthPrompt::Login),
        |r| r.set_max_age(Duration::from_secs(1)),
        |r| r.set_max_age(Duration::from_secs(10_000)),
    ];
    for adjust in adjustments {
        let request = request(&rp, &[], adjust);
        let code = login(base, &request).await;
        let tokens = exchange(&rp, &code, &request.verifier).await;
        check_id_token(&rp, &tokens, Some(&request.nonce));
        let claims = id_token_claims(&tokens);
        let (auth_time, iat) = (claims["auth_time"].as_i64(), claims["iat"].as_i64());
        assert!(auth_time.is_some() && auth_time <= iat, "{claims}");
    }
}

/// `oidcc-max-age-*` with a malformed value, `oidcc-ensure-request-with-unknown-prompt`:
/// `invalid_request` at the redirect URI.
pub async fn oidcc_malformed_max_age_or_prompt_is_invalid_request(base: &str) {
    let rp = relying_party(base).await;
    let request = request(&rp, &[], |r| r);
    for (name, value) in [("max_age", "-1"), ("prompt", "none login")] {
        let mut url = request.url.clone();
        url.query_pairs_mut().append_pair(name, value);
        let response = http().get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some("invalid_request")
        );
    }
}

/// `oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported`,
/// `oidcc-request-uri-unsigned`: refused with their own errors.
pub async fn oidcc_request_and_request_uri_rejected_as_unsupported(base: &str) {
    let rp = relying_party(base).await;
    let request = request(&rp, &[], |r| r);
    for (name, error) in [
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
    ] {
        let mut url = request.url.clone();
        url.query_pairs_mut()
            .append_pair(name, "eyJhbGciOiJub25lIn0.e30.");
        let response = http().get(url).send().await.unwrap();
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        assert_eq!(query_param(&location, "error").as_deref(), Some(error));
    }
}

/// `oidcc-codereuse`: a code redeemed twice fails the second time, and the tokens of the
/// first are revoked.
pub async fn oidcc_codereuse(base: &str) {
    let rp = relying_party(base).await;
    let request = request(&rp, &[], |r| r);
    let code = login(base, &request).await;
    let tokens = exchange(&rp, &code, &request.verifier).await;
    let again = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(request.verifier.secret().clone()))
        .request_async(&http())
        .await;
    assert!(again.is_err());
    let response = http()
        .get(format!("{base}/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// `oidcc-refresh-token`: a refresh answers a new ID token for the same user and client,
/// without the nonce.
pub async fn oidcc_refresh_token(base: &str) {
    let rp = relying_party(base).await;
    let (tokens, _) = sign_in(base, &rp, &[]).await;
    let first = id_token_claims(&tokens);
    let refreshed = rp
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http())
        .await
        .expect("a refresh");
    check_id_token(&rp, &refreshed, None);
    let second = id_token_claims(&refreshed);
    for claim in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(first[claim], second[claim], "{claim}");
    }
    assert!(second.get("nonce").is_none());
}

/// `oidcc-id-token-hint`, `oidcc-login-hint`, `oidcc-ui-locales`, `oidcc-display-page`:
/// accepted, and the flow completes.
pub async fn oidcc_hints_are_accepted(base: &str) {
    let rp = relying_party(base).await;
    let (tokens, _) = sign_in(base, &rp, &[]).await;
    let id_token = tokens.id_token().unwrap().clone();
    let request = request(&rp, &[], |r| {
        r.set_id_token_hint(&id_token)
            .set_login_hint(LoginHint::new("alice".into()))
            .add_ui_locale(LanguageTag::new("fr".into()))
            .set_display(openidconnect::core::CoreAuthDisplay::Page)
    });
    let code = login(base, &request).await;
    let tokens = exchange(&rp, &code, &request.verifier).await;
    check_id_token(&rp, &tokens, Some(&request.nonce));
}

/// `oidcc-ensure-post-request-succeeds`: the authorization request sent as a form.
pub async fn oidcc_ensure_post_request_succeeds(base: &str) {
    let rp = relying_party(base).await;
    let request = request(&rp, &[], |r| r);
    let pairs: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    let response = http()
        .post(format!("{base}/authorize"))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the login page");
    assert!(response.text().await.unwrap().contains("name=\"pending\""));
}
