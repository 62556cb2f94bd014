//! The awsJson1_1 protocol of Glue: operation selection by `X-Amz-Target`, request
//! decoding and validation, response encoding, and the rendering of every error —
//! [`ApiError`] and the edge's [`Rejection`]s — as `{"__type", "Message"}` with the
//! matching `x-amzn-ErrorType`. Knows JSON and HTTP headers, not the domain.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use weir_auth::AuthError;
use weir_edge::{ErrorCode, Rejection};
use weir_model::operations::ALL_OPERATIONS;
use weir_resources::ApiError;

use crate::operations::{Handle, RequestContext};

/// Content type of every request and response body.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Prefix of `X-Amz-Target` for the Glue service.
pub const TARGET_PREFIX: &str = "AWSGlue.";
/// Header carrying the request id on every answer.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
/// Header carrying the error code on error answers (must equal the body's `__type`).
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

/// The served operation an `X-Amz-Target` names, as a bounded metrics label: the
/// model's own name, or `unknown`.
pub fn operation_label(target: Option<&str>) -> &'static str {
    target
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .and_then(|name| {
            ALL_OPERATIONS
                .binary_search(&name)
                .ok()
                .map(|i| ALL_OPERATIONS[i])
        })
        .unwrap_or("unknown")
}

/// The operation name of an `X-Amz-Target` header value.
///
/// A missing header, a foreign prefix or a name absent from the Glue model is
/// UnknownOperationException; a Glue operation that Weir does not serve is
/// answered later, by dispatch, as not implemented.
pub fn operation_name(target: Option<&str>) -> Result<&str, ApiError> {
    let target =
        target.ok_or_else(|| ApiError::UnknownOperation("Missing X-Amz-Target header.".into()))?;
    let name = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| {
        ApiError::UnknownOperation(format!(
            "Unknown target '{target}': Weir serves the AWSGlue service."
        ))
    })?;
    if ALL_OPERATIONS.binary_search(&name).is_err() {
        return Err(ApiError::UnknownOperation(format!(
            "The operation '{name}' is not an operation of AWSGlue."
        )));
    }
    Ok(name)
}

/// The answer for a Glue operation that exists in the model but is not served.
pub fn not_implemented(name: &str) -> ApiError {
    ApiError::NotImplemented(format!(
        "The operation '{name}' is part of the AWS Glue API but is not implemented by Weir."
    ))
}

/// Decodes, validates and handles one request of operation `O`, encoding the answer.
pub async fn run<O: Handle>(ctx: &RequestContext, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let input: O::Input = decode(body)?;
    let output = validate_and_handle::<O>(ctx, input).await?;
    serde_json::to_vec(&output)
        .map_err(|e| ApiError::Internal(format!("could not encode the {} answer: {e}", O::NAME)))
}

/// Validates and handles one request of operation `O` given as its input shape: what
/// [`run`] does after decoding, for callers that build the input themselves (the
/// console's actions), so that their validation and errors are the API's.
pub async fn validate_and_handle<O: Handle>(
    ctx: &RequestContext,
    input: O::Input,
) -> Result<O::Output, ApiError> {
    weir_model::validate(&input).map_err(|errors| ApiError::InvalidInput(errors.to_string()))?;
    O::handle(ctx, input).await
}

/// Decodes a request body: empty means `{}`; anything but a JSON object, or a
/// member of the wrong JSON type, is SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => serde_json::from_slice(b"{}").map_err(serialization_error),
        Some(b'{') => serde_json::from_slice(body).map_err(serialization_error),
        Some(_) => Err(ApiError::Serialization(
            "The request body must be a JSON object.".into(),
        )),
    }
}

fn serialization_error(error: serde_json::Error) -> ApiError {
    ApiError::Serialization(format!("Could not read the request body: {error}"))
}

/// The Glue error for a request the edge refused.
pub fn rejection_error(rejection: &Rejection) -> ApiError {
    let message = rejection.to_string();
    match rejection {
        Rejection::Throttled => ApiError::Throttling(message),
        Rejection::TooLarge { .. } => ApiError::RequestTooLarge(message),
        Rejection::BodyTimeout { .. } => ApiError::RequestTimeout(message),
        Rejection::BodyUnreadable(_) => ApiError::Serialization(message),
        Rejection::Unauthenticated(error) => match error {
            AuthError::MissingToken => ApiError::MissingAuthenticationToken(message),
            AuthError::Incomplete(_) => ApiError::IncompleteSignature(message),
            AuthError::UnrecognizedClient => ApiError::UnrecognizedClient(message),
            AuthError::InvalidSignature(_) | AuthError::Expired => {
                ApiError::InvalidSignature(message)
            }
        },
        Rejection::NotServed => ApiError::UnknownOperation(
            "Weir serves the AWS Glue API with POST / and an X-Amz-Target header.".into(),
        ),
        Rejection::Internal => ApiError::Internal(message),
    }
}

/// The answer to a request the edge refused: a missing route is a 404, the rest keep
/// the status of their error.
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

/// Renders an error: status, `__type`/`Message` body and the matching
/// `x-amzn-ErrorType` header, all from the one mapping in [`ApiError`].
pub fn error_response(request_id: &str, error: &ApiError) -> Response {
    let mut response = (error.status(), error.body()).into_response();
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
    fn target_resolution_separates_unknown_from_known() {
        assert_eq!(
            operation_name(Some("AWSGlue.GetWorkflow")).ok(),
            Some("GetWorkflow")
        );
        for bad in [
            None,
            Some("GetWorkflow"),
            Some("AWSGlue.NoSuchThing"),
            Some("DynamoDB_20120810.GetItem"),
        ] {
            let err = operation_name(bad).expect_err("rejected");
            assert_eq!(err.code(), "UnknownOperationException");
        }
    }

    #[test]
    fn operation_labels_are_bounded() {
        assert_eq!(operation_label(Some("AWSGlue.GetWorkflow")), "GetWorkflow");
        assert_eq!(
            operation_label(Some("AWSGlue.NoSuchOperation\n")),
            "unknown"
        );
        assert_eq!(operation_label(Some("GetWorkflow")), "unknown");
        assert_eq!(operation_label(None), "unknown");
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
        assert!(decode::<Named>(b" {\"Name\":\"x\"} ").is_ok());
        for bad in [&b"[]"[..], b"\"x\"", b"{", b"not json", b"{\"Name\": 5}"] {
            let err = decode::<Named>(bad).expect_err("rejected");
            assert_eq!(err.code(), "SerializationException");
        }
    }
}
