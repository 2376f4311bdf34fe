//! PKCS#8 private keys as files: PEM (RFC 7468) to and from DER, and the stable key id
//! derived from a key's DER document.
//!
//! Only the unencrypted PKCS#8 form (`-----BEGIN PRIVATE KEY-----`) is read. The other
//! common forms are refused by name rather than guessed at: an encrypted key needs a
//! passphrase finrift does not have, and the legacy SEC1/PKCS#1 forms carry no algorithm
//! identifier, so a key could be read as something it is not.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::digest;

use super::algorithm::Algorithm;
use super::key_error::KeyError;
use super::keys::SigningKey;

/// Longest PEM text read, in bytes. An RSA-8192 PKCS#8 key is under 7 KiB of PEM; the
/// bound keeps a wrong file (a log, a core dump) from being read whole into memory.
pub const MAX_PEM_LEN: usize = 16 * 1024;

const LABEL: &str = "PRIVATE KEY";
const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";
/// RFC 7468 §2: generators wrap the base64 text at 64 characters.
const LINE_LEN: usize = 64;
/// Bytes of the SHA-256 digest kept in a key id: 96 bits, 16 base64url characters.
const KID_DIGEST_LEN: usize = 12;

/// The key id finrift gives a PKCS#8 key: base64url (no padding) of the first 12 bytes of
/// the SHA-256 digest of its DER document, 16 characters.
///
/// It is stable: the same DER document always gets the same id, across restarts and
/// versions, so a key file keeps its `kid` and tokens it signed keep verifying. The id
/// depends on the exact DER bytes, so re-encoding a key (say, PKCS#8 v1 to v2) gives it
/// a new id. Derive it from the DER form, never from the PEM text.
pub fn kid_for_pkcs8(pkcs8: &[u8]) -> String {
    let digest = digest::digest(&digest::SHA256, pkcs8);
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..KID_DIGEST_LEN])
}

/// A PKCS#8 DER document as PEM text: the `PRIVATE KEY` label, base64 in lines of 64
/// characters, and a trailing newline.
pub fn pkcs8_to_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / LINE_LEN + 64);
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    // Base64 text is ASCII, so splitting its bytes anywhere gives whole characters.
    for line in body.as_bytes().chunks(LINE_LEN) {
        pem.extend(line.iter().map(|b| char::from(*b)));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// The DER document inside PEM text holding exactly one unencrypted PKCS#8 key
/// (`-----BEGIN PRIVATE KEY-----`). Whitespace around the block and CRLF line ends are
/// accepted; any other text outside the block, a second block, another label (an
/// encrypted key, a SEC1 `EC PRIVATE KEY`, a PKCS#1 `RSA PRIVATE KEY`), base64 that is
/// not canonical, and text longer than [`MAX_PEM_LEN`] are refused.
///
/// The DER is not checked to be a key here; [`SigningKey::from_pkcs8`] does that.
pub fn pkcs8_from_pem(text: &str) -> Result<Vec<u8>, KeyError> {
    if text.len() > MAX_PEM_LEN {
        return Err(KeyError::MalformedPem("longer than 16 KiB"));
    }
    // `lines` splits on LF and drops a CR before it; `trim` takes any other whitespace.
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().ok_or(KeyError::MalformedPem("no PEM block"))?;
    let label = boundary(first, BEGIN).ok_or(KeyError::MalformedPem(
        "text before the BEGIN line, or no BEGIN line",
    ))?;
    if label != LABEL {
        return Err(KeyError::UnsupportedPem(printable_label(label)));
    }
    let mut body = String::with_capacity(text.len());
    let mut ended = false;
    for line in lines.by_ref() {
        if let Some(end_label) = boundary(line, END) {
            if end_label != LABEL {
                return Err(KeyError::MalformedPem(
                    "the END line does not match the BEGIN line",
                ));
            }
            ended = true;
            break;
        }
        if line.contains(':') {
            // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) mean a legacy encrypted key.
            return Err(KeyError::MalformedPem("headers inside the block"));
        }
        body.push_str(line);
    }
    if !ended {
        return Err(KeyError::MalformedPem("no END line"));
    }
    if let Some(rest) = lines.next() {
        return Err(if boundary(rest, BEGIN).is_some() {
            KeyError::MalformedPem("more than one PEM block")
        } else {
            KeyError::MalformedPem("text after the END line")
        });
    }
    if body.is_empty() {
        return Err(KeyError::MalformedPem("an empty block"));
    }
    // The standard engine refuses missing padding and stray trailing bits, so a changed
    // character either fails here or changes the DER, which then fails to load as a key.
    STANDARD
        .decode(body.as_bytes())
        .map_err(|_| KeyError::MalformedPem("the base64 text is invalid"))
}

/// The DER document in the bytes of a key file: DER as it is when the file starts with
/// a DER SEQUENCE tag (0x30, which no PEM text starts with), PEM otherwise.
pub fn pkcs8_from_file_bytes(bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    if bytes.len() > MAX_PEM_LEN {
        return Err(KeyError::MalformedPem("longer than 16 KiB"));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| KeyError::MalformedPem("neither DER nor PEM text"))?;
    pkcs8_from_pem(text)
}

/// The label of a `-----BEGIN label-----` or `-----END label-----` line.
fn boundary<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.strip_prefix(kind)?.strip_suffix(DASHES)
}

