//! The FAPI 2.0 Security Profile switch: DP-06 of SECURITY.md. The client's assertions
//! are signed by `jsonwebtoken`, its DPoP proofs by `oauth_core::testing::DpopKey`.

use jsonwebtoken::EncodingKey;
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::testing::DpopKey;
use oauth_core::{
    AccessTokenType, AuthorizeOutcome, Clock, CodeChallenge, Config, Engine, ErrorCode,
    FormRequest, JwtAccessTokens, PushOutcome, Storage, TokenOutcome, FORM_CONTENT_TYPE,
};
use time::Duration;

use super::client_assertion::{claims, es256, register, ASSERTION_TYPE, CLIENT};
use crate::*;

const PAR_URL: &str = "https://auth.example/par";

/// An engine over the harness's store and clock under the FAPI 2.0 profile, issuing
/// ES256 JWT access tokens.
fn fapi_engine<S: Storage + 'static>(h: &Harness<S>) -> TestEngine<S> {
    let config = Config::builder(ISSUER)
        .fapi2_security_profile()
        .build()
        .unwrap();
    Engine::builder(h.store.clone(), h.clock.clone(), config)
        .jwt_access_tokens(JwtAccessTokens::new(
            KeySet::new(SigningKey::generate(Algorithm::Es256, "fapi-1").unwrap().0),
            API_AUDIENCE,
        ))
        .build()
        .unwrap()
}

/// A FAPI 2.0 client: the harness's `private_key_jwt` client, and its DPoP key.
struct FapiClient {
    assertion_key: EncodingKey,
    dpop: DpopKey,
}

impl FapiClient {
    async fn register<S: Storage + 'static>(h: &Harness<S>) -> Self {
        let (assertion_key, _) = register(h).await;
        Self {
            assertion_key,
            dpop: DpopKey::new(),
        }
    }

    fn assertion<S: Storage + 'static>(&self, h: &Harness<S>) -> String {
        es256(&claims(h, CLIENT), &self.assertion_key)
    }

    fn proof<S: Storage + 'static>(&self, h: &Harness<S>, url: &str) -> String {
        self.dpop
            .next_proof("POST", url, None, h.clock.now().unix_timestamp())
    }
}

/// The authorization request the FAPI client pushes (PKCE S256 with `VERIFIER`).
fn authorization_pairs() -> Vec<(&'static str, String)> {
    let challenge = CodeChallenge::from_verifier(VERIFIER);
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT.into()),
        ("redirect_uri", SERVER_REDIRECT.into()),
        ("scope", "read:payments".into()),
        ("code_challenge", challenge.as_str().into()),
        ("code_challenge_method", "S256".into()),
    ]
}

async fn push<S: Storage + 'static>(
    engine: &TestEngine<S>,
    pairs: &[(&str, String)],
    authorization: Option<&str>,
    proof: Option<&str>,
) -> PushOutcome {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = encode(&borrowed);
    let mut request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
        .with_authorization(authorization);
    if let Some(proof) = proof {
        request = request.with_dpop([proof], "POST", PAR_URL);
    }
    engine.push_authorization_request(&request).await.unwrap()
}

/// A code for the FAPI client, through a pushed request with a proof.
async fn fapi_code<S: Storage + 'static>(
    h: &Harness<S>,
    engine: &TestEngine<S>,
    client: &FapiClient,
) -> String {
    let mut pairs = authorization_pairs();
    pairs.push(("client_assertion_type", ASSERTION_TYPE.into()));
    pairs.push(("client_assertion", client.assertion(h)));
    let pushed = push(engine, &pairs, None, Some(&client.proof(h, PAR_URL))).await;
    let uri = pushed.pushed().expect("pushed").request_uri().to_owned();
    let outcome = engine
        .authorize_query(&encode(&[("client_id", CLIENT), ("request_uri", &uri)]))
        .await
        .unwrap();
    let AuthorizeOutcome::Pending(pending) = outcome else {
        panic!("expected the pushed request, got {outcome:?}");
    };
    let redirect = match engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap()
    {
        oauth_core::AuthorizationResponse::Redirect(redirect) => redirect,
        other => panic!("expected a redirect, got {other:?}"),
    };
    assert_eq!(redirect.param("iss").as_deref(), Some(ISSUER));
    redirect.param("code").unwrap()
}

/// The code exchange of the FAPI client, with a fresh assertion and `proof`.
async fn exchange<S: Storage + 'static>(
    h: &Harness<S>,
    engine: &TestEngine<S>,
    client: &FapiClient,
    code: &str,
    proof: Option<&str>,
) -> TokenOutcome {
    let assertion = client.assertion(h);
    token_proved(
        engine,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", SERVER_REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
        None,
        proof,
    )
    .await
}

