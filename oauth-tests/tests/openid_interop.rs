//! OI-01 cross-checked with an independent JWT implementation (the `jsonwebtoken` crate):
//! it verifies finrift's ID tokens in RS256 and ES256 with the key it reads from
//! finrift's JWKS, and finds the claims, the nonce and the `at_hash` a relying party
//! checks.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Validation};
use oauth_core::storage::SignIn;
use oauth_core::testing::ReferenceStore;
use oauth_tests::{test_provider, Harness, ISSUER, START};
use serde_json::Value;

#[tokio::test]
async fn oi01_jsonwebtoken_verifies_finrift_id_tokens_rs256_and_es256() {
    // The harness clock is in 2030, ahead of the wall clock jsonwebtoken checks `exp`
    // against: the tokens are live for it.
    let h = Harness::new(async { ReferenceStore::new() })
        .await
        .with_openid(test_provider())
        .await;
    for (client, alg) in [
        ("rp", jsonwebtoken::Algorithm::RS256),
        ("rp-es", jsonwebtoken::Algorithm::ES256),
    ] {
        let mut sign_in = SignIn::new(START);
        sign_in.nonce = Some("n-0S6_WzA2Mj".into());
        let code = h
            .openid_code(client, "openid email", "alice", Some(sign_in))
            .await;
        let tokens = h.redeem_openid(client, &code).await;
        let id_token = tokens.id_token.unwrap();

        let header = jsonwebtoken::decode_header(&id_token).unwrap();
        assert_eq!(header.alg, alg);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let kid = header.kid.unwrap();
        let jwks = h.engine.jwks();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the signing key is in the JWKS");
        let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
        let mut validation = Validation::new(alg);
        validation.set_audience(&[client]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Value>(
            &id_token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{client}: {e}"));
        assert_eq!(data.claims["sub"], "alice");
        assert_eq!(data.claims["azp"], client);
        assert_eq!(data.claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(data.claims["auth_time"], START.unix_timestamp());
        let digest = ring::digest::digest(&ring::digest::SHA256, tokens.access_token.as_bytes());
        assert_eq!(
            data.claims["at_hash"],
            URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
        );
        // Another audience is refused there too.
        validation.set_audience(&["someone-else"]);
        assert!(jsonwebtoken::decode::<Value>(
            &id_token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &validation
        )
        .is_err());
    }
}
