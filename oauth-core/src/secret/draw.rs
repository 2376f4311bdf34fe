//! One draw of randomness for one request.
//!
//! A request that needs several random values (a code and its grant id, an access and a
//! refresh token) takes them all from a single [`RandomSource::draw`]: one call into the
//! operating system's generator per request instead of one per value. The bytes live in
//! the draw, on the caller's stack, and die with the request; there is no buffer kept
//! between requests or per thread, so nothing drawn can be handed out twice, not even by
//! two processes after a fork.

use super::{base64url, RandomSource, ID_BYTES, SECRET_BYTES};
use crate::error::Fault;

/// The most any request draws: two secrets (the code exchange's access and refresh
/// tokens; approval takes a secret and an id). Fixed so that a draw needs no allocation.
const CAPACITY: usize = 2 * SECRET_BYTES;

/// Random bytes drawn in one call for one request, handed out as secrets and ids.
///
/// Every byte is handed out at most once: each value takes the next unused bytes, and a
/// value asked for beyond what was drawn is [`Fault::Random`], never a reuse. Neither
/// `Clone` nor `Debug`, so a draw is neither copied nor logged.
pub(crate) struct Draw {
    bytes: [u8; CAPACITY],
    /// How many bytes were drawn; those past it are zero and never handed out.
    drawn: usize,
    /// How many of the drawn bytes were handed out.
    taken: usize,
}

impl RandomSource {
    /// Draws, in one call, the bytes for `secrets` secrets and `ids` ids. More than
    /// [`CAPACITY`] bytes is [`Fault::Random`] (no request needs that much).
    pub(crate) fn draw(&self, secrets: usize, ids: usize) -> Result<Draw, Fault> {
        let drawn = secrets
            .checked_mul(SECRET_BYTES)
            .zip(ids.checked_mul(ID_BYTES))
            .and_then(|(a, b)| a.checked_add(b))
            .filter(|&n| n <= CAPACITY);
        // `let else` rather than `ok_or`: no fault is built (and dropped) on success.
        let Some(drawn) = drawn else {
            return Err(Fault::Random);
        };
        let mut bytes = [0u8; CAPACITY];
        self.fill(&mut bytes[..drawn])?;
        Ok(Draw {
            bytes,
            drawn,
            taken: 0,
        })
    }
}

impl Draw {
    /// The next 256-bit secret, base64url without padding (43 characters), as
    /// [`RandomSource::secret`] makes it.
    pub(crate) fn secret(&mut self) -> Result<String, Fault> {
        self.take(SECRET_BYTES)
    }

    /// The next 128-bit id, base64url without padding (22 characters), as
    /// [`RandomSource::id`] makes it.
    pub(crate) fn id(&mut self) -> Result<String, Fault> {
        self.take(ID_BYTES)
    }

    /// The next `len` unused bytes, encoded; [`Fault::Random`] when fewer are left.
    fn take(&mut self, len: usize) -> Result<String, Fault> {
        let end = self.taken.checked_add(len).filter(|&end| end <= self.drawn);
        let Some(end) = end else {
            return Err(Fault::Random);
        };
        let value = base64url::encode(&self.bytes[self.taken..end])?;
        self.taken = end;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;

    fn is_base64url(value: &str) -> bool {
        value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    }

    #[test]
    fn values_from_one_draw_are_distinct_and_well_formed() {
        let random = RandomSource::new();
        let mut draw = random.draw(2, 0).unwrap();
        let a = draw.secret().unwrap();
        let b = draw.secret().unwrap();
        let mut draw = random.draw(1, 2).unwrap();
        let c = draw.secret().unwrap();
        let id = draw.id().unwrap();
        let other_id = draw.id().unwrap();
        for secret in [&a, &b, &c] {
            assert_eq!(secret.len(), 43);
            assert!(is_base64url(secret));
            assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), SECRET_BYTES);
        }
        for id in [&id, &other_id] {
            assert_eq!(id.len(), 22);
            assert!(is_base64url(id));
            assert_eq!(URL_SAFE_NO_PAD.decode(id).unwrap().len(), ID_BYTES);
        }
        assert_ne!(a, b);
        assert_ne!(id, other_id);
        assert!(![&a, &b].contains(&&c));
    }

    #[test]
    fn taking_more_than_was_drawn_fails() {
        let mut draw = RandomSource::new().draw(1, 1).unwrap();
        draw.id().unwrap();
        draw.secret().unwrap();
        assert!(matches!(draw.id(), Err(Fault::Random)));
        assert!(matches!(draw.secret(), Err(Fault::Random)));

        // Bytes meant for an id do not make a secret, and a failed take uses nothing up.
        let mut draw = RandomSource::new().draw(0, 1).unwrap();
        assert!(matches!(draw.secret(), Err(Fault::Random)));
        draw.id().unwrap();
        assert!(matches!(
            RandomSource::new().draw(0, 0).unwrap().id(),
            Err(Fault::Random)
        ));
    }

    #[test]
    fn drawing_more_than_a_request_needs_fails() {
        assert!(RandomSource::new().draw(2, 0).is_ok());
        assert!(matches!(RandomSource::new().draw(2, 1), Err(Fault::Random)));
        assert!(matches!(
            RandomSource::new().draw(usize::MAX, 1),
            Err(Fault::Random)
        ));
    }
}
