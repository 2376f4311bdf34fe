//! `private_key_jwt` client authentication: DP-05 of SECURITY.md. The assertions are
//! signed by `jsonwebtoken`, an implementation independent of finrift's.

use jsonwebtoken::{EncodingKey, Header};
use oauth_core::jose::{Algorithm, SigningKey};
use oauth_core::{
    Client, Clock, ErrorCode, FormRequest, GrantType, IntrospectionOutcome, RevocationOutcome,
    ScopeSet, Storage, TokenOutcome, FORM_CONTENT_TYPE,
};
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use crate::*;

pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The `private_key_jwt` client of these cases.
pub(crate) const CLIENT: &str = "signer";
/// The kid of its registered ES256 key.
pub(crate) const KID: &str = "signer-1";

/// A fresh ES256 key: its PKCS#8 document, and its public JWK under `kid`.
pub(crate) fn es256_key(kid: &str) -> (Vec<u8>, Value) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let jwk = SigningKey::from_pkcs8(Algorithm::Es256, kid, pkcs8.as_ref())
        .unwrap()
        .verification_key()
        .to_jwk()
        .unwrap();
    (pkcs8.as_ref().to_vec(), jwk)
}

/// Registers [`CLIENT`] with one ES256 key; answers the key, to sign with.
pub(crate) async fn register<S: Storage + 'static>(h: &Harness<S>) -> (EncodingKey, Value) {
    let (pkcs8, jwk) = es256_key(KID);
    let client = Client::private_key_jwt(CLIENT, &json!({"keys": [jwk]}).to_string())
        .unwrap()
        .redirect_uri(SERVER_REDIRECT)
        .unwrap()
        .grant_types([GrantType::ClientCredentials, GrantType::AuthorizationCode])
        .allowed_scopes(ScopeSet::parse("read:payments").unwrap())
        .default_scopes(ScopeSet::parse("read:payments").unwrap())
        .build()
        .unwrap();
    assert_eq!(client.token_endpoint_auth_method(), "private_key_jwt");
    h.engine.register_client(client).await.unwrap();
    (EncodingKey::from_ec_der(&pkcs8), jwk)
}

/// The claims of a valid assertion by `client`, now, with a unique `jti`.
pub(crate) fn claims<S>(h: &Harness<S>, client: &str) -> Value {
    let now = h.clock.now().unix_timestamp();
    json!({
        "iss": client, "sub": client, "aud": ISSUER,
        "iat": now, "exp": now + 60,
        "jti": format!("jti-{now}-{}", rand_suffix()),
    })
}

fn rand_suffix() -> u64 {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

/// `claims` signed with `key` under `alg` and `kid`.
pub(crate) fn sign(
    claims: &Value,
    key: &EncodingKey,
    alg: jsonwebtoken::Algorithm,
    kid: &str,
) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// `claims` signed with the client's ES256 key.
pub(crate) fn es256(claims: &Value, key: &EncodingKey) -> String {
    sign(claims, key, jsonwebtoken::Algorithm::ES256, KID)
}

/// A client credentials request authenticated by `assertion`.
async fn cc<S: Storage + 'static>(h: &Harness<S>, assertion: &str) -> TokenOutcome {
    h.token(
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

async fn refused<S: Storage + 'static>(h: &Harness<S>, assertion: &str, why: &str) {
    let outcome = cc(h, assertion).await;
    let error = expect_refused(&outcome, ErrorCode::InvalidClient, 401);
    assert_eq!(
        error.description(),
        "client authentication failed",
        "{why}: nothing says which check failed"
    );
}

/// DP-05: a valid assertion gets tokens, introspects, revokes and pushes an authorization
/// request (once: replayed there too, it is refused); the metadata lists the method and
/// its algorithms.
pub async fn dp05_a_valid_assertion_authenticates_at_every_endpoint<S: Storage + 'static>(
    h: Harness<S>,
) {
    let (key, _) = register(&h).await;
    let issued = expect_issued(cc(&h, &es256(&claims(&h, CLIENT), &key)).await);
    // The token endpoint's URL is an audience too, and `aud` may be an array.
    let mut at_token = claims(&h, CLIENT);
    at_token["aud"] = json!(["https://elsewhere.example", format!("{ISSUER}/token")]);
    expect_issued(cc(&h, &es256(&at_token, &key)).await);
    // client_id may name the client as well.
    let named = es256(&claims(&h, CLIENT), &key);
    expect_issued(
        h.token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &named),
            ],
            None,
        )
        .await,
    );

    let introspection = es256(&claims(&h, CLIENT), &key);
    let pairs = [
        ("token", issued.access_token.as_str()),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", &introspection),
    ];
    let outcome = h
        .engine
        .introspect(&FormRequest::new(
            Some(FORM_CONTENT_TYPE),
            encode(&pairs).as_bytes(),
        ))
        .await
        .unwrap();
    let IntrospectionOutcome::Active(body) = outcome else {
        panic!("active: {outcome:?}")
    };
    assert_eq!(body["client_id"], CLIENT);

    let revocation = es256(&claims(&h, CLIENT), &key);
    let outcome = h
        .revoke(
            &[
                ("token", issued.access_token.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &revocation),
            ],
            None,
        )
        .await;
    assert!(matches!(outcome, RevocationOutcome::Done), "{outcome:?}");
    assert!(!h.is_active(&issued.access_token).await);

    let challenge = oauth_core::CodeChallenge::from_verifier(VERIFIER);
    let pushed = es256(&claims(&h, CLIENT), &key);
    let pairs = [
        ("response_type", "code"),
        ("redirect_uri", SERVER_REDIRECT),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", &pushed),
    ];
    let push = || async {
        h.engine
            .push_authorization_request(&FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                encode(&pairs).as_bytes(),
            ))
            .await
            .unwrap()
    };
    assert_eq!(push().await.to_response().status, 201);
    // RFC 9126 §2: the pushed request endpoint's URL is an audience there.
    let mut at_par = claims(&h, CLIENT);
    at_par["aud"] = json!(format!("{ISSUER}/par"));
    let at_par = es256(&at_par, &key);
    let mut par_pairs = pairs.to_vec();
    par_pairs.retain(|(name, _)| *name != "client_assertion");
    par_pairs.push(("client_assertion", &at_par));
    let outcome = h
        .engine
        .push_authorization_request(&FormRequest::new(
            Some(FORM_CONTENT_TYPE),
            encode(&par_pairs).as_bytes(),
        ))
        .await
        .unwrap();
    assert_eq!(outcome.to_response().status, 201);
    let replayed = push().await;
    assert_eq!(
        replayed.error().map(|e| e.code()),
        Some(ErrorCode::InvalidClient)
    );

    let metadata = serde_json::to_value(h.engine.metadata()).unwrap();
    let methods = metadata["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("private_key_jwt"), "{methods}");
    assert_eq!(
        metadata["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "PS256", "RS256"])
    );
}

/// DP-05: an assertion is used once, across every instance sharing the store.
pub async fn dp05_a_replayed_assertion_is_invalid_client<S: Storage + 'static>(h: Harness<S>) {
    let (key, _) = register(&h).await;
    let assertion = es256(&claims(&h, CLIENT), &key);
    expect_issued(cc(&h, &assertion).await);
    refused(&h, &assertion, "replayed").await;
    // Another jti with the same lifetime is a new assertion.
    expect_issued(cc(&h, &es256(&claims(&h, CLIENT), &key)).await);
}