/// DP-06: under the profile the whole flow works (a pushed request with a proof and an
/// assertion, the code exchange with a proof of the same key), and the metadata says what
/// the profile requires.
pub async fn dp06_the_fapi2_flow_and_its_metadata<S: Storage + 'static>(h: Harness<S>) {
    let engine = fapi_engine(&h);
    let client = FapiClient::register(&h).await;
    let code = fapi_code(&h, &engine, &client).await;
    let issued = expect_issued(
        exchange(
            &h,
            &engine,
            &client,
            &code,
            Some(&client.proof(&h, TOKEN_URL)),
        )
        .await,
    );
    assert_eq!(issued.token_type, AccessTokenType::DPoP);

    let metadata = serde_json::to_value(engine.metadata()).unwrap();
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["private_key_jwt"])
    );
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256", "EdDSA", "PS256"])
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    // Codes longer-lived than a minute are refused by the configuration.
    assert!(Config::builder(ISSUER)
        .fapi2_security_profile()
        .code_lifetime(Duration::seconds(61))
        .build()
        .is_err());
}

/// DP-06: a request sent straight to the authorization endpoint, not pushed, is refused.
pub async fn dp06_a_request_not_pushed_is_refused<S: Storage + 'static>(h: Harness<S>) {
    let engine = fapi_engine(&h);
    FapiClient::register(&h).await;
    let pairs = authorization_pairs();
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let outcome = engine.authorize_query(&encode(&borrowed)).await.unwrap();
    expect_error_redirect(&outcome, SERVER_REDIRECT, ErrorCode::InvalidRequest);
}

/// DP-06: a public client is refused: it cannot push (no client authentication is
/// `invalid_client`), nor get a token.
pub async fn dp06_a_public_client_is_refused<S: Storage + 'static>(h: Harness<S>) {
    let engine = fapi_engine(&h);
    let outcome = push(&engine, &Harness::<S>::spa_request(&[]), None, None).await;
    assert_eq!(
        outcome.error().map(|e| e.code()),
        Some(ErrorCode::InvalidClient)
    );
    let key = DpopKey::new();
    let proof = key.next_proof("POST", TOKEN_URL, None, h.clock.now().unix_timestamp());
    let refreshed = token_proved(
        &engine,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "anything"),
            ("client_id", "spa"),
        ],
        None,
        Some(&proof),
    )
    .await;
    expect_refused(&refreshed, ErrorCode::InvalidClient, 401);
}

/// DP-06: a client secret is refused, though it is the right one, at the pushed request
/// endpoint and the token endpoint; an RS256 assertion or proof is refused too.
pub async fn dp06_secret_based_client_authentication_is_refused<S: Storage + 'static>(
    h: Harness<S>,
) {
    let engine = fapi_engine(&h);
    let mut pairs = authorization_pairs();
    pairs.retain(|(name, _)| *name != "client_id");
    pairs.retain(|(name, _)| *name != "redirect_uri");
    pairs.push(("redirect_uri", SERVER_REDIRECT.into()));
    let right = basic("server", SERVER_SECRET);
    let pushed = push(&engine, &pairs, Some(&right), None).await;
    assert_eq!(
        pushed.error().map(|e| e.code()),
        Some(ErrorCode::InvalidClient)
    );
    // The answer to the right secret is the answer to a wrong one: no oracle.
    let wrong = push(&engine, &pairs, Some(&basic("server", OTHER_SECRET)), None).await;
    assert_eq!(pushed.error(), wrong.error());
    assert_eq!(
        pushed.error().unwrap().description(),
        "client authentication failed"
    );
    let key = DpopKey::new();
    let proof = key.next_proof("POST", TOKEN_URL, None, h.clock.now().unix_timestamp());
    let outcome = token_proved(
        &engine,
        &[("grant_type", "client_credentials")],
        Some(&right),
        Some(&proof),
    )
    .await;
    expect_refused(&outcome, ErrorCode::InvalidClient, 401);

    // RS256 is not among the profile's algorithms: a proof signed with it is refused.
    let pem = include_str!("../../../examples/keys/demo-rs256.pem");
    let rsa = SigningKey::from_pkcs8_pem(Algorithm::Rs256, "rsa-1", pem).unwrap();
    let client = FapiClient::register(&h).await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(serde_json::from_value(rsa.verification_key().to_jwk().unwrap()).unwrap());
    let claims = serde_json::json!({
        "htm": "POST", "htu": TOKEN_URL, "iat": h.clock.now().unix_timestamp(), "jti": "rs-1"
    });
    let rs256_proof = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let assertion = client.assertion(&h);
    let outcome = token_proved(
        &engine,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
        None,
        Some(&rs256_proof),
    )
    .await;
    expect_refused(&outcome, ErrorCode::InvalidDpopProof, 400);
}

