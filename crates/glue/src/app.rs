//! The shared state of a running server.

use std::path::PathBuf;
use std::sync::Arc;

use weir_store::Transaction;

use weir_orchestrator::Orchestrator;
use weir_orchestrator::schedule::Scheduler;
use weir_resources::ApiError;
use weir_resources::db::Db;
use weir_resources::pagination::PageTokens;

/// Where the Glue service keeps and finds files.
#[derive(Debug, Clone)]
pub struct GlueSettings {
    /// Directory holding the database, logs, blueprint archives and job artefacts.
    pub data_dir: PathBuf,
    /// Local directory standing in for S3 (`s3://bucket/key` → `<s3_dir>/bucket/key`).
    pub s3_dir: PathBuf,
    /// Python interpreter of blueprint layout generators.
    pub python: String,
}

/// Everything a request handler may use; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

struct AppInner {
    /// Where the service keeps and finds files.
    settings: GlueSettings,
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
        settings: GlueSettings,
        db: Db,
        orchestrator: Orchestrator,
        scheduler: Scheduler,
    ) -> Result<Self, ApiError> {
        let tokens = PageTokens::load_or_create(db.store())?;
        Ok(Self {
            inner: Arc::new(AppInner {
                settings,
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

    /// Where the service keeps and finds files.
    pub fn settings(&self) -> &GlueSettings {
        &self.inner.settings
    }

    /// The pagination-token issuer.
    pub fn tokens(&self) -> &PageTokens {
        &self.inner.tokens
    }

    /// The server's clock.
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
