//! What a request addresses: the bucket and key (path-style `/bucket/key`, or
//! virtual-hosted `bucket.localhost/key`), its query parameters, and the operation.

use std::borrow::Cow;

use http::Method;
use http::request::Parts;
use percent_encoding::percent_decode_str;

use crate::error::{S3Error, S3Result};

/// Host suffix under which the first labels name a bucket (`bucket.localhost`).
pub const VIRTUAL_HOST_SUFFIX: &str = ".localhost";

/// The bucket and key a request addresses, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The bucket, if any (none: the service, ListBuckets).
    pub bucket: Option<String>,
    /// The key, if any (none or empty: the bucket itself).
    pub key: Option<String>,
}

/// The decoded query parameters of a request.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses the query string of `parts`.
    pub fn of(parts: &Parts) -> Self {
        Self(
            parts
                .uri
                .query()
                .map(|q| {
                    form_urlencoded::parse(q.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// Whether parameter `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The host a request was sent to, without its port.
fn host(parts: &Parts) -> Option<&str> {
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.host())?;
    // `[::1]:5599`, `127.0.0.1:5599`, `bucket.localhost:5599`.
    if host.starts_with('[') {
        return Some(host);
    }
    Some(host.rsplit_once(':').map_or(host, |(name, _)| name))
}

/// The bucket named by a virtual-hosted style host (`bucket.localhost`,
/// `bucket.s3.localhost`).
fn virtual_bucket(parts: &Parts) -> Option<String> {
    let host = host(parts)?.to_ascii_lowercase();
    let labels = host.strip_suffix(VIRTUAL_HOST_SUFFIX)?;
    let labels = labels.strip_suffix(".s3").unwrap_or(labels);
    (!labels.is_empty() && labels != "s3").then(|| labels.to_owned())
}

/// Percent-decodes a path piece into UTF-8.
fn decode(text: &str) -> S3Result<String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| {
            S3Error::new(
                http::StatusCode::BAD_REQUEST,
                "InvalidURI",
                "Couldn't parse the specified URI.",
            )
        })
}

/// The bucket and key `parts` addresses.
pub fn target(parts: &Parts) -> S3Result<Target> {
    let path = parts.uri.path();
    let path = path.strip_prefix('/').unwrap_or(path);
    if let Some(bucket) = virtual_bucket(parts) {
        let key = (!path.is_empty()).then(|| decode(path)).transpose()?;
        return Ok(Target {
            bucket: Some(bucket),
            key,
        });
    }
    if path.is_empty() {
        return Ok(Target {
            bucket: None,
            key: None,
        });
    }
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) => (bucket, (!key.is_empty()).then_some(key)),
        None => (path, None),
    };
    Ok(Target {
        bucket: Some(decode(bucket)?),
        key: key.map(decode).transpose()?,
    })
}

/// The operations served, with their metrics labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `GET /`.
    ListBuckets,
    /// `PUT /bucket`.
    CreateBucket,
    /// `HEAD /bucket`.
    HeadBucket,
    /// `DELETE /bucket`.
    DeleteBucket,
    /// `GET /bucket?location`.
    GetBucketLocation,
    /// `GET /bucket?notification`.
    GetBucketNotificationConfiguration,
    /// `PUT /bucket?notification`.
    PutBucketNotificationConfiguration,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `GET /bucket`.
    ListObjects,
    /// `GET /bucket?uploads`.
    ListMultipartUploads,
    /// `POST /bucket?delete`.
    DeleteObjects,
    /// `PUT /bucket/key`.
    PutObject,
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject,
    /// `GET /bucket/key`.
    GetObject,
    /// `HEAD /bucket/key`.
    HeadObject,
    /// `DELETE /bucket/key`.
    DeleteObject,
    /// `POST /bucket/key?uploads`.
    CreateMultipartUpload,
    /// `PUT /bucket/key?partNumber=N&uploadId=U`.
    UploadPart,
    /// `POST /bucket/key?uploadId=U`.
    CompleteMultipartUpload,
    /// `DELETE /bucket/key?uploadId=U`.
    AbortMultipartUpload,
    /// `GET /bucket/key?uploadId=U`.
    ListParts,
}

impl Operation {
    /// The operation's name, its metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Operation::ListBuckets => "ListBuckets",
            Operation::CreateBucket => "CreateBucket",
            Operation::HeadBucket => "HeadBucket",
            Operation::DeleteBucket => "DeleteBucket",
            Operation::GetBucketLocation => "GetBucketLocation",
            Operation::GetBucketNotificationConfiguration => "GetBucketNotificationConfiguration",
            Operation::PutBucketNotificationConfiguration => "PutBucketNotificationConfiguration",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::ListObjects => "ListObjects",
            Operation::ListMultipartUploads => "ListMultipartUploads",
            Operation::DeleteObjects => "DeleteObjects",
            Operation::PutObject => "PutObject",
            Operation::CopyObject => "CopyObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::DeleteObject => "DeleteObject",
            Operation::CreateMultipartUpload => "CreateMultipartUpload",
            Operation::UploadPart => "UploadPart",
            Operation::CompleteMultipartUpload => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload => "AbortMultipartUpload",
            Operation::ListParts => "ListParts",
        }
    }
}

