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

/// The tag of an issuer: base64url of the first 9 bytes of its URL's SHA-256, 12
/// characters. Copied, never allocated: a verifier made per request carries it for free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IssuerTag([u8; 12]);

impl IssuerTag {
    fn as_str(&self) -> &str {
        // Base64url output is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The tag of `issuer`.
pub(crate) fn issuer_tag(issuer: &str) -> IssuerTag {
    let digest = ring::digest::digest(&ring::digest::SHA256, issuer.as_bytes());
    let mut tag = [0u8; 12];
    // 9 bytes are exactly 12 base64 characters, so this never fails.
    let _ = URL_SAFE_NO_PAD.encode_slice(&digest.as_ref()[..9], &mut tag);
    IssuerTag(tag)
}

/// A grant id for `tag`'s issuer around the random `id`.
pub(crate) fn tagged_grant_id(tag: &IssuerTag, id: String) -> GrantId {
    let mut grant = String::with_capacity(13 + id.len());
    grant.push_str(tag.as_str());
    grant.push('.');
    grant.push_str(&id);
    GrantId(grant)
}

/// Whether `grant` was made by the issuer of `tag` (or before grants were tagged).
pub(crate) fn belongs_to(tag: &IssuerTag, grant: &GrantId) -> bool {
    // Every opaque token check passes here: look at the tag's place, do not search.
    let id = grant.as_str().as_bytes();
    match id.get(tag.0.len()) {
        Some(b'.') => id[..tag.0.len()] == tag.0,
        // Untagged: ids made before grants carried their issuer (no `.` at all).
        _ => !id.contains(&b'.'),
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
        assert_eq!(a.as_str().len(), 12);
        let id = tagged_grant_id(&a, "random".into());
        assert!(belongs_to(&a, &id));
        assert!(!belongs_to(&b, &id));
        assert!(belongs_to(&b, &GrantId("legacy-id-without-tag".into())));
    }
}
