//! JWT access tokens through the engine, and the resource-server verifier (JW-11).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth_core::jose::{Algorithm, SigningKey, VerificationKeys};
use oauth_core::{BearerErrorKind, BearerRequest, ErrorCode, ScopeSet, Storage, TokenVerifier};
use oauth_core::{FormRequest, JwtAccessTokens, FORM_CONTENT_TYPE};
use serde_json::Value;
use time::Duration;

use crate::*;

fn rsa_key(kid: &str) -> SigningKey {
    SigningKey::from_pkcs8(
        Algorithm::Rs256,
        kid,
        include_bytes!("../../../oauth-core/testdata/rsa2048.pk8.der"),
    )
    .unwrap()
}

fn key_for(alg: Algorithm, kid: &str) -> SigningKey {
    match alg {
        Algorithm::Rs256 => rsa_key(kid),
        other => SigningKey::generate(other, kid).unwrap().0,
    }
}

fn decode_segment(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

/// Every algorithm: the code grant and client credentials issue RFC 9068 tokens that the
/// engine's own verifier and a verifier built from the published JWKS accept.
pub async fn jwt_access_tokens_for_every_algorithm<S: Storage + 'static>(h: Harness<S>) {
    for alg in [
        Algorithm::Es256,
        Algorithm::EdDsa,
        Algorithm::Rs256,
        Algorithm::Hs256,
    ] {
        let engine = h.jwt_engine(key_for(alg, "k1"));
        let pending = h
            .pending(&Harness::<S>::spa_request(&[(
                "scope",
                "read:users write:users",
            )]))
            .await;
        let oauth_core::AuthorizationResponse::Redirect(redirect) = engine
            .approve(&pending, "alice", pending.scope())
            .await
            .unwrap()
        else {
            panic!("redirect");
        };
        let code = redirect.param("code").unwrap();
        let body = encode(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", VERIFIER),
        ]);
        let tokens = expect_issued(
            engine
                .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
                .await
                .unwrap(),
        );
        let header = decode_segment(&tokens.access_token, 0);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["kid"], "k1");
        let claims = decode_segment(&tokens.access_token, 1);
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], API_AUDIENCE);
        assert_eq!(claims["client_id"], "spa");
        assert_eq!(claims["scope"], "read:users write:users");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
        assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
        assert!(claims.get("auth_time").is_none());
        assert!(
            !tokens.refresh_token.as_ref().unwrap().contains('.'),
            "refresh tokens stay opaque"
        );

        let verifier = engine.token_verifier();
        let principal = verifier.verify_jwt(&tokens.access_token).unwrap();
        assert_eq!(
            (principal.subject.as_str(), principal.client_id.as_str()),
            ("alice", "spa")
        );

        let jwks = engine.jwks();
        if alg == Algorithm::Hs256 {
            assert_eq!(
                jwks["keys"].as_array().unwrap().len(),
                0,
                "an HMAC secret is never published"
            );
        } else {
            let keys = VerificationKeys::from_jwks(&jwks.to_string()).unwrap();
            let remote = TokenVerifier::new(ISSUER, API_AUDIENCE, keys, h.clock.clone());
            assert!(remote.verify_jwt(&tokens.access_token).is_ok(), "{alg}");
            let elsewhere = TokenVerifier::new(
                ISSUER,
                "https://other-api.example",
                VerificationKeys::from_jwks(&jwks.to_string()).unwrap(),
                h.clock.clone(),
            );
            assert!(elsewhere.verify_jwt(&tokens.access_token).is_err());
        }

        // Refreshed access tokens are JWTs too; client credentials name the client as sub.
        let refreshed = expect_issued(
            engine
                .token(&FormRequest::new(
                    Some(FORM_CONTENT_TYPE),
                    encode(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", tokens.refresh_token.as_ref().unwrap()),
                        ("client_id", "spa"),
                    ])
                    .as_bytes(),
                ))
                .await
                .unwrap(),
        );
        assert!(verifier.verify_jwt(&refreshed.access_token).is_ok());
        let cc = expect_issued(
            engine
                .token(
                    &FormRequest::new(
                        Some(FORM_CONTENT_TYPE),
                        b"grant_type=client_credentials&scope=read%3Apayments",
                    )
                    .with_authorization(Some(&basic("server", SERVER_SECRET))),
                )
                .await
                .unwrap(),
        );
        let claims = decode_segment(&cc.access_token, 1);
        assert_eq!(
            (claims["sub"].as_str(), claims["client_id"].as_str()),
            (Some("server"), Some("server"))
        );
    }
}

/// `auth_time`, when configured, is the time the user approved.
pub async fn jwt_auth_time_is_the_approval_time<S: Storage + 'static>(h: Harness<S>) {
    let engine = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .jwt_access_tokens(
        JwtAccessTokens::new(
            oauth_core::jose::KeySet::new(key_for(Algorithm::EdDsa, "k")),
            API_AUDIENCE,
        )
        .include_auth_time(true),
    )
    .build()
    .unwrap();
    let approved_at = {
        use oauth_core::Clock;
        h.clock.now().unix_timestamp()
    };
    let h = h.with_engine(engine);
    let code = h.spa_code().await;
    h.clock.advance(Duration::seconds(30));
    let tokens = h.redeem_spa(&code).await;
    assert_eq!(
        decode_segment(&tokens.access_token, 1)["auth_time"],
        approved_at
    );
    h.clock.advance(Duration::hours(2));
    let refreshed = expect_issued(
        h.refresh_spa(tokens.refresh_token.as_ref().unwrap(), None)
            .await,
    );
    assert_eq!(
        decode_segment(&refreshed.access_token, 1)["auth_time"],
        approved_at
    );
}

