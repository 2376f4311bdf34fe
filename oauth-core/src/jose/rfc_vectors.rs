//! The JWS layer against the published examples: RFC 7515 Appendix A.1 (HS256), A.2
//! (RS256), A.3 (ES256) and RFC 8037 Appendix A.4 (Ed25519).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rsa;
use serde_json::json;

use super::jws;
use super::keys::{SigningKey, VerificationKey};

const A1_K: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_E: &str = "AQAB";
const A2_D: &str = "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ";
const A2_P: &str = "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc";
const A2_Q: &str = "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc";
const A2_DP: &str = "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0";
const A2_DQ: &str = "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU";
const A2_QI: &str = "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U";
const A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// The signing input and the signature of a compact JWS.
fn parts(jws_text: &str) -> (&str, Vec<u8>) {
    let (input, signature) = jws_text.rsplit_once('.').unwrap();
    (input, b64(signature))
}

#[test]
fn rfc7515_a1_hs256() {
    let key = SigningKey::hmac("a1", &b64(A1_K)).unwrap();
    let (input, signature) = parts(A1_JWS);
    assert_eq!(key.sign(input.as_bytes()).unwrap(), signature);
    assert!(key.verification_key().verify(input.as_bytes(), &signature));
    assert!(!key.verification_key().verify(b"other", &signature));
    let mut buffers = jws::Buffers::new();
    let split = jws::split(A1_JWS, &mut buffers).unwrap();
    assert_eq!(split.header.alg, Some(super::Algorithm::Hs256));
    assert_eq!(split.signing_input, input);
}

#[test]
fn rfc7515_a2_rs256() {
    let (n, e, d, p, q, dp, dq, qi) = (
        b64(A2_N),
        b64(A2_E),
        b64(A2_D),
        b64(A2_P),
        b64(A2_Q),
        b64(A2_DP),
        b64(A2_DQ),
        b64(A2_QI),
    );
    let components = rsa::KeyPairComponents {
        public_key: rsa::PublicKeyComponents {
            n: &n[..],
            e: &e[..],
        },
        d: &d[..],
        p: &p[..],
        q: &q[..],
        dP: &dp[..],
        dQ: &dq[..],
        qInv: &qi[..],
    };
    let key = SigningKey::rsa_from_components("a2", &components).unwrap();
    let (input, signature) = parts(A2_JWS);
    // RSASSA-PKCS1-v1_5 is deterministic: the same bytes as the RFC.
    assert_eq!(key.sign(input.as_bytes()).unwrap(), signature);
    let jwk = key.verification_key().to_jwk().unwrap();
    assert_eq!(jwk["n"], A2_N);
    assert_eq!(jwk["e"], A2_E);
    let public = VerificationKey::from_jwk(&jwk).unwrap();
    assert!(public.verify(input.as_bytes(), &signature));
}

#[test]
fn rfc7515_a3_es256() {
    let key = VerificationKey::from_jwk(&json!({
        "kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y, "kid": "a3", "alg": "ES256"
    }))
    .unwrap();
    let (input, mut signature) = parts(A3_JWS);
    assert!(key.verify(input.as_bytes(), &signature));
    signature[10] ^= 1;
    assert!(!key.verify(input.as_bytes(), &signature));
}

#[test]
fn rfc8037_a4_ed25519() {
    let key = SigningKey::ed25519_from_seed("okp", &b64(RFC8037_D), &b64(RFC8037_X)).unwrap();
    let (input, signature) = parts(RFC8037_JWS);
    assert_eq!(
        input,
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    );
    assert_eq!(key.sign(input.as_bytes()).unwrap(), signature);
    assert_eq!(key.verification_key().to_jwk().unwrap()["x"], RFC8037_X);
    let token = jws::sign(
        &json!({"alg": "EdDSA"}),
        b"Example of Ed25519 signing",
        &key,
    )
    .unwrap();
    assert_eq!(token, RFC8037_JWS);
}
