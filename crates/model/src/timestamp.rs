//! [`Timestamp`]: the wire representation of botocore `timestamp` shapes.
//!
//! Glue's awsJson1_1 protocol sends timestamps as JSON numbers of seconds since
//! the Unix epoch with an optional fractional part (e.g. `1595358275.375`).
//! Weir keeps millisecond precision.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with millisecond precision (milliseconds since the Unix
/// epoch).
///
/// Serialises as a JSON number of epoch seconds with the millisecond fraction
/// (`1595358275.375`; whole seconds come out as `1595358275.0`), never as a
/// string or in exponent notation. Deserialises from any JSON number (integer
/// or float) of epoch seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Epoch seconds as a float (the wire value).
    pub fn as_epoch_seconds(self) -> f64 {
        // Exact integer division keeps the result the closest double to the
        // decimal `seconds.mmm`, so it prints with at most three decimals.
        self.0 as f64 / 1000.0
    }

    /// Builds a timestamp from (possibly fractional) epoch seconds, rounding
    /// to the nearest millisecond. Returns `None` for non-finite or
    /// out-of-range values.
    pub fn from_epoch_seconds(secs: f64) -> Option<Self> {
        let millis = (secs * 1000.0).round();
        if millis.is_finite() && millis >= i64::MIN as f64 && millis <= i64::MAX as f64 {
            Some(Self(millis as i64))
        } else {
            None
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1000);
        let ms = self.0.rem_euclid(1000);
        write!(f, "{secs}.{ms:03}")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_epoch_seconds())
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds since the Unix epoch")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        v.checked_mul(1000)
            .map(Timestamp)
            .ok_or_else(|| E::custom("timestamp out of range"))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        i64::try_from(v)
            .ok()
            .and_then(|v| v.checked_mul(1000))
            .map(Timestamp)
            .ok_or_else(|| E::custom("timestamp out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        Timestamp::from_epoch_seconds(v).ok_or_else(|| E::custom("timestamp out of range"))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}
