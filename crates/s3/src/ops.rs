//! The operations: each reads what it needs of the request, acts on the
//! [`Storage`] (on the blocking pool) and answers as S3 does.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use md5::{Digest, Md5};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use weir_auth::VerifiedPrincipal;
use weir_edge::{StreamedBody, VerifiedRequest};

use crate::body::{self, Received, Sink};
use crate::error::{S3Error, S3Result};
use crate::notify::{Notifier, ObjectChange, Requester};
use crate::request::{self, Operation, Query, Target};
use crate::storage::{self, BucketInfo, Committed, ObjectInfo, ObjectMeta, Storage};
use crate::xml::{self, Document};

/// Largest XML request body read (DeleteObjects, CompleteMultipartUpload, …).
const MAX_XML_BYTES: u64 = 8 * 1024 * 1024;
/// Most keys of one DeleteObjects.
const MAX_DELETE_KEYS: usize = 1000;
/// Most entries of one page of a listing.
const MAX_KEYS: usize = 1000;
/// Largest body gathered in memory before it is written (a file is streamed into
/// beyond this).
const SMALL_BODY_BYTES: usize = 1024 * 1024;
/// Size of the pieces an object is streamed in (two in flight per download).
const READ_PIECE: usize = 1024 * 1024;
/// Content type of objects uploaded without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// Content headers stored with an object and answered with it.
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];
/// Characters percent-encoded in `encoding-type=url` answers (all but unreserved and `/`).
const URL_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// One request being served.
struct Call {
    storage: Arc<Storage>,
    notifier: Option<Arc<Notifier>>,
    request_id: String,
    max_object_bytes: u64,
    principal: VerifiedPrincipal,
    parts: Parts,
    query: Query,
    target: Target,
    /// The unread body (in a mutex: a `Call` is shared across awaits, a body is not
    /// `Sync`).
    stream: Mutex<Option<StreamedBody>>,
}

/// Serves one verified S3 request.
pub async fn handle(
    storage: Arc<Storage>,
    notifier: Option<Arc<Notifier>>,
    max_object_bytes: u64,
    request: VerifiedRequest,
) -> Response {
    let VerifiedRequest {
        request_id,
        principal,
        parts,
        stream,
        ..
    } = request;
    let head = parts.method == Method::HEAD;
    let resource = percent_decode_str(parts.uri.path())
        .decode_utf8_lossy()
        .into_owned();
    let result = async {
        let target = request::target(&parts)?;
        let query = Query::of(&parts);
        let operation = request::operation(&parts, &target, &query)?;
        let call = Call {
            storage,
            notifier,
            request_id: request_id.clone(),
            max_object_bytes,
            principal,
            parts,
            query,
            target,
            stream: Mutex::new(stream),
        };
        call.run(operation).await
    }
    .await;
    match result {
        Ok(mut response) => {
            crate::insert_request_id(&mut response, &request_id);
            response
        }
        Err(error) => error.render(&request_id, &resource, head),
    }
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(S3Error::internal)?
}

/// Drops the file a commit replaced on the blocking pool, without waiting for it
/// (freeing its space waits for the file system's journal; the answer need not).
fn release(replaced: Option<OwnedFd>) {
    if let Some(replaced) = replaced {
        drop(tokio::task::spawn_blocking(move || drop(replaced)));
    }
}

/// A received object body: gathered in memory (its declared length was small) or
/// in a temporary file.
enum Landed {
    Memory(Vec<u8>),
    File(PathBuf),
}

fn xml_response(status: StatusCode, document: String) -> Response {
    let mut response = Response::new(Body::from(document));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn set(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        http::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        response.headers_mut().insert(name, value);
    }
}

/// `2026-01-02T03:04:05.000Z`.
pub fn iso8601(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // H. Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The content headers and user metadata of an upload.
fn meta_from(headers: &HeaderMap) -> ObjectMeta {
    let mut meta = ObjectMeta::default();
    for name in STORED_HEADERS {
        let Some(value) = headers.get(name) else {
            continue;
        };
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let value = if name == "content-encoding" {
            value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.eq_ignore_ascii_case("aws-chunked") && !e.is_empty())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            value
        };
        if !value.is_empty() {
            meta.headers.insert(name.to_owned(), value);
        }
    }
    let mut metadata = BTreeMap::new();
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix("x-amz-meta-") {
            metadata.insert(
                key.to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            );
        }
    }
    meta.metadata = metadata;
    meta
}

