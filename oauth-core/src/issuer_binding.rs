//! Binding every grant to the issuer that made it (TK-13).
//!
//! Two engines with different issuers may share one store (tenants of one database). A
//! grant's id begins with a tag of its issuer, `<tag>.<random>`, and every code, refresh
//! token and access token carries its grant's id, so an engine recognises what another
//! issuer made and treats it as unknown: `invalid_grant` at the token endpoint, inactive
//! at introspection, untouched by revocation, refused by the resource guard. The tag is
//! public (a digest of the issuer URL); what makes it hold is that only the engine mints
//! grant ids. Grants made before ids were tagged carry no `.` and stay valid.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::storage::GrantId;

/// The tag of `issuer`: base64url of the first 9 bytes of its SHA-256 (12 characters).
pub(crate) fn issuer_tag(issuer: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, issuer.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..9])
}

/// A grant id for `tag`'s issuer around the random `id`.
pub(crate) fn tagged_grant_id(tag: &str, id: String) -> GrantId {
    GrantId(format!("{tag}.{id}"))
}

/// Whether `grant` was made by the issuer of `tag` (or before grants were tagged).
pub(crate) fn belongs_to(tag: &str, grant: &GrantId) -> bool {
    match grant.as_str().split_once('.') {
        Some((grant_tag, _)) => grant_tag == tag,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tk13_grant_ids_say_whose_they_are() {
        let a = issuer_tag("https://auth.example/tenant-a");
        let b = issuer_tag("https://auth.example/tenant-b");
        assert_ne!(a, b);
        assert_eq!(a.len(), 12);
        let id = tagged_grant_id(&a, "random".into());
        assert!(belongs_to(&a, &id));
        assert!(!belongs_to(&b, &id));
        assert!(belongs_to(&b, &GrantId("legacy-id-without-tag".into())));
    }
}
