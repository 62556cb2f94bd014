//! Amazon CloudWatch Logs, the subset where AWS tools read job and crawler output, as
//! a service of the edge (awsJson1_1, `X-Amz-Target: Logs_20140328.<Operation>`,
//! signing name `logs`): log groups and streams, GetLogEvents with AWS's forward and
//! backward tokens, FilterLogEvents with term and phrase patterns, PutLogEvents,
//! retention; and Weir's own writers: the follower of job output files ([`follow`])
//! and the lines crawls log ([`streams::log_lines`]).
//!
//! Layout: `protocol.rs` (target resolution, decoding, every error as CloudWatch Logs
//! sends it), `service.rs` (the `weir_edge::Service`), `operations.rs` (one handler
//! per operation), `streams.rs` (groups, streams and events as stored, and every
//! change to them inside a caller's transaction), `tokens.rs` (GetLogEvents tokens),
//! `filter.rs` (filter patterns), `job_groups.rs` (which groups a job run logs to),
//! `follow.rs` (the job output follower).
//!
//! May depend on: `weir-edge` (the Service contract, the awsJson framing),
//! `weir-resources`, `weir-store`, `weir-clock`. Must not: know Glue's runs or
//! crawls; the orchestrator and the catalog call in here to log, never the reverse.

#![warn(missing_docs)]

pub mod filter;
pub mod follow;
pub mod job_groups;
mod operations;
pub mod protocol;
mod service;
pub mod streams;
pub mod tokens;

use std::sync::Arc;

use weir_clock::Clock;
use weir_resources::ApiError;
use weir_resources::db::Db;
use weir_resources::pagination::PageTokens;

pub use follow::{FollowTarget, Follower};
pub use job_groups::{CRAWLER_LOG_GROUP, JobLogGroups};
pub use protocol::LogsError;
pub use service::LogsService;

/// What the CloudWatch Logs operations work with; cheap to clone.
#[derive(Clone)]
pub struct Logs {
    /// The store.
    db: Db,
    /// The server's clock (creation and ingestion times, retention).
    clock: Clock,
    /// Issues and redeems the Describe and FilterLogEvents page tokens.
    tokens: Arc<PageTokens>,
}

impl Logs {
    /// The logs kept in `db`, timed by `clock`.
    pub fn new(db: Db, clock: Clock) -> Result<Self, ApiError> {
        let tokens = PageTokens::load_or_create(db.store())?;
        Ok(Self {
            db,
            clock,
            tokens: Arc::new(tokens),
        })
    }

    /// Deletes the events past their group's retention (on the server's clock);
    /// returns how many went.
    pub async fn purge_expired(&self) -> Result<u64, ApiError> {
        let now = self.clock.now_millis();
        self.db
            .write(move |tx| streams::purge_expired_events(tx, now))
            .await
    }

    /// The server's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}
