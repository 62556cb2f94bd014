//! The HTTP edge: connections, limits, authentication, request ids, error rendering
//! and graceful shutdown. Everything after the edge sees a verified, decoded request.
//!
//! One request, in [`router`]'s handler, in this order:
//! 1. **Admission**: a permit of the in-flight bound ([`EdgeLimits::max_in_flight`]);
//!    without one the request is shed with 400 ThrottlingException "Rate exceeded",
//!    answered at once without reading its body (a shed request costs no wait for a
//!    slow or large body); the connection is closed after that answer.
//! 2. **Body**: read whole, bounded in size (413 RequestEntityTooLargeException) and
//!    time (400 RequestTimeoutException), so a client trickling a body holds only its
//!    own connection and permit, and only for a bounded time.
//! 3. **Authentication**, once: [`weir_auth::Authenticator::authenticate`] turns the
//!    raw request into a [`VerifiedPrincipal`], whose account and region become the
//!    request's [`Scope`]. Nothing past this point sees an unverified request.
//! 4. **Operation**: `X-Amz-Target` → dispatch → encode.
//!
//! A panic anywhere in these steps (a bug) is caught here and answered as a 500
//! InternalServiceException with the request id, which is also logged; the
//! connection and the server carry on.
//!
//! Connections, in [`serve`]: at most [`EdgeLimits::max_connections`] at once — at the
//! bound the server stops accepting, so further clients wait in the kernel's listen
//! backlog until a connection closes; one hyper HTTP/1.1 connection task per client, with a
//! watchdog that closes a connection whose request head takes longer than
//! [`EdgeLimits::header_read_timeout`] or that stays idle longer than
//! [`EdgeLimits::idle_timeout`]; on shutdown, no new connections are accepted and
//! requests in flight finish.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tower::ServiceExt;
use tracing::Instrument;
use weir_store::Scope;

use crate::app::App;
use crate::config::EdgeLimits;
use crate::operations::{self, RequestContext};
use crate::protocol::{self, ApiError};
use crate::resources::ids;
use weir_auth::{SignedRequest, VerifiedPrincipal};

/// Message of the ThrottlingException answered when the in-flight bound is reached.
pub const THROTTLED_MESSAGE: &str = "Rate exceeded";

/// State of the router: the application plus the edge's own bound.
#[derive(Clone)]
struct Edge {
    app: App,
    in_flight: Arc<Semaphore>,
}

/// The router of the whole server: `POST /` is the Glue API; anything else is an
/// AWS-style JSON error.
pub fn router(app: App) -> Router {
    let in_flight = Arc::new(Semaphore::new(app.config().limits.max_in_flight));
    Router::new()
        .route(
            "/",
            any(api).layer(axum::middleware::from_fn(crate::metrics::track)),
        )
        .merge(crate::console::routes().with_state(app.clone()))
        .merge(crate::metrics::routes().with_state(app.clone()))
        .merge(if app.clock().is_manual() {
            crate::clock_control::routes(app.clock().clone())
        } else {
            Router::new()
        })
        .fallback(fallback)
        .with_state(Edge { app, in_flight })
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = app.config().limits.clone();
    serve_router(listener, router(app), limits, shutdown).await
}

/// The connection loop of [`serve`], for any router.
async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: EdgeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http1 = hyper::server::conn::http1::Builder::new();
    // The watchdog enforces the head and idle deadlines (hyper's own header timer
    // also runs while a kept-alive connection is idle, so it cannot tell the two apart).
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the bound, stop accepting: further clients wait in the listen backlog (and
        // beyond it the kernel makes them retry their handshake) rather than being
        // accepted only to be closed.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // Dropped in this order when the connection ends: gauge, then the slot.
        let open = (crate::metrics::connection_opened(), permit);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(TrackedStream {
            inner: stream,
            activity: activity.clone(),
        });
        let service = {
            let router = router.clone();
            let activity = activity.clone();
            hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let busy = activity.begin_request();
                let router = router.clone();
                async move {
                    let response = router.oneshot(request.map(Body::new)).await;
                    drop(busy);
                    response
                }
            })
        };
        let connection = graceful.watch(http1.serve_connection(io, service));
        let limits = limits.clone();
        tokio::spawn(async move {
            let _open = open;
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                }
                reason = watchdog(&activity, &limits) => {
                    tracing::debug!(reason, "closing the connection");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn api(State(edge): State<Edge>, request: Request) -> Response {
    let request_id = ids::request_id();
    contain_panics(&request_id, handle_api(edge, request, request_id.clone())).await
}

/// Runs the handling of one request; a panic in it (a bug: client input is never
/// unwrapped) becomes InternalServiceException with the request id, and is logged with
/// the request id, instead of tearing down the connection.
///
/// Unwind safety: what a handler shares with other requests stays consistent across a
/// panic — the store rolls a panicked write back, the metrics registry tolerates a
/// poisoned lock, and semaphore permits are released when dropped.
async fn contain_panics(request_id: &str, handler: impl Future<Output = Response>) -> Response {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            tracing::error!(request_id, panic = message, "a request handler panicked");
            error_response(
                request_id,
                &ApiError::Internal("An internal error occurred.".into()),
            )
        }
    }
}