/// The object headers of a GET or HEAD answer.
fn object_headers(response: &mut Response, info: &ObjectInfo) {
    set(response, "etag", &quoted(&info.meta.etag));
    set(
        response,
        "last-modified",
        &httpdate::fmt_http_date(info.modified),
    );
    set(response, "accept-ranges", "bytes");
    set(
        response,
        "content-type",
        info.meta
            .headers
            .get("content-type")
            .map_or(DEFAULT_CONTENT_TYPE, String::as_str),
    );
    for (name, value) in &info.meta.headers {
        if name != "content-type" {
            set(response, name, value);
        }
    }
    for (name, value) in &info.meta.metadata {
        set(response, &format!("x-amz-meta-{name}"), value);
    }
}

/// The change of an object written by `reason`.
fn created(key: String, object: &ObjectInfo, reason: &'static str) -> ObjectChange {
    ObjectChange::Created {
        key,
        size: object.size,
        etag: object.meta.etag.clone(),
        reason,
    }
}

fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, URL_ENCODED).to_string()
}

impl Call {
    fn bucket_name(&self) -> S3Result<String> {
        self.target
            .bucket
            .clone()
            .ok_or_else(|| S3Error::invalid_request("The request names no bucket."))
    }

    fn key(&self) -> S3Result<String> {
        self.target
            .key
            .clone()
            .ok_or_else(|| S3Error::invalid_request("The request names no key."))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The addressed bucket, which the caller must own (and the expected owner, when
    /// the request names one, must own).
    async fn owned_bucket(&self) -> S3Result<BucketInfo> {
        let bucket = self.bucket_name()?;
        let account = self.principal.account.clone();
        let storage = self.storage.clone();
        let info = blocking(move || storage.owned_bucket(&bucket, &account)).await?;
        if let Some(expected) = self.header("x-amz-expected-bucket-owner")
            && expected != info.owner
        {
            return Err(S3Error::access_denied());
        }
        Ok(info)
    }

    /// Hands `changes` of `bucket` to EventBridge if the bucket sends its events there
    /// (read afresh: the configuration may have changed since the request began).
    async fn notify(&self, bucket: &str, changes: Vec<ObjectChange>) -> S3Result<()> {
        if self.notifier.is_none() || changes.is_empty() {
            return Ok(());
        }
        let storage = self.storage.clone();
        let name = bucket.to_owned();
        let info = blocking(move || storage.bucket(&name)).await?;
        self.emit(info.as_ref(), changes).await
    }

    /// Hands `changes` to EventBridge if `bucket`, as read after the changes were
    /// made, sends its events there.
    async fn emit(&self, bucket: Option<&BucketInfo>, changes: Vec<ObjectChange>) -> S3Result<()> {
        let (Some(notifier), Some(bucket)) = (&self.notifier, bucket) else {
            return Ok(());
        };
        let requester = Requester {
            request_id: &self.request_id,
            account: &self.principal.account,
        };
        notifier.emit(bucket, changes, &requester).await
    }

    /// PutBucketNotificationConfiguration: only an `EventBridgeConfiguration` (or an
    /// empty configuration, which turns events off) is accepted.
    async fn put_notification(&mut self) -> S3Result<Response> {
        let info = self.owned_bucket().await?;
        let body = self.small_body().await?;
        let doc = xml::parse(&body)?;
        if doc.name != "NotificationConfiguration" {
            return Err(S3Error::malformed_xml());
        }
        const OTHER_DESTINATIONS: [&str; 4] = [
            "TopicConfiguration",
            "QueueConfiguration",
            "CloudFunctionConfiguration",
            "LambdaFunctionConfiguration",
        ];
        if OTHER_DESTINATIONS
            .iter()
            .any(|d| doc.all(d).next().is_some())
        {
            return Err(S3Error::invalid_argument(
                "Weir delivers bucket notifications to EventBridge only \
                 (EventBridgeConfiguration); SNS, SQS and Lambda destinations are not served.",
            ));
        }
        let on = doc.all("EventBridgeConfiguration").next().is_some();
        let storage = self.storage.clone();
        blocking(move || storage.set_eventbridge(&info, on)).await?;
        Ok(empty(StatusCode::OK))
    }

    /// Takes the unread body (once).
    fn take_body(&self) -> Option<StreamedBody> {
        self.stream
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Reads a small (XML) body whole.
    async fn small_body(&mut self) -> S3Result<Vec<u8>> {
        let mut sink = Sink::Memory(Vec::new());
        body::receive(
            self.take_body(),
            &self.parts.headers,
            MAX_XML_BYTES,
            &mut sink,
        )
        .await?;
        match sink {
            Sink::Memory(bytes) => Ok(bytes),
            Sink::File(_) => Ok(Vec::new()),
        }
    }

    /// Receives the body into a new temporary file (written, not yet fsynced: the
    /// storage call that keeps it does that).
    async fn body_to_temp(&mut self) -> S3Result<(PathBuf, Received)> {
        let (landed, received) = self.receive_object_body().await?;
        let bytes = match landed {
            Landed::File(path) => return Ok((path, received)),
            Landed::Memory(bytes) => bytes,
        };
        let storage = self.storage.clone();
        let path =
            blocking(move || storage.temp_file_holding(&bytes).map(|(path, _)| path)).await?;
        Ok((path, received))
    }

    /// Receives an object's body: one whose length is declared small is gathered in
    /// memory (to be written in one go), any other is streamed into a new temporary
    /// file (written, not yet fsynced).
    async fn receive_object_body(&mut self) -> S3Result<(Landed, Received)> {
        let storage = self.storage.clone();
        // Without Transfer-Encoding the connection delivers no more than Content-Length
        // (which, encoded, bounds the decoded size too).
        let small = self
            .header("content-length")
            .filter(|_| !self.parts.headers.contains_key(header::TRANSFER_ENCODING))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= SMALL_BODY_BYTES);
        if let Some(length) = small {
            let mut sink = Sink::Memory(Vec::with_capacity(length));
            let received = body::receive(
                self.take_body(),
                &self.parts.headers,
                self.max_object_bytes,
                &mut sink,
            )
            .await?;
            let Sink::Memory(bytes) = sink else {
                return Err(S3Error::internal("a memory sink became a file"));
            };
            return Ok((Landed::Memory(bytes), received));
        }
        let (path, file) = blocking(move || storage.temp_file()).await?;
        let mut sink = Sink::File(tokio::fs::File::from_std(file));
        let received = body::receive(
            self.take_body(),
            &self.parts.headers,
            self.max_object_bytes,
            &mut sink,
        )
        .await;
        drop(sink);
        match received {
            Ok(received) => Ok((Landed::File(path), received)),
            Err(error) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(error)
            }
        }
    }

    async fn run(mut self, operation: Operation) -> S3Result<Response> {
        match operation {
            Operation::ListBuckets => self.list_buckets().await,
            Operation::CreateBucket => self.create_bucket().await,
            Operation::HeadBucket => {
                let info = self.owned_bucket().await?;
                let mut response = empty(StatusCode::OK);
                set(&mut response, "x-amz-bucket-region", &info.region);
                Ok(response)
            }
            Operation::DeleteBucket => {
                let info = self.owned_bucket().await?;
                let storage = self.storage.clone();
                blocking(move || storage.delete_bucket(&info.name)).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Operation::GetBucketLocation => {
                let info = self.owned_bucket().await?;
                let region = if info.region == "us-east-1" {
                    ""
                } else {
                    &info.region
                };
                Ok(xml_response(
                    StatusCode::OK,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint \
                         xmlns=\"{}\">{}</LocationConstraint>",
                        xml::NAMESPACE,
                        xml::escape(region)
                    ),
                ))
            }
            Operation::GetBucketNotificationConfiguration => {
                let info = self.owned_bucket().await?;
                let mut doc = Document::new("NotificationConfiguration");
                if info.eventbridge {
                    doc.open("EventBridgeConfiguration")
                        .close("EventBridgeConfiguration");
                }
                Ok(xml_response(
                    StatusCode::OK,
                    doc.finish("NotificationConfiguration"),
                ))
            }
            Operation::PutBucketNotificationConfiguration => self.put_notification().await,
            Operation::ListObjectsV2 => self.list_objects(true).await,
            Operation::ListObjects => self.list_objects(false).await,
            Operation::ListMultipartUploads => self.list_uploads().await,
            Operation::DeleteObjects => self.delete_objects().await,
            Operation::PutObject => self.put_object().await,
            Operation::CopyObject => self.copy_object().await,
            Operation::GetObject | Operation::HeadObject => self.get_object().await,
            Operation::DeleteObject => {
                let info = self.owned_bucket().await?;
                let key = self.key()?;
                let storage = self.storage.clone();
                let (name, deleted) = (info.name.clone(), key.clone());
                blocking(move || storage.delete(&name, &deleted)).await?;
                let change = ObjectChange::Deleted {
                    key,
                    reason: "DeleteObject",
                };
                self.notify(&info.name, vec![change]).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Operation::CreateMultipartUpload => self.create_upload().await,
            Operation::UploadPart => self.upload_part().await,
            Operation::CompleteMultipartUpload => self.complete_upload().await,
            Operation::AbortMultipartUpload => {
                let upload = self.upload().await?;
                let storage = self.storage.clone();
                blocking(move || storage.abort(&upload)).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Operation::ListParts => self.list_parts().await,
        }
    }

    async fn list_buckets(&self) -> S3Result<Response> {
        let account = self.principal.account.clone();
        let storage = self.storage.clone();
        let buckets = blocking(move || storage.list_buckets(&account)).await?;
        let mut doc = Document::new("ListAllMyBucketsResult");
        doc.open("Owner")
            .element("ID", &self.principal.account)
            .element("DisplayName", &self.principal.account)
            .close("Owner")
            .open("Buckets");
        for bucket in &buckets {
            doc.open("Bucket")
                .element("Name", &bucket.name)
                .element("CreationDate", &iso8601(storage::from_secs(bucket.created)))
                .element("BucketRegion", &bucket.region)
                .close("Bucket");
        }
        doc.close("Buckets");
        Ok(xml_response(
            StatusCode::OK,
            doc.finish("ListAllMyBucketsResult"),
        ))
    }

    async fn create_bucket(&mut self) -> S3Result<Response> {
        let bucket = self.bucket_name()?;
        let body = self.small_body().await?;
        let region = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let doc = xml::parse(&body)?;
            doc.text_of("LocationConstraint")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
        };
        let region = region.unwrap_or_else(|| self.principal.region.clone());
        let account = self.principal.account.clone();
        let storage = self.storage.clone();
        let name = bucket.clone();
        blocking(move || storage.create_bucket(&name, &account, &region)).await?;
        let mut response = empty(StatusCode::OK);
        set(&mut response, "location", &format!("/{bucket}"));
        Ok(response)
    }

    async fn put_object(&mut self) -> S3Result<Response> {
        let info = self.owned_bucket().await?;
        let key = self.key()?;
        storage::check_key(&key)?;
        let (landed, received) = self.receive_object_body().await?;
        let mut meta = meta_from(&self.parts.headers);
        meta.etag = hex::encode(received.md5);
        meta.checksum = received.checksum.clone();
        let storage = self.storage.clone();
        let (name, written) = (info.name.clone(), key.clone());
        let notifying = self.notifier.is_some();
        let (Committed { object, replaced }, now) = blocking(move || {
            let committed = match landed {
                Landed::Memory(bytes) => storage.put(&name, &written, &bytes, meta),
                Landed::File(temp) => storage.commit(&name, &written, &temp, meta),
            }?;
            // The bucket read afresh for its events in the same call (the configuration
            // may have changed since the request began).
            let now = if notifying {
                storage.bucket(&name)?
            } else {
                None
            };
            Ok((committed, now))
        })
        .await?;
        release(replaced);
        self.emit(now.as_ref(), vec![created(key, &object, "PutObject")])
            .await?;
        let mut response = empty(StatusCode::OK);
        set(&mut response, "etag", &quoted(&object.meta.etag));
        if let Some(checksum) = &received.checksum {
            set(
                &mut response,
                &format!("x-amz-checksum-{}", checksum.algorithm),
                &checksum.value,
            );
        }
        Ok(response)
    }

    async fn get_object(&self) -> S3Result<Response> {
        let bucket = self.owned_bucket().await?;
        let key = self.key()?;
        let storage = self.storage.clone();
        let (file, info) = blocking(move || storage.open(&bucket.name, &key)).await?;
        if let Some(status) = self.preconditions(&info)? {
            let mut response = empty(status);
            if status == StatusCode::NOT_MODIFIED {
                set(&mut response, "etag", &quoted(&info.meta.etag));
                set(
                    &mut response,
                    "last-modified",
                    &httpdate::fmt_http_date(info.modified),
                );
            }
            return Ok(response);
        }
        let range = match self.header("range") {
            Some(range) => parse_range(range, info.size)?,
            None => None,
        };
        let (start, length) = range.unwrap_or((0, info.size));
        let mut response = if self.parts.method == Method::HEAD {
            empty(StatusCode::OK)
        } else {
            Response::new(file_body(file, start, length))
        };
        object_headers(&mut response, &info);
        set(&mut response, "content-length", &length.to_string());
        if range.is_some() {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            set(
                &mut response,
                "content-range",
                &format!(
                    "bytes {start}-{}/{}",
                    (start + length).saturating_sub(1),
                    info.size
                ),
            );
        } else if self.header("x-amz-checksum-mode") == Some("ENABLED")
            && let Some(checksum) = &info.meta.checksum
        {
            set(
                &mut response,
                &format!("x-amz-checksum-{}", checksum.algorithm),
                &checksum.value,
            );
        }
        for (parameter, name) in [
            ("response-content-type", "content-type"),
            ("response-content-language", "content-language"),
            ("response-expires", "expires"),
            ("response-cache-control", "cache-control"),
            ("response-content-disposition", "content-disposition"),
            ("response-content-encoding", "content-encoding"),
        ] {
            if let Some(value) = self.query.get(parameter) {
                set(&mut response, name, value);
            }
        }
        Ok(response)
    }

    /// The answer the conditional headers call for instead of the object, if any.
    fn preconditions(&self, info: &ObjectInfo) -> S3Result<Option<StatusCode>> {
        let etag_matches = |list: &str| {
            list.split(',')
                .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
                .any(|t| t == "*" || t == info.meta.etag)
        };
        let modified_secs = info
            .modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let date = |name: &str| {
            self.header(name)
                .and_then(|v| httpdate::parse_http_date(v).ok())
                .map(|t| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
        };
        let failed = || {
            S3Error::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        };
        if let Some(list) = self.header("if-match") {
            if !etag_matches(list) {
                return Err(failed());
            }
        } else if date("if-unmodified-since").is_some_and(|since| modified_secs > since) {
            return Err(failed());
        }
        if let Some(list) = self.header("if-none-match") {
            if etag_matches(list) {
                return Ok(Some(StatusCode::NOT_MODIFIED));
            }
        } else if date("if-modified-since").is_some_and(|since| modified_secs <= since) {
            return Ok(Some(StatusCode::NOT_MODIFIED));
        }
        Ok(None)
    }

    async fn copy_object(&mut self) -> S3Result<Response> {
        let bucket = self.owned_bucket().await?;
        let key = self.key()?;
        storage::check_key(&key)?;
        let source = self.header("x-amz-copy-source").unwrap_or_default();
        let source = source.split_once('?').map_or(source, |(path, _)| path);
        let source = percent_decode_str(source.trim_start_matches('/'))
            .decode_utf8()
            .map_err(|_| S3Error::invalid_argument("Invalid copy source encoding."))?;
        let (source_bucket, source_key) = source.split_once('/').ok_or_else(|| {
            S3Error::invalid_argument(
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.",
            )
        })?;
        let (source_bucket, source_key) = (source_bucket.to_owned(), source_key.to_owned());
        let account = self.principal.account.clone();
        let storage = self.storage.clone();
        let replace = self
            .header("x-amz-metadata-directive")
            .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
        let new_meta = meta_from(&self.parts.headers);
        let (target_bucket, target_key) = (bucket.name.clone(), key.clone());
        let Committed { object, replaced } = blocking(move || {
            storage.owned_bucket(&source_bucket, &account)?;
            let (mut file, info) = storage.open(&source_bucket, &source_key)?;
            let (temp, mut out) = storage.temp_file()?;
            let copied = (|| {
                let mut md5 = Md5::new();
                let mut buffer = vec![0u8; READ_PIECE];
                loop {
                    let n = io::Read::read(&mut file, &mut buffer)?;
                    if n == 0 {
                        break;
                    }
                    let piece = buffer.get(..n).unwrap_or_default();
                    md5.update(piece);
                    io::Write::write_all(&mut out, piece)?;
                }
                Ok::<_, io::Error>(hex::encode(md5.finalize()))
            })();
            let etag = match copied {
                Ok(etag) => etag,
                Err(error) => {
                    let _ = std::fs::remove_file(&temp);
                    return Err(S3Error::internal(error));
                }
            };
            let mut meta = if replace { new_meta } else { info.meta.clone() };
            meta.etag = etag;
            meta.checksum = info.meta.checksum.clone();
            storage.commit(&target_bucket, &target_key, &temp, meta)
        })
        .await?;
        release(replaced);
        self.notify(&bucket.name, vec![created(key, &object, "CopyObject")])
            .await?;
        let mut doc = Document::new("CopyObjectResult");
        doc.element("LastModified", &iso8601(object.modified))
            .element("ETag", &quoted(&object.meta.etag));
        Ok(xml_response(StatusCode::OK, doc.finish("CopyObjectResult")))
    }

    async fn delete_objects(&mut self) -> S3Result<Response> {
        let bucket = self.owned_bucket().await?;
        let body = self.small_body().await?;
        let doc = xml::parse(&body)?;
        if doc.name != "Delete" {
            return Err(S3Error::malformed_xml());
        }
        let quiet = doc.text_of("Quiet").is_some_and(|q| q.trim() == "true");
        let keys: Vec<String> = doc
            .all("Object")
            .map(|o| o.text_of("Key").map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(S3Error::malformed_xml)?;
        if keys.is_empty() || keys.len() > MAX_DELETE_KEYS {
            return Err(S3Error::malformed_xml());
        }
        let storage = self.storage.clone();
        let name = bucket.name.clone();
        let outcomes = blocking(move || {
            Ok(keys
                .into_iter()
                .map(|key| {
                    let outcome = storage.delete(&name, &key);
                    (key, outcome)
                })
                .collect::<Vec<_>>())
        })
        .await?;
        let changes = outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(key, _)| ObjectChange::Deleted {
                key: key.clone(),
                reason: "DeleteObjects",
            })
            .collect();
        self.notify(&bucket.name, changes).await?;
        let mut doc = Document::new("DeleteResult");
        for (key, outcome) in outcomes {
            match outcome {
                Ok(()) if quiet => {}
                Ok(()) => {
                    doc.open("Deleted").element("Key", &key).close("Deleted");
                }
                Err(error) => {
                    doc.open("Error")
                        .element("Key", &key)
                        .element("Code", error.code)
                        .element("Message", &error.message)
                        .close("Error");
                }
            }
        }
        Ok(xml_response(StatusCode::OK, doc.finish("DeleteResult")))
    }

    async fn list_objects(&self, v2: bool) -> S3Result<Response> {
        let bucket = self.owned_bucket().await?;
        let q = &self.query;
        let prefix = q.get("prefix").unwrap_or_default().to_owned();
        let delimiter = q
            .get("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        let max_keys = match q.get("max-keys") {
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| {
                    S3Error::invalid_argument(
                        "Provided max-keys not an integer or within integer range",
                    )
                })?
                .min(MAX_KEYS),
            None => MAX_KEYS,
        };
        let url = q.get("encoding-type") == Some("url");
        let encode = |text: &str| {
            if url {
                url_encode(text)
            } else {
                text.to_owned()
            }
        };
        let marker = if v2 {
            match q.get("continuation-token") {
                Some(token) => Some(
                    hex::decode(token)
                        .ok()
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .ok_or_else(|| {
                            S3Error::invalid_argument(
                                "The continuation token provided is incorrect",
                            )
                        })?,
                ),
                None => q.get("start-after").map(str::to_owned),
            }
        } else {
            q.get("marker").map(str::to_owned)
        }
        .filter(|m| !m.is_empty());
        let storage = self.storage.clone();
        let (name, list_prefix, list_delimiter, list_marker) = (
            bucket.name.clone(),
            prefix.clone(),
            delimiter.clone(),
            marker.clone(),
        );
        let listing = blocking(move || {
            storage.list(
                &name,
                &list_prefix,
                list_delimiter.as_deref(),
                list_marker.as_deref(),
                max_keys,
            )
        })
        .await?;
        let mut doc = Document::new("ListBucketResult");
        doc.element("Name", &bucket.name)
            .element("Prefix", &encode(&prefix));
        if let Some(delimiter) = &delimiter {
            doc.element("Delimiter", &encode(delimiter));
        }
        doc.element("MaxKeys", &max_keys.to_string());
        if url {
            doc.element("EncodingType", "url");
        }
        doc.element(
            "IsTruncated",
            if listing.truncated { "true" } else { "false" },
        );
        if v2 {
            if let Some(token) = q.get("continuation-token") {
                doc.element("ContinuationToken", token);
            }
            if let Some(start_after) = q.get("start-after") {
                doc.element("StartAfter", &encode(start_after));
            }
            doc.element(
                "KeyCount",
                &(listing.objects.len() + listing.prefixes.len()).to_string(),
            );
            if listing.truncated
                && let Some(last) = &listing.last
            {
                doc.element("NextContinuationToken", &hex::encode(last.as_bytes()));
            }
        } else {
            doc.element("Marker", &encode(marker.as_deref().unwrap_or("")));
            if listing.truncated
                && delimiter.is_some()
                && let Some(last) = &listing.last
            {
                doc.element("NextMarker", &encode(last));
            }
        }
        for object in &listing.objects {
            doc.open("Contents")
                .element("Key", &encode(&object.meta.key))
                .element("LastModified", &iso8601(object.modified))
                .element("ETag", &quoted(&object.meta.etag))
                .element("Size", &object.size.to_string())
                .element("StorageClass", "STANDARD");
            if !v2 || q.get("fetch-owner") == Some("true") {
                doc.open("Owner")
                    .element("ID", &bucket.owner)
                    .element("DisplayName", &bucket.owner)
                    .close("Owner");
            }
            doc.close("Contents");
        }
        for common in &listing.prefixes {
            doc.open("CommonPrefixes")
                .element("Prefix", &encode(common))
                .close("CommonPrefixes");
        }
        Ok(xml_response(StatusCode::OK, doc.finish("ListBucketResult")))
    }

    // ---- multipart uploads -----------------------------------------------------------

    async fn create_upload(&self) -> S3Result<Response> {
        let bucket = self.owned_bucket().await?;
        let key = self.key()?;
        let meta = meta_from(&self.parts.headers);
        let storage = self.storage.clone();
        let (name, object_key) = (bucket.name.clone(), key.clone());
        let upload = blocking(move || storage.create_upload(&name, &object_key, meta)).await?;
        let mut doc = Document::new("InitiateMultipartUploadResult");
        doc.element("Bucket", &bucket.name)
            .element("Key", &key)
            .element("UploadId", &upload.id);
        Ok(xml_response(
            StatusCode::OK,
            doc.finish("InitiateMultipartUploadResult"),
        ))
    }

    /// The upload the request's `uploadId` names, in its (owned) bucket.
    async fn upload(&self) -> S3Result<storage::Upload> {
        let bucket = self.owned_bucket().await?;
        let key = self.key()?;
        let id = self.query.get("uploadId").unwrap_or_default().to_owned();
        let storage = self.storage.clone();
        blocking(move || storage.upload(&bucket.name, &key, &id)).await
    }

    async fn upload_part(&mut self) -> S3Result<Response> {
        let number = self
            .query
            .get("partNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=storage::MAX_PARTS).contains(n))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
            })?;
        let upload = self.upload().await?;
        let (temp, received) = self.body_to_temp().await?;
        let storage = self.storage.clone();
        let md5 = received.md5;
        let part = blocking(move || storage.put_part(&upload, number, &temp, md5)).await?;
        let mut response = empty(StatusCode::OK);
        set(&mut response, "etag", &quoted(&part.etag));
        if let Some(checksum) = &received.checksum {
            set(
                &mut response,
                &format!("x-amz-checksum-{}", checksum.algorithm),
                &checksum.value,
            );
        }
        Ok(response)
    }

    async fn complete_upload(&mut self) -> S3Result<Response> {
        let upload = self.upload().await?;
        let body = self.small_body().await?;
        let doc = xml::parse(&body)?;
        if doc.name != "CompleteMultipartUpload" {
            return Err(S3Error::malformed_xml());
        }
        let chosen: Vec<(u32, String)> = doc
            .all("Part")
            .map(|part| {
                let number = part.text_of("PartNumber")?.trim().parse().ok()?;
                let etag = part.text_of("ETag")?.trim().to_owned();
                Some((number, etag))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(S3Error::malformed_xml)?;
        let storage = self.storage.clone();
        let (bucket, key) = (upload.bucket.clone(), upload.key.clone());
        let Committed { object, replaced } =
            blocking(move || storage.complete(&upload, &chosen)).await?;
        release(replaced);
        self.notify(
            &bucket,
            vec![created(key.clone(), &object, "CompleteMultipartUpload")],
        )
        .await?;
        let host = self.header("host").unwrap_or("localhost").to_owned();
        let mut doc = Document::new("CompleteMultipartUploadResult");
        doc.element(
            "Location",
            &format!("http://{host}/{bucket}/{}", url_encode(&key)),
        )
        .element("Bucket", &bucket)
        .element("Key", &key)
        .element("ETag", &quoted(&object.meta.etag));
        Ok(xml_response(
            StatusCode::OK,
            doc.finish("CompleteMultipartUploadResult"),
        ))
    }

    async fn list_parts(&self) -> S3Result<Response> {
        let upload = self.upload().await?;
        let marker: u32 = self
            .query
            .get("part-number-marker")
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let max: usize = self
            .query
            .get("max-parts")
            .and_then(|m| m.parse().ok())
            .unwrap_or(MAX_KEYS)
            .min(MAX_KEYS);
        let storage = self.storage.clone();
        let record = upload.clone();
        let parts = blocking(move || storage.parts(&record)).await?;
        let after: Vec<_> = parts.into_iter().filter(|p| p.number > marker).collect();
        let truncated = after.len() > max;
        let page = after.get(..max.min(after.len())).unwrap_or_default();
        let mut doc = Document::new("ListPartsResult");
        doc.element("Bucket", &upload.bucket)
            .element("Key", &upload.key)
            .element("UploadId", &upload.id)
            .element("PartNumberMarker", &marker.to_string())
            .element(
                "NextPartNumberMarker",
                &page.last().map_or(marker, |p| p.number).to_string(),
            )
            .element("MaxParts", &max.to_string())
            .element("IsTruncated", if truncated { "true" } else { "false" })
            .element("StorageClass", "STANDARD");
        for part in page {
            doc.open("Part")
                .element("PartNumber", &part.number.to_string())
                .element("LastModified", &iso8601(storage::from_secs(part.modified)))
                .element("ETag", &quoted(&part.etag))
                .element("Size", &part.size.to_string())
                .close("Part");
        }
        Ok(xml_response(StatusCode::OK, doc.finish("ListPartsResult")))
    }

    async fn list_uploads(&self) -> S3Result<Response> {
        let bucket = self.owned_bucket().await?;
        let prefix = self.query.get("prefix").unwrap_or_default().to_owned();
        let storage = self.storage.clone();
        let name = bucket.name.clone();
        let uploads = blocking(move || storage.uploads(&name)).await?;
        let mut doc = Document::new("ListMultipartUploadsResult");
        doc.element("Bucket", &bucket.name)
            .element("KeyMarker", "")
            .element("UploadIdMarker", "")
            .element("Prefix", &prefix)
            .element("MaxUploads", &MAX_KEYS.to_string())
            .element("IsTruncated", "false");
        for upload in uploads
            .iter()
            .filter(|u| u.key.starts_with(&prefix))
            .take(MAX_KEYS)
        {
            doc.open("Upload")
                .element("Key", &upload.key)
                .element("UploadId", &upload.id)
                .element("Initiated", &iso8601(storage::from_secs(upload.initiated)))
                .element("StorageClass", "STANDARD")
                .close("Upload");
        }
        Ok(xml_response(
            StatusCode::OK,
            doc.finish("ListMultipartUploadsResult"),
        ))
    }
}

/// The (start, length) a `Range: bytes=…` header asks of an object of `size` bytes;
/// `None` for a header S3 ignores (not a single byte range); InvalidRange when
/// nothing of the object is in it.
fn parse_range(header: &str, size: u64) -> S3Result<Option<(u64, u64)>> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let invalid = || {
        let mut error = S3Error::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        );
        error.extra.push(("RangeRequested", header.to_owned()));
        error.extra.push(("ActualObjectSize", size.to_string()));
        error
    };
    let range = if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 || size == 0 {
            return Err(invalid());
        }
        let length = suffix.min(size);
        (size - length, length)
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return Ok(None);
        };
        if start >= size {
            return Err(invalid());
        }
        let end = if last.is_empty() {
            size - 1
        } else {
            match last.parse::<u64>() {
                Ok(end) if end >= start => end.min(size - 1),
                _ => return Ok(None),
            }
        };
        (start, end - start + 1)
    };
    Ok(Some(range))
}

