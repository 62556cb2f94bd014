//! Weir: a self-hosted AWS Glue Workflows service that really runs workflows.
//!
//! This crate is the binary's: [`config`] is the validated command line, [`server`]
//! wires the crates below into one process and owns its start-up and shutdown order.
//! Everything else lives in its own crate (see ARCHITECTURE.md): the edge
//! (`weir-edge`), the Glue service (`weir-glue`), the orchestrator, the catalog, the
//! console, the store, the engine, the runner.
//!
//! May depend on: every Weir crate. Must not: hold behaviour of its own beyond wiring
//! and start-up order; nothing depends on it.

#![warn(missing_docs)]

pub mod config;
pub mod replicas;
pub mod server;
