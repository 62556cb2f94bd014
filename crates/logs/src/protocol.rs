//! The awsJson1_1 protocol of CloudWatch Logs: operation selection by `X-Amz-Target`
//! (`Logs_20140328.<Operation>`), request decoding, and every error — [`LogsError`]
//! and the edge's rejections — rendered as `{"__type", "message"}` with the matching
//! `x-amzn-ErrorType`, as CloudWatch Logs sends them, through the framing the JSON
//! services share ([`weir_edge::aws_json`]).

use axum::response::Response;
use http::StatusCode;
use serde::de::DeserializeOwned;
use weir_edge::aws_json::{self, Dialect};
use weir_resources::ApiError;

/// Prefix of `X-Amz-Target` for CloudWatch Logs.
pub const TARGET_PREFIX: &str = "Logs_20140328.";

/// How CloudWatch Logs spells its error answers.
pub const DIALECT: Dialect = Dialect {
    message_member: "message",
    internal_error: "ServiceUnavailableException",
    not_served: "Weir serves CloudWatch Logs with POST / and an X-Amz-Target header.",
};

/// The served operations, sorted (the bounded metrics labels).
pub const OPERATIONS: &[&str] = &[
    "CreateLogGroup",
    "CreateLogStream",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteRetentionPolicy",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "FilterLogEvents",
    "GetLogEvents",
    "PutLogEvents",
    "PutRetentionPolicy",
];

/// An error answered to a CloudWatch Logs client; the one mapping to codes and
/// statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogsError {
    /// A parameter is missing, malformed or out of range.
    InvalidParameter(String),
    /// The log group or stream does not exist.
    ResourceNotFound(String),
    /// The log group or stream already exists.
    ResourceAlreadyExists(String),
    /// The body is not JSON or a member has the wrong JSON type.
    Serialization(String),
    /// `X-Amz-Target` is missing or names no operation Weir serves.
    UnknownOperation(String),
    /// A failure on the server's side; the only 500.
    Internal(String),
}

impl LogsError {
    /// The error code sent as `__type` and `x-amzn-ErrorType`.
    pub fn code(&self) -> &'static str {
        match self {
            LogsError::InvalidParameter(_) => "InvalidParameterException",
            LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
            LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            LogsError::Serialization(_) => "SerializationException",
            LogsError::UnknownOperation(_) => "UnknownOperationException",
            LogsError::Internal(_) => "ServiceUnavailableException",
        }
    }

    /// The HTTP status: 500 only for failures on the server's side.
    pub fn status(&self) -> StatusCode {
        match self {
            LogsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            LogsError::InvalidParameter(m)
            | LogsError::ResourceNotFound(m)
            | LogsError::ResourceAlreadyExists(m)
            | LogsError::Serialization(m)
            | LogsError::UnknownOperation(m)
            | LogsError::Internal(m) => m,
        }
    }
}

impl std::fmt::Display for LogsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

/// The store and the shared layers speak [`ApiError`]; the classes that can reach a
/// CloudWatch Logs client map onto its errors here.
impl From<ApiError> for LogsError {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        match error {
            ApiError::EntityNotFound(_) => LogsError::ResourceNotFound(message),
            ApiError::AlreadyExists(_) => LogsError::ResourceAlreadyExists(message),
            ApiError::InvalidInput(_) => LogsError::InvalidParameter(message),
            _ => LogsError::Internal(message),
        }
    }
}

/// The operation an `X-Amz-Target` names, as a bounded metrics label.
pub fn operation_label(target: Option<&str>) -> &'static str {
    target
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .and_then(|name| OPERATIONS.binary_search(&name).ok().map(|i| OPERATIONS[i]))
        .unwrap_or("unknown")
}

/// The served operation an `X-Amz-Target` names, or UnknownOperationException.
pub fn operation_name(target: Option<&str>) -> Result<&'static str, LogsError> {
    let target =
        target.ok_or_else(|| LogsError::UnknownOperation("Missing X-Amz-Target header.".into()))?;
    match operation_label(Some(target)) {
        "unknown" => Err(LogsError::UnknownOperation(format!(
            "The operation '{target}' is not an operation of CloudWatch Logs that Weir serves."
        ))),
        name => Ok(name),
    }
}

/// Decodes a request body (see [`aws_json::decode`]); what it refuses is
/// SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, LogsError> {
    aws_json::decode(body).map_err(LogsError::Serialization)
}

/// Renders an error: status, `{"__type", "message"}` body and the matching
/// `x-amzn-ErrorType` header.
pub fn error_response(request_id: &str, error: &LogsError) -> Response {
    aws_json::error_response(
        &DIALECT,
        request_id,
        error.status(),
        error.code(),
        error.message(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_sorted_and_labels_bounded() {
        let mut sorted = OPERATIONS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, OPERATIONS);
        assert_eq!(
            operation_label(Some("Logs_20140328.GetLogEvents")),
            "GetLogEvents"
        );
        assert_eq!(operation_label(Some("Logs_20140328.StartQuery")), "unknown");
        assert_eq!(
            operation_name(Some("AWSGlue.GetLogEvents")).map_err(|e| e.code()),
            Err("UnknownOperationException")
        );
    }
}
