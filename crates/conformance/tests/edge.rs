//! Limits of the HTTP edge: an oversized body, a client trickling its body or its
//! request head, an idle connection, an overload and too many connections each get
//! their answer (or their connection closed) while other clients' requests keep
//! succeeding.
//!
//! No test here measures time. A slow client is one the test holds back (a body short
//! of its last byte, an unfinished head), so that what the server does meanwhile is
//! observed with the server's own gauges at `/metrics` (requests admitted, connections
//! open) or the kernel's accept queue, never inferred from how long something took.
//! Waiting is polling for a state, bounded by a generous deadline.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use weir_conformance::{RawResponse, Signer, WeirServer, is_complete_response, ok, parse_response};

/// Bound on anything a test waits for; only a broken server takes it.
const PATIENCE: Duration = Duration::from_secs(60);

/// A signed request head for `body` (the body itself is sent by the caller, at its own
/// pace).
fn signed_head(addr: SocketAddr, target: &str, body: &[u8], content_length: usize) -> String {
    let host = addr.to_string();
    let headers: Vec<(&str, String)> = vec![
        ("host", host.clone()),
        ("content-type", "application/x-amz-json-1.1".into()),
        ("x-amz-target", target.into()),
    ];
    let signed = Signer::default().sign(&host, &headers, body).expect("sign");
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain(signed)
    {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {content_length}\r\n\r\n"));
    head
}

/// Opens a connection and sends a signed request head for `body`.
async fn send_head(addr: SocketAddr, target: &str, body: &[u8]) -> (OwnedReadHalf, OwnedWriteHalf) {
    let head = signed_head(addr, target, body, body.len());
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.expect("write head");
    (read, write)
}

/// A request the test holds back: its head and all of its body but the last byte.
struct Held {
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    last: u8,
}

impl Held {
    async fn send(addr: SocketAddr, target: &str, body: &[u8]) -> Self {
        let (read, mut write) = send_head(addr, target, body).await;
        let (last, rest) = body.split_last().expect("a body");
        write.write_all(rest).await.expect("write body");
        Self {
            read,
            write,
            last: *last,
        }
    }

    /// Sends the last byte and reads the answer.
    async fn finish(mut self) -> RawResponse {
        self.write.write_all(&[self.last]).await.expect("last byte");
        read_response(&mut self.read).await.expect("an answer")
    }
}

/// Reads one response (or reports the connection closed first).
async fn read_response(read: &mut OwnedReadHalf) -> Result<RawResponse, String> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if is_complete_response(&buf) {
            return parse_response(&buf).map_err(|e| e.to_string());
        }
        match tokio::time::timeout_at(deadline, read.read(&mut chunk)).await {
            Err(_) => return Err("no response in time".into()),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return if buf.is_empty() {
                    Err("connection closed without a response".into())
                } else {
                    parse_response(&buf).map_err(|e| e.to_string())
                };
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits until the server closes the connection; returns what it sent before.
async fn wait_for_close(read: &mut OwnedReadHalf) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, read.read(&mut chunk)).await {
            Err(_) => panic!("the server kept the connection open for {PATIENCE:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// `GET /metrics` on its own connection.
async fn metrics(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("send");
    let (mut read, _write) = stream.into_split();
    let response = read_response(&mut read).await.expect("metrics");
    assert_eq!(response.status, 200);
    String::from_utf8_lossy(&response.body).into_owned()
}

/// The value of the sample `series` (name and labels, exactly as exposed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `/metrics` until `series` has the value `want`.
async fn wait_for_metric(addr: SocketAddr, series: &str, want: f64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = metrics(addr).await;
        if sample(&text, series) == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{series} never became {want}:\n{text}"
        );
        tokio::task::yield_now().await;
    }
}

/// Makes `count` SDK calls one after another; each must succeed.
async fn others_keep_succeeding(server: &WeirServer, count: usize) {
    let glue = server.client();
    for i in 0..count {
        ok(glue
            .create_workflow()
            .name(format!("other-{i}"))
            .send()
            .await);
        ok(glue.list_workflows().send().await);
    }
}

async fn workflow_names(server: &WeirServer) -> Vec<String> {
    ok(server.client().list_workflows().send().await)
        .workflows
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_while_others_are_served() {
    let server = WeirServer::start().unwrap();
    let huge = vec![b' '; 11 * 1024 * 1024];
    let (oversized, ()) = tokio::join!(
        server.raw(Some("AWSGlue.CreateWorkflow"), &huge),
        others_keep_succeeding(&server, 10),
    );
    let response = oversized.expect("an answer to the oversized request");
    response.assert_error(Some("RequestEntityTooLargeException"), &[413]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_holds_only_its_own_request_while_others_are_served() {
    let server = WeirServer::start_with_args(&["--body-read-timeout", "600"]).unwrap();
    let held = Held::send(
        server.addr(),
        "AWSGlue.CreateWorkflow",
        br#"{"Name":"slow"}"#,
    )
    .await;
    // The slow request is admitted and waiting for its body…
    wait_for_metric(server.addr(), "weir_api_requests_admitted", 1.0).await;
    // …while other clients are served.
    others_keep_succeeding(&server, 5).await;
    assert!(!workflow_names(&server).await.contains(&"slow".to_string()));
    // The slow request was waiting all along, and completes once its body is complete.
    let response = held.finish().await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(workflow_names(&server).await.contains(&"slow".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_answered_request_timeout() {
    let server = WeirServer::start_with_args(&["--body-read-timeout", "1"]).unwrap();
    // Longer than anything the test waits for at one byte per 50 ms: only the body
    // deadline can end this request.
    let body = format!(r#"{{"Name":"slow","Description":"{}"}}"#, "x".repeat(4000)).into_bytes();
    let (mut read, mut write) = send_head(server.addr(), "AWSGlue.CreateWorkflow", &body).await;
    let trickle = tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(50));
        for byte in body.iter().take(body.len() - 1) {
            pace.tick().await;
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
        write
    });
    let response = read_response(&mut read).await.expect("a timeout answer");
    trickle.abort();
    response.assert_error(Some("RequestTimeoutException"), &[400]);
    wait_for_metric(server.addr(), "weir_api_requests_admitted", 0.0).await;
    assert!(!workflow_names(&server).await.contains(&"slow".to_string()));
}

/// Opens a connection and starts a request head that it never finishes; keeps adding
/// header lines (one per 50 ms) until the server closes the connection.
async fn trickle_a_head(addr: SocketAddr) -> (OwnedReadHalf, tokio::task::JoinHandle<()>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, write) = stream.into_split();
    (read, trickle_head(write).await)
}

/// Starts a request head on `write` and keeps adding header lines to it (one per
/// 50 ms) until the server closes the connection.
async fn trickle_head(mut write: OwnedWriteHalf) -> tokio::task::JoinHandle<()> {
    write
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(50));
        for i in 0.. {
            pace.tick().await;
            if write
                .write_all(format!("x-slow-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_head_does_not_block_others() {
    let server = WeirServer::start_with_args(&["--header-read-timeout", "600"]).unwrap();
    let (_read, trickle) = trickle_a_head(server.addr()).await;
    // The slow connection and the one reading the metrics are both accepted…
    wait_for_metric(server.addr(), "weir_http_connections_open", 2.0).await;
    // …and other clients are served meanwhile.
    others_keep_succeeding(&server, 5).await;
    trickle.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_head_is_cut_off() {
    // Only the head deadline can close the connection within the test's patience.
    let server =
        WeirServer::start_with_args(&["--header-read-timeout", "1", "--idle-timeout", "600"])
            .unwrap();
    let (mut read, trickle) = trickle_a_head(server.addr()).await;
    let received = wait_for_close(&mut read).await;
    trickle.abort();
    assert!(
        received.is_empty(),
        "no answer to a head that never ended: {:?}",
        String::from_utf8_lossy(&received)
    );
    others_keep_succeeding(&server, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_trickled_after_a_request_on_a_kept_alive_connection_is_cut_off() {
    // The watchdog sleeps towards the idle deadline (600 s) when the head starts.
    let server =
        WeirServer::start_with_args(&["--header-read-timeout", "1", "--idle-timeout", "600"])
            .unwrap();
    let body = b"{}";
    let (mut read, mut write) = send_head(server.addr(), "AWSGlue.ListWorkflows", body).await;
    write.write_all(body).await.unwrap();
    let first = read_response(&mut read).await.expect("first answer");
    assert_eq!(first.status, 200);
    let trickle = trickle_head(write).await;
    let received = wait_for_close(&mut read).await;
    trickle.abort();
    assert!(
        received.is_empty(),
        "no answer to a head that never ended: {:?}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_kept_alive_ones_serve_several_requests() {
    let server = WeirServer::start_with_args(&["--idle-timeout", "1"]).unwrap();
    // Never says anything.
    let silent = TcpStream::connect(server.addr()).await.unwrap();
    let (mut silent_read, _silent_write) = silent.into_split();
    // Sends two requests on one connection, then goes quiet.
    let body = b"{}";
    let (mut read, mut write) = send_head(server.addr(), "AWSGlue.ListWorkflows", body).await;
    write.write_all(body).await.unwrap();
    let first = read_response(&mut read).await.expect("first answer");
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    // Second request on the same connection.
    let head = signed_head(server.addr(), "AWSGlue.ListWorkflows", body, body.len());
    write.write_all(head.as_bytes()).await.unwrap();
    write.write_all(body).await.unwrap();
    let second = read_response(&mut read).await.expect("second answer");
    assert_eq!(second.status, 200);
    // Both are closed once idle (the request head deadline, 20 s, never started).
    wait_for_close(&mut silent_read).await;
    wait_for_close(&mut read).await;
    let _keep = write;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_in_flight_bound_requests_are_throttled_not_dropped() {
    let server =
        WeirServer::start_with_args(&["--max-in-flight", "2", "--body-read-timeout", "600"])
            .unwrap();
    let mut held = Vec::new();
    for i in 0..2 {
        let body = format!(r#"{{"Name":"held-{i}"}}"#).into_bytes();
        held.push(Held::send(server.addr(), "AWSGlue.CreateWorkflow", &body).await);
    }
    // Both slots of the bound are taken by requests the test holds back.
    wait_for_metric(server.addr(), "weir_api_requests_admitted", 2.0).await;
    let shed = server
        .raw(Some("AWSGlue.ListWorkflows"), b"{}")
        .await
        .expect("an answer");
    shed.assert_error(Some("ThrottlingException"), &[400]);
    assert_eq!(
        shed.json().unwrap().get("Message").and_then(|m| m.as_str()),
        Some("Rate exceeded")
    );
    // The shed SDK call is retryable and typed as throttling.
    let throttled = server.client().list_workflows().send().await;
    let err = throttled.expect_err("throttled");
    assert_eq!(
        aws_sdk_glue::error::ProvideErrorMetadata::code(&err),
        Some("ThrottlingException")
    );
    let text = metrics(server.addr()).await;
    let counted = sample(
        &text,
        r#"weir_api_requests_total{operation="ListWorkflows",error_code="ThrottlingException"}"#,
    );
    assert_eq!(counted, Some(2.0), "{text}");

    for request in held {
        let response = request.finish().await;
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
    }
    let names = workflow_names(&server).await;
    assert_eq!(names, ["held-0", "held-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shed_request_is_answered_without_waiting_for_its_body() {
    let server =
        WeirServer::start_with_args(&["--max-in-flight", "1", "--body-read-timeout", "600"])
            .unwrap();
    let held = Held::send(
        server.addr(),
        "AWSGlue.CreateWorkflow",
        br#"{"Name":"held"}"#,
    )
    .await;
    wait_for_metric(server.addr(), "weir_api_requests_admitted", 1.0).await;
    // Announces a 1 MiB body and sends only its beginning: the answer must not wait for
    // the rest (the body deadline is longer than the test's patience).
    let body = vec![b' '; 1024 * 1024];
    let head = signed_head(server.addr(), "AWSGlue.ListWorkflows", &body, body.len());
    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    write.write_all(&body[..16]).await.unwrap();
    let response = read_response(&mut read).await.expect("an answer");
    response.assert_error(Some("ThrottlingException"), &[400]);
    assert_eq!(response.header("connection"), Some("close"));
    wait_for_close(&mut read).await;
    let response = held.finish().await;
    assert_eq!(response.status, 200);
}

/// Entries waiting in the kernel's accept queue of the IPv4 listener at `addr`: the
/// `rx_queue` column of its LISTEN line in `/proc/net/tcp`.
fn accept_queue(addr: SocketAddr) -> u64 {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let local = format!(":{:04X}", addr.port());
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols.len() > 4 && cols[1].ends_with(&local) && cols[3] == "0A")
        .and_then(|cols| cols[4].split(':').nth(1).map(str::to_owned))
        .and_then(|rx| u64::from_str_radix(&rx, 16).ok())
        .expect("the listener's line")
}

/// Polls the kernel until `addr`'s accept queue holds `want` connections.
async fn wait_for_accept_queue(addr: SocketAddr, want: u64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while accept_queue(addr) != want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the accept queue of {addr} never held {want} (holds {})",
            accept_queue(addr)
        );
        tokio::task::yield_now().await;
    }
}

/// Sends `GET /metrics` on an open keep-alive connection and reads the answer.
async fn metrics_on(stream: &mut TcpStream) -> Result<String, String> {
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !is_complete_response(&buf) {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return Err("no response in time".into()),
            Ok(Ok(0)) | Ok(Err(_)) => return Err("connection closed".into()),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let response = parse_response(&buf).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&response.body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_bound_wait_until_one_closes() {
    let server =
        WeirServer::start_with_args(&["--max-connections", "2", "--idle-timeout", "600"]).unwrap();
    let addr = server.addr();
    // Two kept-alive connections, each served once: both slots are taken.
    let mut first = TcpStream::connect(addr).await.unwrap();
    metrics_on(&mut first)
        .await
        .expect("first connection served");
    let mut second = TcpStream::connect(addr).await.unwrap();
    metrics_on(&mut second)
        .await
        .expect("second connection served");
    // A third client connects (the kernel completes the handshake) and sends a request…
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // …and is left in the accept queue: the server does not take it.
    wait_for_accept_queue(addr, 1).await;
    let text = metrics_on(&mut first).await.expect("first connection");
    assert_eq!(
        sample(&text, "weir_http_connections_open"),
        Some(2.0),
        "{text}"
    );
    let mut probe = [0u8; 1];
    assert!(
        matches!(third.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the third connection was answered beyond the bound"
    );
    // One of the two closes: the waiting connection is accepted and served.
    drop(first);
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !is_complete_response(&buf) {
        let n = tokio::time::timeout_at(deadline, third.read(&mut chunk))
            .await
            .expect("the waiting connection is served once a slot is free")
            .expect("read");
        assert!(n > 0, "the waiting connection was closed");
        buf.extend_from_slice(&chunk[..n]);
    }
    let response = parse_response(&buf).unwrap();
    assert_eq!(response.status, 200);
    let text = String::from_utf8_lossy(&response.body);
    assert_eq!(
        sample(&text, "weir_http_connections_open"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(accept_queue(addr), 0);
    metrics_on(&mut second).await.expect("second connection");
}
