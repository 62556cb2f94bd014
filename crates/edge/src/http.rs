//! Connections and requests: limits, request ids, authentication, routing to a
//! service, panic containment and graceful shutdown.
//!
//! One request, in this order:
//! 1. **Pages or API**: a request that carries no AWS signature, credential or
//!    `X-Amz-Target` may be for a page merged into the edge (the console, `/metrics`,
//!    the test clock); anything else is an API request.
//! 2. **Routing**: [`Routes::route`] picks the service from the request's headers;
//!    a method or path it does not serve is answered [`Rejection::NotServed`].
//! 3. **Admission**: a permit of the in-flight bound ([`EdgeLimits::max_in_flight`]);
//!    without one the request is shed ([`Rejection::Throttled`], "Rate exceeded"),
//!    answered at once without reading its body (a shed request costs no wait for a
//!    slow or large body); the connection is closed after that answer.
//! 4. **Body**: for a service taking it [`BodyMode::Buffered`], read whole, bounded
//!    in size ([`Rejection::TooLarge`]) and time ([`Rejection::BodyTimeout`]), so a
//!    client trickling a body holds only its own connection and permit, and only for a
//!    bounded time. A service taking it [`BodyMode::Streamed`] (S3) gets it unread,
//!    with the check its signature asks for ([`StreamedBody`]), and bounds it itself.
//! 5. **Authentication**, once: [`weir_auth::Authenticator::authenticate`] (or
//!    `authenticate_head` for a streamed body) for the service's signing name turns
//!    the raw request into a [`weir_auth::VerifiedPrincipal`].
//!    Nothing past this point sees an unverified request.
//! 6. **Service**: [`Service::call`] with the [`VerifiedRequest`].
//!
//! Every API request is counted in the metrics registry by the service's operation
//! label and the [`ErrorCode`] its answer carries. A panic anywhere in these steps (a
//! bug) is caught here and answered as the service's [`Rejection::Internal`] (a 500)
//! with the request id, which is also logged; the connection and the server carry on.
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use http::{HeaderMap, HeaderValue, header};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::Instrument;
use weir_auth::{Authenticator, SignedRequest};

use crate::limits::EdgeLimits;
use crate::service::{
    BodyMode, ErrorCode, Rejection, Routes, Service, StreamedBody, TARGET_HEADER, VerifiedRequest,
};

/// Everything the edge serves: the services' routing table, pages for people and
/// scrapers, and how requests are authenticated and bounded.
pub struct Edge {
    /// Which service each API request is for.
    pub routes: Routes,
    /// Routes answered without a signature (console, metrics, test clock).
    pub pages: Router,
    /// How requests are authenticated.
    pub auth: Authenticator,
    /// Limits on connections and requests.
    pub limits: EdgeLimits,
}

/// State shared by every API request of a serving edge.
struct Shared {
    routes: Routes,
    auth: Authenticator,
    limits: EdgeLimits,
    in_flight: Arc<Semaphore>,
}

/// A random request id in UUID form, as AWS sends in `x-amzn-RequestId`.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Edge {
    /// The whole edge as one router — API requests routed to their services, pages
    /// for the rest — for in-process tests ([`serve`] answers the same way without
    /// a router in front).
    pub fn into_router(self) -> Router {
        let dispatch = self.into_dispatch();
        Router::new().fallback(move |request: Request| {
            let dispatch = dispatch.clone();
            async move { dispatch.handle(request).await }
        })
    }

    /// What answers each request: the shared API state and the pages' router.
    fn into_dispatch(self) -> Dispatch {
        let Edge {
            routes,
            pages,
            auth,
            limits,
        } = self;
        let shared = Arc::new(Shared {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            routes,
            auth,
            limits,
        });
        // A page's body is read within the edge's limits, as an API request's is (the
        // pages' own extractors then add none). A request no page matches is an API
        // request too (an unsigned one is answered by its service's authentication
        // error); the layer stops before that fallback, so it keeps its body unread.
        let pages = {
            let reader = shared.clone();
            let shared = shared.clone();
            pages
                .layer(axum::extract::DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(
                    move |request: Request, next: axum::middleware::Next| {
                        let shared = reader.clone();
                        async move { page_with_body(&shared, request, next).await }
                    },
                ))
                .fallback(move |request: Request| {
                    let shared = shared.clone();
                    async move { api(&shared, request).await }
                })
        };
        Dispatch { shared, pages }
    }
}

