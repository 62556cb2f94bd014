//! Hand-built HTTP/1.1 requests for malformed input that no SDK would send.
//!
//! The request is SigV4-signed exactly like an SDK request (so the tests keep working
//! once the server verifies signatures). Body upload and response reading run
//! concurrently: a server may answer (e.g. 413) before it has read an oversized body,
//! and that answer must still reach the test.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on one raw exchange.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(60);

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header (name, value) pairs in received order.
    pub headers: Vec<(String, String)>,
    /// Decoded body bytes.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "response body is not JSON: {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error code as clients derive it from the body's `__type`: text after the last
    /// `#`, cut at the first `:`.
    pub fn error_code(&self) -> Option<String> {
        let json = self.json().ok()?;
        let raw = json.get("__type")?.as_str()?;
        Some(sanitize_error_code(raw).to_string())
    }
}

impl RawResponse {
    /// Asserts an AWS JSON error answer: HTTP 400 (or one of `statuses`), a JSON body whose
    /// `__type` names `code` (when given), a non-empty `Message`, an `x-amzn-ErrorType`
    /// header naming the same code, and an `x-amzn-RequestId`. Returns the code.
    #[track_caller]
    pub fn assert_error(&self, code: Option<&str>, statuses: &[u16]) -> String {
        let body = String::from_utf8_lossy(&self.body);
        assert!(
            statuses.contains(&self.status),
            "status {} not in {statuses:?}; body {body}",
            self.status
        );
        let json: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body}"));
        let raw_type = json
            .get("__type")
            .and_then(|t| t.as_str())
            .unwrap_or_else(|| panic!("no __type: {body}"));
        let found = sanitize_error_code(raw_type).to_string();
        assert!(!found.is_empty(), "empty __type: {body}");
        if let Some(code) = code {
            assert_eq!(found, code, "__type; body {body}");
        }
        let message = json
            .get("Message")
            .or_else(|| json.get("message"))
            .and_then(|m| m.as_str());
        assert!(message.is_some_and(|m| !m.is_empty()), "no Message: {body}");
        let header = self
            .header("x-amzn-ErrorType")
            .unwrap_or_else(|| panic!("no x-amzn-ErrorType header; body {body}"));
        assert_eq!(
            sanitize_error_code(header),
            found,
            "x-amzn-ErrorType header vs __type"
        );
        assert!(
            self.header("x-amzn-RequestId")
                .is_some_and(|v| !v.is_empty()),
            "no x-amzn-RequestId on an error answer"
        );
        found
    }
}

/// botocore / smithy-rs error code sanitising: drop a `namespace#` prefix and a `:suffix`.
pub fn sanitize_error_code(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw)
}

pub(crate) async fn send(
    addr: SocketAddr,
    target: Option<&str>,
    body: &[u8],
) -> Result<RawResponse> {
    tokio::time::timeout(EXCHANGE_DEADLINE, exchange(addr, target, body))
        .await
        .map_err(|_| anyhow!("no complete response within {EXCHANGE_DEADLINE:?}"))?
}

/// A hand-built request for the cases no SDK produces: who signs it (or nobody), extra
/// signed headers, and what is changed after signing (tampering).
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// `X-Amz-Target` (none when `None`).
    pub target: Option<String>,
    /// The body that is signed.
    pub body: Vec<u8>,
    /// Extra headers, sent and signed with the others.
    pub headers: Vec<(String, String)>,
    /// Who signs; `None` sends no `Authorization` at all.
    pub signer: Option<crate::Signer>,
    /// Applied after signing: headers replaced (same name) or added.
    pub headers_after_signing: Vec<(String, String)>,
    /// Applied after signing: the body actually sent instead of `body`.
    pub body_after_signing: Option<Vec<u8>>,
}

impl RawRequest {
    /// A request signed like the SDK client signs (`test`/`test`, `us-east-1`, `glue`, now).
    pub fn new(target: Option<&str>, body: &[u8]) -> Self {
        Self {
            target: target.map(str::to_owned),
            body: body.to_vec(),
            headers: Vec::new(),
            signer: Some(crate::Signer::default()),
            headers_after_signing: Vec::new(),
            body_after_signing: None,
        }
    }
}

