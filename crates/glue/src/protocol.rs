//! The awsJson1_1 protocol of Glue: operation selection by `X-Amz-Target`, request
//! decoding and validation, response encoding, and the rendering of every error —
//! [`ApiError`] and the edge's rejections — as `{"__type", "Message"}` through the
//! framing the JSON services share ([`weir_edge::aws_json`]). Knows JSON and HTTP
//! headers, not the domain.

use axum::response::Response;
use serde::de::DeserializeOwned;
use weir_edge::aws_json::{self, Dialect};
use weir_model::operations::ALL_OPERATIONS;
use weir_resources::ApiError;

use crate::operations::{Handle, RequestContext};

/// Prefix of `X-Amz-Target` for the Glue service.
pub const TARGET_PREFIX: &str = "AWSGlue.";

/// How Glue's error answers are spelled.
pub const DIALECT: Dialect = Dialect {
    message_member: "Message",
    internal_error: "InternalServiceException",
    not_served: "Weir serves the AWS Glue API with POST / and an X-Amz-Target header.",
};

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

/// Decodes a request body (see [`aws_json::decode`]); what it refuses is
/// SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    aws_json::decode(body).map_err(ApiError::Serialization)
}

/// Renders an error: status, `__type`/`Message` body and the matching
/// `x-amzn-ErrorType` header, all from the one mapping in [`ApiError`].
pub fn error_response(request_id: &str, error: &ApiError) -> Response {
    aws_json::error_response(
        &DIALECT,
        request_id,
        error.status(),
        error.code(),
        &error.to_string(),
    )
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
