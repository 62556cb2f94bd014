//! The HTTP edge in front of every AWS service Weir answers on its one port:
//! connections and their limits, request ids, SigV4 verification (once, for the
//! signing name of the service the request is routed to), routing by service
//! ([`Routes`]), panic containment, metrics of every request, and pages merged in by
//! the binary (the console, `/metrics`, the test clock).
//!
//! A service is a [`Service`]: it says which requests it serves, serves verified
//! ones and renders the edge's [`Rejection`]s in its own protocol (awsJson for Glue,
//! REST-XML for S3). A new service is a crate implementing it plus one line in the
//! binary's [`Routes`].
//!
//! May depend on: `weir-auth`, `weir-metrics`, `weir-clock`. Must not: know any
//! service's wire format, operations or store.

#![warn(missing_docs)]

pub mod aws_json;
pub mod clock_control;
mod http;
mod limits;
pub mod metrics_page;
mod service;

pub use http::{Edge, request_id, serve};
pub use limits::*;
pub use service::{
    BodyMode, ErrorCode, Rejection, Routes, Service, StreamedBody, TARGET_HEADER, VerifiedRequest,
};
