//! Pushed authorization requests and DPoP against a demo, with proofs signed by
//! `jsonwebtoken` (an implementation that is not finrift's): the FAPI 2.0 path of a
//! public client, end to end, and the attacks on it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

use super::*;

/// A client's DPoP key, signing with `jsonwebtoken`.
struct ProofKey {
    encoding: EncodingKey,
    jwk: jsonwebtoken::jwk::Jwk,
    count: std::cell::Cell<u32>,
}

impl ProofKey {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: serde_json::from_value(jwk).unwrap(),
            count: std::cell::Cell::new(0),
        }
    }

    /// A fresh proof for `method` and `url`, with `ath` for `token` when given.
    fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        self.count.set(self.count.get() + 1);
        let now = oauth_core::Clock::now(&oauth_core::SystemClock).unix_timestamp();
        let mut claims = json!({
            "htm": method, "htu": url, "iat": now,
            "jti": format!("{}-{}", self.count.get(), now),
        });
        if let Some(token) = token {
            let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            claims["ath"] = URL_SAFE_NO_PAD.encode(hash).into();
        }
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

/// Pushes demo-spa's authorization request for `read:users`, with a proof by `key`;
/// answers the `request_uri` and the PKCE verifier.
async fn push(base: &str, key: &ProofKey) -> (String, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let url = format!("{base}/par");
    let response = http()
        .post(&url)
        .header("DPoP", key.proof("POST", &url, None))
        .form(&[
            ("response_type", "code"),
            ("client_id", "demo-spa"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "read:users"),
            ("state", "pushed-state"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["expires_in"], 60);
    let uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    (uri, verifier)
}

/// The authorization endpoint's URL with only `client_id` and `request_uri`.
fn pushed_url(base: &str, request_uri: &str) -> url::Url {
    let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "demo-spa")
        .append_pair("request_uri", request_uri);
    url
}

/// Opens the authorization endpoint with only `client_id` and `request_uri`.
async fn open_pushed(base: &str, request_uri: &str) -> reqwest::Response {
    http()
        .get(pushed_url(base, request_uri))
        .send()
        .await
        .unwrap()
}

/// Logs alice in on the login page of a pushed request; answers the code.
async fn login_pushed(base: &str, request_uri: &str) -> String {
    let location = approve_as_alice(base, pushed_url(base, request_uri)).await;
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("pushed-state")
    );
    query_param(&location, "code").unwrap()
}

/// A token request for demo-spa with `fields`, proved by `key` when given.
async fn token_request(
    base: &str,
    fields: &[(&str, &str)],
    key: Option<&ProofKey>,
) -> reqwest::Response {
    let url = format!("{base}/token");
    let mut request = http().post(&url).form(fields);
    if let Some(key) = key {
        request = request.header("DPoP", key.proof("POST", &url, None));
    }
    request.send().await.unwrap()
}

async fn exchange(
    base: &str,
    code: &str,
    verifier: &PkceCodeVerifier,
    key: Option<&ProofKey>,
) -> reqwest::Response {
    token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "demo-spa"),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.secret()),
        ],
        key,
    )
    .await
}

/// The API at `/api/users` with `authorization` and an optional proof header.
async fn users(base: &str, authorization: &str, proof: Option<&str>) -> StatusCode {
    let mut request = http()
        .get(format!("{base}/api/users"))
        .header(AUTHORIZATION, authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap().status()
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A pushed request with a DPoP proof, the login, a DPoP-bound code exchange, DPoP-
/// protected API calls and a refresh with the same key; and the attacks: a `request_uri`
/// used twice or by another client, the code or refresh token with another key, the
/// bound token as `Bearer`, a replayed proof, a proof for another URL.
pub async fn dp03_pushed_request_and_dpop_bound_tokens_end_to_end(base: &str) {
    let metadata: Value = http()
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap();
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        format!("{base}/par")
    );
    assert_eq!(metadata["require_pushed_authorization_requests"], false);

    let key = ProofKey::new();
    let (request_uri, verifier) = push(base, &key).await;
    let code = login_pushed(base, &request_uri).await;
    // Used once: the same request_uri again is an error page, not a login page.
    let again = open_pushed(base, &request_uri).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("was used before"));

    let tokens: Value = {
        let response = exchange(base, &code, &verifier, Some(&key)).await;
        assert_eq!(response.status(), StatusCode::OK);
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    };
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().unwrap();
    let api_url = format!("{base}/api/users");
    let dpop_auth = format!("DPoP {access}");
    let proof = key.proof("GET", &api_url, Some(access));
    assert_eq!(users(base, &dpop_auth, Some(&proof)).await, StatusCode::OK);
    assert_eq!(
        users(base, &dpop_auth, Some(&proof)).await,
        StatusCode::UNAUTHORIZED,
        "a replayed proof"
    );
    let fresh = key.proof("GET", &api_url, Some(access));
    assert_eq!(
        users(base, &format!("Bearer {access}"), Some(&fresh)).await,
        StatusCode::UNAUTHORIZED,
        "a bound token as Bearer"
    );
    let elsewhere = key.proof("GET", &format!("{base}/api/payments"), Some(access));
    assert_eq!(
        users(base, &dpop_auth, Some(&elsewhere)).await,
        StatusCode::UNAUTHORIZED,
        "a proof for another URL"
    );
    let thief = ProofKey::new();
    let stolen = thief.proof("GET", &api_url, Some(access));
    assert_eq!(
        users(base, &dpop_auth, Some(&stolen)).await,
        StatusCode::UNAUTHORIZED,
        "a proof of another key"
    );

    // The refresh token of a public client is bound to the key too.
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refresh_fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", "demo-spa"),
    ];
    let (status, error) = error_of(token_request(base, &refresh_fields, Some(&thief)).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
    );
    let refreshed = token_request(base, &refresh_fields, Some(&key)).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = serde_json::from_str(&refreshed.text().await.unwrap()).unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    let proof = key.proof("GET", &api_url, Some(access));
    assert_eq!(
        users(base, &format!("DPoP {access}"), Some(&proof)).await,
        StatusCode::OK
    );

    // A code pushed with one key is not redeemed with another.
    let (request_uri, verifier) = push(base, &key).await;
    let code = login_pushed(base, &request_uri).await;
    let (status, error) = error_of(exchange(base, &code, &verifier, Some(&thief)).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
    );

    // A request_uri belongs to the client that pushed it.
    let (request_uri, _) = push(base, &key).await;
    let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "demo-service")
        .append_pair("request_uri", &request_uri);
    let foreign = http().get(url).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert!(foreign
        .text()
        .await
        .unwrap()
        .contains("belongs to another client"));
}
