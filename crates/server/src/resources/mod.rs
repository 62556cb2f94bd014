//! Domain helpers shared by the operation handlers: ARNs, identifiers, time and
//! pagination, plus one module per resource with its stored form and rules.

pub mod arn;
pub mod calendar;
pub mod crawler;
pub mod cron;
pub mod graph;
pub mod ids;
pub mod job;
pub mod listing;
pub mod pagination;
pub mod stored;
pub mod tags;
pub mod trigger;
