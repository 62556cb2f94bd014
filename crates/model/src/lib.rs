//! Wire model of the AWS Glue API as served by Weir.
//!
//! * [`shapes`] — one Rust struct per botocore structure shape reachable from
//!   the served operations, and one Rust enum per enum shape among them, with
//!   an `Unknown(String)` variant for values this build does not know
//!   (generated, see `crates/codegen`).
//! * [`operations`] — the [`operations::Operation`] trait, one unit struct per
//!   served operation, the lists of all / served operation names and the
//!   [`with_served_operations!`] macro (generated).
//! * [`schema`] — the input shapes of the served operations as data: members,
//!   value types and constraints (generated).
//! * [`Validate`] / [`validate()`] / [`ValidationErrors`] — model-constraint
//!   checks (`required`, `min`, `max`, `pattern`, `enum`) rendered with the
//!   AWS/Coral wording (hand-written trait, generated impls).
//! * [`Timestamp`] — epoch timestamps with millisecond precision that travel
//!   as JSON numbers of epoch seconds.
//!
//! The generated files are produced by `cargo run -p weir-codegen` from the
//! vendored model `botocore/glue-2017-03-31.service-2.json.gz`; do not edit
//! them by hand.
//!
//! May depend on: nothing of Weir. Must not: hold behaviour beyond decoding,
//! encoding and model constraints; the services decide what the shapes mean.
#![warn(missing_docs)]

pub mod operations;
pub mod schema;
pub mod shapes;
mod timestamp;
pub mod validate;
mod wire_enum;

pub use timestamp::Timestamp;
pub use validate::{Validate, ValidationError, ValidationErrors, validate};

#[cfg(test)]
mod tests;
