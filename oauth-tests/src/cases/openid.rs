//! OpenID Connect at the token endpoint, discovery and UserInfo (OI-01, OI-03, OI-04,
//! OI-05's discovery part).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth_core::jose::{KeySet, VerifiedIdToken};
use oauth_core::openid::OpenIdProvider;
use oauth_core::storage::SignIn;
use oauth_core::{
    Client, ClientId, Clock, ErrorCode, Fault, GrantType, Response, ScopeSet, SecretHash, Storage,
    TokenStore,
};
use serde_json::{json, Value};
use time::Duration;

use crate::*;

const NONCE: &str = "n-0S6_WzA2Mj+/=~.";

fn decode_segment(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

/// `at_hash` computed here, apart from the engine: SHA-256, left half, base64url.
fn sha256_at_hash(access_token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

fn sign_in(auth_time: time::OffsetDateTime, nonce: Option<&str>) -> SignIn {
    let mut sign_in = SignIn::new(auth_time);
    sign_in.acr = Some("urn:finrift:acr:password".into());
    sign_in.amr = vec!["pwd".into(), "otp".into()];
    sign_in.nonce = nonce.map(str::to_owned);
    sign_in
}

fn verified<S: Storage + 'static>(h: &Harness<S>, token: &str, client: &str) -> VerifiedIdToken {
    h.engine
        .verify_id_token(token, &ClientId::new(client).unwrap())
        .unwrap_or_else(|e| panic!("the engine verifies its ID token: {e}"))
}

fn body(response: &Response) -> Value {
    serde_json::from_str(&response.body).unwrap()
}

/// OI-01: the code exchange of an `openid` grant answers an ID token with every claim,
/// the nonce exactly, `auth_time`, `acr`, `amr`, `azp` and a correct `at_hash`, in RS256
/// (the default) under a key of the JWKS; the engine's verifier accepts it.
pub async fn oi01_id_token_claims_at_the_code_exchange<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    let auth_time = START - Duration::minutes(2);
    let code = h
        .openid_code(
            "rp",
            "openid email",
            "alice",
            Some(sign_in(auth_time, Some(NONCE))),
        )
        .await;
    let tokens = h.redeem_openid("rp", &code).await;
    let id_token = tokens.id_token.clone().expect("an ID token");
    assert!(tokens.refresh_token.is_some());

    let header = decode_segment(&id_token, 0);
    assert_eq!(
        header,
        json!({"alg": "RS256", "kid": ID_RSA_KID, "typ": "JWT"})
    );
    let claims = verified(&h, &id_token, "rp").claims.to_map();
    let now = START.unix_timestamp();
    assert_eq!(
        Value::Object(claims),
        json!({
            "iss": ISSUER, "sub": "alice", "aud": "rp", "azp": "rp",
            "iat": now, "exp": now + 300,
            "auth_time": auth_time.unix_timestamp(),
            "nonce": NONCE,
            "acr": "urn:finrift:acr:password", "amr": ["pwd", "otp"],
            "at_hash": sha256_at_hash(&tokens.access_token),
        })
    );
    // In the token response, and its key in the JWKS.
    let response = oauth_core::TokenOutcome::Issued(tokens.clone()).to_response();
    assert_eq!(body(&response)["id_token"], id_token.as_str());
    let jwks = h.engine.jwks();
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == ID_RSA_KID && k["kty"] == "RSA"));
    // For another client, it is refused.
    assert!(h
        .engine
        .verify_id_token(&id_token, &ClientId::new("rp-es").unwrap())
        .is_err());
    // Once it expires, too.
    h.clock.advance(Duration::minutes(5));
    assert!(h
        .engine
        .verify_id_token(&id_token, &ClientId::new("rp").unwrap())
        .is_err());
}

/// OI-01: no nonce in the request, no `nonce` claim; a code without a recorded sign-in
/// still gets an ID token, without `auth_time`; a grant without `openid` gets none.
pub async fn oi01_no_nonce_no_sign_in_no_openid<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    let code = h
        .openid_code("rp", "openid", "alice", Some(SignIn::new(START)))
        .await;
    let tokens = h.redeem_openid("rp", &code).await;
    let claims = verified(&h, tokens.id_token.as_deref().unwrap(), "rp")
        .claims
        .to_map();
    assert!(!claims.contains_key("nonce"), "{claims:?}");
    assert!(!claims.contains_key("acr") && !claims.contains_key("amr"));
    assert_eq!(claims["auth_time"], START.unix_timestamp());

    let code = h.openid_code("rp", "openid", "alice", None).await;
    let tokens = h.redeem_openid("rp", &code).await;
    let claims = verified(&h, tokens.id_token.as_deref().unwrap(), "rp")
        .claims
        .to_map();
    assert!(!claims.contains_key("auth_time"), "{claims:?}");
    assert_eq!(claims["sub"], "alice");

    let code = h.openid_code("rp", "read:users", "alice", None).await;
    assert!(h.redeem_openid("rp", &code).await.id_token.is_none());
}

