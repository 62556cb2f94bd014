//! The awsJson1_1 protocol of EventBridge: operation selection by `X-Amz-Target`
//! (`AWSEvents.<Operation>`), request decoding, response encoding, and the rendering
//! of every error — [`EventsError`] and the edge's rejections — as
//! `{"__type", "message"}` with the matching `x-amzn-ErrorType`, as EventBridge sends
//! them, through the framing the JSON services share ([`weir_edge::aws_json`]). Knows
//! JSON and HTTP headers, not the domain.

use axum::response::Response;
use http::StatusCode;
use serde::de::DeserializeOwned;
use weir_edge::aws_json::{self, Dialect};
use weir_resources::ApiError;

/// Prefix of `X-Amz-Target` for EventBridge.
pub const TARGET_PREFIX: &str = "AWSEvents.";

/// How EventBridge's error answers are spelled.
pub const DIALECT: Dialect = Dialect {
    message_member: "message",
    internal_error: "InternalException",
    not_served: "Weir serves EventBridge with POST / and an X-Amz-Target header.",
};

/// The served operations, sorted (the bounded metrics labels).
pub const OPERATIONS: &[&str] = &[
    "DeleteRule",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListRules",
    "ListTagsForResource",
    "ListTargetsByRule",
    "PutEvents",
    "PutRule",
    "PutTargets",
    "RemoveTargets",
    "TagResource",
    "UntagResource",
];

/// An error answered to an EventBridge client; the one mapping to codes and statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsError {
    /// A member violates the model's constraints or a rule of the service.
    Validation(String),
    /// The event pattern of a rule is not valid.
    InvalidEventPattern(String),
    /// The rule, event bus or resource does not exist.
    ResourceNotFound(String),
    /// A limit (targets per rule, rules per bus) was reached.
    LimitExceeded(String),
    /// Concurrent changes conflicted.
    ConcurrentModification(String),
    /// The body is not JSON or a member has the wrong JSON type.
    Serialization(String),
    /// `X-Amz-Target` is missing or names no operation of EventBridge Weir serves.
    UnknownOperation(String),
    /// A failure on the server's side; the only 500.
    Internal(String),
}

impl EventsError {
    /// The error code sent as `__type` and `x-amzn-ErrorType`.
    pub fn code(&self) -> &'static str {
        match self {
            EventsError::Validation(_) => "ValidationException",
            EventsError::InvalidEventPattern(_) => "InvalidEventPatternException",
            EventsError::ResourceNotFound(_) => "ResourceNotFoundException",
            EventsError::LimitExceeded(_) => "LimitExceededException",
            EventsError::ConcurrentModification(_) => "ConcurrentModificationException",
            EventsError::Serialization(_) => "SerializationException",
            EventsError::UnknownOperation(_) => "UnknownOperationException",
            EventsError::Internal(_) => "InternalException",
        }
    }

    /// The HTTP status: 500 only for internal failures.
    pub fn status(&self) -> StatusCode {
        match self {
            EventsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            EventsError::Validation(m)
            | EventsError::InvalidEventPattern(m)
            | EventsError::ResourceNotFound(m)
            | EventsError::LimitExceeded(m)
            | EventsError::ConcurrentModification(m)
            | EventsError::Serialization(m)
            | EventsError::UnknownOperation(m)
            | EventsError::Internal(m) => m,
        }
    }
}

impl std::fmt::Display for EventsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

/// The store and the shared Glue layers speak [`ApiError`]; the classes that can
/// reach an EventBridge client map onto EventBridge's errors here.
impl From<ApiError> for EventsError {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        match error {
            ApiError::EntityNotFound(_) => EventsError::ResourceNotFound(message),
            ApiError::InvalidInput(_) | ApiError::AlreadyExists(_) => {
                EventsError::Validation(message)
            }
            ApiError::ResourceNumberLimitExceeded(_) => EventsError::LimitExceeded(message),
            ApiError::ConcurrentModification(_) => EventsError::ConcurrentModification(message),
            _ => EventsError::Internal(message),
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
pub fn operation_name(target: Option<&str>) -> Result<&'static str, EventsError> {
    let target = target
        .ok_or_else(|| EventsError::UnknownOperation("Missing X-Amz-Target header.".into()))?;
    match operation_label(Some(target)) {
        "unknown" => Err(EventsError::UnknownOperation(format!(
            "The operation '{target}' is not an operation of AWSEvents that Weir serves."
        ))),
        name => Ok(name),
    }
}

/// Decodes a request body (see [`aws_json::decode`]); what it refuses is
/// SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, EventsError> {
    aws_json::decode(body).map_err(EventsError::Serialization)
}

/// Renders an error: status, `{"__type", "message"}` body and the matching
/// `x-amzn-ErrorType` header.
pub fn error_response(request_id: &str, error: &EventsError) -> Response {
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
        assert_eq!(operation_label(Some("AWSEvents.PutEvents")), "PutEvents");
        assert_eq!(operation_label(Some("AWSEvents.CreateEventBus")), "unknown");
        assert_eq!(operation_label(Some("AWSGlue.PutEvents")), "unknown");
        assert!(operation_name(None).is_err());
        assert_eq!(
            operation_name(Some("AWSEvents.Nope")).map_err(|e| e.code()),
            Err("UnknownOperationException")
        );
    }

    #[test]
    fn bodies_must_be_objects() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Named {
            #[serde(rename = "Name")]
            name: Option<String>,
        }
        assert!(decode::<Named>(b"").is_ok());
        for bad in [&b"[]"[..], b"{", b"{\"Name\": 5}"] {
            assert_eq!(
                decode::<Named>(bad).map_err(|e| e.code()).err(),
                Some("SerializationException")
            );
        }
    }
}
