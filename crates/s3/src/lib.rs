//! Weir's S3-compatible API: the S3 service of the edge, over the local directory
//! tree that stands in for S3 (`s3://bucket/key` is `<s3-dir>/bucket/key`, the
//! files crawlers crawl and job scripts read).
//!
//! - [`request`]: what a request addresses (path-style or `bucket.localhost`) and
//!   which operation it is;
//! - [`body`]: receiving streamed bodies (`aws-chunked`, chunk signatures, checksums);
//! - [`storage`]: buckets, objects and multipart uploads as files, durably, with
//!   ownership and metadata beside the tree (its invariants are documented there);
//! - [`dirsync`]: directory fsyncs shared by the writes renaming at the same time;
//! - [`ops`]: the operations, answering REST-XML;
//! - [`error`]: S3's errors;
//! - [`notify`]: object events to EventBridge, for buckets configured to send them.
//!
//! Requests are verified once, by the edge (SigV4 with S3's rules: literal paths,
//! presigned URLs, streamed payloads); this crate applies the payload checks the
//! signature asks for while it reads the body.
//!
//! May depend on: `weir-edge`, `weir-auth`, and for object events `weir-resources`
//! (the event sink and the store bridge), `weir-store` (scopes) and `weir-clock`. Must
//! not: know Glue or EventBridge (events leave through the sink the binary hands over).

#![warn(missing_docs)]

pub mod body;
pub mod dirsync;
pub mod error;
pub mod notify;
pub mod ops;
pub mod request;
pub mod storage;
pub mod xml;

use std::path::PathBuf;
use std::sync::Arc;

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::request::Parts;
use http::{HeaderValue, Method};
use weir_auth::SigningRules;
use weir_edge::{BodyMode, Rejection, Service, VerifiedRequest};

use crate::error::S3Error;
use crate::notify::Notifier;
use crate::request::Query;
use crate::storage::Storage;

/// The signing name of S3.
pub const SIGNING_NAME: &str = "s3";
/// Default largest object accepted by one PutObject or UploadPart: 5 GiB, as S3.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// How the S3 service is set up.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// The directory standing in for S3 (`--s3-dir`).
    pub root: PathBuf,
    /// The account owning bucket directories not created through S3.
    pub default_account: String,
    /// The region of those buckets.
    pub default_region: String,
    /// Largest body of one PutObject or UploadPart.
    pub max_object_bytes: u64,
}

/// The S3 service.
pub struct S3Service {
    storage: Arc<Storage>,
    notifier: Option<Arc<Notifier>>,
    max_object_bytes: u64,
}

impl S3Service {
    /// The service over `settings.root`.
    pub fn new(settings: S3Settings) -> Self {
        Self {
            storage: Arc::new(Storage::new(
                settings.root,
                &settings.default_account,
                &settings.default_region,
            )),
            notifier: None,
            max_object_bytes: settings.max_object_bytes,
        }
    }

    /// Sends the object events of buckets configured for EventBridge through
    /// `notifier`.
    pub fn with_events(self, notifier: Notifier) -> Self {
        Self {
            notifier: Some(Arc::new(notifier)),
            ..self
        }
    }
}

impl Service for S3Service {
    fn signing_name(&self) -> &'static str {
        SIGNING_NAME
    }

    fn serves(&self, parts: &Parts) -> bool {
        matches!(
            parts.method,
            Method::GET | Method::PUT | Method::HEAD | Method::DELETE | Method::POST
        )
    }

    fn operation(&self, parts: &Parts) -> &'static str {
        request::target(parts)
            .and_then(|target| request::operation(parts, &target, &Query::of(parts)))
            .map_or("unknown", request::Operation::label)
    }

    fn body_mode(&self, _parts: &Parts) -> BodyMode {
        BodyMode::Streamed {
            rules: SigningRules {
                literal_path: true,
                presigned_urls: true,
            },
        }
    }

    fn call(&self, request: VerifiedRequest) -> BoxFuture<'_, Response> {
        Box::pin(ops::handle(
            self.storage.clone(),
            self.notifier.clone(),
            self.max_object_bytes,
            request,
        ))
    }

    fn reject(&self, request_id: &str, rejection: &Rejection) -> Response {
        S3Error::from_rejection(rejection).render(request_id, "", false)
    }
}

/// Sets the request id headers S3 answers with.
pub(crate) fn insert_request_id(response: &mut Response, request_id: &str) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response
            .headers_mut()
            .insert("x-amz-request-id", value.clone());
        response.headers_mut().insert("x-amz-id-2", value);
    }
}