/// A body streaming `length` bytes of `file` from `start`: pieces read on the blocking
/// pool into buffers handed to the connection as they are (no copy, no zeroing), the
/// next piece read while the current one is sent.
fn file_body(file: std::fs::File, start: u64, length: u64) -> Body {
    // Advice only: a file system that ignores it serves the object the same.
    let _ = rustix::fs::fadvise(
        &file,
        start,
        std::num::NonZeroU64::new(length),
        rustix::fs::Advice::Sequential,
    );
    let file = Arc::new(file);
    let read = move |offset: u64, left: u64| {
        let file = file.clone();
        let want = usize::try_from(left).unwrap_or(READ_PIECE).min(READ_PIECE);
        tokio::task::spawn_blocking(move || read_piece(&file, offset, want))
    };
    let first = (length > 0).then(|| read(start, length));
    let stream = futures_util::stream::unfold(
        (start, length, first, read),
        |(offset, left, pending, read)| async move {
            let piece = match pending?.await {
                Ok(Ok(piece)) => piece,
                Ok(Err(error)) => return Some((Err(error), (offset, 0, None, read))),
                Err(error) => return Some((Err(io::Error::other(error)), (offset, 0, None, read))),
            };
            let (offset, left) = (offset + piece.len() as u64, left - piece.len() as u64);
            let next = (left > 0).then(|| read(offset, left));
            Some((Ok(piece), (offset, left, next, read)))
        },
    );
    Body::from_stream(stream)
}

