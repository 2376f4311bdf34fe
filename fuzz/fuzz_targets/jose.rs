//! JWT access tokens and JWKS: `TokenVerifier::verify_jwt` with a fixed key set (an
//! HS256 key `h1` and an EdDSA key `e1`) on arbitrary tokens and on arbitrary headers and
//! claims that carry a valid signature, and `VerificationKeys::from_jwks` on arbitrary
//! documents (FZ-01, JW-01..JW-10).
//!
//! Input: the first byte picks the mode; for signed modes the rest is
//! `header JSON \n claims JSON`.

#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use finrift_fuzz::{now, ISSUER};
use libfuzzer_sys::fuzz_target;
use oauth_core::jose::{SigningKey, VerificationKey, VerificationKeys, MAX_TOKEN_LEN};
use oauth_core::{ManualClock, TokenVerifier};
use ring::signature::{Ed25519KeyPair, KeyPair};

const AUDIENCE: &str = "https://api.example";
const HMAC_SECRET: [u8; 32] = [9u8; 32];
const ED25519_SEED: [u8; 32] = [5u8; 32];

struct Fixture {
    verifier: TokenVerifier<ManualClock>,
    ed25519: Ed25519KeyPair,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ed25519 = Ed25519KeyPair::from_seed_unchecked(&ED25519_SEED).expect("a seed");
        let eddsa =
            SigningKey::ed25519_from_seed("e1", &ED25519_SEED, ed25519.public_key().as_ref())
                .expect("an Ed25519 key");
        let keys = VerificationKeys::new([
            VerificationKey::hmac("h1", &HMAC_SECRET).expect("an HMAC key"),
            eddsa.verification_key().clone(),
        ]);
        let verifier = TokenVerifier::new(ISSUER, AUDIENCE, keys, ManualClock::new(now()));
        Fixture { verifier, ed25519 }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 4 {
        0 => verify(&text, None),
        1 | 2 => {
            let (header, claims) = text.split_once('\n').unwrap_or((&text, ""));
            let token = sign(header, claims, mode % 4 == 1);
            verify(&token, Some(header));
        }
        _ => jwks(&text),
    }
});

/// `b64(header).b64(claims).b64(signature)` with `h1` (HS256) or `e1` (EdDSA).
fn sign(header: &str, claims: &str, hmac: bool) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = if hmac {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &HMAC_SECRET);
        ring::hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
    } else {
        fixture().ed25519.sign(input.as_bytes()).as_ref().to_vec()
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn verify(token: &str, signed_header: Option<&str>) {
    let Ok(principal) = fixture().verifier.verify_jwt(token) else {
        return;
    };
    // Accepted: everything RFC 9068 and RFC 8725 require held.
    assert!(token.len() <= MAX_TOKEN_LEN);
    let header = signed_header.expect("an unsigned token was accepted");
    let header: serde_json::Value = serde_json::from_str(header).expect("header JSON");
    assert!(header.get("crit").is_none(), "crit accepted");
    let alg = header["alg"].as_str().expect("alg");
    let kid = header["kid"].as_str().expect("kid");
    assert!(
        matches!((alg, kid), ("HS256", "h1") | ("EdDSA", "e1")),
        "{alg} {kid}"
    );
    let typ = header["typ"].as_str().expect("typ").to_ascii_lowercase();
    assert!(typ == "at+jwt" || typ == "application/at+jwt", "{typ}");
    let claims = principal.claims.to_map();
    assert_eq!(claims["iss"].as_str(), Some(ISSUER));
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(aud) => aud == AUDIENCE,
        serde_json::Value::Array(auds) => auds.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    assert!(aud_ok, "{:?}", claims["aud"]);
    assert!(principal.expires_at > now(), "expired token accepted");
    assert!(!principal.subject.is_empty() && !principal.client_id.is_empty());
}

fn jwks(document: &str) {
    let Ok(keys) = VerificationKeys::from_jwks(document) else {
        return;
    };
    // What was read serializes back into a document that reads the same keys.
    let again = VerificationKeys::from_jwks(&keys.to_jwks().to_string()).expect("round trip");
    let kids = |k: &VerificationKeys| {
        k.iter()
            .map(|k| (k.kid().to_owned(), k.algorithm()))
            .collect::<Vec<_>>()
    };
    assert_eq!(kids(&keys), kids(&again));
}