async fn handle_api(edge: Edge, request: Request, request_id: String) -> Response {
    if request.method() != Method::POST {
        return not_the_api(&request_id);
    }
    let limits = &edge.app.config().limits;
    let (parts, body) = request.into_parts();
    let Ok(_permit) = edge.in_flight.clone().try_acquire_owned() else {
        tracing::warn!(
            max_in_flight = limits.max_in_flight,
            "shedding a request: too many in flight"
        );
        // The body is not read (hyper takes what already arrived, then stops reading),
        // so the connection cannot carry another request: say so.
        drop(body);
        let mut response =
            error_response(&request_id, &ApiError::Throttling(THROTTLED_MESSAGE.into()));
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    };
    let _admitted = crate::metrics::request_admitted();
    let body = match read_body(&parts.headers, body, limits).await {
        Ok(body) => body,
        Err(error) => return error_response(&request_id, &error),
    };
    let signed = SignedRequest {
        method: parts.method.as_str(),
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    let principal = match edge
        .app
        .config()
        .auth
        .authenticate(&signed, SystemTime::now())
    {
        Ok(principal) => principal,
        Err(error) => {
            tracing::debug!(%error, "request not authenticated");
            return error_response(&request_id, &ApiError::from(error));
        }
    };
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let operation = match protocol::operation_name(target) {
        Ok(name) => name.to_owned(),
        Err(error) => return error_response(&request_id, &error),
    };
    let span = tracing::info_span!(
        "request",
        op = %operation,
        id = %request_id,
        account = %principal.account,
        region = %principal.region,
    );
    let ctx = RequestContext {
        scope: scope_of(principal),
        app: edge.app.clone(),
        request_id: request_id.clone(),
    };
    async move {
        match operations::dispatch(&ctx, &operation, &body).await {
            Ok(json) => ok_response(&request_id, json),
            Err(error) => {
                if matches!(error, ApiError::Internal(_)) {
                    tracing::error!(%error, "internal error");
                } else {
                    tracing::debug!(code = error.code(), %error, "client error");
                }
                error_response(&request_id, &error)
            }
        }
    }
    .instrument(span)
    .await
}

/// The scope a verified request acts in.
fn scope_of(principal: VerifiedPrincipal) -> Scope {
    Scope {
        account: principal.account,
        region: principal.region,
    }
}

/// Reads the whole body within the size and time limits of the edge.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limits: &EdgeLimits,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::RequestTooLarge(format!(
            "The request body is larger than the limit of {} bytes.",
            limits.max_body_bytes
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut body = body;
        let mut buffer = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                ApiError::Serialization(format!("The request body could not be read: {error}"))
            })?;
            if let Ok(data) = frame.into_data() {
                if buffer.len() + data.len() > limits.max_body_bytes {
                    return Err(too_large());
                }
                buffer.extend_from_slice(&data);
            }
        }
        Ok(buffer.freeze())
    };
    match tokio::time::timeout(limits.body_read_timeout, read).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::RequestTimeout(format!(
            "The request body was not received within {} seconds.",
            limits.body_read_timeout.as_secs_f64()
        ))),
    }
}

async fn fallback() -> Response {
    not_the_api(&ids::request_id())
}

fn not_the_api(request_id: &str) -> Response {
    let error = ApiError::UnknownOperation(
        "Weir serves the AWS Glue API with POST / and an X-Amz-Target header.".into(),
    );
    let mut response = error_response(request_id, &error);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn ok_response(request_id: &str, json: Vec<u8>) -> Response {
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
    headers.insert(
        protocol::ERROR_TYPE_HEADER,
        HeaderValue::from_static(error.code()),
    );
    response
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(protocol::REQUEST_ID_HEADER, value);
    }
}

// ---- connection watchdog ----------------------------------------------------------------

/// "No time recorded" in [`Activity::head_started`].
const NOT_STARTED: u64 = u64::MAX;

