//! SigV4-signed Glue requests and a minimal keep-alive HTTP/1.1 client.
//!
//! Every request the suite sends is signed the way botocore and aws-sdk-rust sign it
//! (spec §1.6): `AWS4-HMAC-SHA256` over `content-type;host;x-amz-date;x-amz-target`
//! and the SHA-256 of the exact body, with the credential scope
//! `<date>/us-east-1/glue/aws4_request`. A [`Signed`] request is complete and
//! self-contained, so a pool of them may be signed once (one `X-Amz-Date`) and sent many
//! times within the server's clock-skew window.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// Access key id the suite signs with (the server's configured test credentials).
pub const ACCESS_KEY: &str = "test";
/// Secret key the suite signs with.
pub const SECRET_KEY: &str = "test";
/// Signing region.
pub const REGION: &str = "us-east-1";
/// awsJson1_1 content type.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Bound on one control-plane call (setup, polling); the load generator has its own.
const CALL_DEADLINE: Duration = Duration::from_secs(120);
/// A kept-alive connection idle longer than this is not reused: Weir closes idle
/// connections after 60 s, and a request sent as the server closes is lost.
const REUSE_WITHIN: Duration = Duration::from_secs(30);

/// Signs requests of one awsJson service (Glue unless told otherwise) for one server
/// address.
#[derive(Clone)]
pub struct Signer {
    /// The static test credentials.
    identity: Identity,
    /// `X-Amz-Target` prefix of the service (`AWSGlue.`).
    target_prefix: &'static str,
    /// Signing name of the service (`glue`).
    signing_name: &'static str,
    /// `host` header value (`ip:port`).
    host: String,
    /// `http://ip:port/`, the URI that is signed.
    uri: String,
}

/// A complete, signed request: headers (including `Authorization` and `X-Amz-Date`)
/// and body. Cheap to turn into an [`http::Request`] again and again.
#[derive(Clone)]
pub struct Signed {
    /// The method (`POST` for awsJson services).
    method: Method,
    /// The path and query (`/` for awsJson services).
    uri: http::Uri,
    /// Every header to send, signature included.
    headers: HeaderMap,
    /// The exact body that was hashed (or sent unsigned).
    body: Bytes,
}

impl Signed {
    /// A fresh `http::Request` carrying this signed request.
    pub fn to_request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// Signs path-style S3 requests for one server address, with `UNSIGNED-PAYLOAD` (as the
/// SDKs do over TLS-less endpoints for large bodies), so a pool can reuse one body.
#[derive(Clone)]
pub struct S3Signer {
    identity: Identity,
    host: String,
}

impl S3Signer {
    /// A signer for S3 requests to `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            identity: Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "weir-bench").into(),
            host: addr.to_string(),
        }
    }

    /// Signs `method path` (path-style: `/bucket/key`) carrying `body`, now.
    pub fn sign(&self, method: Method, path: &str, body: Bytes) -> Result<Signed> {
        const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
        let uri = format!("http://{}{path}", self.host);
        let length = body.len().to_string();
        let unsigned = [
            ("host", self.host.as_str()),
            ("x-amz-content-sha256", UNSIGNED),
            ("content-length", length.as_str()),
        ];
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::NoHeader;
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode =
            aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .context("signing parameters")?
            .into();
        let signable = SignableRequest::new(
            method.as_str(),
            &uri,
            unsigned.iter().copied(),
            SignableBody::UnsignedPayload,
        )
        .context("signable request")?;
        let (instructions, _signature) = sign(signable, &params)
            .context("SigV4 signing")?
            .into_parts();
        let mut headers = HeaderMap::with_capacity(6);
        for (name, value) in unsigned.iter().copied().chain(instructions.headers()) {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
        Ok(Signed {
            method,
            uri: path.parse().context("request path")?,
            headers,
            body,
        })
    }
}

impl Signer {
    /// A signer for Glue requests to `addr` (the `host` header is `ip:port`).
    pub fn new(addr: SocketAddr) -> Self {
        Self::for_service(addr, "AWSGlue.", "glue")
    }

    /// A signer for EventBridge requests to `addr`.
    pub fn events(addr: SocketAddr) -> Self {
        Self::for_service(addr, "AWSEvents.", "events")
    }

    /// A signer for CloudWatch Logs at `addr`.
    pub fn logs(addr: SocketAddr) -> Self {
        Self::for_service(addr, "Logs_20140328.", "logs")
    }

