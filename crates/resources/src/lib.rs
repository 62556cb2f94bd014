//! Glue's resources as Weir keeps them: one module per resource with its stored form
//! and rules (jobs, triggers, crawlers, workflow graphs), the helpers every Glue
//! subsystem shares (ARNs, identifiers, pagination tokens, tags, AWS cron and the
//! calendar), the bridge from async code to the blocking store ([`db::Db`]) and
//! [`ApiError`], the Glue service's errors with their AWS codes.
//!
//! May depend on: `weir-model` (wire shapes), `weir-store`, `weir-engine` (node ids),
//! `weir-crawler` (exclusion globs). Must not: know HTTP framing, the orchestrator, the
//! catalog or any service's dispatch; it is the floor the Glue subsystems stand on.

#![warn(missing_docs)]

pub mod arn;
pub mod bookmark;
pub mod calendar;
pub mod connection;
pub mod crawler;
pub mod cron;
pub mod db;
pub mod error;
pub mod event_sink;
pub mod graph;
pub mod ids;
pub mod job;
pub mod listing;
pub mod pagination;
pub mod replica;
pub mod stored;
pub mod tags;
pub mod trigger;

pub use error::{ApiError, OrApiError};