/// What one connection is doing, shared by its stream (reads), its service (requests)
/// and its watchdog. Times are milliseconds since the connection was accepted.
struct Activity {
    opened: Instant,
    /// Requests being handled (hyper serves one at a time per HTTP/1.1 connection).
    busy: AtomicUsize,
    /// When the first byte of the next request head arrived, or [`NOT_STARTED`].
    head_started: AtomicU64,
    /// When the connection last became idle (accepted, or a request finished).
    idle_since: AtomicU64,
    /// Wakes the watchdog when the state changes.
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            busy: AtomicUsize::new(0),
            head_started: AtomicU64::new(NOT_STARTED),
            idle_since: AtomicU64::new(0),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NOT_STARTED - 1)
    }

    /// A request head was parsed: the connection is busy until the guard drops.
    fn begin_request(self: &Arc<Self>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.head_started.store(NOT_STARTED, Ordering::SeqCst);
        self.changed.notify_one();
        BusyGuard(self.clone())
    }

    /// Bytes arrived.
    fn on_read(&self) {
        if self.busy.load(Ordering::SeqCst) == 0
            && self
                .head_started
                .compare_exchange(NOT_STARTED, self.now(), Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    /// When the connection must be closed if nothing changes; `None` while busy.
    fn deadline(&self, limits: &EdgeLimits) -> Option<(Instant, &'static str)> {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let at = |ms: u64, limit: Duration| self.opened + Duration::from_millis(ms) + limit;
        let head = self.head_started.load(Ordering::SeqCst);
        if head != NOT_STARTED {
            Some((
                at(head, limits.header_read_timeout),
                "request head too slow",
            ))
        } else {
            let idle = self.idle_since.load(Ordering::SeqCst);
            Some((at(idle, limits.idle_timeout), "idle"))
        }
    }
}

/// Marks the end of a request when dropped (also when the request is abandoned).
struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.idle_since.store(activity.now(), Ordering::SeqCst);
        activity.busy.fetch_sub(1, Ordering::SeqCst);
        activity.changed.notify_one();
    }
}

/// Completes when the connection should be closed; returns why.
async fn watchdog(activity: &Activity, limits: &EdgeLimits) -> &'static str {
    loop {
        match activity.deadline(limits) {
            None => activity.changed.notified().await,
            Some((at, reason)) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at.into()) => {
                        if activity
                            .deadline(limits)
                            .is_some_and(|(again, _)| again <= Instant::now())
                        {
                            return reason;
                        }
                    }
                    () = activity.changed.notified() => {}
                }
            }
        }
    }
}

/// A TCP stream that reports incoming bytes to its connection's [`Activity`].
struct TrackedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.on_read();
        }
        result
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::routing::any;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Log lines written by the code under test.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Logs {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
        }
    }

    /// Reads one HTTP/1.1 response with a `content-length` body: (status, head, body).
    async fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let head = text[..end].to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("content-length");
                if buf.len() >= end + 4 + length {
                    let status = head[9..12].parse().expect("status");
                    let body = text[end + 4..end + 4 + length].to_string();
                    return (status, head, body);
                }
            }
            let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut chunk))
                .await
                .expect("an answer in time")
                .expect("read");
            assert!(
                n > 0,
                "connection closed after {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_its_request_id_and_the_connection_lives_on() {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // A current-thread runtime: every task logs through this thread's subscriber.
        let _logging = tracing::subscriber::set_default(subscriber);
        let router = Router::new().route(
            "/",
            any(|request: Request| async move {
                let request_id = ids::request_id();
                let panics = request.uri().query() == Some("panic");
                contain_panics(&request_id, async {
                    assert!(!panics, "a bug in an operation");
                    ok_response(&request_id, b"{}".to_vec())
                })
                .await
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_router(
            listener,
            router,
            EdgeLimits::default(),
            async move {
                let _ = stopped.await;
            },
        ));
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = |query: &str| {
            format!("POST /{query} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{{}}")
        };
        stream
            .write_all(request("?panic").as_bytes())
            .await
            .expect("send");
        let (status, head, body) = read_response(&mut stream).await;
        assert_eq!(status, 500, "{head}\n{body}");
        assert!(
            head.contains("x-amzn-errortype: internalserviceexception"),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        assert_eq!(json["__type"], "InternalServiceException");
        let request_id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-amzn-requestid: "))
            .expect("a request id")
            .trim()
            .to_string();
        let logged = logs.text();
        assert!(
            logged
                .lines()
                .any(|l| l.contains("panicked") && l.contains(&request_id)),
            "the panic is logged with the request id {request_id}: {logged}"
        );
        // The same connection serves the next request.
        stream
            .write_all(request("").as_bytes())
            .await
            .expect("send");
        let (status, head, body) = read_response(&mut stream).await;
        assert_eq!(status, 200, "{head}\n{body}");
        let _ = stop.send(());
        drop(stream);
        server.await.expect("server task").expect("served");
    }
}
