//! Reading an `id_token_hint` (OpenID Connect Core 1.0 §3.1.2.1): an ID token this issuer
//! signed for the client, whose `sub` names the user the client expects.

use super::claims::{Claim, ClaimSet};
use super::jws;
use super::keys::VerificationKeys;
use super::strict_json::Field;

/// The `sub` of `token` if it is an ID token signed by one of `keys`, issued by `issuer`
/// to `client_id` (`aud` is the client, or an array holding it); `None` otherwise. Its
/// expiry is not checked: the specification lets a client hint with an expired ID token
/// (the hint only names a user; it authenticates nobody).
pub(crate) fn hinted_subject(
    token: &str,
    keys: &VerificationKeys,
    issuer: &str,
    client_id: &str,
) -> Option<String> {
    let mut buffers = jws::Buffers::new();
    let jws = jws::split(token, &mut buffers).ok()?;
    let alg = jws.header.alg?;
    let key = keys.get(jws.header.kid.as_deref()?)?;
    if key.algorithm() != alg || !key.verify(jws.signing_input.as_bytes(), jws.signature) {
        return None;
    }
    // Only now is anything in it trusted.
    if jws.header.crit {
        return None;
    }
    let claims = ClaimSet::read(&jws.payload).ok()?;
    if claims.str(Claim::Issuer) != Some(issuer) {
        return None;
    }
    let for_client = match claims.get(Claim::Audience) {
        Some(Field::Str(aud)) => aud == client_id,
        Some(Field::Strings(auds)) => auds.iter().any(|aud| aud == client_id),
        _ => false,
    };
    if !for_client {
        return None;
    }
    claims
        .str(Claim::Subject)
        .filter(|sub| !sub.is_empty())
        .map(str::to_owned)
}
