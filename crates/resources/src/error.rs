//! AWS-style API errors and their one mapping to the wire.
//!
//! Every failure a client can see is an [`ApiError`]; [`ApiError::status`] and
//! [`ApiError::code`] are the only places that decide the HTTP status and the
//! `__type` / `x-amzn-ErrorType` pair, so header and body always agree.

use http::StatusCode;
use weir_store::StoreError;

/// An error answered to the client as `{"__type": code, "Message": message}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The resource already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// Concurrent changes conflicted.
    #[error("{0}")]
    ConcurrentModification(String),
    /// A concurrency limit on runs was reached.
    #[error("{0}")]
    ConcurrentRunsExceeded(String),
    /// The named entity does not exist.
    #[error("{0}")]
    EntityNotFound(String),
    /// A blueprint is not in a state that allows the operation.
    #[error("{0}")]
    IllegalBlueprintState(String),
    /// A workflow run is not in a state that allows the operation.
    #[error("{0}")]
    IllegalWorkflowState(String),
    /// The input is invalid (including model-constraint violations).
    #[error("{0}")]
    InvalidInput(String),
    /// A crawler is running.
    #[error("{0}")]
    CrawlerRunning(String),
    /// A crawler is not running.
    #[error("{0}")]
    CrawlerNotRunning(String),
    /// A crawler is stopping.
    #[error("{0}")]
    CrawlerStopping(String),
    /// A resource limit was reached.
    #[error("{0}")]
    ResourceNumberLimitExceeded(String),
    /// The body is not a JSON object or a member has the wrong JSON type.
    #[error("{0}")]
    Serialization(String),
    /// `X-Amz-Target` is missing or names no Glue operation.
    #[error("{0}")]
    UnknownOperation(String),
    /// A Glue operation that Weir does not implement.
    #[error("{0}")]
    NotImplemented(String),
    /// A failure on the server's side; the only 500.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status: 500 only for internal failures, 400 for everything else, as
    /// AWS answers. (The edge's own refusals, such as an oversized body, are answered
    /// by `weir_edge::aws_json`.)
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The error code sent as `__type` and `x-amzn-ErrorType`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::AlreadyExists(_) => "AlreadyExistsException",
            ApiError::ConcurrentModification(_) => "ConcurrentModificationException",
            ApiError::ConcurrentRunsExceeded(_) => "ConcurrentRunsExceededException",
            ApiError::EntityNotFound(_) => "EntityNotFoundException",
            ApiError::IllegalBlueprintState(_) => "IllegalBlueprintStateException",
            ApiError::IllegalWorkflowState(_) => "IllegalWorkflowStateException",
            ApiError::InvalidInput(_) => "InvalidInputException",
            ApiError::CrawlerRunning(_) => "CrawlerRunningException",
            ApiError::CrawlerNotRunning(_) => "CrawlerNotRunningException",
            ApiError::CrawlerStopping(_) => "CrawlerStoppingException",
            ApiError::ResourceNumberLimitExceeded(_) => "ResourceNumberLimitExceededException",
            ApiError::Serialization(_) => "SerializationException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::NotImplemented(_) => "UnsupportedOperationException",
            ApiError::Internal(_) => "InternalServiceException",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "store failure");
        ApiError::Internal("An internal error occurred in the storage layer.".into())
    }
}

/// Call-site classification of a missing value (garage's `ok_or_bad_request` habit).
pub trait OrApiError<T> {
    /// `None` becomes EntityNotFoundException with `message`.
    fn or_not_found(self, message: impl FnOnce() -> String) -> Result<T, ApiError>;
}

impl<T> OrApiError<T> for Option<T> {
    fn or_not_found(self, message: impl FnOnce() -> String) -> Result<T, ApiError> {
        self.ok_or_else(|| ApiError::EntityNotFound(message()))
    }
}