/// Reads `want` bytes of `file` at `offset` (an error if the file is shorter now).
fn read_piece(file: &std::fs::File, offset: u64, want: usize) -> io::Result<Bytes> {
    use std::io::{Read, Seek};
    let mut reader = file;
    reader.seek(io::SeekFrom::Start(offset))?;
    let mut buffer = Vec::with_capacity(want);
    reader.take(want as u64).read_to_end(&mut buffer)?;
    if buffer.len() < want {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the object's file became shorter while it was read",
        ));
    }
    Ok(Bytes::from(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_s3_reads_them() {
        assert_eq!(parse_range("bytes=0-9", 100).ok().flatten(), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100).ok().flatten(), Some((90, 10)));
        assert_eq!(parse_range("bytes=-5", 100).ok().flatten(), Some((95, 5)));
        assert_eq!(
            parse_range("bytes=95-200", 100).ok().flatten(),
            Some((95, 5))
        );
        assert!(parse_range("bytes=100-", 100).is_err());
        assert_eq!(parse_range("bytes=0-1,3-4", 100).ok().flatten(), None);
        assert_eq!(parse_range("items=0-1", 100).ok().flatten(), None);
    }

    #[test]
    fn times_in_iso8601() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_767_323_045_123);
        assert_eq!(iso8601(t), "2026-01-02T03:04:05.123Z");
    }
}