/// Answers one request: an API request goes straight to [`api`], anything else to the
/// pages' router (whose fallback is the API again).
#[derive(Clone)]
struct Dispatch {
    shared: Arc<Shared>,
    pages: Router,
}

impl Dispatch {
    /// The answer to `request`.
    async fn handle(&self, request: Request) -> Response {
        if is_api_request(&request) {
            return api(&self.shared, request).await;
        }
        match self.pages.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        }
    }
}

/// Serves `edge` on `listener` until `shutdown` completes, then stops accepting and
/// lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    edge: Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = edge.limits.clone();
    let dispatch = edge.into_dispatch();
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
        let open = (weir_metrics::connection_opened(), permit);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(TrackedStream {
            inner: stream,
            activity: activity.clone(),
        });
        let service = {
            let dispatch = dispatch.clone();
            let activity = activity.clone();
            hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let busy = activity.begin_request();
                let dispatch = dispatch.clone();
                async move {
                    let response = dispatch.handle(request.map(Body::new)).await;
                    drop(busy);
                    Ok::<_, std::convert::Infallible>(response)
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

/// A page request with its body read within the edge's limits; a body over them is
/// answered here in plain text (413 too large, 408 too slow, 400 unreadable).
async fn page_with_body(
    shared: &Shared,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    match read_body(&parts.headers, body, &shared.limits).await {
        Ok(body) => next.run(Request::from_parts(parts, Body::from(body))).await,
        Err(rejection) => {
            let status = match rejection {
                Rejection::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
                Rejection::BodyTimeout { .. } => http::StatusCode::REQUEST_TIMEOUT,
                _ => http::StatusCode::BAD_REQUEST,
            };
            let mut response = Response::new(Body::from(rejection.to_string()));
            *response.status_mut() = status;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            // The rest of the body may still be on the connection.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// Whether a request surely addresses an AWS service rather than a page: it carries a
/// SigV4 signature, a presigned credential or an `X-Amz-Target`.
fn is_api_request(request: &Request) -> bool {
    let headers = request.headers();
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().starts_with(b"AWS4-"))
        || headers.contains_key(TARGET_HEADER)
        || request
            .uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-Credential=") || weir_auth::sigv2::is_presigned(q))
}

/// The API handler: routed, counted, panics contained.
async fn api(shared: &Shared, request: Request) -> Response {
    let request_id = request_id();
    let service = shared
        .routes
        .route(request.headers(), request.uri().query());
    let (parts, body) = request.into_parts();
    let operation = service.operation(&parts);
    let _in_flight = weir_metrics::request_started();
    let started = Instant::now();
    let handling = admit(
        shared,
        service.as_ref(),
        operation,
        parts,
        body,
        request_id.clone(),
    );
    let response = match AssertUnwindSafe(handling).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            // Unwind safety: what a handler shares with other requests stays consistent
            // across a panic — the store rolls a panicked write back, the metrics
            // registry tolerates a poisoned lock, and semaphore permits are released
            // when dropped.
            let message = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            tracing::error!(request_id, panic = message, "a request handler panicked");
            service.reject(&request_id, &Rejection::Internal)
        }
    };
    let error_code = response.extensions().get::<ErrorCode>().map(|code| code.0);
    weir_metrics::record_request(operation, error_code, started.elapsed().as_secs_f64());
    response
}

/// Admission, body, authentication, then the service.
async fn admit(
    shared: &Shared,
    service: &dyn Service,
    operation: &'static str,
    parts: http::request::Parts,
    body: Body,
    request_id: String,
) -> Response {
    if !service.serves(&parts) {
        return service.reject(&request_id, &Rejection::NotServed);
    }
    let limits = &shared.limits;
    let Ok(_permit) = shared.in_flight.clone().try_acquire_owned() else {
        tracing::warn!(
            max_in_flight = limits.max_in_flight,
            "shedding a request: too many in flight"
        );
        // The body is not read (hyper takes what already arrived, then stops reading),
        // so the connection cannot carry another request: say so.
        drop(body);
        let mut response = service.reject(&request_id, &Rejection::Throttled);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    };
    let _admitted = weir_metrics::request_admitted();
    // Whether a streamed body was read to its end (see the answer below).
    let ended = Arc::new(AtomicBool::new(false));
    let (principal, body, stream) = match service.body_mode(&parts) {
        BodyMode::Buffered => {
            let body = match read_body(&parts.headers, body, limits).await {
                Ok(body) => body,
                Err(rejection) => return service.reject(&request_id, &rejection),
            };
            let signed = SignedRequest {
                method: parts.method.as_str(),
                uri: &parts.uri,
                headers: &parts.headers,
                body: &body,
            };
            match shared
                .auth
                .authenticate(&signed, service.signing_name(), SystemTime::now())
            {
                Ok(principal) => (principal, body, None),
                Err(error) => {
                    tracing::debug!(%error, "request not authenticated");
                    return service.reject(&request_id, &Rejection::Unauthenticated(error));
                }
            }
        }
        BodyMode::Streamed { rules } => {
            let signed = SignedRequest {
                method: parts.method.as_str(),
                uri: &parts.uri,
                headers: &parts.headers,
                body: &[],
            };
            match shared.auth.authenticate_head(
                &signed,
                service.signing_name(),
                rules,
                SystemTime::now(),
            ) {
                Ok((principal, payload)) => {
                    ended.store(hyper::body::Body::is_end_stream(&body), Ordering::SeqCst);
                    let body = Body::new(TrackedBody {
                        ended: ended.clone(),
                        inner: body,
                    });
                    (
                        principal,
                        Bytes::new(),
                        Some(StreamedBody { body, payload }),
                    )
                }
                Err(error) => {
                    tracing::debug!(%error, "request not authenticated");
                    // The body is not read: the connection cannot carry another request.
                    let mut response =
                        service.reject(&request_id, &Rejection::Unauthenticated(error));
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    return response;
                }
            }
        }
    };
    // Few fields: the subscriber formats each one when the span is made, per request.
    let span = tracing::info_span!(
        "request",
        op = %operation,
        id = %request_id,
        account = %principal.account,
    );
    let streamed = stream.is_some();
    let mut response = service
        .call(VerifiedRequest {
            request_id,
            principal,
            parts,
            body,
            stream,
        })
        .instrument(span)
        .await;
    if streamed && !ended.load(Ordering::SeqCst) {
        // The service answered without reading the whole body (a refused upload): the
        // connection cannot carry another request, so the client must not reuse it.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A streamed request body that records when it has been read to its end.
struct TrackedBody {
    inner: Body,
    ended: Arc<AtomicBool>,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || hyper::body::Body::is_end_stream(&this.inner) {
            this.ended.store(true, Ordering::SeqCst);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::Body::size_hint(&self.inner)
    }
}

/// Reads the whole body within the size and time limits of the edge.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limits: &EdgeLimits,
) -> Result<Bytes, Rejection> {
    let too_large = || Rejection::TooLarge {
        limit: limits.max_body_bytes,
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
            let frame = frame.map_err(|error| Rejection::BodyUnreadable(error.to_string()))?;
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
        Err(_) => Err(Rejection::BodyTimeout {
            after: limits.body_read_timeout,
        }),
    }
}

// ---- connection watchdog ----------------------------------------------------------------

/// "No time recorded" in [`Activity::head_started`].
const NOT_STARTED: u64 = u64::MAX;

/// What one connection is doing, shared by its stream (reads), its service (requests)
/// and its watchdog. Times are milliseconds since the connection was accepted.
///
/// Requests starting and ending only store times; nothing wakes the watchdog. It never
/// sleeps longer than the header read timeout, so a request head that starts while it
/// sleeps has its deadline at or after the watchdog's next wake-up, which then sleeps
/// until exactly that deadline. A connection thus costs its watchdog one timer firing
/// per header read timeout, whatever its requests do.
struct Activity {
    opened: Instant,
    /// Requests being handled (hyper serves one at a time per HTTP/1.1 connection).
    busy: AtomicUsize,
    /// When the first byte of the next request head arrived, or [`NOT_STARTED`].
    head_started: AtomicU64,
    /// When the connection last became idle (accepted, or a request finished).
    idle_since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            busy: AtomicUsize::new(0),
            head_started: AtomicU64::new(NOT_STARTED),
            idle_since: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NOT_STARTED - 1)
    }

    /// A request head was parsed: the connection is busy until the guard drops.
    fn begin_request(self: &Arc<Self>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.head_started.store(NOT_STARTED, Ordering::SeqCst);
        BusyGuard(self.clone())
    }

    /// Bytes arrived.
    fn on_read(&self) {
        // Most reads are of a head already started, or of a body: no clock read then.
        if self.busy.load(Ordering::SeqCst) != 0
            || self.head_started.load(Ordering::SeqCst) != NOT_STARTED
        {
            return;
        }
        let _ = self.head_started.compare_exchange(
            NOT_STARTED,
            self.now(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
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
    }
}

/// Completes when the connection should be closed; returns why.
async fn watchdog(activity: &Activity, limits: &EdgeLimits) -> &'static str {
    loop {
        let now = Instant::now();
        // A head starting from now on has its deadline no earlier than this.
        let latest = now + limits.header_read_timeout;
        let wake_at = match activity.deadline(limits) {
            Some((at, reason)) if at <= now => return reason,
            Some((at, _)) => at.min(latest),
            // While a request is handled no deadline runs.
            None => latest,
        };
        tokio::time::sleep_until(wake_at.into()).await;
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

    /// A service that panics on `?panic` and answers `{}` otherwise.
    struct Fragile;

    impl Service for Fragile {
        fn signing_name(&self) -> &'static str {
            "fragile"
        }
        fn serves(&self, _: &http::request::Parts) -> bool {
            true
        }
        fn operation(&self, _: &http::request::Parts) -> &'static str {
            "Poke"
        }
        fn call(&self, request: VerifiedRequest) -> futures_util::future::BoxFuture<'_, Response> {
            Box::pin(async move {
                assert!(
                    request.parts.uri.query() != Some("panic"),
                    "a bug in an operation"
                );
                let mut response = Response::new(Body::from("{}"));
                insert_request_id(&mut response, &request.request_id);
                response
            })
        }
        fn reject(&self, request_id: &str, rejection: &Rejection) -> Response {
            let status = match rejection {
                Rejection::Internal => http::StatusCode::INTERNAL_SERVER_ERROR,
                _ => http::StatusCode::BAD_REQUEST,
            };
            let mut response =
                Response::new(Body::from(format!("{{\"Message\":\"{rejection}\"}}")));
            *response.status_mut() = status;
            insert_request_id(&mut response, request_id);
            response
        }
    }

    fn insert_request_id(response: &mut Response, request_id: &str) {
        if let Ok(value) = HeaderValue::from_str(request_id) {
            response.headers_mut().insert("x-request-id", value);
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
        let auth = Authenticator::new(
            weir_auth::AuthMode::Disabled,
            weir_auth::CredentialRegistry::development("123456789012"),
            weir_auth::DEFAULT_MAX_CLOCK_SKEW,
            "123456789012",
            "us-east-1",
        );
        let edge = Edge {
            routes: Routes::new(Arc::new(Fragile)),
            pages: Router::new(),
            auth,
            limits: EdgeLimits::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, edge, async move {
            let _ = stopped.await;
        }));
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = |query: &str| {
            format!(
                "POST /{query} HTTP/1.1\r\nhost: x\r\nx-amz-target: Fragile.Poke\r\n\
                 content-length: 2\r\n\r\n{{}}"
            )
        };
        stream
            .write_all(request("?panic").as_bytes())
            .await
            .expect("send");
        let (status, head, body) = read_response(&mut stream).await;
        assert_eq!(status, 500, "{head}\n{body}");
        assert!(body.contains("An internal error occurred."), "{body}");
        let request_id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
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