/// OI-01: RS256 for a client that names no algorithm, ES256 for one that registered it,
/// each under its own key; the JWKS publishes both, beside the access-token keys.
pub async fn oi01_rs256_by_default_and_es256_per_client<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    for (client, alg, kid) in [("rp", "RS256", ID_RSA_KID), ("rp-es", "ES256", ID_EC_KID)] {
        let code = h.openid_code(client, "openid", "alice", None).await;
        let tokens = h.redeem_openid(client, &code).await;
        let id_token = tokens.id_token.unwrap();
        let header = decode_segment(&id_token, 0);
        assert_eq!(header["alg"], alg);
        assert_eq!(header["kid"], kid);
        let claims = verified(&h, &id_token, client).claims.to_map();
        assert_eq!(claims["aud"], client);
        assert_eq!(claims["at_hash"], sha256_at_hash(&tokens.access_token));
    }
    let kids: Vec<String> = h.engine.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids, [ID_RSA_KID, ID_EC_KID]);

    // With JWT access tokens too, the JWKS publishes every key that signs.
    let (access_key, _) =
        oauth_core::jose::SigningKey::generate(oauth_core::jose::Algorithm::EdDsa, "at-1").unwrap();
    let both = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .jwt_access_tokens(oauth_core::JwtAccessTokens::new(
        KeySet::new(access_key),
        API_AUDIENCE,
    ))
    .openid(test_provider())
    .build()
    .unwrap();
    assert_eq!(both.jwks()["keys"].as_array().unwrap().len(), 3);
}

/// A client whose algorithm no key signs with: refused at registration; registered past
/// the engine (straight into the store), its token request is a clean `server_error`.
pub async fn oi01_a_client_algorithm_without_a_key_is_refused<S: Storage + 'static>(h: Harness<S>) {
    let only_rsa = OpenIdProvider::new(KeySet::new(rsa_key(ID_RSA_KID)), TestDirectory);
    let h = h.with_openid(only_rsa).await;
    let es = Client::public("rp-es")
        .unwrap()
        .redirect_uri(RP_ES_REDIRECT)
        .unwrap()
        .allowed_scopes(ScopeSet::parse(RP_SCOPES).unwrap())
        .id_token_signed_response_alg(oauth_core::jose::Algorithm::Es256)
        .build()
        .unwrap();
    assert!(matches!(
        h.engine.register_client(es.clone()).await,
        Err(Fault::Config(_))
    ));
    oauth_core::ClientStore::put_client(&*h.store, es)
        .await
        .unwrap();
    let code = h.openid_code("rp-es", "openid", "alice", None).await;
    let body = encode(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", "rp-es"),
        ("redirect_uri", RP_ES_REDIRECT),
        ("code_verifier", VERIFIER),
    ]);
    let fault = h
        .engine
        .token(&oauth_core::FormRequest::new(
            Some(oauth_core::FORM_CONTENT_TYPE),
            body.as_bytes(),
        ))
        .await
        .unwrap_err();
    let response = Response::from_fault(&fault);
    assert_eq!(response.status, 500);
    assert_eq!(self::body(&response)["error"], "server_error");
}

/// OI-04: a refresh of an `openid` grant answers a new ID token with the same `iss`,
/// `sub`, `aud`, `azp` and `auth_time`, a new `iat`, no `nonce`, and the `at_hash` of the
/// new access token; the refresh tokens keep the sign-in, without its nonce, through
/// every rotation.
pub async fn oi04_refreshed_id_token_keeps_sub_aud_auth_time_and_drops_nonce<
    S: Storage + 'static,
