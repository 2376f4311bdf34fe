//! The JW-* cases of SECURITY.md against the JWT verifier.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::algorithm::Algorithm;
use super::jwt::{verify, Expectations, JwtError, VerifiedJwt};
use super::key_error::KeyError;
use super::keys::{SigningKey, VerificationKey, VerificationKeys};
use super::JwsError;

const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "https://api.example";
const NOW: i64 = 1_900_000_000;

struct Keys {
    es: SigningKey,
    ed: SigningKey,
    rs: SigningKey,
    hs: SigningKey,
    trusted: VerificationKeys,
}

fn keys() -> Keys {
    let es = SigningKey::generate(Algorithm::Es256, "es").unwrap().0;
    let ed = SigningKey::generate(Algorithm::EdDsa, "ed").unwrap().0;
    let rs = SigningKey::from_pkcs8(
        Algorithm::Rs256,
        "rs",
        include_bytes!("../../testdata/rsa2048.pk8.der"),
    )
    .unwrap();
    let hs = SigningKey::hmac("hs", &[7u8; 32]).unwrap();
    let trusted = VerificationKeys::new([&es, &ed, &rs, &hs].map(|k| k.verification_key().clone()));
    Keys {
        es,
        ed,
        rs,
        hs,
        trusted,
    }
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "client_id": "app",
        "scope": "read:users", "iat": NOW, "exp": NOW + 600, "jti": "id-1",
    })
}

fn header(key: &SigningKey) -> Value {
    json!({"typ": "at+jwt", "alg": key.algorithm().as_str(), "kid": key.kid()})
}

/// Signs raw header and payload text with `key`, whatever they say.
fn raw(header: &str, payload: &str, key: &SigningKey) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn token(header: &Value, claims: &Value, key: &SigningKey) -> String {
    raw(&header.to_string(), &claims.to_string(), key)
}

fn check_at(
    token: &str,
    keys: &VerificationKeys,
    now: i64,
    leeway: i64,
) -> Result<VerifiedJwt, JwtError> {
    verify(
        token,
        &Expectations {
            keys,
            issuer: ISSUER,
            audience: Some(AUDIENCE),
            now: OffsetDateTime::from_unix_timestamp(now).unwrap(),
            leeway: Duration::seconds(leeway),
        },
    )
}

fn check(token: &str, keys: &VerificationKeys) -> Result<VerifiedJwt, JwtError> {
    check_at(token, keys, NOW, 0)
}

#[test]
fn every_algorithm_round_trips() {
    let k = keys();
    for key in [&k.es, &k.ed, &k.rs, &k.hs] {
        let verified = check(&token(&header(key), &claims(), key), &k.trusted).unwrap();
        assert_eq!(verified.subject, "alice");
        assert_eq!(verified.client_id, "app");
        assert_eq!(verified.scope.to_string(), "read:users");
        assert_eq!(verified.jti, "id-1");
    }
}

