//! DP-01 at the level of one proof: proofs built here with `ring` directly (not with
//! finrift's own JWS signer), each broken in one way.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::dpop::{access_token_hash, verify_proof, DpopError, ProofExpectations};
use super::keys::VerificationKey;
use super::Algorithm;

const URL: &str = "https://as.example/token";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
}

enum Holder {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl Holder {
    fn es256() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        Self::Es256(
            EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8.as_ref(),
                &rng,
            )
            .unwrap(),
        )
    }

    fn eddsa() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    fn alg(&self) -> &'static str {
        match self {
            Self::Es256(_) => "ES256",
            Self::EdDsa(_) => "EdDSA",
        }
    }

    fn jwk(&self) -> Value {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match self {
            Self::Es256(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])})
            }
            Self::EdDsa(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
        }
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match self {
            Self::Es256(pair) => pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec(),
            Self::EdDsa(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk()})
    }

    fn claims(&self) -> Value {
        json!({"htm": "POST", "htu": URL, "iat": now().unix_timestamp(), "jti": "proof-1"})
    }

    fn proof(&self) -> String {
        self.sign(&self.header(), &self.claims())
    }
}

fn expect<'a>() -> ProofExpectations<'a> {
    ProofExpectations {
        method: "POST",
        url: URL,
        access_token: None,
        nonces: &[],
        now: now(),
        window: Duration::seconds(60),
    }
}

fn with_claim(holder: &Holder, name: &str, value: Value) -> String {
    let mut claims = holder.claims();
    claims[name] = value;
    holder.sign(&holder.header(), &claims)
}

fn without_claim(holder: &Holder, name: &str) -> String {
    let mut claims = holder.claims();
    claims.as_object_mut().unwrap().remove(name);
    holder.sign(&holder.header(), &claims)
}

#[test]
fn dp01_a_valid_proof_gives_the_rfc_7638_thumbprint_of_its_key() {
    for holder in [Holder::es256(), Holder::eddsa()] {
        let proof = verify_proof(&holder.proof(), &expect()).unwrap();
        assert_eq!(proof.jti, "proof-1");
        assert_eq!(proof.issued_at, now());
        // The thumbprint, computed here from the JWK's own text (RFC 7638 §3).
        let jwk = holder.jwk();
        let members = match holder {
            Holder::Es256(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                jwk["x"], jwk["y"]
            ),
            Holder::EdDsa(_) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":{}}}"#, jwk["x"]),
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, members.as_bytes());
        assert_eq!(proof.jkt, URL_SAFE_NO_PAD.encode(digest));
    }
}

