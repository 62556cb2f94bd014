//! Console: how long the pages of a workflow with 1,000 runs take to render (signed in,
//! one keep-alive connection, sequential requests, server time to last byte).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use serde_json::json;

use super::Ctx;
use crate::client::{self, Conn};
use crate::glue::{self, quantile};
use crate::load::{self, Plan, Source};
use crate::report::{Report, Table, ms};
use crate::servers::Server;

/// Runs of the workflow whose pages are measured.
const RUNS: u64 = 1_000;
/// Requests per page.
const SAMPLES: usize = 50;
/// Connections that start the runs.
const CONNECTIONS: usize = 16;
/// Bound on starting and finishing the runs.
const LIMIT: Duration = Duration::from_secs(600);
/// The target for every page.
const TARGET_MS: f64 = 50.0;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Console: pages of a workflow with 1,000 runs");
    report.note(&format!(
        "A workflow `diamond` (start → A → B, C → D, pythonshell `pass` jobs) with \
         {RUNS} finished runs. Signed in with the development pair, one keep-alive \
         connection, {SAMPLES} sequential GETs per page after one warm-up; latency from \
         sending the request to the last body byte. Pages: the workflow (graph, start \
         form, latest runs), its run-history grid (runs × nodes), the latest run (live \
         graph, job runs) and its timeline."
    ));
    let data_dir = ctx.data_dir("console");
    let script = glue::noop_script(&ctx.work.join("scripts"))?;
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    let mut conn = Conn::new(weir.addr);
    let jobs: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
    for job in &jobs {
        conn.call("CreateJob", glue::job_body(job, &script, Some(RUNS as u32)))
            .await?;
    }
    glue::create_workflow(&mut conn, "diamond").await?;
    glue::start_trigger(&mut conn, "diamond", "start", &jobs[..1]).await?;
    conn.call(
        "CreateTrigger",
        glue::conditional_body("diamond", "fan-out", &jobs[..1], &jobs[1..3]),
    )
    .await?;
    conn.call(
        "CreateTrigger",
        glue::conditional_body("diamond", "fan-in", &jobs[1..3], &jobs[3..]),
    )
    .await?;
    let signer = client::Signer::new(weir.addr);
    let body = serde_json::to_vec(&json!({ "Name": "diamond" }))?;
    let source = Source::presigned(&signer, "StartWorkflowRun", &[body], 256)?;
    let started = Instant::now();
    load::run(
        weir.addr,
        source,
        Plan::counted(CONNECTIONS, RUNS, LIMIT),
        Some(weir.pid()),
    )
    .await?
    .ensure_clean("StartWorkflowRun")?;
    let latest = loop {
        let page = conn
            .call(
                "GetWorkflowRuns",
                json!({ "Name": "diamond", "MaxResults": 1000, "IncludeGraph": false }),
            )
            .await?;
        let runs = page["Runs"].as_array().cloned().unwrap_or_default();
        let done = runs.iter().filter(|r| r["Status"] == "COMPLETED").count() as u64;
        if done >= RUNS {
            break runs
                .first()
                .and_then(|r| r["WorkflowRunId"].as_str())
                .context("no run")?
                .to_string();
        }
        if started.elapsed() > LIMIT {
            bail!("{done} of {RUNS} runs completed after {LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    let cookie = sign_in(&mut client::connect(weir.addr).await?).await?;
    // The sign-in answer may close its connection: the pages get one of their own.
    let mut sender = client::connect(weir.addr).await?;
    let pages = [
        ("workflow", "/console/workflows/diamond".to_string()),
        (
            "run-history grid",
            "/console/workflows/diamond/grid".to_string(),
        ),
        (
            "latest run",
            format!("/console/workflows/diamond/runs/{latest}"),
        ),
        (
            "its timeline",
            format!("/console/workflows/diamond/runs/{latest}/timeline"),
        ),
    ];
    let mut table = Table::new(&["page", "bytes", "p50", "p99", "max"]);
    let mut worst = 0.0f64;
    for (name, path) in &pages {
        let (bytes, _) = get(&mut sender, path, &cookie).await?;
        let mut latencies = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let (_, latency) = get(&mut sender, path, &cookie).await?;
            latencies.push(latency.as_secs_f64() * 1000.0);
        }
        let p99 = quantile(&latencies, 0.99);
        worst = worst.max(p99);
        table.row(vec![
            name.to_string(),
            bytes.to_string(),
            ms(quantile(&latencies, 0.5)),
            ms(p99),
            ms(latencies.iter().copied().fold(0.0, f64::max)),
        ]);
    }
    report.table(&table);
    report.check(
        "slowest console page p99, workflow with 1,000 runs",
        ms(worst),
        "< 50 ms",
        worst < TARGET_MS,
    );
    weir.stop()
}

/// Signs in with the development pair through the sign-in form (its CSRF token and
/// any cookie the form sets); returns the session cookie.
async fn sign_in(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
) -> Result<String> {
    let request = Request::builder()
        .method(Method::GET)
        .uri("/console/sign-in")
        .header(header::HOST, "127.0.0.1")
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(request).await?;
    let form_cookie = cookie_of(response.headers());
    let page = response.into_body().collect().await?.to_bytes();
    let page = String::from_utf8_lossy(&page);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the sign-in form has no CSRF token")?
        .to_string();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/console/sign-in")
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = &form_cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = request.body(Full::new(Bytes::from(format!(
        "csrf={csrf}&access_key_id=test&secret_access_key=test&region=us-east-1"
    ))))?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let cookie = cookie_of(response.headers());
    let status = response.status();
    response.into_body().collect().await?;
    cookie.with_context(|| format!("sign-in answered {status} without a session cookie"))
}

/// The `name=value` of a response's Set-Cookie.
fn cookie_of(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// GETs `path` with the session; returns the body size and the latency.
async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    path: &str,
    cookie: &str,
) -> Result<(usize, Duration)> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::COOKIE, cookie)
        .body(Full::new(Bytes::new()))?;
    sender.ready().await?;
    let started = Instant::now();
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let latency = started.elapsed();
    if status != StatusCode::OK {
        bail!("GET {path} answered {status}");
    }
    Ok((body.len(), latency))
}
