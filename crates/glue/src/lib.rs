//! The AWS Glue service: the awsJson1_1 protocol ([`protocol`]), one handler per
//! served operation ([`operations`], dispatched from the one generated list), the
//! blueprint lifecycle ([`blueprint`], which creates its entities through the same
//! handlers), and [`GlueService`], through which the edge hands it verified requests.
//!
//! May depend on: `weir-orchestrator`, `weir-catalog`, `weir-resources`,
//! `weir-blueprint`, `weir-runner` (script locations), `weir-store`, `weir-engine`,
//! `weir-model`, `weir-clock`, and `weir-edge` for the [`weir_edge::Service`] contract.
//! Must not: be depended on by any of them; serve HTTP itself (connections, limits and
//! SigV4 are the edge's).

#![warn(missing_docs)]

pub mod app;
pub mod blueprint;
pub mod operations;
pub mod protocol;
mod service;

pub use app::{App, GlueSettings};
pub use service::GlueService;
