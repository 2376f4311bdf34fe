//! The DPoP key a code or token is bound to, as a grant's extras keep it.

use crate::challenge::PackedChallenge;

/// A DPoP key binding (a `dpop_jkt`), kept behind a box of its own: one pointer in the
/// grant's extras, where a `Box<str>` would be two words and take an OpenID Connect
/// grant's extras, bound or not, into the allocator's next size class. The thumbprint
/// the engine writes (RFC 7638: a SHA-256 digest, 43 base64url characters) is packed in
/// 33 bytes as a PKCE challenge is; any other string is kept as it is, so that every
/// binding reads back exactly.
///
/// Equal texts are always kept alike (43 base64url characters are always packed), so
/// [`BoundKey::is`] compares the packed form.
#[derive(Debug)]
pub(crate) enum BoundKey {
    /// 43 base64url characters, packed.
    Thumbprint(PackedChallenge),
    /// Any other text.
    Other(Box<str>),
}

impl BoundKey {
    pub(crate) fn new(text: &str) -> Box<Self> {
        Box::new(match PackedChallenge::pack(text) {
            Some(packed) => Self::Thumbprint(packed),
            None => Self::Other(text.into()),
        })
    }

    /// Whether this is `text`.
    pub(crate) fn is(&self, text: &str) -> bool {
        match self {
            Self::Thumbprint(packed) => PackedChallenge::pack(text).as_ref() == Some(packed),
            Self::Other(own) => **own == *text,
        }
    }

    /// The text, as it was given.
    pub(crate) fn to_text(&self) -> String {
        match self {
            Self::Thumbprint(packed) => packed.text(),
            Self::Other(own) => own.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_reads_back_as_given_and_is_only_itself() {
        let thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; // RFC 7638 §3.1
        for (text, packed) in [
            (thumbprint, true),
            ("-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-", true),
            // 43 characters whose last one has padding bits set: packed all the same.
            ("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt", true),
            ("", false),
            (&thumbprint[..42], false),
            ("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs=", false),
            ("NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs", false),
            ("Zoë Ångström 🦀 «ユーザー» \"q\" \\", false),
        ] {
            let key = BoundKey::new(text);
            assert_eq!(matches!(*key, BoundKey::Thumbprint(_)), packed, "{text}");
            assert_eq!(key.to_text(), text);
            assert!(key.is(text));
            assert!(!key.is(&format!("{text}x")));
            assert!(!key.is("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        }
    }

    /// One pointer in the extras, and a 40-byte block (48 with the allocator's header)
    /// for a bound grant.
    #[test]
    fn a_binding_is_one_pointer_to_forty_bytes() {
        assert_eq!(std::mem::size_of::<Option<Box<BoundKey>>>(), 8);
        assert_eq!(std::mem::size_of::<BoundKey>(), 40);
    }
}
