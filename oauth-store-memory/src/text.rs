//! Short strings kept inline.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use oauth_core::{StorageError, StorageErrorKind};

/// Bytes kept inline: as many as fit beside the tag and the length in the 24 bytes a
/// `Box<str>` variant needs anyway. A generated grant id (22 base64url characters) fits.
const INLINE: usize = 22;

/// A string: inline up to [`INLINE`] bytes, boxed beyond. Grant ids and subjects are
/// usually short, and a separate heap block would cost a pointer, its length and the
/// allocator's overhead on top of the text.
///
/// Equal texts are always stored alike (the length decides the variant, and unused inline
/// bytes are zero), so the derived equality is equality of the text; it hashes as its
/// bytes, so that a map keyed by `Text` can be searched with a `&[u8]`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Text {
    /// Up to [`INLINE`] bytes; the rest are zero.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// Longer text.
    Boxed(Box<str>),
}

impl Text {
    pub(crate) fn new(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Boxed(text.into()),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Boxed(text) => text.as_bytes(),
        }
    }

    /// Whether this is `text`.
    pub(crate) fn is(&self, text: &str) -> bool {
        self.as_bytes() == text.as_bytes()
    }

    /// The text as a `String`. Inline bytes were copied from a whole `str`, so they are
    /// UTF-8; a failure would mean memory corruption, reported as such.
    pub(crate) fn to_text(&self) -> Result<String, StorageError> {
        match self {
            Self::Boxed(text) => Ok(text.to_string()),
            Self::Inline { .. } => std::str::from_utf8(self.as_bytes())
                .map(str::to_owned)
                .map_err(|e| {
                    StorageError::with_source(StorageErrorKind::Corrupt, "inline text", e)
                }),
        }
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl Borrow<[u8]> for Text {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(self.as_bytes()), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_text_boxed() {
        for (text, inline) in [
            ("", true),
            ("alice", true),
            ("Q2xqY8dJ1mV0rT5wZ3nB7a", true), // a generated grant id: 22 characters
            ("kit-grant-Q2xqY8dJ1mV0rT5wZ3nB7a", false),
            ("Zoë Ångström 🦀 用户", false),
        ] {
            let stored = Text::new(text);
            assert_eq!(matches!(stored, Text::Inline { .. }), inline, "{text}");
            assert!(stored.is(text));
            assert!(!stored.is(&format!("{text}x")));
            assert_eq!(stored.to_text().unwrap(), text);
        }
    }

    #[test]
    fn inline_multibyte_text_round_trips() {
        let text = "ユーザー🦀"; // 16 bytes
        assert!(matches!(Text::new(text), Text::Inline { .. }));
        assert_eq!(Text::new(text).to_text().unwrap(), text);
    }

    #[test]
    fn is_three_words() {
        assert_eq!(std::mem::size_of::<Text>(), 24);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 24);
    }
}
