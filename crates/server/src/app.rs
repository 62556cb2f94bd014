//! The shared state of a running server.

use std::sync::Arc;

use weir_store::Transaction;

use crate::config::Config;
use crate::db::Db;
use crate::orchestrator::Orchestrator;
use crate::orchestrator::schedule::Scheduler;
use crate::protocol::ApiError;
use crate::resources::pagination::PageTokens;

/// Everything a request handler may use; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

struct AppInner {
    /// The server configuration (listen address, data directory, defaults).
    config: Config,
    /// The durable store; every acknowledged change is committed here first.
    db: Db,
    /// Issues and checks pagination tokens.
    tokens: PageTokens,
    /// Runs workflows and jobs.
    orchestrator: Orchestrator,
    /// Fires scheduled triggers.
    scheduler: Scheduler,
}

impl App {
    /// Builds the application state over an opened store and a ready orchestrator.
    pub fn new(
        config: Config,
        db: Db,
        orchestrator: Orchestrator,
        scheduler: Scheduler,
    ) -> Result<Self, ApiError> {
        let tokens = PageTokens::load_or_create(db.store())?;
        Ok(Self {
            inner: Arc::new(AppInner {
                config,
                db,
                tokens,
                orchestrator,
                scheduler,
            }),
        })
    }

    /// The store handle, for code shared with the orchestrator (e.g. crawls).
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The scheduler of SCHEDULED triggers; trigger changes must be reported to it.
    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    /// The server configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The pagination-token issuer.
    pub fn tokens(&self) -> &PageTokens {
        &self.inner.tokens
    }

    /// The server's clock (see [`crate::clock`]).
    pub fn clock(&self) -> &weir_clock::Clock {
        self.inner.orchestrator.clock()
    }

    /// The workflow and job run orchestrator.
    pub fn orchestrator(&self) -> &Orchestrator {
        &self.inner.orchestrator
    }

    /// Runs `body` in a read transaction (see [`Db::read`]).
    pub async fn read<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        self.inner.db.read(body).await
    }

    /// Runs `body` in a durable write transaction; returns after the commit.
    pub async fn write<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        self.inner.db.write(body).await
    }
}
