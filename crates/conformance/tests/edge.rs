//! Limits of the HTTP edge: an oversized body, a client trickling its body or its
//! request head, an idle connection and an overload each get their answer (or their
//! connection closed) while other clients' requests keep succeeding.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use weir_conformance::{RawResponse, Signer, WeirServer, is_complete_response, ok, parse_response};

/// Bound on anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// Opens a connection and sends a signed request head for `body` (the body itself is
/// sent by the caller, at its own pace).
async fn send_head(addr: SocketAddr, target: &str, body: &[u8]) -> (OwnedReadHalf, OwnedWriteHalf) {
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
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.expect("write head");
    (read, write)
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

/// Waits until the server closes the connection; returns how long that took.
async fn wait_for_close(read: &mut OwnedReadHalf) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, read.read(&mut chunk)).await {
            Err(_) => panic!("the server kept the connection open for {PATIENCE:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

/// Makes `count` SDK calls one after another; each must succeed. Returns when the last
/// one finished, so a test can show that they did not wait for a misbehaving client.
async fn others_keep_succeeding(server: &WeirServer, count: usize) -> Instant {
    let glue = server.client();
    for i in 0..count {
        ok(glue
            .create_workflow()
            .name(format!("other-{i}"))
            .send()
            .await);
        ok(glue.list_workflows().send().await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Instant::now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_while_others_are_served() {
    let server = WeirServer::start().unwrap();
    let huge = vec![b' '; 11 * 1024 * 1024];
    let (oversized, _) = tokio::join!(
        server.raw(Some("AWSGlue.CreateWorkflow"), &huge),
        others_keep_succeeding(&server, 10),
    );
    let response = oversized.expect("an answer to the oversized request");
    response.assert_error(Some("RequestEntityTooLargeException"), &[413]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_times_out_without_blocking_others() {
    let server = WeirServer::start_with_args(&["--body-read-timeout", "4"]).unwrap();
    let body = format!(r#"{{"Name":"slow","Description":"{}"}}"#, "x".repeat(200)).into_bytes();
    let (mut read, mut write) = send_head(server.addr(), "AWSGlue.CreateWorkflow", &body).await;
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for byte in body.iter().take(body.len() - 1) {
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        write
    });
    let (others_done, response) = tokio::join!(others_keep_succeeding(&server, 5), async {
        let response = read_response(&mut read).await;
        (response, Instant::now())
    });
    let (response, answered) = response;
    let response = response.expect("a timeout answer");
    response.assert_error(Some("RequestTimeoutException"), &[400]);
    assert!(
        others_done < answered,
        "the other client waited for the slow one"
    );
    let waited = answered - started;
    assert!(
        waited >= Duration::from_millis(3500) && waited < Duration::from_secs(15),
        "answered after {waited:?}"
    );
    trickle.abort();
    let names = ok(server.client().list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert!(!names.contains(&"slow".to_string()), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_head_is_cut_off_without_blocking_others() {
    let server = WeirServer::start_with_args(&["--header-read-timeout", "3"]).unwrap();
    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for i in 0..100 {
            if write
                .write_all(format!("x-slow-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let (closed_after, others_done) = tokio::join!(
        wait_for_close(&mut read),
        others_keep_succeeding(&server, 5)
    );
    trickle.abort();
    assert!(
        others_done < started + closed_after,
        "the other client waited for the slow one"
    );
    assert!(
        closed_after >= Duration::from_millis(2500) && closed_after < Duration::from_secs(15),
        "closed after {closed_after:?}"
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
    let host = server.addr().to_string();
    let headers: Vec<(&str, String)> = vec![
        ("host", host.clone()),
        ("content-type", "application/x-amz-json-1.1".into()),
        ("x-amz-target", "AWSGlue.ListWorkflows".into()),
    ];
    let signed = Signer::default().sign(&host, &headers, body).unwrap();
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain(signed)
    {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("content-length: 2\r\n\r\n{}");
    write.write_all(head.as_bytes()).await.unwrap();
    let second = read_response(&mut read).await.expect("second answer");
    assert_eq!(second.status, 200);

    let (silent_closed, idle_closed) =
        tokio::join!(wait_for_close(&mut silent_read), wait_for_close(&mut read));
    for closed in [silent_closed, idle_closed] {
        assert!(closed < Duration::from_secs(8), "closed after {closed:?}");
    }
    let _keep = write;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_in_flight_bound_requests_are_throttled_not_dropped() {
    let server =
        WeirServer::start_with_args(&["--max-in-flight", "2", "--body-read-timeout", "30"])
            .unwrap();
    let mut held = Vec::new();
    for i in 0..2 {
        let body = format!(r#"{{"Name":"held-{i}"}}"#).into_bytes();
        let (read, mut write) = send_head(server.addr(), "AWSGlue.CreateWorkflow", &body).await;
        write.write_all(&body[..body.len() - 1]).await.unwrap();
        held.push((read, write, body));
    }
    // Until the server has admitted both held requests, a third one still gets through.
    let deadline = Instant::now() + PATIENCE;
    let shed = loop {
        let response = server
            .raw(Some("AWSGlue.ListWorkflows"), b"{}")
            .await
            .expect("an answer");
        if response.status != 200 || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
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

    for (mut read, mut write, body) in held {
        write.write_all(&body[body.len() - 1..]).await.unwrap();
        let response = read_response(&mut read).await.expect("held answer");
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
    }
    let names = ok(server.client().list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert_eq!(names.len(), 2, "{names:?}");
}
