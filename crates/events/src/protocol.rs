//! The awsJson1_1 protocol of EventBridge: operation selection by `X-Amz-Target`
//! (`AWSEvents.<Operation>`), request decoding, response encoding, and the rendering
//! of every error — [`EventsError`] and the edge's [`Rejection`]s — as
//! `{"__type", "message"}` with the matching `x-amzn-ErrorType`, as EventBridge sends
//! them. Knows JSON and HTTP headers, not the domain.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use weir_auth::AuthError;
use weir_edge::{ErrorCode, Rejection};
use weir_resources::ApiError;

/// Content type of every request and response body.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Prefix of `X-Amz-Target` for EventBridge.
pub const TARGET_PREFIX: &str = "AWSEvents.";
/// Header carrying the request id on every answer.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
/// Header carrying the error code on error answers (equal to the body's `__type`).
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

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
    /// The server sheds load.
    Throttling(String),
    /// The request body is larger than the server accepts.
    RequestTooLarge(String),
    /// The client did not send its body in time.
    RequestTimeout(String),
    /// No credentials were sent.
    MissingAuthenticationToken(String),
    /// The `Authorization` header is malformed.
    IncompleteSignature(String),
    /// Unknown access key.
    UnrecognizedClient(String),
    /// The signature does not match or has expired.
    InvalidSignature(String),
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
            EventsError::Throttling(_) => "ThrottlingException",
            EventsError::RequestTooLarge(_) => "RequestEntityTooLargeException",
            EventsError::RequestTimeout(_) => "RequestTimeoutException",
            EventsError::MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
            EventsError::IncompleteSignature(_) => "IncompleteSignatureException",
            EventsError::UnrecognizedClient(_) => "UnrecognizedClientException",
            EventsError::InvalidSignature(_) => "InvalidSignatureException",
            EventsError::Internal(_) => "InternalException",
        }
    }

    /// The HTTP status: 500 only for internal failures, 413 for an oversized body.
    pub fn status(&self) -> StatusCode {
        match self {
            EventsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            EventsError::RequestTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
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
            | EventsError::Throttling(m)
            | EventsError::RequestTooLarge(m)
            | EventsError::RequestTimeout(m)
            | EventsError::MissingAuthenticationToken(m)
            | EventsError::IncompleteSignature(m)
            | EventsError::UnrecognizedClient(m)
            | EventsError::InvalidSignature(m)
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

/// Decodes a request body: empty means `{}`; anything but a JSON object, or a member
/// of the wrong JSON type, is SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, EventsError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let result = match first {
        None => serde_json::from_slice(b"{}"),
        Some(b'{') => serde_json::from_slice(body),
        Some(_) => {
            return Err(EventsError::Serialization(
                "The request body must be a JSON object.".into(),
            ));
        }
    };
    result.map_err(|e| EventsError::Serialization(format!("Could not read the request body: {e}")))
}

/// The EventBridge error for a request the edge refused.
pub fn rejection_error(rejection: &Rejection) -> EventsError {
    let message = rejection.to_string();
    match rejection {
        Rejection::Throttled => EventsError::Throttling(message),
        Rejection::TooLarge { .. } => EventsError::RequestTooLarge(message),
        Rejection::BodyTimeout { .. } => EventsError::RequestTimeout(message),
        Rejection::BodyUnreadable(_) => EventsError::Serialization(message),
        Rejection::Unauthenticated(error) => match error {
            AuthError::MissingToken => EventsError::MissingAuthenticationToken(message),
            AuthError::Incomplete(_) => EventsError::IncompleteSignature(message),
            AuthError::UnrecognizedClient => EventsError::UnrecognizedClient(message),
            AuthError::InvalidSignature(_) | AuthError::Expired => {
                EventsError::InvalidSignature(message)
            }
        },
        Rejection::NotServed => EventsError::UnknownOperation(
            "Weir serves EventBridge with POST / and an X-Amz-Target header.".into(),
        ),
        Rejection::Internal => EventsError::Internal(message),
    }
}

/// The answer to a request the edge refused (a missing route is a 404).
pub fn rejection_response(request_id: &str, rejection: &Rejection) -> Response {
    let mut response = error_response(request_id, &rejection_error(rejection));
    if matches!(rejection, Rejection::NotServed) {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
}

/// A successful answer carrying `json`.
pub fn ok_response(request_id: &str, json: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, json).into_response();
    set_common_headers(response.headers_mut(), request_id);
    response
}

/// Renders an error: status, `{"__type", "message"}` body and the matching
/// `x-amzn-ErrorType` header.
pub fn error_response(request_id: &str, error: &EventsError) -> Response {
    let body = serde_json::json!({ "__type": error.code(), "message": error.message() })
        .to_string()
        .into_bytes();
    let mut response = (error.status(), body).into_response();
    let headers = response.headers_mut();
    set_common_headers(headers, request_id);
    headers.insert(ERROR_TYPE_HEADER, HeaderValue::from_static(error.code()));
    response.extensions_mut().insert(ErrorCode(error.code()));
    response
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
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
