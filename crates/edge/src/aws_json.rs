//! The awsJson1_1 framing every JSON service behind the edge shares (Glue,
//! EventBridge): request bodies, answers with their headers, error answers, and the
//! errors of the edge's own rejections. Each service keeps its error codes and says
//! how its error bodies spell the message ([`Dialect`]).

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use weir_auth::AuthError;

use crate::service::{ErrorCode, Rejection, TARGET_HEADER};

/// Content type of every request and response body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Header carrying the request id on every answer.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
/// Header carrying the error code on error answers (equal to the body's `__type`).
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

/// What differs between awsJson services in the errors they answer.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The member of an error body holding the message (`Message` for Glue,
    /// `message` for EventBridge).
    pub message_member: &'static str,
    /// The code of a failure on the server's side (the only 500).
    pub internal_error: &'static str,
    /// The message for a method or path the service does not serve (a 404).
    pub not_served: &'static str,
}

/// The `X-Amz-Target` header of a request, if readable (it names the operation).
pub fn target(parts: &http::request::Parts) -> Option<&str> {
    parts
        .headers
        .get(TARGET_HEADER)
        .and_then(|v| v.to_str().ok())
}

/// Decodes a request body: empty means `{}`. Anything but a JSON object, or a member
/// of the wrong JSON type, is an error whose message the service answers as
/// SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let decoded = match first {
        None => serde_json::from_slice(b"{}"),
        Some(b'{') => serde_json::from_slice(body),
        Some(_) => return Err("The request body must be a JSON object.".into()),
    };
    decoded.map_err(|e| format!("Could not read the request body: {e}"))
}

/// A successful answer carrying `json`.
pub fn ok_response(request_id: &str, json: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, json).into_response();
    set_common_headers(response.headers_mut(), request_id);
    response
}

/// An error answer: `status`, the body `{"__type": code, <message member>: message}`
/// and `x-amzn-ErrorType` equal to `code` (also attached as the [`ErrorCode`] the edge
/// counts).
pub fn error_response(
    dialect: &Dialect,
    request_id: &str,
    status: StatusCode,
    code: &'static str,
    message: &str,
) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), code.into());
    body.insert(dialect.message_member.into(), message.into());
    let mut response = (status, serde_json::Value::Object(body).to_string()).into_response();
    let headers = response.headers_mut();
    set_common_headers(headers, request_id);
    headers.insert(ERROR_TYPE_HEADER, HeaderValue::from_static(code));
    response.extensions_mut().insert(ErrorCode(code));
    response
}

/// The answer to a request the edge refused, with the codes AWS's JSON services use.
pub fn rejection_response(dialect: &Dialect, request_id: &str, rejection: &Rejection) -> Response {
    let bad = StatusCode::BAD_REQUEST;
    let (status, code) = match rejection {
        Rejection::Throttled => (bad, "ThrottlingException"),
        Rejection::TooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
        ),
        Rejection::BodyTimeout { .. } => (bad, "RequestTimeoutException"),
        Rejection::BodyUnreadable(_) => (bad, "SerializationException"),
        Rejection::Unauthenticated(error) => match error {
            AuthError::MissingToken => (bad, "MissingAuthenticationTokenException"),
            AuthError::Incomplete(_) => (bad, "IncompleteSignatureException"),
            AuthError::UnrecognizedClient => (bad, "UnrecognizedClientException"),
            AuthError::InvalidSignature(_) | AuthError::Expired => {
                (bad, "InvalidSignatureException")
            }
        },
        Rejection::NotServed => {
            return error_response(
                dialect,
                request_id,
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                dialect.not_served,
            );
        }
        Rejection::Internal => (StatusCode::INTERNAL_SERVER_ERROR, dialect.internal_error),
    };
    error_response(dialect, request_id, status, code, &rejection.to_string())
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_objects() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Named {
            #[serde(rename = "Name")]
            name: Option<String>,
        }
        assert!(decode::<Named>(b"").is_ok());
        assert!(decode::<Named>(b" {\"Name\":\"x\"} ").is_ok());
        for bad in [&b"[]"[..], b"\"x\"", b"{", b"not json", b"{\"Name\": 5}"] {
            assert!(decode::<Named>(bad).is_err());
        }
    }
}
