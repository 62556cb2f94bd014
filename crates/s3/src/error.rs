//! S3 errors as S3 sends them: a status, and an XML body with Code, Message, the
//! Resource and the RequestId (no body for HEAD requests).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use weir_auth::AuthError;
use weir_edge::{ErrorCode, Rejection};

use crate::xml::escape;

/// One S3 error answer.
#[derive(Debug, Clone)]
pub struct S3Error {
    /// The HTTP status.
    pub status: StatusCode,
    /// The S3 error code (`NoSuchKey`, …).
    pub code: &'static str,
    /// The human-readable message.
    pub message: String,
    /// Further elements S3 adds for this code (`BucketName`, `Key`, …).
    pub extra: Vec<(&'static str, String)>,
}

/// The result of an S3 operation.
pub type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    /// An error with no further elements.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// Adds an element to the error document.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// NoSuchBucket (404).
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        )
        .with("BucketName", bucket)
    }

    /// NoSuchKey (404).
    pub fn no_such_key(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .with("Key", key)
    }

    /// NoSuchUpload (404).
    pub fn no_such_upload(upload_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload \
             may have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    /// AccessDenied (403).
    pub fn access_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
    }

    /// InvalidBucketName (400).
    pub fn invalid_bucket_name(bucket: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        )
        .with("BucketName", bucket)
    }

    /// InvalidArgument (400).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    /// InvalidRequest (400).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    /// MalformedXML (400).
    pub fn malformed_xml() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our \
             published schema",
        )
    }

    /// EntityTooLarge (400).
    pub fn entity_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
        )
        .with("MaxSizeAllowed", limit.to_string())
    }

    /// BadDigest (400): a declared digest or checksum does not match the body.
    pub fn bad_digest(what: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            format!("The {what} you specified did not match the calculated checksum."),
        )
    }

    /// IncompleteBody (400).
    pub fn incomplete_body() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP \
             header.",
        )
    }

    /// InternalError (500), for an I/O failure of the store; the cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "S3 request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// NotImplemented (501).
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!(
                "A header or query you provided implies functionality that is not implemented: {what}"
            ),
        )
    }

    /// The error of an edge rejection.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        let message = rejection.to_string();
        match rejection {
            Rejection::Throttled => Self::new(StatusCode::SERVICE_UNAVAILABLE, "SlowDown", message),
            Rejection::TooLarge { limit } => Self::entity_too_large(*limit as u64),
            Rejection::BodyTimeout { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "RequestTimeout", message)
            }
            Rejection::BodyUnreadable(_) => {
                Self::new(StatusCode::BAD_REQUEST, "IncompleteBody", message)
            }
            Rejection::Unauthenticated(error) => Self::from_auth(error),
            Rejection::NotServed => Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ),
            Rejection::Internal => Self::internal("a request handler panicked"),
        }
    }

    /// The error of a failed verification, as S3 answers it.
    pub fn from_auth(error: &AuthError) -> Self {
        let message = error.to_string();
        match error {
            AuthError::MissingToken => Self::access_denied(),
            AuthError::Incomplete(_) => Self::new(
                StatusCode::BAD_REQUEST,
                "AuthorizationHeaderMalformed",
                message,
            ),
            AuthError::UnrecognizedClient => Self::new(
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ),
            AuthError::InvalidSignature(_) => {
                Self::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", message)
            }
            AuthError::Expired => Self::new(StatusCode::FORBIDDEN, "AccessDenied", message),
        }
    }

    /// The answer: the XML error document (none for `HEAD`), the request id headers
    /// and the [`ErrorCode`] extension.
    pub fn render(&self, request_id: &str, resource: &str, head: bool) -> Response {
        let mut response = if head {
            Response::new(Body::empty())
        } else {
            let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
            xml.push_str(&format!(
                "<Code>{}</Code><Message>{}</Message>",
                self.code,
                escape(&self.message)
            ));
            for (name, value) in &self.extra {
                xml.push_str(&format!("<{name}>{}</{name}>", escape(value)));
            }
            xml.push_str(&format!(
                "<Resource>{}</Resource><RequestId>{}</RequestId><HostId>{}</HostId></Error>",
                escape(resource),
                escape(request_id),
                escape(request_id)
            ));
            let mut response = Response::new(Body::from(xml));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            response
        };
        *response.status_mut() = self.status;
        crate::insert_request_id(&mut response, request_id);
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}
