//! Cross-checks with an independent JWT implementation (the `jsonwebtoken` crate), for
//! every algorithm: it verifies the tokens finrift mints (with keys read from finrift's
//! JWKS), and finrift's verifier accepts the tokens it signs.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use oauth_core::jose::{Algorithm, KeySet, SigningKey, VerificationKeys};
use oauth_core::{
    Client, Clock, Config, Engine, GrantType, ManualClock, ScopeSet, SystemClock, TokenOutcome,
    TokenVerifier,
};
use oauth_core::{FormRequest, JwtAccessTokens, FORM_CONTENT_TYPE};
use oauth_store_memory::MemoryStore;
use serde_json::{json, Value};

const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "https://api.example";
const SECRET: &str = "interop-secret-0123456789abcdef-0123456789";
const RSA_PKCS8: &[u8] = include_bytes!("../../oauth-core/testdata/rsa2048.pk8.der");
const RSA_PKCS1: &[u8] = include_bytes!("../../oauth-core/testdata/rsa2048.pk1.der");

/// finrift's key and the same key for jsonwebtoken.
fn keys(alg: Algorithm) -> (SigningKey, EncodingKey, jsonwebtoken::Algorithm) {
    match alg {
        Algorithm::Es256 => {
            let (key, pkcs8) = SigningKey::generate(alg, "k").unwrap();
            (
                key,
                EncodingKey::from_ec_der(&pkcs8),
                jsonwebtoken::Algorithm::ES256,
            )
        }
        Algorithm::EdDsa => {
            let (key, pkcs8) = SigningKey::generate(alg, "k").unwrap();
            (
                key,
                EncodingKey::from_ed_der(&pkcs8),
                jsonwebtoken::Algorithm::EdDSA,
            )
        }
        Algorithm::Rs256 => (
            SigningKey::from_pkcs8(alg, "k", RSA_PKCS8).unwrap(),
            EncodingKey::from_rsa_der(RSA_PKCS1),
            jsonwebtoken::Algorithm::RS256,
        ),
        _ => {
            let (key, secret) = SigningKey::generate(Algorithm::Hs256, "k").unwrap();
            (
                key,
                EncodingKey::from_secret(&secret),
                jsonwebtoken::Algorithm::HS256,
            )
        }
    }
}

/// jsonwebtoken checks `exp` against the wall clock, so these engines run on a manual
/// clock set to the real time.
fn now_clock() -> ManualClock {
    ManualClock::new(SystemClock.now())
}

async fn finrift_token(key: SigningKey) -> (String, Value) {
    let engine = Engine::builder(
        MemoryStore::new(),
        now_clock(),
        Config::builder(ISSUER).build().unwrap(),
    )
    .jwt_access_tokens(JwtAccessTokens::new(KeySet::new(key), AUDIENCE))
    .build()
    .unwrap();
    engine
        .register_client(
            Client::confidential("svc", SECRET)
                .unwrap()
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(ScopeSet::parse("read:payments").unwrap())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let body = format!(
        "grant_type=client_credentials&client_id=svc&client_secret={SECRET}&scope=read%3Apayments"
    );
    let TokenOutcome::Issued(tokens) = engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
        .unwrap()
    else {
        panic!("tokens");
    };
    (tokens.access_token, engine.jwks())
}

/// Asymmetric algorithms: jsonwebtoken reads the key from finrift's JWKS.
#[tokio::test]
async fn jsonwebtoken_verifies_finrift_tokens() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Rs256] {
        let (key, _, jwt_alg) = keys(alg);
        let (token, jwks) = finrift_token(key).await;
        let jwk: Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(jwt_alg);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"), "{alg}");
        assert_eq!(data.header.kid.as_deref(), Some("k"));
        assert_eq!(data.claims["client_id"], "svc");
        assert_eq!(data.claims["sub"], "svc");
        assert_eq!(data.claims["scope"], "read:payments");
        // A wrong audience is refused there too.
        validation.set_audience(&["https://elsewhere.example"]);
        assert!(jsonwebtoken::decode::<Value>(&token, &decoding, &validation).is_err());
    }
}

/// HS256: both sides hold the same secret; the JWKS publishes nothing.
#[tokio::test]
async fn jsonwebtoken_verifies_finrift_hs256_tokens() {
    let secret = [42u8; 32];
    let key = SigningKey::hmac("k", &secret).unwrap();
    let (token, jwks) = finrift_token(key).await;
    assert_eq!(jwks, json!({"keys": []}));
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    let data =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(&secret), &validation)
            .unwrap();
    assert_eq!(data.claims["sub"], "svc");
    assert!(jsonwebtoken::decode::<Value>(
        &token,
        &DecodingKey::from_secret(&[43u8; 32]),
        &validation
    )
    .is_err());
}

#[tokio::test]
async fn finrift_verifies_jsonwebtoken_tokens() {
    for alg in [
        Algorithm::Es256,
        Algorithm::EdDsa,
        Algorithm::Rs256,
        Algorithm::Hs256,
    ] {
        let (key, encoding, jwt_alg) = keys(alg);
        let clock = now_clock();
        let now = clock.now().unix_timestamp();
        let verifier = TokenVerifier::new(
            ISSUER,
            AUDIENCE,
            VerificationKeys::new([key.verification_key().clone()]),
            clock,
        );
        let mut header = Header::new(jwt_alg);
        header.kid = Some("k".into());
        header.typ = Some("at+jwt".into());
        let claims = json!({
            "iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "client_id": "app",
            "scope": "read:users write:users", "iat": now, "exp": now + 300, "jti": "j-1",
        });
        let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
        let principal = verifier
            .verify_jwt(&token)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(principal.subject, "alice");
        assert_eq!(principal.scope.to_string(), "read:users write:users");

        // The same token with typ JWT (jsonwebtoken's default) is not an access token.
        let mut plain = Header::new(jwt_alg);
        plain.kid = Some("k".into());
        let token = jsonwebtoken::encode(&plain, &claims, &encoding).unwrap();
        assert!(verifier.verify_jwt(&token).is_err(), "{alg}");
    }
}