    fn for_service(
        addr: SocketAddr,
        target_prefix: &'static str,
        signing_name: &'static str,
    ) -> Self {
        let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "weir-bench").into();
        let host = addr.to_string();
        Self {
            identity,
            target_prefix,
            signing_name,
            uri: format!("http://{host}/"),
            host,
        }
    }

    /// Signs `<prefix><operation>` (`AWSGlue.GetWorkflow`) with `body` at `time`.
    pub fn sign(&self, operation: &str, body: Vec<u8>, time: SystemTime) -> Result<Signed> {
        let target = format!("{}{operation}", self.target_prefix);
        let unsigned = [
            ("host", self.host.as_str()),
            ("content-type", JSON_CONTENT_TYPE),
            ("x-amz-target", target.as_str()),
        ];
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name(self.signing_name)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .context("signing parameters")?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &self.uri,
            unsigned.iter().copied(),
            SignableBody::Bytes(&body),
        )
        .context("signable request")?;
        let (instructions, _signature) = sign(signable, &params)
            .context("SigV4 signing")?
            .into_parts();
        let mut headers = HeaderMap::with_capacity(6);
        for (name, value) in unsigned.iter().copied().chain(instructions.headers()) {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
        Ok(Signed {
            method: Method::POST,
            uri: http::Uri::from_static("/"),
            headers,
            body: Bytes::from(body),
        })
    }

    /// Signs `operation` with a JSON body, now.
    pub fn sign_json(&self, operation: &str, body: &Value) -> Result<Signed> {
        self.sign(operation, serde_json::to_vec(body)?, SystemTime::now())
    }
}

/// Opens one keep-alive HTTP/1.1 connection to `addr` and returns its request sender;
/// the connection is driven by its own task until either side closes it.
pub async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP/1.1 handshake")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// An answer of the Glue API: status, body and how long the exchange took.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Raw body.
    pub body: Bytes,
    /// Time from sending the request to the last body byte.
    pub latency: Duration,
}

impl Answer {
    /// The error code (`__type`) of a failed call.
    pub fn json_type(&self) -> Option<String> {
        let value: Value = serde_json::from_slice(&self.body).ok()?;
        let raw = value["__type"].as_str()?;
        Some(raw.rsplit('#').next().unwrap_or(raw).to_string())
    }

    /// The body as JSON, or an error naming the `__type` when the call failed.
    pub fn json(&self) -> Result<Value> {
        let value: Value = serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "HTTP {}: body is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })?;
        if !self.status.is_success() {
            bail!(
                "HTTP {}: {} {}",
                self.status,
                value["__type"].as_str().unwrap_or("?"),
                value["Message"]
                    .as_str()
                    .or(value["message"].as_str())
                    .unwrap_or("")
            );
        }
        Ok(value)
    }
}

/// A control-plane client on one keep-alive connection: signs each call when it is
/// made (as an SDK does) and reconnects when the server closed the connection or it sat
/// idle for [`REUSE_WITHIN`].
pub struct Conn {
    /// Server address.
    addr: SocketAddr,
    /// Signs each call.
    signer: Signer,
    /// The open connection, if any, and when it last answered.
    sender: Option<(SendRequest<Full<Bytes>>, Instant)>,
}

impl Conn {
    /// A Glue client for `addr`; the connection is opened on first use.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            signer: Signer::new(addr),
            sender: None,
        }
    }

    /// An EventBridge client for `addr`.
    pub fn events(addr: SocketAddr) -> Self {
        Self {
            addr,
            signer: Signer::events(addr),
            sender: None,
        }
    }

    /// A CloudWatch Logs client for `addr`.
    pub fn logs(addr: SocketAddr) -> Self {
        Self {
            addr,
            signer: Signer::logs(addr),
            sender: None,
        }
    }

    /// Calls `operation` with `body` and returns the JSON answer; a non-2xx answer is an
    /// error naming the exception.
    pub async fn call(&mut self, operation: &str, body: Value) -> Result<Value> {
        self.call_raw(operation, &body)
            .await?
            .json()
            .with_context(|| format!("{operation} {body}"))
    }

    /// Calls `operation` and returns the raw answer with its latency.
    pub async fn call_raw(&mut self, operation: &str, body: &Value) -> Result<Answer> {
        let signed = self.signer.sign_json(operation, body)?;
        tokio::time::timeout(CALL_DEADLINE, self.send(&signed))
            .await
            .map_err(|_| anyhow!("{operation}: no answer within {CALL_DEADLINE:?}"))?
    }

    /// Sends a signed request, reconnecting if the kept-alive connection is gone or sat
    /// idle too long.
    pub async fn send(&mut self, signed: &Signed) -> Result<Answer> {
        let recent = self
            .sender
            .take()
            .filter(|(_, answered)| answered.elapsed() < REUSE_WITHIN);
        let mut sender = match recent {
            Some((mut sender, _)) => match sender.ready().await {
                Ok(()) => sender,
                Err(_) => connect(self.addr).await?,
            },
            None => connect(self.addr).await?,
        };
        let started = Instant::now();
        let response = sender.send_request(signed.to_request()).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let latency = started.elapsed();
        self.sender = Some((sender, Instant::now()));
        Ok(Answer {
            status,
            body,
            latency,
        })
    }
}
