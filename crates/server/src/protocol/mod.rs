//! The awsJson1_1 protocol: operation selection by `X-Amz-Target`, request decoding
//! and validation, response encoding. Knows JSON and HTTP headers, not the domain.

pub mod error;

use serde::de::DeserializeOwned;
use weir_model::operations::ALL_OPERATIONS;

pub use error::{ApiError, OrApiError};

use crate::operations::{Handle, RequestContext};

/// Content type of every request and response body.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Prefix of `X-Amz-Target` for the Glue service.
pub const TARGET_PREFIX: &str = "AWSGlue.";
/// Header carrying the request id on every answer.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
/// Header carrying the error code on error answers (must equal the body's `__type`).
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

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
    weir_model::validate(&input).map_err(|errors| ApiError::InvalidInput(errors.to_string()))?;
    let output = O::handle(ctx, input).await?;
    serde_json::to_vec(&output)
        .map_err(|e| ApiError::Internal(format!("could not encode the {} answer: {e}", O::NAME)))
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