>(
    h: Harness<S>,
) {
    let h = h.with_openid(test_provider()).await;
    let auth_time = START - Duration::minutes(3);
    let code = h
        .openid_code(
            "rp",
            "openid profile",
            "alice",
            Some(sign_in(auth_time, Some(NONCE))),
        )
        .await;
    let first = h.redeem_openid("rp", &code).await;
    let first_claims = verified(&h, first.id_token.as_deref().unwrap(), "rp")
        .claims
        .to_map();
    assert_eq!(first_claims["nonce"], NONCE);

    let mut refresh = first.refresh_token.clone().unwrap();
    for step in 1..=2 {
        let stored = h
            .store
            .get_token(&SecretHash::of(&refresh))
            .await
            .unwrap()
            .unwrap();
        let kept = stored.sign_in.expect("the refresh token keeps the sign-in");
        assert_eq!(kept.nonce, None);
        assert_eq!(kept.auth_time, auth_time);

        h.clock.advance(Duration::seconds(60));
        let tokens = expect_issued(
            h.token(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh),
                    ("client_id", "rp"),
                ],
                None,
            )
            .await,
        );
        let id_token = tokens.id_token.clone().expect("a refreshed ID token");
        let claims = verified(&h, &id_token, "rp").claims.to_map();
        for name in ["iss", "sub", "aud", "azp", "auth_time", "acr", "amr"] {
            assert_eq!(claims[name], first_claims[name], "{name} at refresh {step}");
        }
        assert_eq!(claims["iat"], h.clock.now().unix_timestamp());
        assert_ne!(claims["iat"], first_claims["iat"]);
        assert!(!claims.contains_key("nonce"), "refresh {step}: {claims:?}");
        assert_eq!(claims["at_hash"], sha256_at_hash(&tokens.access_token));
        refresh = tokens.refresh_token.unwrap();
    }
}

/// The discovery document of an OpenID provider (Discovery 1.0 §3; OI-05: request
/// objects refused, and said so), served at the issuer's path plus
/// `/.well-known/openid-configuration`; a plain engine serves none.
pub async fn oi05_discovery_document<S: Storage + 'static>(h: Harness<S>) {
    assert!(h.engine.openid_configuration().is_none());
    let plain = h.engine.config().served_paths();
    assert_eq!((plain.userinfo, plain.openid_configuration), (None, None));
    let oauth_metadata = serde_json::to_value(h.engine.metadata()).unwrap();

    let h = h.with_openid(test_provider()).await;
    let paths = h.engine.config().served_paths();
    assert_eq!(paths.userinfo.as_deref(), Some("/userinfo"));
    assert_eq!(
        paths.openid_configuration.as_deref(),
        Some("/.well-known/openid-configuration")
    );
    // The RFC 8414 document stays as it was.
    assert_eq!(
        serde_json::to_value(h.engine.metadata()).unwrap(),
        oauth_metadata
    );
    let document = h.engine.openid_configuration().unwrap();
    let response = document.to_response();
    assert_eq!(response.status, 200);
    let doc = body(&response);
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["authorization_endpoint"], format!("{ISSUER}/authorize"));
    assert_eq!(doc["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(doc["userinfo_endpoint"], format!("{ISSUER}/userinfo"));
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/jwks.json"));
    assert_eq!(doc["scopes_supported"][0], "openid");
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["grant_types_supported"],
        oauth_metadata["grant_types_supported"]
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        oauth_metadata["token_endpoint_auth_methods_supported"]
    );
    for claim in [
        "sub",
        "auth_time",
        "nonce",
        "email",
        "phone_number",
        "address",
    ] {
        assert!(
            doc["claims_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == claim),
            "{claim}"
        );
    }
    assert_eq!(doc["request_parameter_supported"], false);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["claims_parameter_supported"], false);
}

/// An access token and ID token of `rp` for `alice` with `scope`.
async fn rp_tokens<S: Storage + 'static>(h: &Harness<S>, scope: &str) -> oauth_core::IssuedTokens {
    let code = h.openid_code("rp", scope, "alice", None).await;
    h.redeem_openid("rp", &code).await
}

/// OI-03: UserInfo by GET and POST with the header, and by POST with a form body; `sub`
/// is the ID token's; `Cache-Control: no-store`.
pub async fn oi03_userinfo_by_get_post_header_and_post_form<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    let tokens = rp_tokens(&h, "openid email").await;
    let id_sub = verified(&h, tokens.id_token.as_deref().unwrap(), "rp").subject;
    let bearer = format!("Bearer {}", tokens.access_token);
    let form = format!("access_token={}", tokens.access_token);
    for (method, authorization, body) in [
        ("GET", Some(bearer.as_str()), None),
        ("POST", Some(bearer.as_str()), None),
        (
            "POST",
            None,
            Some((oauth_core::FORM_CONTENT_TYPE, form.as_str())),
        ),
    ] {
        let response = h.userinfo(method, authorization, body).await.unwrap();
        assert_eq!(response.status, 200, "{method} {:?}", response.headers);
        assert_eq!(response.header("Cache-Control"), Some("no-store"));
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        let claims = self::body(&response);
        assert_eq!(claims["sub"], id_sub.as_str());
        assert_eq!(claims["email"], "alice@example.com");
    }
}

