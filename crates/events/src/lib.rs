//! Amazon EventBridge, the subset Glue pipelines touch, as a service of the edge
//! (awsJson1_1, `X-Amz-Target: AWSEvents.<Operation>`, signing name `events`): rules
//! of the default event bus with their targets and tags, PutEvents, event patterns
//! with EventBridge's content filters ([`pattern`]), and the delivery of matched
//! events to Glue workflows whose EVENT trigger batches them into runs ([`batch`],
//! [`delivery`]).
//!
//! Layout: `protocol.rs` (target resolution, decoding, every error as EventBridge
//! sends it), `service.rs` (the `weir_edge::Service`), `rules.rs` (rules and targets
//! as stored, and their operations), `put_events.rs`, `pattern.rs`, `batch.rs` (the
//! pending batch as a pure value), `delivery.rs` (delivery inside the accepting
//! transaction, and the batch-window timer).
//!
//! May depend on: `weir-edge` (the Service contract), `weir-orchestrator` (starting
//! runs inside a transaction), `weir-resources`, `weir-store`, `weir-model`,
//! `weir-clock`, `weir-auth`. Must not: be depended on by anything but the server
//! binary; a producer of events in another crate (S3 notifications) reaches the bus
//! through `weir_resources::event_sink::EventSink`, which [`EventBus`] implements and
//! the binary hands over.

#![warn(missing_docs)]

pub mod batch;
pub mod delivery;
pub mod pattern;
pub mod protocol;
mod put_events;
mod rules;
mod service;
mod validate;

use std::sync::Arc;

use weir_clock::Clock;
use weir_orchestrator::Orchestrator;
use weir_resources::ApiError;
use weir_resources::db::Db;
use weir_resources::event_sink::{AfterCommit, EventSink, ServiceEvent};
use weir_resources::pagination::PageTokens;
use weir_store::{Scope, Transaction};

pub use delivery::{Delivered, Event, Windows};
pub use protocol::EventsError;
pub use service::EventsService;

/// The event bus of every account and region: rules, delivery and batch windows;
/// cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    orchestrator: Orchestrator,
    tokens: PageTokens,
    windows: Windows,
}

impl EventBus {
    /// The bus over `db`, starting runs through `orchestrator`. Spawn
    /// [`Windows::run`] of [`EventBus::windows`] after [`Windows::load`].
    pub fn new(db: Db, orchestrator: Orchestrator) -> Result<Self, ApiError> {
        let tokens = PageTokens::load_or_create(db.store())?;
        let windows = Windows::new(db.clone(), orchestrator.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                orchestrator,
                tokens,
                windows,
            }),
        })
    }

    /// The batch-window timer.
    pub fn windows(&self) -> &Windows {
        &self.inner.windows
    }

    /// The server's clock.
    pub fn clock(&self) -> &Clock {
        self.inner.orchestrator.clock()
    }

    /// Delivers `events` accepted at `now` in `scope` inside the caller's write
    /// transaction (see [`delivery`]); hand the result to [`EventBus::committed`]
    /// once that transaction committed.
    pub fn deliver_in(
        tx: &mut dyn Transaction,
        scope: &Scope,
        events: &[Event],
        now: i64,
    ) -> Result<Delivered, ApiError> {
        delivery::deliver_in(tx, scope, events, now)
    }

    /// Acts on a committed delivery: starts its runs' work, arms its windows.
    pub fn committed(&self, delivered: Delivered) {
        delivered.hand_over(&self.inner.orchestrator, &self.inner.windows);
    }

    /// Delivers `events` in a transaction of its own, durably, then acts on it.
    pub async fn deliver(
        &self,
        scope: Scope,
        events: Vec<Event>,
        now: i64,
    ) -> Result<(), EventsError> {
        let delivered = self
            .write(move |tx| delivery::deliver_in(tx, &scope, &events, now))
            .await?;
        self.committed(delivered);
        Ok(())
    }

    pub(crate) fn tokens(&self) -> &PageTokens {
        &self.inner.tokens
    }

    pub(crate) async fn read<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, EventsError> {
        Ok(self.inner.db.read(body).await?)
    }

    pub(crate) async fn write<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, EventsError> {
        Ok(self.inner.db.write(body).await?)
    }
}

/// Services that emit events (S3 notifications) reach the bus through this, handed
/// to them by the binary: delivery in their own transaction, the rest after it.
impl EventSink for EventBus {
    fn deliver_in(
        &self,
        tx: &mut dyn Transaction,
        scope: &Scope,
        events: Vec<ServiceEvent>,
        now: i64,
    ) -> Result<(Vec<String>, AfterCommit), ApiError> {
        let events: Vec<Event> = events
            .into_iter()
            .map(|e| Event::new(scope, &e.source, &e.detail_type, e.resources, e.detail, now))
            .collect();
        let ids = events.iter().map(|e| e.id.clone()).collect();
        let delivered = delivery::deliver_in(tx, scope, &events, now)?;
        let bus = self.clone();
        Ok((ids, Box::new(move || bus.committed(delivered))))
    }
}
