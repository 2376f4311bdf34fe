//! The floors: the raw `ring` work each operation cannot avoid, written as plainly as
//! possible (no engine, no storage, no checks beyond what the cryptography needs).
//!
//! - A **random secret** is 32 bytes from the system generator, base64url-encoded (the
//!   form that is sent and hashed); an **id** is 16 bytes, encoded. What one request
//!   needs is drawn in one call, as the engine draws it: a **draw** is one system call.
//! - A **hash** is one SHA-256 of a secret as sent (43 characters).
//! - The **PKCE check** is SHA-256 of the verifier, base64url, and a constant-time
//!   comparison with the challenge.
//! - A **bare JWS mint** serializes the same header and claims as the engine with
//!   `serde_json` (typed structs), base64url-encodes them, signs with `ring` and encodes
//!   the signature. A **bare JWS verify** splits the token, decodes and parses the header
//!   and the claims into typed structs, verifies the signature with `ring`, and checks
//!   `exp`, `iss` and `aud`.
//! - A **bare ID-token mint** hashes the access token issued beside it for `at_hash`
//!   (SHA-256, the left half base64url-encoded), then mints the ID token's claims as above,
//!   with `typ: JWT`.
//! - A **bare DPoP proof check** decodes and parses the proof's header and claims into
//!   typed structs, verifies its ES256 signature with the key its header carries, checks
//!   the claims the request fixes, and hashes the key for its thumbprint (and the token for
//!   `ath` at a resource server). A bound JWT access token's bare mint and verify carry
//!   `cnf.jkt` beside the other claims.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth_core::jose::Algorithm;
use ring::digest;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use serde::{Deserialize, Serialize};

pub mod proof;

/// The system generator, as the engine uses it.
#[derive(Debug, Clone)]
pub struct Floor {
    rng: SystemRandom,
}

impl Default for Floor {
    fn default() -> Self {
        Self::new()
    }
}

impl Floor {
    /// The floors, drawing from the system generator.
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
        }
    }

    /// A 256-bit secret, base64url (an opaque code or token value).
    pub fn secret(&self) -> String {
        let mut bytes = [0u8; 32];
        self.rng.fill(&mut bytes).expect("random");
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A 128-bit identifier, base64url (a grant id, a pending request's id).
    pub fn id(&self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes).expect("random");
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A fresh secret and its SHA-256: minting one opaque token or code.
    pub fn minted_secret(&self) -> [u8; 32] {
        hash(self.secret().as_bytes())
    }

    /// `N` random bytes in one draw.
    fn draw<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.rng.fill(&mut bytes).expect("random");
        bytes
    }

    /// Two secrets from one draw (an exchange's access and refresh tokens, or its `jti`
    /// and refresh token).
    pub fn two_secrets(&self) -> [String; 2] {
        let bytes = self.draw::<64>();
        [
            URL_SAFE_NO_PAD.encode(&bytes[..32]),
            URL_SAFE_NO_PAD.encode(&bytes[32..]),
        ]
    }

    /// A secret and an id from one draw (an approval's code and grant id, a client
    /// credentials grant's token and grant id).
    pub fn secret_and_id(&self) -> (String, String) {
        let bytes = self.draw::<48>();
        (
            URL_SAFE_NO_PAD.encode(&bytes[..32]),
            URL_SAFE_NO_PAD.encode(&bytes[32..]),
        )
    }

    /// Two fresh secrets from one draw and their SHA-256: minting two opaque tokens.
    fn minted_pair(&self) -> [[u8; 32]; 2] {
        self.two_secrets().map(|secret| hash(secret.as_bytes()))
    }

    /// The ring work of one whole authorization code flow with opaque tokens: the
    /// pending request's id and its single-use mark, the code and its hash (at approval
    /// and again at redemption), the PKCE check, the grant id, and the access and refresh
    /// tokens with their hashes. 3 draws (one per request: authorization, approval,
    /// exchange), 6 SHA-256.
    pub fn opaque_flow(&self, verifier: &str, challenge: &str) -> bool {
        let pending = self.id();
        let mark = hash(pending.as_bytes());
        let (code, _grant) = self.secret_and_id();
        let at_approval = hash(code.as_bytes());
        let at_redemption = hash(code.as_bytes());
        let pkce = pkce_check(verifier, challenge);
        let [access, refresh] = self.minted_pair();
        pkce && at_approval == at_redemption && mark != access && access != refresh
    }

    /// The ring work of a code exchange besides the access token's signature: the code's
    /// hash, the PKCE check, the `jti` and the refresh token (one draw), the `jti`'s hash
    /// and the refresh token's.
    pub fn exchange_besides_mint(&self, code: &str, verifier: &str, challenge: &str) -> String {
        let code_hash = hash(code.as_bytes());
        let pkce = pkce_check(verifier, challenge);
        let [jti, refresh] = self.two_secrets();
        let jti_hash = hash(jti.as_bytes());
        let refresh = hash(refresh.as_bytes());
        assert!(pkce && code_hash != jti_hash && refresh != jti_hash);
        jti
    }

    /// The ring work of a refresh with rotation (public client): the presented token's
    /// hash, then a new access and refresh token. 1 draw, 3 SHA-256.
    pub fn refresh(&self, presented: &str) -> bool {
        let old = hash(presented.as_bytes());
        let [access, refresh] = self.minted_pair();
        old != access && access != refresh
    }

    /// The ring work of the client credentials grant: the secret's hash, the grant id,
    /// the access token. 1 draw, 2 SHA-256.
    pub fn client_credentials(&self, secret: &str) -> bool {
        let secret = hash(secret.as_bytes());
        let (access, _grant) = self.secret_and_id();
        secret != hash(access.as_bytes())
    }
}