pub(crate) async fn send_request(addr: SocketAddr, request: &RawRequest) -> Result<RawResponse> {
    tokio::time::timeout(EXCHANGE_DEADLINE, exchange_request(addr, request))
        .await
        .map_err(|_| anyhow!("no complete response within {EXCHANGE_DEADLINE:?}"))?
}

async fn exchange(addr: SocketAddr, target: Option<&str>, body: &[u8]) -> Result<RawResponse> {
    exchange_request(addr, &RawRequest::new(target, body)).await
}

async fn exchange_request(addr: SocketAddr, request: &RawRequest) -> Result<RawResponse> {
    let host = addr.to_string();
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_string(), host.clone()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
    ];
    if let Some(target) = &request.target {
        headers.push(("x-amz-target".to_string(), target.clone()));
    }
    headers.extend(request.headers.iter().cloned());
    if let Some(signer) = &request.signer {
        let borrowed: Vec<(&str, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let signed = signer.sign(&host, &borrowed, &request.body)?;
        headers.extend(signed);
    }
    for (name, value) in &request.headers_after_signing {
        match headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value.clone(),
            None => headers.push((name.clone(), value.clone())),
        }
    }
    let body: &[u8] = request
        .body_after_signing
        .as_deref()
        .unwrap_or(&request.body);

    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));

    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect {addr}"))?;
    let (mut rd, mut wr) = stream.into_split();
    let mut payload = head.into_bytes();
    payload.extend_from_slice(body);
    // The task hands the write half back instead of dropping it: dropping it would send a
    // FIN, and HTTP servers may treat a half-closed connection as abandoned.
    let writer = tokio::spawn(async move {
        let result = async {
            for chunk in payload.chunks(64 * 1024) {
                wr.write_all(chunk).await?;
            }
            wr.flush().await
        }
        .await;
        (result, wr)
    });

    let mut buf = Vec::new();
    let read_result: std::io::Result<()> = async {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if response_complete(&buf) {
                return Ok(());
            }
            let n = rd.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    .await;
    let (write_result, _write_half) = writer.await.context("writer task")?;

    match parse(&buf) {
        Ok(resp) => Ok(resp),
        Err(parse_err) => bail!(
            "no HTTP response ({parse_err:#}); read: {:?}; write: {:?}; received {} bytes: {:?}",
            read_result.err(),
            write_result.err(),
            buf.len(),
            String::from_utf8_lossy(&buf[..buf.len().min(512)])
        ),
    }
}

/// Parses a complete HTTP/1.1 response read off a socket (for tests that drive their
/// own connections, e.g. slow clients).
pub fn parse_response(buf: &[u8]) -> Result<RawResponse> {
    parse(buf)
}

/// Whether `buf` holds a whole response with a `content-length` body.
pub fn is_complete_response(buf: &[u8]) -> bool {
    response_complete(buf)
}

fn split_head(buf: &[u8]) -> Option<(usize, &[u8])> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((end + 4, &buf[..end]))
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })
}

fn response_complete(buf: &[u8]) -> bool {
    let Some((body_start, head)) = split_head(buf) else {
        return false;
    };
    let head = String::from_utf8_lossy(head);
    match content_length(&head) {
        Some(len) => buf.len() >= body_start + len,
        None => false, // chunked or close-delimited: read to EOF
    }
}

fn parse(buf: &[u8]) -> Result<RawResponse> {
    let (body_start, head) = split_head(buf).ok_or_else(|| anyhow!("incomplete response head"))?;
    let head = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let raw_body = &buf[body_start..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(raw_body)?
    } else if let Some(len) = content_length(head) {
        if raw_body.len() < len {
            bail!("body truncated: {} of {len} bytes", raw_body.len());
        }
        raw_body[..len].to_vec()
    } else {
        raw_body.to_vec()
    };
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("truncated chunk size"))?;
        let size_text = std::str::from_utf8(&data[..line_end])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
