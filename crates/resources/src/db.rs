//! The bridge from async code to the blocking store. On SQLite, reads are short
//! indexed lookups on pooled WAL readers that never wait for the writer, so they run
//! inline on the async worker (a hop to the blocking pool would cost more than the
//! read); a store whose reads wait on the network (PostgreSQL, see
//! [`Store::reads_inline`]) reads on the blocking pool. Writes are handed to the store
//! whole ([`Store::queue_write`]): SQLite's writer thread runs them (with the others
//! queued meanwhile, in one commit) while the caller's task waits without holding a
//! thread; a store without a writer thread runs them on the blocking pool. A write
//! returns only after its commit.

use std::sync::{Arc, Mutex};

use weir_store::{QueuedWrite, Store, StoreError, StoreExt, Transaction};

use crate::ApiError;

/// A cheap-to-clone handle on the store for async callers.
#[derive(Clone)]
pub struct Db {
    store: Arc<dyn Store>,
}

impl Db {
    /// Wraps an opened store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The store itself, for blocking callers (start-up).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Runs `body` in a read transaction (one consistent snapshot): inline when the
    /// store's reads allow it, else on a blocking thread.
    pub async fn read<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        if self.store.reads_inline() {
            return self.store.read(body);
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.read(body))
            .await
            .map_err(|error| incomplete("read", &error))?
    }

    /// Checkpoints the store on a blocking thread (see [`Store::checkpoint`]).
    pub async fn checkpoint(&self) -> Result<(), ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.checkpoint())
            .await
            .map_err(|error| ApiError::Internal(format!("checkpoint task failed: {error}")))?
            .map_err(ApiError::from)
    }

    /// Runs `body` in a durable write transaction (see the module docs); returns after
    /// the commit, so the caller may acknowledge the change. An `Err` of `body` rolls
    /// its changes back and is returned as it is.
    pub async fn write<R: Send + 'static>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let value: Arc<Mutex<Option<Result<R, ApiError>>>> = Arc::new(Mutex::new(None));
        let slot = value.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let write = QueuedWrite {
            body: Box::new(move |tx| {
                let outcome = body(tx);
                let failed = outcome.is_err();
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(outcome);
                }
                if failed {
                    Err(StoreError::Aborted)
                } else {
                    Ok(())
                }
            }),
            done: Box::new(move |outcome| {
                let _ = answer.send(outcome);
            }),
        };
        if self.store.queues_writes() {
            self.store.queue_write(write);
        } else {
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || store.queue_write(write))
                .await
                .map_err(|error| incomplete("write", &error))?;
        }
        let committed = answered.await.map_err(|_| {
            ApiError::Internal("the store dropped a write without an answer".into())
        })?;
        let value = value.lock().ok().and_then(|mut slot| slot.take());
        match (committed, value) {
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Err(StoreError::Aborted), Some(Err(error))) => Err(error),
            (Err(error), _) => Err(ApiError::from(error)),
            (Ok(()), _) => Err(ApiError::Internal(
                "a committed write left no result".into(),
            )),
        }
    }
}

/// The answer for a transaction whose task ended without a result: a panic in its body,
/// after which the store rolled the transaction back.
fn incomplete(kind: &str, error: &tokio::task::JoinError) -> ApiError {
    tracing::error!(%error, "a {kind} transaction did not complete");
    ApiError::Internal("An internal error occurred in the storage layer.".into())
}
