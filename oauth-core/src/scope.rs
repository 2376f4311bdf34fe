//! Scopes: the RFC 6749 §3.3 grammar, scope sets, and how a request's scope is resolved.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Longest scope string accepted, in bytes.
pub const MAX_SCOPE_LEN: usize = 2048;

/// One scope token, such as `read:users`: one or more of `%x21 / %x23-5B / %x5D-7E`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// Checks `token` against the RFC 6749 §3.3 `scope-token` grammar.
    pub fn new(token: impl Into<String>) -> Result<Self, ScopeError> {
        let token = token.into();
        if token.is_empty() {
            return Err(ScopeError::Empty);
        }
        if !token.bytes().all(is_scope_char) {
            return Err(ScopeError::InvalidCharacter);
        }
        Ok(Self(token))
    }

    /// The scope as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e)
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a scope string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An empty scope token (two spaces in a row, or a leading or trailing space).
    #[error("the scope contains an empty token")]
    Empty,
    /// A character outside `%x21 / %x23-5B / %x5D-7E`.
    #[error("the scope contains a character RFC 6749 section 3.3 does not allow")]
    InvalidCharacter,
    /// Longer than [`MAX_SCOPE_LEN`].
    #[error("the scope is too long")]
    TooLong,
}

/// A set of scopes. Order does not matter; it displays sorted, space-separated.
///
/// A set is immutable once built and shared on clone: a grant's scope travels into its
/// code, tokens, events and responses, and each of those is a reference count, not a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSet(Arc<BTreeSet<Scope>>);

impl ScopeSet {
    /// The empty set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses a space-delimited scope string (RFC 6749 §3.3). Tokens are separated by
    /// exactly one space; an empty token is an error, and so is an empty string.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        if text.len() > MAX_SCOPE_LEN {
            return Err(ScopeError::TooLong);
        }
        // Inserted one by one: collecting would first gather and sort a vector, one more
        // allocation on every request and every token verification.
        let mut set = BTreeSet::new();
        for token in text.split(' ') {
            set.insert(Scope::new(token)?);
        }
        Ok(Self(Arc::new(set)))
    }

    /// Builds a set from scope strings, checking each.
    pub fn from_strs<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Self, ScopeError> {
        tokens.into_iter().map(Scope::new).collect()
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both sets.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        // The usual case (a policy that permits everything asked) shares, not copies.
        if self.is_subset(other) {
            return self.clone();
        }
        Self(Arc::new(self.0.intersection(&other.0).cloned().collect()))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(Arc::new(iter.into_iter().collect()))
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in self.0.iter() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

impl TryFrom<String> for ScopeSet {
    type Error = ScopeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.is_empty() {
            Ok(Self::empty())
        } else {
            Self::parse(&value)
        }
    }
}

impl From<ScopeSet> for String {
    fn from(set: ScopeSet) -> Self {
        set.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az09_scope_grammar_rejects_quote_backslash_controls_and_non_ascii() {
        for bad in ["a\"b", "a\\b", "a\u{7f}", "a\tb", "caf\u{e9}", "a\nb"] {
            assert!(ScopeSet::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn az09_empty_scope_token_is_refused() {
        for bad in ["", " ", "a  b", " a", "a "] {
            assert_eq!(ScopeSet::parse(bad), Err(ScopeError::Empty), "{bad:?}");
        }
    }

    #[test]
    fn az09_scope_order_does_not_matter() {
        let a = ScopeSet::parse("write:users read:users").unwrap();
        let b = ScopeSet::parse("read:users write:users").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "read:users write:users");
    }

    #[test]
    fn duplicates_collapse() {
        assert_eq!(ScopeSet::parse("a a").unwrap().len(), 1);
    }

    #[test]
    fn overlong_scope_is_refused() {
        let long = "a".repeat(MAX_SCOPE_LEN + 1);
        assert_eq!(ScopeSet::parse(&long), Err(ScopeError::TooLong));
    }
}