/// DP-06: every access token is sender-constrained: a token request without a proof is
/// refused, and the code is not spent by it.
pub async fn dp06_an_unbound_access_token_is_never_issued<S: Storage + 'static>(h: Harness<S>) {
    let engine = fapi_engine(&h);
    let client = FapiClient::register(&h).await;
    let assertion = client.assertion(&h);
    let outcome = token_proved(
        &engine,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
        None,
        None,
    )
    .await;
    expect_refused(&outcome, ErrorCode::InvalidDpopProof, 400);

    let code = fapi_code(&h, &engine, &client).await;
    let unbound = exchange(&h, &engine, &client, &code, None).await;
    expect_refused(&unbound, ErrorCode::InvalidDpopProof, 400);
    let bound = exchange(
        &h,
        &engine,
        &client,
        &code,
        Some(&client.proof(&h, TOKEN_URL)),
    )
    .await;
    assert_eq!(expect_issued(bound).token_type, AccessTokenType::DPoP);
}

/// DP-06: under the profile a pushed request must name its redirect URI (FAPI 2.0
/// §5.3.2.2), and a client assertion must name the issuer as its audience, as one string:
/// not the token endpoint's URL, nor an array holding the issuer (§5.3.2.1).
pub async fn dp06_redirect_uri_and_issuer_audience_are_required<S: Storage + 'static>(
    h: Harness<S>,
) {
    let engine = fapi_engine(&h);
    let client = FapiClient::register(&h).await;
    let mut pairs = authorization_pairs();
    pairs.retain(|(name, _)| *name != "redirect_uri");
    pairs.push(("client_assertion_type", ASSERTION_TYPE.into()));
    pairs.push(("client_assertion", client.assertion(&h)));
    let outcome = push(&engine, &pairs, None, None).await;
    assert_eq!(
        outcome.error().map(|e| e.code()),
        Some(ErrorCode::InvalidRequest)
    );

    for aud in [
        serde_json::json!(TOKEN_URL),
        serde_json::json!(["https://elsewhere.example", ISSUER]),
    ] {
        let mut other_audience = claims(&h, CLIENT);
        other_audience["aud"] = aud.clone();
        let assertion = es256(&other_audience, &client.assertion_key);
        let outcome = token_proved(
            &engine,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
            None,
            Some(&client.proof(&h, TOKEN_URL)),
        )
        .await;
        expect_refused(&outcome, ErrorCode::InvalidClient, 401);
    }
}

/// DP-06 with FAPI 2.0 §5.4.1: PS256, the RSA algorithm the profile allows, is taken for
/// client assertions (from a key the client registered as PS256) and DPoP proofs, both
/// signed by `jsonwebtoken`; the same RSA key's RS256 assertion is refused.
pub async fn dp06_ps256_proofs_and_assertions_are_taken<S: Storage + 'static>(h: Harness<S>) {
    let engine = fapi_engine(&h);
    let pem = include_str!("../../../examples/keys/demo-rs256.pem");
    let rsa = SigningKey::from_pkcs8_pem(Algorithm::Ps256, "ps-1", pem).unwrap();
    let jwk = rsa.verification_key().to_jwk().unwrap();
    assert_eq!(jwk["alg"], "PS256");
    let client = oauth_core::Client::private_key_jwt(
        "ps-signer",
        &serde_json::json!({"keys": [jwk.clone()]}).to_string(),
    )
    .unwrap()
    .grant_types([oauth_core::GrantType::ClientCredentials])
    .allowed_scopes(oauth_core::ScopeSet::parse("read:payments").unwrap())
    .default_scopes(oauth_core::ScopeSet::parse("read:payments").unwrap())
    .build()
    .unwrap();
    engine.register_client(client).await.unwrap();
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let now = h.clock.now().unix_timestamp();
    let assertion = |alg: jsonwebtoken::Algorithm, jti: &str| {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some("ps-1".into());
        let claims = serde_json::json!({
            "iss": "ps-signer", "sub": "ps-signer", "aud": ISSUER,
            "iat": now, "exp": now + 60, "jti": jti,
        });
        jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
    };
    let proof = |jti: &str| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.typ = Some("dpop+jwt".into());
        let mut public = jwk.clone();
        for private_or_naming in ["kid", "alg", "use"] {
            public.as_object_mut().unwrap().remove(private_or_naming);
        }
        header.jwk = Some(serde_json::from_value(public).unwrap());
        let claims = serde_json::json!({"htm": "POST", "htu": TOKEN_URL, "iat": now, "jti": jti});
        jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
    };
    let request = |assertion: String, proof: String| {
        let engine = &engine;
        async move {
            token_proved(
                engine,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                ],
                None,
                Some(&proof),
            )
            .await
        }
    };
    let issued = expect_issued(
        request(
            assertion(jsonwebtoken::Algorithm::PS256, "a-1"),
            proof("p-1"),
        )
        .await,
    );
    assert_eq!(issued.token_type, AccessTokenType::DPoP);
    // The same RSA key signing RS256 is not the key the client registered.
    let rs256 = request(
        assertion(jsonwebtoken::Algorithm::RS256, "a-2"),
        proof("p-2"),
    )
    .await;
    expect_refused(&rs256, ErrorCode::InvalidClient, 401);
}