/// The label as it may appear in an error: it is text from a file, so it is cut short
/// and kept to printable ASCII (a label never holds key material).
fn printable_label(label: &str) -> String {
    if label.len() <= 40 && label.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        label.to_owned()
    } else {
        "an unreadable label".to_owned()
    }
}

impl SigningKey {
    /// Loads a private key from PEM text holding one unencrypted PKCS#8 key (see
    /// [`pkcs8_from_pem`]).
    pub fn from_pkcs8_pem(alg: Algorithm, kid: &str, pem: &str) -> Result<Self, KeyError> {
        Self::from_pkcs8(alg, kid, &pkcs8_from_pem(pem)?)
    }

    /// Loads a private key from the bytes of a key file, PKCS#8 as DER or as PEM (see
    /// [`pkcs8_from_file_bytes`]).
    pub fn from_pkcs8_file_bytes(
        alg: Algorithm,
        kid: &str,
        bytes: &[u8],
    ) -> Result<Self, KeyError> {
        Self::from_pkcs8(alg, kid, &pkcs8_from_file_bytes(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(alg: Algorithm) -> Vec<u8> {
        SigningKey::generate(alg, "k").unwrap().1
    }

    #[test]
    fn pem_round_trips_es256_and_eddsa() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let der = generated(alg);
            let pem = pkcs8_to_pem(&der);
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            assert!(pem.ends_with("-----END PRIVATE KEY-----\n"));
            assert!(pem.lines().all(|line| line.len() <= 64));
            assert_eq!(pkcs8_from_pem(&pem).unwrap(), der);
            let key = SigningKey::from_pkcs8_pem(alg, "k", &pem).unwrap();
            let original = SigningKey::from_pkcs8(alg, "k", &der).unwrap();
            assert_eq!(
                key.verification_key().to_jwk(),
                original.verification_key().to_jwk()
            );
            // Either form of file loads the same key.
            for bytes in [der.clone(), pem.clone().into_bytes()] {
                let loaded = SigningKey::from_pkcs8_file_bytes(alg, "k", &bytes).unwrap();
                assert_eq!(
                    loaded.verification_key().to_jwk(),
                    original.verification_key().to_jwk()
                );
            }
        }
    }

    #[test]
    fn pem_tolerates_crlf_and_surrounding_whitespace() {
        let der = generated(Algorithm::Es256);
        let pem = pkcs8_to_pem(&der).replace('\n', "\r\n");
        assert_eq!(pkcs8_from_pem(&format!("\n  {pem}\n\n")).unwrap(), der);
    }

    #[test]
    fn pem_with_one_changed_character_is_refused() {
        let der = generated(Algorithm::Es256);
        let pem = pkcs8_to_pem(&der);
        let start = "-----BEGIN PRIVATE KEY-----\n".len();
        let end = pem.len() - "-----END PRIVATE KEY-----\n".len();
        for at in start..end {
            let mut bytes = pem.clone().into_bytes();
            if bytes[at] == b'\n' {
                continue;
            }
            for replacement in [b'A', b'!', b'='] {
                if bytes[at] == replacement {
                    continue;
                }
                bytes[at] = replacement;
                let changed = String::from_utf8(bytes.clone()).unwrap();
                match pkcs8_from_pem(&changed) {
                    Err(_) => {}
                    Ok(other) => {
                        assert_ne!(other, der, "a change at {at} was not seen");
                        // A changed DER document is a different key or none at all.
                        if let Ok(key) = SigningKey::from_pkcs8(Algorithm::Es256, "k", &other) {
                            let original =
                                SigningKey::from_pkcs8(Algorithm::Es256, "k", &der).unwrap();
                            assert_ne!(
                                key.verification_key().to_jwk(),
                                original.verification_key().to_jwk()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn pem_of_another_kind_is_refused_by_name() {
        let der = generated(Algorithm::Es256);
        let body = pkcs8_to_pem(&der);
        for label in ["ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"] {
            let pem = body.replace("PRIVATE KEY", label);
            let error = pkcs8_from_pem(&pem).unwrap_err();
            assert_eq!(error, KeyError::UnsupportedPem(label.to_owned()));
            assert!(error.to_string().contains("unencrypted PKCS#8"), "{error}");
            assert!(
                SigningKey::from_pkcs8_file_bytes(Algorithm::Es256, "k", pem.as_bytes()).is_err()
            );
        }
    }

    #[test]
    fn pem_that_is_not_one_clean_block_is_refused() {
        let pem = pkcs8_to_pem(&generated(Algorithm::EdDsa));
        let cases = [
            String::new(),
            format!("junk\n{pem}"),
            format!("{pem}junk\n"),
            format!("{pem}{pem}"),
            pem.replace("-----END PRIVATE KEY-----\n", ""),
            pem.replace("-----END PRIVATE KEY-----", "-----END EC PRIVATE KEY-----"),
            pem.replace(
                "BEGIN PRIVATE KEY-----\n",
                "BEGIN PRIVATE KEY-----\nProc-Type: 4\n",
            ),
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".to_owned(),
            // Padding removed: the standard engine wants canonical base64.
            pem.replace('=', ""),
        ];
        for case in cases {
            assert!(
                matches!(pkcs8_from_pem(&case), Err(KeyError::MalformedPem(_))),
                "accepted: {case:?}"
            );
        }
    }

    #[test]
    fn oversized_pem_is_refused() {
        let pem = pkcs8_to_pem(&generated(Algorithm::Es256));
        let padded = format!("{pem}{}", " ".repeat(MAX_PEM_LEN));
        assert_eq!(
            pkcs8_from_pem(&padded).unwrap_err(),
            KeyError::MalformedPem("longer than 16 KiB")
        );
        assert!(pkcs8_from_file_bytes(padded.as_bytes()).is_err());
    }

    #[test]
    fn errors_and_debug_carry_no_key_material() {
        let der = generated(Algorithm::Es256);
        let pem = pkcs8_to_pem(&der);
        let body_line = pem.lines().nth(1).unwrap();
        let broken = pem.replace(body_line, &body_line.replace(|_| true, "*"));
        let error = pkcs8_from_pem(&broken).unwrap_err();
        let key = SigningKey::from_pkcs8_pem(Algorithm::Es256, "k", &pem).unwrap();
        for text in [error.to_string(), format!("{error:?}"), format!("{key:?}")] {
            assert!(!text.contains(&body_line[..16]), "{text}");
        }
    }

    #[test]
    fn kid_is_the_documented_digest_prefix() {
        // SHA-256("abc") starts ba7816bf 8f01cfea 414140de; base64url of those 12 bytes.
        assert_eq!(kid_for_pkcs8(b"abc"), "ungWv48Bz-pBQUDe");
        let der = generated(Algorithm::Es256);
        let pem = pkcs8_to_pem(&der);
        assert_eq!(
            kid_for_pkcs8(&pkcs8_from_pem(&pem).unwrap()),
            kid_for_pkcs8(&der)
        );
        assert_eq!(kid_for_pkcs8(&der).len(), 16);
    }
}
