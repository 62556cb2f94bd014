//! Storage errors: failures of the storage engine, never domain outcomes.

/// A failure of the storage engine. The server answers these with
/// InternalServiceException; they never mean "not found" or "already exists".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The underlying database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// PostgreSQL failed, or the connection to it did (the message carries the causes).
    #[error("database error: {0}")]
    Postgres(String),
    /// The store's location could not be understood.
    #[error("invalid store location: {0}")]
    InvalidUrl(String),
    /// The data directory could not be prepared.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The transaction body returned a domain error; everything was rolled back.
    #[error("transaction aborted by the caller")]
    Aborted,
    /// The transaction body panicked (a bug); what it did was rolled back.
    #[error("the transaction's body panicked; it was rolled back")]
    Panicked,
    /// The database holds data this version does not understand.
    #[error("incompatible store: {0}")]
    Incompatible(String),
    /// A broken invariant inside the store.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        // The client's own text is only the kind ("db error"): the server's message and
        // the I/O cause are in the chain of sources.
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        StoreError::Postgres(message)
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;