/// Bucket sub-resources S3 has and Weir does not serve (answered NotImplemented).
const UNSERVED_SUBRESOURCES: [&str; 21] = [
    "acl",
    "accelerate",
    "analytics",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "logging",
    "metrics",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "tagging",
    "versioning",
    "versions",
    "website",
];

/// The operation a request names, or why none.
pub fn operation(parts: &Parts, target: &Target, query: &Query) -> S3Result<Operation> {
    let method = &parts.method;
    let not_allowed = || {
        S3Error::new(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
    };
    if let Some(unserved) = UNSERVED_SUBRESOURCES.iter().find(|s| query.has(s)) {
        return Err(S3Error::not_implemented(unserved));
    }
    let op = match (&target.bucket, &target.key) {
        (None, _) => match *method {
            Method::GET => Operation::ListBuckets,
            _ => return Err(not_allowed()),
        },
        (Some(_), None) => match *method {
            Method::GET if query.has("notification") => {
                Operation::GetBucketNotificationConfiguration
            }
            Method::PUT if query.has("notification") => {
                Operation::PutBucketNotificationConfiguration
            }
            Method::PUT => Operation::CreateBucket,
            Method::HEAD => Operation::HeadBucket,
            Method::DELETE => Operation::DeleteBucket,
            Method::GET if query.has("location") => Operation::GetBucketLocation,
            Method::GET if query.has("uploads") => Operation::ListMultipartUploads,
            Method::GET if query.get("list-type") == Some("2") => Operation::ListObjectsV2,
            Method::GET => Operation::ListObjects,
            Method::POST if query.has("delete") => Operation::DeleteObjects,
            _ => return Err(not_allowed()),
        },
        (Some(_), Some(_)) => match *method {
            Method::PUT if query.has("partNumber") && query.has("uploadId") => {
                if parts.headers.contains_key("x-amz-copy-source") {
                    return Err(S3Error::not_implemented("UploadPartCopy"));
                }
                Operation::UploadPart
            }
            Method::PUT if parts.headers.contains_key("x-amz-copy-source") => Operation::CopyObject,
            Method::PUT => Operation::PutObject,
            Method::GET if query.has("uploadId") => Operation::ListParts,
            Method::GET => Operation::GetObject,
            Method::HEAD => Operation::HeadObject,
            Method::DELETE if query.has("uploadId") => Operation::AbortMultipartUpload,
            Method::DELETE => Operation::DeleteObject,
            Method::POST if query.has("uploads") => Operation::CreateMultipartUpload,
            Method::POST if query.has("uploadId") => Operation::CompleteMultipartUpload,
            _ => return Err(not_allowed()),
        },
    };
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> Parts {
        let (parts, ()) = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .body(())
            .expect("request")
            .into_parts();
        parts
    }

    #[test]
    fn path_and_virtual_hosted_addressing() {
        let t = |m: &str, uri: &str, host: &str| target(&parts(m, uri, host)).expect("target");
        let path = t("GET", "/b/a%20b/c%2Bd+e%E2%82%AC", "127.0.0.1:5599");
        assert_eq!(path.bucket.as_deref(), Some("b"));
        assert_eq!(path.key.as_deref(), Some("a b/c+d+e€"));
        let root = t("GET", "/", "127.0.0.1:5599");
        assert_eq!((root.bucket, root.key), (None, None));
        let bucket = t("GET", "/b/", "localhost:5599");
        assert_eq!((bucket.bucket.as_deref(), bucket.key), (Some("b"), None));
        let virtual_hosted = t("GET", "/k/1", "my.bucket.localhost:5599");
        assert_eq!(virtual_hosted.bucket.as_deref(), Some("my.bucket"));
        assert_eq!(virtual_hosted.key.as_deref(), Some("k/1"));
        let s3_style = t("HEAD", "/", "b.s3.localhost");
        assert_eq!(
            (s3_style.bucket.as_deref(), s3_style.key),
            (Some("b"), None)
        );
        assert!(target(&parts("GET", "/b/%FF", "h")).is_err());
    }

    #[test]
    fn operations_by_method_and_query() {
        let op = |m: &str, uri: &str| {
            let p = parts(m, uri, "127.0.0.1");
            let t = target(&p).expect("target");
            operation(&p, &t, &Query::of(&p)).map(Operation::label)
        };
        assert_eq!(op("GET", "/").ok(), Some("ListBuckets"));
        assert_eq!(
            op("GET", "/b?list-type=2&prefix=x").ok(),
            Some("ListObjectsV2")
        );
        assert_eq!(op("GET", "/b?location").ok(), Some("GetBucketLocation"));
        assert_eq!(op("POST", "/b?delete").ok(), Some("DeleteObjects"));
        assert_eq!(
            op("PUT", "/b/k?partNumber=1&uploadId=u").ok(),
            Some("UploadPart")
        );
        assert_eq!(
            op("POST", "/b/k?uploads").ok(),
            Some("CreateMultipartUpload")
        );
        assert_eq!(
            op("DELETE", "/b/k?uploadId=u").ok(),
            Some("AbortMultipartUpload")
        );
        assert!(op("GET", "/b?versioning").is_err());
        assert!(op("POST", "/").is_err());
    }
}
