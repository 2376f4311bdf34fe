//! Compact JWS (RFC 7515 §7.1): sign and split, strictly.
//!
//! Decoding refuses anything a careful producer would not emit: a token longer than
//! [`MAX_TOKEN_LEN`] (checked before any decoding), other than three segments, base64url
//! with padding, `+`, `/` or whitespace, an empty signature, and headers that are not a
//! JSON object or repeat a key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use super::header::JoseHeader;
use super::keys::SigningKey;
use crate::error::Fault;

/// Longest token accepted, in bytes, before any decoding.
pub const MAX_TOKEN_LEN: usize = 8192;

/// A compact JWS split into its parts; the signature is not checked yet.
#[derive(Debug)]
pub(crate) struct UnverifiedJws<'a> {
    pub header: JoseHeader,
    pub signing_input: &'a str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Why a compact JWS could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("the token is too long")]
    TooLong,
    /// Not exactly three non-empty segments.
    #[error("the token is not a three-part compact JWS")]
    Segments,
    /// A segment is not strict base64url.
    #[error("a token segment is not base64url")]
    Base64,
    /// The header is not a JSON object, or repeats a key.
    #[error("the token header is not a valid JSON object")]
    Header,
}

/// Splits and decodes `token`.
pub(crate) fn split(token: &str) -> Result<UnverifiedJws<'_>, JwsError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwsError::TooLong);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Segments);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(JwsError::Segments);
    }
    let decode = |segment: &str| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| JwsError::Base64)
    };
    let header_bytes = decode(header)?;
    let header_read = JoseHeader::read(&header_bytes).map_err(|_| JwsError::Header)?;
    Ok(UnverifiedJws {
        header: header_read,
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload: decode(payload)?,
        signature: decode(signature)?,
    })
}

/// Signs `payload` under `header` with `key`, giving the compact serialization.
pub(crate) fn sign<H: Serialize>(
    header: &H,
    payload: &[u8],
    key: &SigningKey,
) -> Result<String, Fault> {
    let header = serde_json::to_vec(header).map_err(|e| Fault::Encoding(e.to_string()))?;
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jw08_segment_count_and_base64_are_strict() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"a":1}"#);
        let s = URL_SAFE_NO_PAD.encode([1u8; 64]);
        assert!(split(&format!("{h}.{p}.{s}")).is_ok());
        for bad in [
            format!("{h}.{p}"),
            format!("{h}.{p}.{s}.{s}"),
            format!("{h}.{p}.{s}.{s}.{s}"),
            format!("{h}.{p}."),
            format!("{h}..{s}"),
            format!("{h}=.{p}.{s}"),
            format!("{h}.{p}.{s}=="),
            format!("{h}.{p} .{s}"),
            format!("{h}.{p}.{}", s.replace('A', "+")),
            format!("{h}.{p}.{}/", s),
            format!(" {h}.{p}.{s}"),
        ] {
            assert!(split(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jw08_null_or_non_object_header_is_refused() {
        let p = URL_SAFE_NO_PAD.encode(br#"{"a":1}"#);
        for header in [
            "null",
            "[]",
            "\"ES256\"",
            "1",
            "{\"alg\":\"ES256\",\"alg\":\"none\"}",
            "{",
        ] {
            let token = format!("{}.{p}.AAAA", URL_SAFE_NO_PAD.encode(header));
            assert_eq!(split(&token).unwrap_err(), JwsError::Header, "{header}");
        }
    }

    #[test]
    fn length_is_checked_before_decoding() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(split(&long).unwrap_err(), JwsError::TooLong);
    }
}
