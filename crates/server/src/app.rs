//! The shared state of a running server and the bridge from async handlers to the
//! blocking store.

use std::sync::Arc;

use weir_store::{Store, StoreExt, Transaction};

use crate::config::Config;
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
    store: Arc<dyn Store>,
    /// Issues and checks pagination tokens.
    tokens: PageTokens,
}

impl App {
    /// Builds the application state over an opened store.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Result<Self, ApiError> {
        let tokens = PageTokens::load_or_create(store.as_ref())?;
        Ok(Self {
            inner: Arc::new(AppInner {
                config,
                store,
                tokens,
            }),
        })
    }

    /// The server configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The pagination-token issuer.
    pub fn tokens(&self) -> &PageTokens {
        &self.inner.tokens
    }

    /// Runs `body` in a read transaction on a blocking thread.
    pub async fn read<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.read(body))
            .await
            .map_err(|e| ApiError::Internal(format!("read task failed: {e}")))?
    }

    /// Runs `body` in a durable write transaction on a blocking thread; returns after
    /// the commit, so the caller may acknowledge the change.
    pub async fn write<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.write(body))
            .await
            .map_err(|e| ApiError::Internal(format!("write task failed: {e}")))?
    }
}