/// Key rotation: tokens signed by the previous key verify until it is retired; the JWKS
/// publishes both meanwhile.
pub async fn jwt_signing_key_rotation<S: Storage + 'static>(h: Harness<S>) {
    let h = {
        let engine = h.jwt_engine(key_for(Algorithm::Es256, "2030-01"));
        h.with_engine(engine)
    };
    let before = h.redeem_spa(&h.spa_code().await).await;
    h.engine
        .rotate_signing_key(key_for(Algorithm::Es256, "2030-02"));
    let after = h.redeem_spa(&h.spa_code().await).await;
    assert_eq!(decode_segment(&after.access_token, 0)["kid"], "2030-02");
    let kids: Vec<String> = h.engine.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids, ["2030-02", "2030-01"]);
    let verifier = h.engine.token_verifier();
    assert!(verifier.verify_jwt(&before.access_token).is_ok());
    assert!(verifier.verify_jwt(&after.access_token).is_ok());
    h.engine.retire_signing_key("2030-01");
    assert!(h
        .engine
        .token_verifier()
        .verify_jwt(&before.access_token)
        .is_err());
}

/// JW-11: `bearer` in lower case works; a token in header and body at once is
/// invalid_request; no credentials is a bare 401 `Bearer` challenge; a missing scope is 403
/// insufficient_scope; opaque tokens verify through the store.
pub async fn jw11_resource_server_bearer_rules<S: Storage + 'static>(h: Harness<S>) {
    let jwt_engine = h.jwt_engine(key_for(Algorithm::EdDsa, "k"));
    let verifier = jwt_engine.token_verifier();
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    let oauth_core::AuthorizationResponse::Redirect(redirect) = jwt_engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap()
    else {
        panic!("redirect");
    };
    let code = redirect.param("code").unwrap();
    let jwt = expect_issued(
        jwt_engine
            .token(&FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                encode(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", "spa"),
                    ("redirect_uri", SPA_REDIRECT),
                    ("code_verifier", VERIFIER),
                ])
                .as_bytes(),
            ))
            .await
            .unwrap(),
    )
    .access_token;
    let read = ScopeSet::parse("read:users").unwrap();
    let write = ScopeSet::parse("write:users").unwrap();

    let lower = format!("bearer {jwt}");
    assert_eq!(
        verifier
            .verify(&BearerRequest::new(Some(&lower), None), &read)
            .unwrap()
            .subject,
        "alice"
    );
    assert!(verifier
        .verify(&BearerRequest::new(None, Some(&jwt)), &read)
        .is_ok());

    let upper = format!("Bearer {jwt}");
    let both = verifier
        .verify(&BearerRequest::new(Some(&upper), Some(&jwt)), &read)
        .unwrap_err();
    assert_eq!(
        (both.status(), both.code()),
        (400, Some(ErrorCode::InvalidRequest))
    );
    assert!(both
        .www_authenticate()
        .starts_with("Bearer error=\"invalid_request\""));

    let none = verifier
        .verify(&BearerRequest::new(None, None), &read)
        .unwrap_err();
    assert_eq!(
        (none.status(), none.www_authenticate().as_str()),
        (401, "Bearer")
    );
    assert_eq!(
        none.to_response().header("WWW-Authenticate"),
        Some("Bearer")
    );

    let scope = verifier
        .verify(&BearerRequest::new(Some(&upper), None), &write)
        .unwrap_err();
    assert_eq!(
        (scope.status(), scope.kind()),
        (403, BearerErrorKind::InsufficientScope)
    );
    assert!(scope.www_authenticate().contains("scope=\"write:users\""));

    let tampered = format!("Bearer {}x", &jwt[..jwt.len() - 1]);
    let invalid = verifier
        .verify(&BearerRequest::new(Some(&tampered), None), &read)
        .unwrap_err();
    assert_eq!(
        (invalid.status(), invalid.code()),
        (401, Some(ErrorCode::InvalidToken))
    );
    assert!(invalid.reason().is_some());
    assert!(
        !invalid.www_authenticate().contains("signature"),
        "the reason stays in logs"
    );

    // Opaque tokens, through the store.
    let opaque = h.redeem_spa(&h.spa_code().await).await;
    let header = format!("Bearer {}", opaque.access_token);
    let request = BearerRequest::new(Some(&header), None);
    let store_verifier = h.engine.token_verifier();
    let principal = store_verifier
        .verify_with_store(&*h.store, &request, &read)
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(principal.subject, "alice");
    assert!(
        store_verifier.verify(&request, &read).is_err(),
        "an opaque token needs the store"
    );
    let refresh_as_access = format!("Bearer {}", opaque.refresh_token.as_ref().unwrap());
    let refused = store_verifier
        .verify_with_store(
            &*h.store,
            &BearerRequest::new(Some(&refresh_as_access), None),
            &read,
        )
        .await
        .unwrap();
    assert_eq!(
        refused.into_result().unwrap_err().status(),
        401,
        "a refresh token is no access token"
    );
    h.clock.advance(Duration::minutes(10));
    let expired = store_verifier
        .verify_with_store(&*h.store, &request, &read)
        .await
        .unwrap();
    assert_eq!(expired.into_result().unwrap_err().status(), 401);
}