#[test]
fn rfc_7638_example_thumbprint() {
    // RFC 7638 §3.1.
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    let key = VerificationKey::from_jwk(&jwk).unwrap();
    assert_eq!(
        key.thumbprint().unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    let proof_key = VerificationKey::from_proof_jwk(Algorithm::Rs256, &jwk).unwrap();
    assert_eq!(
        proof_key.kid(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn dp01_a_proof_for_another_method_or_url_is_refused() {
    let holder = Holder::es256();
    let proof = holder.proof();
    for method in ["GET", "post", "PUT"] {
        let e = ProofExpectations { method, ..expect() };
        assert_eq!(
            verify_proof(&proof, &e).unwrap_err(),
            DpopError::WrongMethod,
            "{method}"
        );
    }
    for url in [
        "https://as.example/other",
        "https://evil.example/token",
        "https://as.example:8443/token",
        "http://as.example/token",
    ] {
        let e = ProofExpectations { url, ..expect() };
        assert_eq!(
            verify_proof(&proof, &e).unwrap_err(),
            DpopError::WrongUrl,
            "{url}"
        );
    }
    // Case of scheme and host, the default port, a query and a fragment do not matter.
    for htu in [
        "HTTPS://AS.EXAMPLE/token",
        "https://as.example:443/token",
        "https://as.example/token?a=b",
        "https://as.example/token#x",
    ] {
        let proof = with_claim(&holder, "htu", htu.into());
        assert!(verify_proof(&proof, &expect()).is_ok(), "{htu}");
        let e = ProofExpectations {
            url: "https://As.Example:443/token?x=y",
            ..expect()
        };
        assert!(verify_proof(&proof, &e).is_ok(), "{htu}");
    }
    let bad_htu = with_claim(&holder, "htu", "/token".into());
    assert_eq!(
        verify_proof(&bad_htu, &expect()).unwrap_err(),
        DpopError::InvalidClaim("htu")
    );
}

#[test]
fn dp01_a_private_key_in_the_header_is_refused() {
    let holder = Holder::es256();
    for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        let mut header = holder.header();
        header["jwk"][member] = "AAAA".into();
        let proof = holder.sign(&header, &holder.claims());
        assert_eq!(
            verify_proof(&proof, &expect()).unwrap_err(),
            DpopError::PrivateKey,
            "{member}"
        );
    }
}

#[test]
fn dp01_alg_none_symmetric_or_unknown_is_refused() {
    let holder = Holder::es256();
    let claims = URL_SAFE_NO_PAD.encode(holder.claims().to_string());
    for alg in ["none", "HS256", "ES384", "PS384", "RS512"] {
        let mut header = holder.header();
        header["alg"] = alg.into();
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        // An HMAC over the input with the header's own key bytes as the secret: what a
        // confused verifier would accept.
        let secret = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"x");
        let mac = ring::hmac::sign(&secret, format!("{h}.{claims}").as_bytes());
        for signature in [String::new(), URL_SAFE_NO_PAD.encode(mac.as_ref())] {
            let proof = format!("{h}.{claims}.{signature}");
            assert!(verify_proof(&proof, &expect()).is_err(), "{alg}");
        }
        let proof = format!("{h}.{claims}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
        assert_eq!(
            verify_proof(&proof, &expect()).unwrap_err(),
            DpopError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
    // An `oct` key under an asymmetric alg is no key for it.
    let mut header = holder.header();
    header["jwk"] = json!({"kty": "oct"});
    assert_eq!(
        verify_proof(&holder.sign(&header, &holder.claims()), &expect()).unwrap_err(),
        DpopError::BadKey
    );
}

#[test]
fn dp01_type_key_and_signature_are_checked() {
    let holder = Holder::es256();
    for typ in [
        json!("jwt"),
        json!("DPoP+JWT"),
        json!("at+jwt"),
        Value::Null,
    ] {
        let mut header = holder.header();
        header["typ"] = typ.clone();
        assert_eq!(
            verify_proof(&holder.sign(&header, &holder.claims()), &expect()).unwrap_err(),
            DpopError::WrongType,
            "{typ}"
        );
    }
    let mut header = holder.header();
    header.as_object_mut().unwrap().remove("jwk");
    assert_eq!(
        verify_proof(&holder.sign(&header, &holder.claims()), &expect()).unwrap_err(),
        DpopError::BadKey
    );
    // A key of another type than `alg` says.
    let mut header = holder.header();
    header["alg"] = "EdDSA".into();
    assert_eq!(
        verify_proof(&holder.sign(&header, &holder.claims()), &expect()).unwrap_err(),
        DpopError::BadKey
    );
    // Signed by another key than the header's.
    let other = Holder::es256();
    let proof = other.sign(&holder.header(), &holder.claims());
    assert_eq!(
        verify_proof(&proof, &expect()).unwrap_err(),
        DpopError::BadSignature
    );
    let mut header = holder.header();
    header["crit"] = json!(["exp"]);
    assert_eq!(
        verify_proof(&holder.sign(&header, &holder.claims()), &expect()).unwrap_err(),
        DpopError::UnknownCritical
    );
}

#[test]
fn dp01_iat_outside_the_window_is_refused() {
    let holder = Holder::eddsa();
    let at = |offset: i64| with_claim(&holder, "iat", (now().unix_timestamp() + offset).into());
    for offset in [-60, -1, 0, 1, 60] {
        assert!(verify_proof(&at(offset), &expect()).is_ok(), "{offset}");
    }
    for offset in [-61, -3600, 61, 3600] {
        assert_eq!(
            verify_proof(&at(offset), &expect()).unwrap_err(),
            DpopError::OutsideWindow,
            "{offset}"
        );
    }
    let narrow = ProofExpectations {
        window: Duration::seconds(5),
        ..expect()
    };
    assert_eq!(
        verify_proof(&at(-6), &narrow).unwrap_err(),
        DpopError::OutsideWindow
    );
    for bad in [json!("1900000000"), json!(1_900_000_000.5), Value::Null] {
        assert_eq!(
            verify_proof(&with_claim(&holder, "iat", bad.clone()), &expect()).unwrap_err(),
            DpopError::InvalidClaim("iat"),
            "{bad}"
        );
    }
}

#[test]
fn dp01_jti_is_required_and_bounded() {
    let holder = Holder::es256();
    assert_eq!(
        verify_proof(&without_claim(&holder, "jti"), &expect()).unwrap_err(),
        DpopError::InvalidClaim("jti")
    );
    for bad in [json!(""), json!(7), json!("j".repeat(129))] {
        assert_eq!(
            verify_proof(&with_claim(&holder, "jti", bad), &expect()).unwrap_err(),
            DpopError::InvalidClaim("jti")
        );
    }
    assert!(verify_proof(
        &with_claim(&holder, "jti", "j".repeat(128).into()),
        &expect()
    )
    .is_ok());
    for name in ["htm", "htu", "iat"] {
        assert_eq!(
            verify_proof(&without_claim(&holder, name), &expect()).unwrap_err(),
            DpopError::InvalidClaim(name)
        );
    }
}

#[test]
fn dp02_ath_must_hash_the_token_presented() {
    let holder = Holder::es256();
    let token = "the-access-token";
    let e = ProofExpectations {
        access_token: Some(token),
        ..expect()
    };
    let proof = with_claim(&holder, "ath", access_token_hash(token).into());
    assert!(verify_proof(&proof, &e).is_ok());
    let other = with_claim(&holder, "ath", access_token_hash("another").into());
    assert_eq!(
        verify_proof(&other, &e).unwrap_err(),
        DpopError::WrongTokenHash
    );
    assert_eq!(
        verify_proof(&holder.proof(), &e).unwrap_err(),
        DpopError::InvalidClaim("ath")
    );
}

#[test]
fn dp01_a_required_nonce_must_be_the_one_expected() {
    let holder = Holder::es256();
    let e = ProofExpectations {
        nonces: &["n-1", "n-0"],
        ..expect()
    };
    assert!(verify_proof(&with_claim(&holder, "nonce", "n-1".into()), &e).is_ok());
    assert!(verify_proof(&with_claim(&holder, "nonce", "n-0".into()), &e).is_ok());
    assert_eq!(
        verify_proof(&with_claim(&holder, "nonce", "n-2".into()), &e).unwrap_err(),
        DpopError::WrongNonce
    );
    assert_eq!(
        verify_proof(&holder.proof(), &e).unwrap_err(),
        DpopError::WrongNonce
    );
}
