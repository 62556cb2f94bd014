//! Weir: a self-hosted AWS Glue Workflows service that really runs workflows.
//!
//! # Layout
//! - [`http`]: the edge — one route, request ids, limits, error rendering, shutdown.
//! - [`protocol`]: awsJson1_1 — `X-Amz-Target` resolution, decode + validate with the
//!   generated model, encode, and [`protocol::ApiError`], the one error mapping.
//! - [`operations`]: one handler per operation, grouped by resource; the dispatch is
//!   generated from the one list of served operations (in `weir-codegen`).
//! - [`resources`]: domain helpers (ARNs, ids, pagination, tags, stored forms).
//! - [`orchestrator`]: the driver around `weir_engine` — loads a run, feeds an event,
//!   commits, then executes effects (launch/kill processes, timers); crash recovery.
//! - [`clock_control`]: the test-only `POST /_weir/clock` of a manual clock.
//! - [`app`], [`db`]: shared state and the bridge to the blocking store.
//! - [`crawler`]: crawls (schema inference over the local S3 stand-in), crawl
//!   history, and the Data Catalog they write.
//! - [`console`]: a read-only HTML console (`/console`) of the default scope, for
//!   local and development use.
//! - [`metrics`]: Prometheus counters and histograms, served at `/metrics`.
//! - [`server`]: the wiring of all of the above and the start-up and shutdown order.
//!
//! Wire shapes come from `weir_model` (generated from the AWS model), persistence from
//! `weir_store`, orchestration decisions from `weir_engine`, time from `weir_clock`, job
//! processes from `weir_runner`, SigV4 verification and the credentials registry from
//! `weir_auth`.

#![warn(missing_docs)]

pub mod app;
pub mod blueprint;
pub mod clock_control;
pub mod config;
pub mod console;
pub mod crawler;
pub mod db;
pub mod http;
pub mod metrics;
pub mod operations;
pub mod orchestrator;
pub mod protocol;
pub mod resources;
pub mod server;