/// DP-05: `exp` is required, not past, and at most five minutes ahead; `nbf` and `iat`
/// are not in the future.
pub async fn dp05_expired_or_long_lived_assertions_are_refused<S: Storage + 'static>(
    h: Harness<S>,
) {
    let (key, _) = register(&h).await;
    let now = h.clock.now().unix_timestamp();
    let cases: [(&str, Value); 6] = [
        ("expired", json!(now - 60)),
        ("ten minutes ahead", json!(now + 600)),
        ("a year ahead", json!(now + 365 * 86_400)),
        ("not a number", json!("soon")),
        ("a fraction", json!(now as f64 + 30.5)),
        ("absent", Value::Null),
    ];
    for (why, exp) in cases {
        let mut c = claims(&h, CLIENT);
        match exp {
            Value::Null => {
                c.as_object_mut().unwrap().remove("exp");
            }
            exp => c["exp"] = exp,
        }
        refused(&h, &es256(&c, &key), why).await;
    }
    for (claim, why) in [("nbf", "not valid yet"), ("iat", "issued in the future")] {
        let mut c = claims(&h, CLIENT);
        c[claim] = json!(now + 120);
        refused(&h, &es256(&c, &key), why).await;
    }
    let mut c = claims(&h, CLIENT);
    c.as_object_mut().unwrap().remove("jti");
    refused(&h, &es256(&c, &key), "no jti").await;
    // Just within five minutes is fine.
    let mut c = claims(&h, CLIENT);
    c["exp"] = json!(now + 300);
    expect_issued(cc(&h, &es256(&c, &key)).await);
}

/// DP-05: `aud` must name this server.
pub async fn dp05_an_assertion_for_another_audience_is_refused<S: Storage + 'static>(
    h: Harness<S>,
) {
    let (key, _) = register(&h).await;
    for aud in [
        json!("https://other-issuer.example"),
        json!([format!("{ISSUER}/"), "https://api.example"]),
        json!(format!("{ISSUER}/introspect")),
        json!([]),
    ] {
        let mut c = claims(&h, CLIENT);
        c["aud"] = aud.clone();
        refused(&h, &es256(&c, &key), &aud.to_string()).await;
    }
    let mut c = claims(&h, CLIENT);
    c.as_object_mut().unwrap().remove("aud");
    refused(&h, &es256(&c, &key), "no aud").await;
}