/// SHA-256.
pub fn hash(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// The PKCE `S256` check: SHA-256 of the verifier, base64url, constant-time comparison.
pub fn pkce_check(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    computed.len() == challenge.len()
        && computed
            .bytes()
            .zip(challenge.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The ring work of introspection or revocation: the client secret's hash and the
/// presented token's hash (a lookup by hash).
pub fn authenticated_lookup(secret: &str, token: &str) -> bool {
    hash(secret.as_bytes()) != hash(token.as_bytes())
}

/// A JWS private key held directly as `ring` objects.
pub enum BareKey {
    /// ECDSA P-256.
    Es256(EcdsaKeyPair),
    /// Ed25519.
    EdDsa(Ed25519KeyPair),
    /// RSA PKCS#1 v1.5.
    Rs256(RsaKeyPair),
    /// HMAC-SHA256.
    Hs256(hmac::Key),
}

impl std::fmt::Debug for BareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BareKey")
    }
}

impl BareKey {
    /// The key from the same bytes the engine's key is built from.
    pub fn new(alg: Algorithm, bytes: &[u8]) -> Self {
        let rng = SystemRandom::new();
        match alg {
            Algorithm::Es256 => Self::Es256(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, bytes, &rng)
                    .expect("P-256 key"),
            ),
            Algorithm::EdDsa => {
                Self::EdDsa(Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).expect("Ed25519"))
            }
            Algorithm::Rs256 => Self::Rs256(RsaKeyPair::from_pkcs8(bytes).expect("RSA key")),
            Algorithm::Hs256 => Self::Hs256(hmac::Key::new(hmac::HMAC_SHA256, bytes)),
            _ => panic!("unknown algorithm"),
        }
    }

    /// The `alg` header value.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Es256(_) => "ES256",
            Self::EdDsa(_) => "EdDSA",
            Self::Rs256(_) => "RS256",
            Self::Hs256(_) => "HS256",
        }
    }

    fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Es256(pair) => pair.sign(rng, message).expect("sign").as_ref().to_vec(),
            Self::EdDsa(pair) => pair.sign(message).as_ref().to_vec(),
            Self::Rs256(pair) => {
                let mut out = vec![0u8; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, rng, message, &mut out)
                    .expect("sign");
                out
            }
            Self::Hs256(key) => hmac::sign(key, message).as_ref().to_vec(),
        }
    }
}

/// A verifier's view of a public key, parsed once (as a resource server holds it).
pub enum BarePublic {
    /// An uncompressed P-256 point.
    Es256(Vec<u8>),
    /// An Ed25519 public key.
    EdDsa(Vec<u8>),
    /// RSA: modulus and exponent.
    Rsa(ring::rsa::PublicKeyComponents<Vec<u8>>),
    /// HMAC: the shared secret.
    Hmac(hmac::Key),
}

impl std::fmt::Debug for BarePublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BarePublic")
    }
}

