//! The parts of AWS Glue blueprints that need no store (glue-api.md §9): archives
//! ([`archive`]: size, path and zip-bomb checks, `blueprint.cfg`), parameter specs and
//! their validation ([`params`]), and the layout generator run in Python
//! ([`layout`], started through the job launcher of `weir-runner`).
//!
//! May depend on: `weir-runner` (the launcher). Must not: store anything or know the
//! Glue API: `weir-glue` drives registrations and runs, creates the generated entities
//! through its operation handlers and stores everything.

#![warn(missing_docs)]

pub mod archive;
pub mod layout;
pub mod params;