#[test]
fn jw01_alg_none_and_empty_signature_are_rejected() {
    let k = keys();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"typ": "at+jwt", "alg": "none", "kid": "es"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    assert_eq!(
        check(&none, &k.trusted).unwrap_err(),
        JwtError::Malformed(JwsError::Segments)
    );
    let none_with_sig = format!("{none}AAAA");
    assert_eq!(
        check(&none_with_sig, &k.trusted).unwrap_err(),
        JwtError::UnsupportedAlgorithm
    );
    let good = token(&header(&k.es), &claims(), &k.es);
    let stripped = format!("{}.", good.rsplit_once('.').unwrap().0);
    assert!(check(&stripped, &k.trusted).is_err());
    for alg in ["None", "NONE", "", "HS512", "ES384", "RS512", "PS512"] {
        let t = token(
            &json!({"typ": "at+jwt", "alg": alg, "kid": "es"}),
            &claims(),
            &k.es,
        );
        assert_eq!(
            check(&t, &k.trusted).unwrap_err(),
            JwtError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
}

#[test]
fn jw02_hs256_signed_with_a_public_key_as_secret_is_rejected() {
    let k = keys();
    // The classic confusion: take the verifier's public key bytes as an HMAC secret.
    let ec_point = URL_SAFE_NO_PAD
        .decode(
            k.es.verification_key().to_jwk().unwrap()["x"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let rsa_n = URL_SAFE_NO_PAD
        .decode(
            k.rs.verification_key().to_jwk().unwrap()["n"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    for (kid, secret) in [("es", ec_point), ("rs", rsa_n)] {
        let forger = SigningKey::hmac("x", &secret).unwrap();
        let forged = token(
            &json!({"typ": "at+jwt", "alg": "HS256", "kid": kid}),
            &claims(),
            &forger,
        );
        assert_eq!(
            check(&forged, &k.trusted).unwrap_err(),
            JwtError::AlgorithmMismatch,
            "{kid}"
        );
    }
}

#[test]
fn jw03_header_alg_must_be_the_keys_and_embedded_keys_are_never_trusted() {
    let k = keys();
    let wrong_alg = token(
        &json!({"typ": "at+jwt", "alg": "EdDSA", "kid": "es"}),
        &claims(),
        &k.ed,
    );
    assert_eq!(
        check(&wrong_alg, &k.trusted).unwrap_err(),
        JwtError::AlgorithmMismatch
    );

    let attacker = SigningKey::generate(Algorithm::Es256, "es").unwrap().0;
    let jwk = attacker.verification_key().to_jwk().unwrap();
    for extra in [
        json!({"jwk": jwk}),
        json!({"jku": "https://evil.example/jwks.json"}),
        json!({"x5u": "https://evil.example/cert.pem"}),
        json!({"x5c": ["MIIB"]}),
    ] {
        let mut h = header(&k.es);
        h.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let forged = token(&h, &claims(), &attacker);
        assert_eq!(
            check(&forged, &k.trusted).unwrap_err(),
            JwtError::BadSignature
        );
        // The same header on a genuinely signed token is simply ignored.
        assert!(check(&token(&h, &claims(), &k.es), &k.trusted).is_ok());
    }
}

#[test]
fn jw04_unknown_or_hostile_kid_is_rejected() {
    let k = keys();
    for kid in [
        "nope",
        "../../../../dev/null",
        "' OR '1'='1",
        "es\u{0}",
        "ES",
        "es ",
    ] {
        let t = token(
            &json!({"typ": "at+jwt", "alg": "ES256", "kid": kid}),
            &claims(),
            &k.es,
        );
        assert_eq!(
            check(&t, &k.trusted).unwrap_err(),
            JwtError::UnknownKey,
            "{kid:?}"
        );
    }
    let no_kid = token(&json!({"typ": "at+jwt", "alg": "ES256"}), &claims(), &k.es);
    assert_eq!(
        check(&no_kid, &k.trusted).unwrap_err(),
        JwtError::UnknownKey
    );
    let number_kid = token(
        &json!({"typ": "at+jwt", "alg": "ES256", "kid": 1}),
        &claims(),
        &k.es,
    );
    assert_eq!(
        check(&number_kid, &k.trusted).unwrap_err(),
        JwtError::UnknownKey
    );
}

#[test]
fn jw05_typ_must_be_at_jwt_and_crit_is_refused() {
    let k = keys();
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let t = token(
            &json!({"typ": typ, "alg": "ES256", "kid": "es"}),
            &claims(),
            &k.es,
        );
        assert!(check(&t, &k.trusted).is_ok(), "{typ}");
    }
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("application/jwt"),
        json!("at+jwt "),
        json!(null),
        json!(1),
        json!("application/"),
    ] {
        let t = token(
            &json!({"typ": typ, "alg": "ES256", "kid": "es"}),
            &claims(),
            &k.es,
        );
        assert_eq!(
            check(&t, &k.trusted).unwrap_err(),
            JwtError::WrongType,
            "{typ}"
        );
    }
    let no_typ = token(&json!({"alg": "ES256", "kid": "es"}), &claims(), &k.es);
    assert_eq!(check(&no_typ, &k.trusted).unwrap_err(), JwtError::WrongType);
    let crit = token(
        &json!({"typ": "at+jwt", "alg": "ES256", "kid": "es", "crit": ["exp"], "exp": 1}),
        &claims(),
        &k.es,
    );
    assert_eq!(
        check(&crit, &k.trusted).unwrap_err(),
        JwtError::UnknownCritical
    );
}

#[test]
fn jw06_exp_and_nbf_boundaries_with_leeway() {
    let k = keys();
    let t = token(&header(&k.es), &claims(), &k.es);
    let exp = NOW + 600;
    assert!(check_at(&t, &k.trusted, exp - 1, 0).is_ok());
    assert_eq!(
        check_at(&t, &k.trusted, exp, 0).unwrap_err(),
        JwtError::Expired
    );
    assert!(check_at(&t, &k.trusted, exp + 29, 30).is_ok());
    assert_eq!(
        check_at(&t, &k.trusted, exp + 30, 30).unwrap_err(),
        JwtError::Expired
    );

    let mut c = claims();
    c["nbf"] = json!(NOW + 10);
    let t = token(&header(&k.es), &c, &k.es);
    assert_eq!(
        check_at(&t, &k.trusted, NOW + 9, 0).unwrap_err(),
        JwtError::NotYetValid
    );
    assert!(check_at(&t, &k.trusted, NOW + 10, 0).is_ok());
    assert!(check_at(&t, &k.trusted, NOW + 5, 5).is_ok());

    for exp in [
        json!(null),
        json!("1900000600"),
        json!(1.9e9),
        json!(1e300),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(-1),
        json!(i64::MIN),
        json!([1]),
        json!(true),
    ] {
        let mut c = claims();
        c["exp"] = exp.clone();
        let t = token(&header(&k.es), &c, &k.es);
        let error = check(&t, &k.trusted).unwrap_err();
        assert!(
            matches!(error, JwtError::InvalidClaim("exp") | JwtError::Expired),
            "{exp}: {error:?}"
        );
    }
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        check(&token(&header(&k.es), &c, &k.es), &k.trusted).unwrap_err(),
        JwtError::InvalidClaim("exp")
    );
    for (name, value) in [
        ("nbf", json!("soon")),
        ("iat", json!("then")),
        ("nbf", json!(1.5)),
    ] {
        let mut c = claims();
        c[name] = value;
        assert!(
            check(&token(&header(&k.es), &c, &k.es), &k.trusted).is_err(),
            "{name}"
        );
    }
    // exp + leeway cannot overflow into the past.
    let mut c = claims();
    c["exp"] = json!(i64::MAX - 1);
    let t = token(&header(&k.es), &c, &k.es);
    assert_eq!(
        check_at(&t, &k.trusted, NOW, 300).unwrap_err(),
        JwtError::InvalidClaim("exp")
    );
}

#[test]
fn jw07_audience_and_issuer_must_match_exactly() {
    let k = keys();
    let with = |name: &str, value: Value| {
        let mut c = claims();
        if value.is_null() {
            c.as_object_mut().unwrap().remove(name);
        } else {
            c[name] = value;
        }
        check(&token(&header(&k.es), &c, &k.es), &k.trusted)
    };
    assert_eq!(
        with("aud", Value::Null).unwrap_err(),
        JwtError::WrongAudience
    );
    assert_eq!(
        with("aud", json!("https://other.example")).unwrap_err(),
        JwtError::WrongAudience
    );
    assert_eq!(
        with("aud", json!("https://api.example/")).unwrap_err(),
        JwtError::WrongAudience
    );
    assert_eq!(
        with("aud", json!(["https://other.example"])).unwrap_err(),
        JwtError::WrongAudience
    );
    assert!(with("aud", json!(["https://other.example", AUDIENCE])).is_ok());
    assert_eq!(
        with("iss", json!("https://auth.example/")).unwrap_err(),
        JwtError::WrongIssuer
    );
    assert_eq!(with("iss", Value::Null).unwrap_err(), JwtError::WrongIssuer);
    assert_eq!(
        with("iss", json!(["https://auth.example"])).unwrap_err(),
        JwtError::WrongIssuer
    );
    assert_eq!(
        with("sub", Value::Null).unwrap_err(),
        JwtError::InvalidClaim("sub")
    );
    assert_eq!(
        with("client_id", json!(5)).unwrap_err(),
        JwtError::InvalidClaim("client_id")
    );
    assert_eq!(
        with("scope", json!("bad\"scope")).unwrap_err(),
        JwtError::InvalidClaim("scope")
    );
}

#[test]
fn jw08_malformed_encodings_are_rejected() {
    let k = keys();
    let good = token(&header(&k.es), &claims(), &k.es);
    let (h, rest) = good.split_once('.').unwrap();
    for bad in [
        format!("{h}=.{rest}"),
        format!("{h}.{rest}="),
        format!("{}.{rest}", h.replacen('e', "+", 1)),
        format!("{h}.\n{rest}"),
        format!("{h}.{rest}.{rest}"),
        rest.to_owned(),
        format!("{}.{rest}", URL_SAFE_NO_PAD.encode("null")),
    ] {
        assert!(
            matches!(check(&bad, &k.trusted), Err(JwtError::Malformed(_))),
            "{bad}"
        );
    }
    // Claims that are not a JSON object.
    for payload in ["null", "[]", "\"x\"", "{"] {
        let t = raw(&header(&k.es).to_string(), payload, &k.es);
        assert_eq!(
            check(&t, &k.trusted).unwrap_err(),
            JwtError::MalformedClaims,
            "{payload}"
        );
    }
}

#[test]
fn jw09_duplicate_keys_in_header_or_claims_are_rejected() {
    let k = keys();
    let doubled_header = r#"{"typ":"at+jwt","alg":"ES256","kid":"es","kid":"es"}"#;
    let t = raw(doubled_header, &claims().to_string(), &k.es);
    assert_eq!(
        check(&t, &k.trusted).unwrap_err(),
        JwtError::Malformed(JwsError::Header)
    );
    let body = claims().to_string();
    let doubled = body.replacen('{', r#"{"sub":"mallory","#, 1);
    let t = raw(&header(&k.es).to_string(), &doubled, &k.es);
    assert_eq!(
        check(&t, &k.trusted).unwrap_err(),
        JwtError::MalformedClaims
    );
}

#[test]
fn jw10_bad_ecdsa_signatures_and_short_rsa_keys_are_rejected() {
    let k = keys();
    let good = token(&header(&k.es), &claims(), &k.es);
    let input = good.rsplit_once('.').unwrap().0;
    for signature in [
        vec![0u8; 64],
        vec![0u8; 63],
        vec![1u8; 65],
        vec![],
        vec![0u8; 72],
    ] {
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&signature));
        assert!(check(&t, &k.trusted).is_err(), "{} bytes", signature.len());
    }
    // A DER-encoded ECDSA signature (the other common format) is not accepted either.
    let der = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &SigningKey::generate(Algorithm::Es256, "x").unwrap().1,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let der_sig = der
        .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
        .unwrap();
    let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(der_sig.as_ref()));
    assert_eq!(check(&t, &k.trusted).unwrap_err(), JwtError::BadSignature);

    let short = SigningKey::from_pkcs8(
        Algorithm::Rs256,
        "small",
        include_bytes!("../../testdata/rsa1024.pk8.der"),
    );
    assert!(matches!(
        short,
        Err(KeyError::Invalid(_) | KeyError::TooShort(_))
    ));
    let small_n = URL_SAFE_NO_PAD.encode([0xc5u8; 128]);
    let jwk = json!({"kty": "RSA", "n": small_n, "e": "AQAB", "kid": "small", "alg": "RS256"});
    assert_eq!(
        VerificationKey::from_jwk(&jwk).unwrap_err(),
        KeyError::TooShort(Algorithm::Rs256)
    );
    assert_eq!(
        SigningKey::hmac("h", &[1u8; 31]).unwrap_err(),
        KeyError::TooShort(Algorithm::Hs256)
    );
}

#[test]
fn jwks_exports_public_keys_only_and_reads_back() {
    let k = keys();
    let jwks = k.trusted.to_jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "the HMAC secret is never published");
    let text = jwks.to_string();
    assert!(!text.contains("\"d\""), "no private parts");
    assert!(!text.contains("\"k\""));
    let read = VerificationKeys::from_jwks(&text).unwrap();
    for key in [&k.es, &k.ed, &k.rs] {
        let t = token(&header(key), &claims(), key);
        assert!(check(&t, &read).is_ok(), "{}", key.kid());
    }
    let hs = token(&header(&k.hs), &claims(), &k.hs);
    assert_eq!(check(&hs, &read).unwrap_err(), JwtError::UnknownKey);
    assert!(VerificationKeys::from_jwks(r#"{"keys":[]}"#).is_err());
    assert!(VerificationKeys::from_jwks(
        r#"{"keys":[{"kty":"oct","k":"AAAA","kid":"s","alg":"HS256"}]}"#
    )
    .is_err());
    assert!(VerificationKeys::from_jwks("[]").is_err());
}

#[test]
fn rotation_keeps_old_tokens_verifying() {
    let k = keys();
    let mut set = super::KeySet::new(k.es);
    let old = token(
        &json!({"typ": "at+jwt", "alg": "ES256", "kid": "es"}),
        &claims(),
        set.active(),
    );
    set.rotate(k.ed);
    let new = token(&header(set.active()), &claims(), set.active());
    let trusted = set.verification_keys();
    assert!(check(&old, &trusted).is_ok());
    assert!(check(&new, &trusted).is_ok());
    set.retire("es");
    assert_eq!(
        check(&old, &set.verification_keys()).unwrap_err(),
        JwtError::UnknownKey
    );
}

#[test]
fn jw12_iat_is_required_and_not_in_the_future_past_the_leeway() {
    let k = keys();
    let mut c = claims();
    c.as_object_mut().unwrap().remove("iat");
    let t = token(&header(&k.es), &c, &k.es);
    assert_eq!(
        check(&t, &k.trusted).unwrap_err(),
        JwtError::InvalidClaim("iat")
    );
    for bad in [json!("1900000000"), json!(1.5), json!(null)] {
        let mut c = claims();
        c["iat"] = bad;
        let t = token(&header(&k.es), &c, &k.es);
        assert!(check(&t, &k.trusted).is_err());
    }
    let mut c = claims();
    c["iat"] = json!(NOW + 30);
    let t = token(&header(&k.es), &c, &k.es);
    assert_eq!(
        check_at(&t, &k.trusted, NOW, 29).unwrap_err(),
        JwtError::InvalidClaim("iat")
    );
    assert!(check_at(&t, &k.trusted, NOW, 30).is_ok());
}

#[test]
fn ps256_round_trips_and_is_not_rs256() {
    let k = keys();
    let rsa = include_bytes!("../../testdata/rsa2048.pk8.der");
    let ps = SigningKey::from_pkcs8(Algorithm::Ps256, "ps", rsa).unwrap();
    assert_eq!(ps.algorithm(), Algorithm::Ps256);
    let trusted = VerificationKeys::new([ps.verification_key().clone()]);
    let verified = check(&token(&header(&ps), &claims(), &ps), &trusted).unwrap();
    assert_eq!(verified.subject, "alice");
    // Its JWK names PS256 and reads back as a PS256 key with the RS256 key's thumbprint.
    let jwk = ps.verification_key().to_jwk().unwrap();
    assert_eq!(jwk["alg"], "PS256");
    let back = VerificationKey::from_jwk(&jwk).unwrap();
    assert_eq!(back.algorithm(), Algorithm::Ps256);
    assert_eq!(
        back.thumbprint(),
        k.rs.verification_key().thumbprint(),
        "the same RSA key"
    );
    // The same RSA key under the other padding verifies neither way.
    let message = b"signing input";
    let pss = ps.sign(message).unwrap();
    let pkcs1 = k.rs.sign(message).unwrap();
    assert!(ps.verification_key().verify(message, &pss));
    assert!(!ps.verification_key().verify(message, &pkcs1));
    assert!(!k.rs.verification_key().verify(message, &pss));
    assert!(matches!(
        SigningKey::generate(Algorithm::Ps256, "ps"),
        Err(KeyError::CannotGenerate(Algorithm::Ps256))
    ));
}
