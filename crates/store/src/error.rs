//! Storage errors: failures of the storage engine, never domain outcomes.

/// A failure of the storage engine. The server answers these with
/// InternalServiceException; they never mean "not found" or "already exists".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The underlying database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The data directory could not be prepared.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The transaction body returned a domain error; everything was rolled back.
    #[error("transaction aborted by the caller")]
    Aborted,
    /// The database holds data this version does not understand.
    #[error("incompatible store: {0}")]
    Incompatible(String),
    /// A broken invariant inside the store.
    #[error("internal store error: {0}")]
    Internal(String),
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;