impl BarePublic {
    /// The verification side of `key`.
    pub fn of(key: &BareKey) -> Self {
        match key {
            BareKey::Es256(pair) => Self::Es256(pair.public_key().as_ref().to_vec()),
            BareKey::EdDsa(pair) => Self::EdDsa(pair.public_key().as_ref().to_vec()),
            BareKey::Rs256(pair) => Self::Rsa(ring::rsa::PublicKeyComponents::<Vec<u8>>::from(
                pair.public(),
            )),
            BareKey::Hs256(key) => Self::Hmac(key.clone()),
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Es256(point) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
                    .is_ok()
            }
            Self::EdDsa(point) => signature::UnparsedPublicKey::new(&signature::ED25519, point)
                .verify(message, sig)
                .is_ok(),
            Self::Rsa(components) => components
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
            Self::Hmac(key) => hmac::verify(key, message, sig).is_ok(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    typ: &'a str,
    alg: &'a str,
    kid: &'a str,
}

/// The claims of an RFC 9068 access token, as the engine mints them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Claims<'a> {
    /// `iss`.
    pub iss: &'a str,
    /// `sub`.
    pub sub: &'a str,
    /// `aud`.
    pub aud: &'a str,
    /// `client_id`.
    pub client_id: &'a str,
    /// `scope`.
    pub scope: &'a str,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
    /// `jti`.
    pub jti: &'a str,
}

/// The claims of a DPoP-bound access token: those of [`Claims`] and `cnf.jkt`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BoundClaims<'a> {
    /// The claims every access token has.
    #[serde(flatten, borrow)]
    pub claims: Claims<'a>,
    /// The confirmation: the thumbprint of the key the token is bound to.
    #[serde(borrow)]
    pub cnf: Confirmation<'a>,
}

/// `cnf` (RFC 9449 §6.1).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Confirmation<'a> {
    /// The RFC 7638 thumbprint of the proof's key, base64url.
    pub jkt: &'a str,
}

/// The claims of an ID token, as the engine mints them for a code with a nonce, except
/// `at_hash`, which [`mint_id_token`] computes from the access token.
#[derive(Debug, Clone, Copy)]
pub struct IdClaims<'a> {
    /// `iss`.
    pub iss: &'a str,
    /// `sub`.
    pub sub: &'a str,
    /// `aud` and `azp`: the client.
    pub client_id: &'a str,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
    /// `auth_time`.
    pub auth_time: i64,
    /// `nonce`.
    pub nonce: &'a str,
}

#[derive(Serialize)]
struct IdPayload<'a> {
    at_hash: &'a str,
    aud: &'a str,
    auth_time: i64,
    azp: &'a str,
    exp: i64,
    iat: i64,
    iss: &'a str,
    nonce: &'a str,
    sub: &'a str,
}

/// A bare JWS mint of `claims` with `key`.
pub fn mint(key: &BareKey, rng: &SystemRandom, claims: &Claims<'_>) -> String {
    sign_jwt(key, rng, "at+jwt", claims)
}

/// A bare JWS mint of a DPoP-bound access token's `claims` with `key`.
pub fn mint_bound(key: &BareKey, rng: &SystemRandom, claims: &BoundClaims<'_>) -> String {
    sign_jwt(key, rng, "at+jwt", claims)
}

/// A bare mint of an ID token for `claims` issued beside `access_token`: its `at_hash`
/// (SHA-256 of the access token, the left half base64url-encoded, as for ES256 and
/// RS256), then the JWS with `typ: JWT`.
pub fn mint_id_token(
    key: &BareKey,
    rng: &SystemRandom,
    claims: &IdClaims<'_>,
    access_token: &str,
) -> String {
    let digest = hash(access_token.as_bytes());
    let at_hash = URL_SAFE_NO_PAD.encode(&digest[..16]);
    let payload = IdPayload {
        at_hash: &at_hash,
        aud: claims.client_id,
        auth_time: claims.auth_time,
        azp: claims.client_id,
        exp: claims.exp,
        iat: claims.iat,
        iss: claims.iss,
        nonce: claims.nonce,
        sub: claims.sub,
    };
    sign_jwt(key, rng, "JWT", &payload)
}

