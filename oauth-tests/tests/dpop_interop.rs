//! DPoP proofs made by an independent JWT implementation (the `jsonwebtoken` crate, with
//! the public key in the header's `jwk`) bind a JWT access token at the token endpoint.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{EncodingKey, Header};
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::{
    AccessTokenType, Client, Clock, Config, Engine, GrantType, ManualClock, ScopeSet, TokenOutcome,
};
use oauth_core::{FormRequest, JwtAccessTokens, FORM_CONTENT_TYPE};
use oauth_store_memory::MemoryStore;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

#[tokio::test]
async fn dp01_a_jsonwebtoken_proof_binds_the_access_token() {
    let clock = ManualClock::new(time::macros::datetime!(2030-01-01 00:00 UTC));
    let now = clock.now().unix_timestamp();
    let store = MemoryStore::new();
    let config = Config::builder("https://auth.example").build().unwrap();
    let key = SigningKey::generate(Algorithm::Es256, "k1").unwrap().0;
    let engine = Engine::builder(store, clock, config)
        .jwt_access_tokens(JwtAccessTokens::new(
            KeySet::new(key),
            "https://api.example",
        ))
        .build()
        .unwrap();
    let client = Client::confidential("svc", "svc-secret-0123456789abcdef-0123456789abc")
        .map(|c| {
            c.allowed_scopes(ScopeSet::parse("read").unwrap())
                .grant_types([GrantType::ClientCredentials])
        })
        .and_then(|b| b.build())
        .unwrap();
    oauth_core::ClientStore::put_client(engine.storage(), client)
        .await
        .unwrap();

    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let point = pair.public_key().as_ref();
    let jwk: Jwk = serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]),
    }))
    .unwrap();
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(jwk);
    let claims = json!({
        "htm": "POST", "htu": "https://auth.example/token", "iat": now, "jti": "interop-1",
    });
    let proof =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(pkcs8.as_ref())).unwrap();

    let body = b"grant_type=client_credentials&scope=read";
    let authorization = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "svc:svc-secret-0123456789abcdef-0123456789abc"
        )
    );
    let request = FormRequest::new(Some(FORM_CONTENT_TYPE), body)
        .with_authorization(Some(&authorization))
        .with_dpop([proof.as_str()], "POST", "https://auth.example/token");
    let outcome = engine.token(&request).await.unwrap();
    let TokenOutcome::Issued(issued) = outcome else {
        panic!("refused: {outcome:?}");
    };
    assert_eq!(issued.token_type, AccessTokenType::DPoP);
}