/// DP-05: `iss` and `sub` are both the client, and so is `client_id` when sent.
pub async fn dp05_iss_or_sub_not_the_client_is_refused<S: Storage + 'static>(h: Harness<S>) {
    let (key, _) = register(&h).await;
    for claim in ["iss", "sub"] {
        let mut c = claims(&h, CLIENT);
        c[claim] = json!("server");
        refused(&h, &es256(&c, &key), claim).await;
        // Named by client_id as well, so that the registered key is the one tried.
        let named = es256(&c, &key);
        let outcome = h
            .token(
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", CLIENT),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &named),
                ],
                None,
            )
            .await;
        expect_refused(&outcome, ErrorCode::InvalidClient, 401);
        c.as_object_mut().unwrap().remove(claim);
        refused(&h, &es256(&c, &key), claim).await;
    }
    let assertion = es256(&claims(&h, CLIENT), &key);
    let outcome = h
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "other"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
            None,
        )
        .await;
    expect_refused(&outcome, ErrorCode::InvalidClient, 401);
}

/// DP-05: only the registered key the `kid` names verifies, with its own algorithm:
/// another key, another algorithm, `none`, or HS256 keyed with the public key fail.
pub async fn dp05_unregistered_key_or_other_algorithm_is_refused<S: Storage + 'static>(
    h: Harness<S>,
) {
    let (_, jwk) = register(&h).await;
    let c = claims(&h, CLIENT);
    // Another ES256 key under the registered kid, and under another kid.
    let (other, _) = es256_key(KID);
    let other = EncodingKey::from_ec_der(&other);
    refused(&h, &es256(&c, &other), "another key, same kid").await;
    refused(
        &h,
        &sign(&c, &other, jsonwebtoken::Algorithm::ES256, "unknown"),
        "unregistered kid",
    )
    .await;
    let mut no_kid = Header::new(jsonwebtoken::Algorithm::ES256);
    no_kid.kid = None;
    refused(
        &h,
        &jsonwebtoken::encode(&no_kid, &c, &other).unwrap(),
        "no kid",
    )
    .await;
    // The right kid with another algorithm.
    let ed = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let ed = EncodingKey::from_ed_der(ed.as_ref());
    refused(
        &h,
        &sign(&c, &ed, jsonwebtoken::Algorithm::EdDSA, KID),
        "EdDSA under an ES256 kid",
    )
    .await;
    // HS256 keyed with the public key, as bytes and as its JWK text.
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
    for secret in [point, jwk.to_string().into_bytes()] {
        let hs = EncodingKey::from_secret(&secret);
        refused(
            &h,
            &sign(&c, &hs, jsonwebtoken::Algorithm::HS256, KID),
            "HS256 keyed with the public key",
        )
        .await;
    }
    // `alg: none`, with and without a signature.
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": KID}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(c.to_string());
    refused(&h, &format!("{header}.{payload}."), "alg none").await;
    refused(&h, &format!("{header}.{payload}.AAAA"), "alg none, signed").await;
    refused(&h, "not-a-jwt", "garbage").await;
}

/// DP-05: a `private_key_jwt` client cannot use a secret, a secret client cannot use an
/// assertion, and a request cannot mix them.
pub async fn dp05_secrets_and_assertions_do_not_cross<S: Storage + 'static>(h: Harness<S>) {
    let (key, _) = register(&h).await;
    let cc_pairs = [("grant_type", "client_credentials")];
    // A secret for the assertion client, by Basic and in the body.
    expect_refused(
        &h.token(&cc_pairs, Some(&basic(CLIENT, SERVER_SECRET)))
            .await,
        ErrorCode::InvalidClient,
        401,
    );
    let post = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SERVER_SECRET),
    ];
    expect_refused(&h.token(&post, None).await, ErrorCode::InvalidClient, 401);
    // No credentials at all.
    let bare = [("grant_type", "client_credentials"), ("client_id", CLIENT)];
    expect_refused(&h.token(&bare, None).await, ErrorCode::InvalidClient, 401);
    // An assertion by a secret client, well formed and signed.
    refused(&h, &es256(&claims(&h, "server"), &key), "a secret client").await;
    // Two methods at once.
    let assertion = es256(&claims(&h, CLIENT), &key);
    let both = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", &assertion),
    ];
    expect_refused(
        &h.token(&both, Some(&basic("server", SERVER_SECRET))).await,
        ErrorCode::InvalidRequest,
        400,
    );
    let mut with_secret = both.to_vec();
    with_secret.push(("client_secret", SERVER_SECRET));
    expect_refused(
        &h.token(&with_secret, None).await,
        ErrorCode::InvalidRequest,
        400,
    );
    // Two assertions, a missing or unknown assertion type.
    let mut twice = both.to_vec();
    twice.push(("client_assertion", &assertion));
    expect_refused(&h.token(&twice, None).await, ErrorCode::InvalidRequest, 400);
    let untyped = [
        ("grant_type", "client_credentials"),
        ("client_assertion", assertion.as_str()),
    ];
    expect_refused(
        &h.token(&untyped, None).await,
        ErrorCode::InvalidRequest,
        400,
    );
    let saml = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        ),
        ("client_assertion", assertion.as_str()),
    ];
    expect_refused(&h.token(&saml, None).await, ErrorCode::InvalidClient, 401);
    // None of these used the assertion up.
    expect_issued(cc(&h, &assertion).await);
}