/// The compact JWS of `claims` with header `typ`, `alg` and `kid`.
fn sign_jwt(key: &BareKey, rng: &SystemRandom, typ: &str, claims: &impl Serialize) -> String {
    let header = serde_json::to_vec(&Header {
        typ,
        alg: key.alg(),
        kid: "k1",
    })
    .expect("header");
    let payload = serde_json::to_vec(claims).expect("claims");
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let sig = key.sign(rng, token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    token
}

/// A bare JWS verify of `token`: decode and parse the header and claims, verify the
/// signature, check `exp`, `iss` and `aud`.
pub fn verify(public: &BarePublic, token: &str, now: i64, issuer: &str, audience: &str) -> bool {
    verified_payload(public, token).is_some_and(|payload| {
        serde_json::from_slice::<Claims<'_>>(&payload)
            .is_ok_and(|claims| claims.are_valid(now, issuer, audience))
    })
}

/// A bare verify of a DPoP-bound JWT access token: [`verify`], with its `cnf.jkt` compared
/// with `jkt` (the thumbprint of the proof's key, from [`proof::verify_proof`]).
pub fn verify_bound(
    public: &BarePublic,
    token: &str,
    now: i64,
    (issuer, audience): (&str, &str),
    jkt: &str,
) -> bool {
    verified_payload(public, token).is_some_and(|payload| {
        serde_json::from_slice::<BoundClaims<'_>>(&payload).is_ok_and(|bound| {
            bound.claims.are_valid(now, issuer, audience) && bound.cnf.jkt == jkt
        })
    })
}

impl Claims<'_> {
    fn are_valid(&self, now: i64, issuer: &str, audience: &str) -> bool {
        self.exp > now && self.iss == issuer && self.aud == audience && !self.sub.is_empty()
    }
}

/// The decoded claims of `token`, once its header is parsed and its signature verified.
fn verified_payload(public: &BarePublic, token: &str) -> Option<Vec<u8>> {
    let mut parts = token.splitn(3, '.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    let header = URL_SAFE_NO_PAD.decode(h).ok()?;
    let header = serde_json::from_slice::<Header<'_>>(&header).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
    if header.kid != "k1" || !public.verify(&token.as_bytes()[..h.len() + 1 + p.len()], &sig) {
        return None;
    }
    URL_SAFE_NO_PAD.decode(p).ok()
}

/// Checks that a token made by [`mint`] verifies with the matching key.
pub fn self_check(key: &BareKey) -> bool {
    let rng = SystemRandom::new();
    let claims = Claims {
        iss: "i",
        sub: "s",
        aud: "a",
        client_id: "c",
        scope: "read",
        iat: 0,
        exp: 10,
        jti: "j",
    };
    let token = mint(key, &rng, &claims);
    verify(&BarePublic::of(key), &token, 5, "i", "a")
        && !verify(&BarePublic::of(key), &token, 10, "i", "a")
}

/// The floor of a durable store: one bare SQLite commit of one row, in WAL mode with
/// `synchronous = FULL` and `BEGIN IMMEDIATE`, as `oauth-store-sqlite` commits, on a file
/// of its own beside the store's.
#[derive(Debug)]
pub struct CommitFloor {
    db: rusqlite::Connection,
    floor: Floor,
}

impl CommitFloor {
    /// A new database at `path`.
    pub fn new(path: &std::path::Path) -> Self {
        let db = rusqlite::Connection::open(path).expect("open");
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             CREATE TABLE t (k BLOB PRIMARY KEY, v INTEGER) STRICT;",
        )
        .expect("set up");
        Self {
            db,
            floor: Floor::new(),
        }
    }

    /// One durable commit of one new row.
    pub fn commit(&self) {
        let key = self.floor.minted_secret();
        self.db
            .execute_batch("BEGIN IMMEDIATE")
            .and_then(|()| {
                self.db
                    .execute("INSERT INTO t (k, v) VALUES (?1, 1)", [&key[..]])
            })
            .and_then(|_| self.db.execute_batch("COMMIT"))
            .expect("commit");
    }

    /// Nanoseconds per commit over `n` commits.
    pub fn ns_per_commit(&self, n: usize) -> f64 {
        let start = std::time::Instant::now();
        for _ in 0..n.max(1) {
            self.commit();
        }
        start.elapsed().as_nanos() as f64 / n.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::CodeChallenge;

    #[test]
    fn floors_do_the_work_they_claim() {
        let floor = Floor::new();
        let verifier = crate::fixture::VERIFIER;
        let challenge = CodeChallenge::from_verifier(verifier);
        assert!(floor.opaque_flow(verifier, challenge.as_str()));
        assert!(!pkce_check("x".repeat(43).as_str(), challenge.as_str()));
        for alg in crate::fixture::ALGORITHMS {
            if alg == Algorithm::Rs256 {
                continue; // slow in a debug build; covered by the suite's own checks
            }
            let key = BareKey::new(alg, &crate::fixture::key_bytes(alg));
            assert!(self_check(&key), "{alg}");
        }
    }
}
