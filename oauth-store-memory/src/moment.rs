//! Instants packed in ten bytes.
//!
//! An `OffsetDateTime` takes 16 bytes, and a live grant holds a dozen instants spread over
//! five records; packed, they cost less, and so do the hash tables that hold them inline
//! (a table pays for its empty slots too, up to as many again as its full ones).

use std::fmt;

use oauth_core::{StorageError, StorageErrorKind};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Added to the year so that it packs as an unsigned field: `time` stops at ±999,999
/// (with its `large-dates` feature), well inside ±2^20.
const YEAR_BIAS: i64 = 1 << 20;

/// An instant in UTC, packed big-endian as year (21 bits, biased), day of the year (9),
/// hour (5), minute (6), second (6) and nanosecond (30): 77 of the 80 bits.
///
/// The fields keep the calendar form `time` computes with, so unpacking is a few range
/// checks rather than a date computation (it sits on every token read). Most significant
/// field first, so comparing the bytes compares the instants: purging compares packed
/// values and never unpacks. The offset is not kept: records hold UTC instants (the
/// engine's clock gives UTC), and `OffsetDateTime` equality compares instants anyway.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Moment([u8; 10]);

impl Moment {
    /// Packs `at`. Refused only for an instant with an offset whose UTC form falls
    /// outside the range of `time` (within a day of its first or last representable
    /// instant), which no engine clock gives.
    pub(crate) fn new(at: OffsetDateTime) -> Result<Self, StorageError> {
        let utc = at.checked_to_offset(UtcOffset::UTC).ok_or_else(|| {
            StorageError::new(
                StorageErrorKind::Backend,
                "an instant whose UTC form is outside the range of time::OffsetDateTime",
            )
        })?;
        // In range by the bias above; the conversion cannot fail, and a failure would
        // only mean a time crate with wider years than this packing was made for.
        let year = u128::try_from(i64::from(utc.year()) + YEAR_BIAS)
            .ok()
            .filter(|year| *year < 1 << 21)
            .ok_or_else(|| {
                StorageError::new(StorageErrorKind::Backend, "a year this store cannot pack")
            })?;
        let packed = (year << 56)
            | (u128::from(utc.ordinal()) << 47)
            | (u128::from(utc.hour()) << 42)
            | (u128::from(utc.minute()) << 36)
            | (u128::from(utc.second()) << 30)
            | u128::from(utc.nanosecond());
        let mut bytes = [0u8; 10];
        bytes.copy_from_slice(&packed.to_be_bytes()[6..]);
        Ok(Self(bytes))
    }

    /// The instant, in UTC.
    pub(crate) fn get(self) -> Result<OffsetDateTime, StorageError> {
        let mut wide = [0u8; 16];
        wide[6..].copy_from_slice(&self.0);
        let packed = u128::from_be_bytes(wide);
        let field = |shift: u32, bits: u32| (packed >> shift) & ((1 << bits) - 1);
        // Every field was masked to its width, so the narrowing casts keep every bit.
        let year = field(56, 21) as i64 - YEAR_BIAS;
        let date = Date::from_ordinal_date(year as i32, field(47, 9) as u16);
        let time = Time::from_hms_nano(
            field(42, 5) as u8,
            field(36, 6) as u8,
            field(30, 6) as u8,
            field(0, 30) as u32,
        );
        match (date, time) {
            (Ok(date), Ok(time)) => Ok(PrimitiveDateTime::new(date, time).assume_utc()),
            (Err(e), _) | (_, Err(e)) => Err(StorageError::with_source(
                StorageErrorKind::Corrupt,
                "a packed instant that does not unpack",
                e,
            )),
        }
    }
}

impl fmt::Debug for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Ok(at) => write!(f, "{at}"),
            Err(_) => write!(f, "Moment({:02x?})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};
    use time::Duration;

    #[test]
    fn round_trips_to_the_nanosecond_across_the_range() {
        for at in [
            datetime!(2030-01-01 0:00 UTC),
            datetime!(1969-07-20 20:17:40.123_456_789 UTC),
            datetime!(2038-01-19 03:14:08 UTC),
            datetime!(2024-02-29 23:59:59.999_999_999 UTC),
            datetime!(9999-12-31 23:59:59.999_999_999 UTC),
            PrimitiveDateTime::MIN.assume_utc(),
            PrimitiveDateTime::MAX.assume_utc(),
            OffsetDateTime::UNIX_EPOCH,
        ] {
            assert_eq!(Moment::new(at).unwrap().get().unwrap(), at, "{at}");
        }
    }

    #[test]
    fn keeps_the_instant_of_another_offset_in_utc() {
        let at = datetime!(2030-06-01 12:00 +02:00);
        let back = Moment::new(at).unwrap().get().unwrap();
        assert_eq!(back, at);
        assert_eq!(back.offset(), UtcOffset::UTC);
    }

    #[test]
    fn refuses_an_offset_instant_past_the_utc_range() {
        let at = PrimitiveDateTime::MAX.assume_offset(offset!(-1));
        assert!(Moment::new(at).is_err());
    }

    #[test]
    fn packed_order_is_time_order() {
        let base = datetime!(1999-12-31 23:59:59.999_999_999 UTC);
        let steps = [
            Duration::nanoseconds(1),
            Duration::seconds(1),
            Duration::minutes(1),
            Duration::hours(1),
            Duration::days(1),
            Duration::days(400),
        ];
        for step in steps {
            for at in [base, base - Duration::days(800_000)] {
                let (earlier, later) = (Moment::new(at).unwrap(), Moment::new(at + step).unwrap());
                assert!(earlier < later, "{at} + {step}");
            }
        }
    }

    #[test]
    fn is_ten_bytes() {
        assert_eq!(std::mem::size_of::<Moment>(), 10);
    }
}