/// OI-03 with RFC 6750: the token in two ways at once is `invalid_request`; none is a
/// bare challenge; a garbage or revoked token is `invalid_token`; PUT is 405.
pub async fn oi03_userinfo_bearer_rules<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    let tokens = rp_tokens(&h, "openid").await;
    let bearer = format!("Bearer {}", tokens.access_token);
    let form = format!("access_token={}", tokens.access_token);
    let both = h
        .userinfo(
            "POST",
            Some(&bearer),
            Some((oauth_core::FORM_CONTENT_TYPE, &form)),
        )
        .await
        .unwrap();
    assert_eq!(both.status, 400);
    assert!(both
        .header("WWW-Authenticate")
        .unwrap()
        .contains("error=\"invalid_request\""));
    assert!(!both.body.contains("alice"));
    let repeated = format!("{form}&{form}");
    let twice = h
        .userinfo(
            "POST",
            None,
            Some((oauth_core::FORM_CONTENT_TYPE, &repeated)),
        )
        .await
        .unwrap();
    assert_eq!(twice.status, 400);

    let none = h.userinfo("GET", None, None).await.unwrap();
    assert_eq!(none.status, 401);
    assert_eq!(none.header("WWW-Authenticate"), Some("Bearer"));
    // A GET's body is never read for a token.
    let get_form = h
        .userinfo("GET", None, Some((oauth_core::FORM_CONTENT_TYPE, &form)))
        .await
        .unwrap();
    assert_eq!(get_form.status, 401);

    let garbage = h
        .userinfo("GET", Some("Bearer garbage"), None)
        .await
        .unwrap();
    assert_eq!(garbage.status, 401);
    assert!(garbage
        .header("WWW-Authenticate")
        .unwrap()
        .contains("invalid_token"));
    h.revoke(
        &[("token", &tokens.access_token), ("client_id", "rp")],
        None,
    )
    .await;
    let revoked = h.userinfo("GET", Some(&bearer), None).await.unwrap();
    assert_eq!(revoked.status, 401);
    assert!(revoked.body.is_empty());

    assert_eq!(
        h.userinfo("PUT", Some(&bearer), None).await.unwrap().status,
        405
    );
}

/// OI-03: a token without `openid` is 403 `insufficient_scope` with its challenge; a
/// client acting for itself cannot get `openid` at all.
pub async fn oi03_userinfo_needs_the_openid_scope<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    let tokens = rp_tokens(&h, "email read:users").await;
    assert!(tokens.id_token.is_none());
    let response = h
        .userinfo(
            "GET",
            Some(&format!("Bearer {}", tokens.access_token)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 403);
    let challenge = response.header("WWW-Authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"openid\""), "{challenge}");
    assert!(!response.body.contains("alice"));

    let service = Client::confidential("svc", SERVER_SECRET)
        .unwrap()
        .grant_types([GrantType::ClientCredentials])
        .allowed_scopes(ScopeSet::parse("openid read:users").unwrap())
        .build()
        .unwrap();
    h.engine.register_client(service).await.unwrap();
    expect_refused(
        &h.token(
            &[("grant_type", "client_credentials"), ("scope", "openid")],
            Some(&basic("svc", SERVER_SECRET)),
        )
        .await,
        ErrorCode::InvalidScope,
        400,
    );
}

/// OI-03: the claims follow the granted scopes: `sub` always, `email` and
/// `email_verified` for `email`, and so on; a claim no scope releases never leaves, nor
/// the source's own `sub`.
pub async fn oi03_userinfo_claims_follow_the_granted_scopes<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    for (scope, expected) in [
        ("openid", json!({"sub": "alice"})),
        (
            "openid email",
            json!({"sub": "alice", "email": "alice@example.com", "email_verified": true}),
        ),
        (
            "openid profile address phone",
            json!({
                "sub": "alice", "name": "User alice", "given_name": "User",
                "family_name": "alice", "address": {"country": "FR"},
                "phone_number": "+33 1 23 45 67 89", "phone_number_verified": false,
            }),
        ),
    ] {
        let tokens = rp_tokens(&h, scope).await;
        let response = h
            .userinfo(
                "GET",
                Some(&format!("Bearer {}", tokens.access_token)),
                None,
            )
            .await
            .unwrap();
        assert_eq!(body(&response), expected, "{scope}");
    }
}

/// OI-03: a claims source that fails is a clean `server_error`: no claim in the answer.
pub async fn oi03_userinfo_failing_source_is_server_error<S: Storage + 'static>(h: Harness<S>) {
    let h = h.with_openid(test_provider()).await;
    let code = h
        .openid_code("rp", "openid email", BROKEN_SUBJECT, None)
        .await;
    let tokens = h.redeem_openid("rp", &code).await;
    let fault = h
        .userinfo(
            "GET",
            Some(&format!("Bearer {}", tokens.access_token)),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(fault, Fault::Claims(_)), "{fault:?}");
    let response = Response::from_fault(&fault);
    assert_eq!(response.status, 500);
    assert_eq!(body(&response)["error"], "server_error");
    assert!(!response.body.contains(BROKEN_SUBJECT));
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
}
