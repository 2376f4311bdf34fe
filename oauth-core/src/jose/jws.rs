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

/// A compact JWS split into its parts; the signature is not checked yet. The header and
/// the signature are decoded into the caller's [`Buffers`].
#[derive(Debug)]
pub(crate) struct UnverifiedJws<'t, 'b> {
    pub header: JoseHeader<'b>,
    /// The decoded header's JSON text, for a verifier that needs more of it than
    /// [`JoseHeader`] keeps (a DPoP proof's `jwk`).
    pub header_json: &'b [u8],
    pub signing_input: &'t str,
    pub payload: Vec<u8>,
    pub signature: &'b [u8],
}

/// Room for a token's decoded header and signature on the verifier's stack: every
/// verification decodes both, and an allocation for each would cost more than the
/// decoding. What does not fit (an RSA signature, a header of unusual size) goes to the
/// heap, into the same `Buffers`.
#[derive(Debug)]
pub(crate) struct Buffers {
    header: [u8; 192],
    signature: [u8; 72],
    header_heap: Vec<u8>,
    signature_heap: Vec<u8>,
}

impl Buffers {
    /// Empty buffers (nothing on the heap yet).
    pub(crate) fn new() -> Self {
        Self {
            header: [0; 192],
            signature: [0; 72],
            header_heap: Vec::new(),
            signature_heap: Vec::new(),
        }
    }
}

/// Decodes strict base64url without padding into `inline` when it fits, else into `heap`.
fn decode_into<'b>(
    segment: &str,
    inline: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], JwsError> {
    if base64::decoded_len_estimate(segment.len()) <= inline.len() {
        let len = URL_SAFE_NO_PAD
            .decode_slice(segment, &mut *inline)
            .map_err(|_| JwsError::Base64)?;
        Ok(inline.get(..len).unwrap_or_default())
    } else {
        *heap = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| JwsError::Base64)?;
        Ok(heap)
    }
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

/// Splits and decodes `token`, the header and signature into `buffers`.
pub(crate) fn split<'t, 'b>(
    token: &'t str,
    buffers: &'b mut Buffers,
) -> Result<UnverifiedJws<'t, 'b>, JwsError> {
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
    let header_bytes = decode_into(header, &mut buffers.header, &mut buffers.header_heap)?;
    let header_read = JoseHeader::read(header_bytes).map_err(|_| JwsError::Header)?;
    // The payload outlives verification (as the claims' text), so it goes on the heap.
    let payload_bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| JwsError::Base64)?;
    let signature_bytes = decode_into(
        signature,
        &mut buffers.signature,
        &mut buffers.signature_heap,
    )?;
    Ok(UnverifiedJws {
        header: header_read,
        header_json: header_bytes,
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload: payload_bytes,
        signature: signature_bytes,
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
        assert!(split(&format!("{h}.{p}.{s}"), &mut Buffers::new()).is_ok());
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
            assert!(split(&bad, &mut Buffers::new()).is_err(), "{bad}");
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
            assert_eq!(
                split(&token, &mut Buffers::new()).unwrap_err(),
                JwsError::Header,
                "{header}"
            );
        }
    }

    #[test]
    fn segments_decode_alike_in_place_and_on_the_heap() {
        for len in [0usize, 1, 32, 64, 65, 256, 512, 1024] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let encoded = URL_SAFE_NO_PAD.encode(&bytes);
            let (mut inline, mut heap) = ([0u8; 72], Vec::new());
            let decoded = decode_into(&encoded, &mut inline, &mut heap).unwrap();
            assert_eq!(decoded, &bytes[..], "{len}");
            let (mut inline, mut heap) = ([0u8; 72], Vec::new());
            decode_into(&encoded, &mut inline, &mut heap).unwrap();
            if len <= 64 {
                assert!(
                    heap.is_empty(),
                    "{len}: an ES256 or EdDSA signature in place"
                );
            }
            if len >= 256 {
                assert!(!heap.is_empty(), "{len}: an RSA signature on the heap");
            }
            if !encoded.is_empty() {
                let (mut inline, mut heap) = ([0u8; 72], Vec::new());
                assert!(decode_into(&format!("{encoded}="), &mut inline, &mut heap).is_err());
            }
        }
    }

    #[test]
    fn length_is_checked_before_decoding() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            split(&long, &mut Buffers::new()).unwrap_err(),
            JwsError::TooLong
        );
    }
}
