//! Decoding of the generated enums of [`crate::shapes`]: any JSON string
//! decodes, a model value as its variant and any other string as the enum's
//! `Unknown` variant, so that a stored document or a request with a value
//! this build does not know still decodes.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Visitor};

/// Decodes a string into the generated enum `T` through its `From<&str>`.
/// Anything but a string fails with the same message as a `String` field.
pub(crate) fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: for<'a> From<&'a str>,
{
    deserializer.deserialize_str(EnumVisitor(PhantomData))
}

struct EnumVisitor<T>(PhantomData<T>);

impl<T: for<'a> From<&'a str>> Visitor<'_> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }
}
