//! CloudWatch Logs: GetLogEvents latency of the first page (from the head), the last
//! page (from the tail) and the last page read with a forward token, of a long stream
//! beside a short one, to show that a page is an index range read whose cost does not
//! grow with the stream's length.

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::Ctx;
use crate::client::Conn;
use crate::glue::quantile;
use crate::report::{Report, Table, ms, thousands};
use crate::servers::Server;

/// The group of the measured streams.
const GROUP: &str = "/weir-bench/output";
/// Lines of the short and the long stream.
const STREAMS: [(&str, usize); 2] = [("short", 1_000), ("long", 100_000)];
/// Events per PutLogEvents call while filling the streams (the API's maximum).
const PUT_BATCH: usize = 10_000;
/// Events per measured page.
const PAGE: usize = 100;
/// Measured calls per page kind and stream (after as many unrecorded ones; the two
/// streams alternate).
const CALLS: usize = 500;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("CloudWatch Logs: GetLogEvents by stream length");
    report.note(
        "Two streams of one group, filled with PutLogEvents (10,000 events per call, \
         ~60-byte lines): 1,000 and 100,000 lines. Each figure is the round trip of one \
         GetLogEvents call of 100 events on one keep-alive connection, 500 calls after \
         500 unrecorded ones, the two streams in alternation: the first page (`startFromHead=true`) and the last page \
         (`startFromHead=false`, what a tail or a backward pager reads first), and the \
         last page read with a forward token (`f/…` at 100 events before the end, where \
         a poller following a running job reads).",
    );
    let data_dir = ctx.data_dir("logs");
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    let mut logs = Conn::logs(weir.addr);
    logs.call("CreateLogGroup", json!({ "logGroupName": GROUP }))
        .await?;
    for (stream, lines) in STREAMS {
        fill(&mut logs, stream, lines).await?;
    }
    let mut table = Table::new(&[
        "stream lines",
        "first page p50",
        "p99",
        "last page p50",
        "p99",
        "f/ token page p50",
        "p99",
    ]);
    // Each page kind is measured on both streams in alternation, so that the load of a
    // shared machine weighs on both alike.
    let mut measured: Vec<[Vec<f64>; 3]> = STREAMS.iter().map(|_| Default::default()).collect();
    for (kind, start) in [Start::Head, Start::Tail, Start::TokenNearEnd]
        .into_iter()
        .enumerate()
    {
        for call in 0..CALLS * 2 {
            for (index, (stream, lines)) in STREAMS.iter().enumerate() {
                let latency = page_latency(&mut logs, stream, *lines, start).await?;
                if call >= CALLS {
                    measured[index][kind].push(latency);
                }
            }
        }
    }
    let mut slowest_p50 = Vec::new();
    for ((_, lines), [head, tail, token]) in STREAMS.iter().zip(&measured) {
        eprintln!(
            "  weir GetLogEvents {lines:>7} lines: first p50 {} p99 {}  last p50 {} p99 {}  \
             f/ token p50 {} p99 {}",
            ms(quantile(head, 0.5)),
            ms(quantile(head, 0.99)),
            ms(quantile(tail, 0.5)),
            ms(quantile(tail, 0.99)),
            ms(quantile(token, 0.5)),
            ms(quantile(token, 0.99))
        );
        slowest_p50.push(
            quantile(tail, 0.5)
                .max(quantile(head, 0.5))
                .max(quantile(token, 0.5)),
        );
        table.row(vec![
            thousands(*lines as u64),
            ms(quantile(head, 0.5)),
            ms(quantile(head, 0.99)),
            ms(quantile(tail, 0.5)),
            ms(quantile(tail, 0.99)),
            ms(quantile(token, 0.5)),
            ms(quantile(token, 0.99)),
        ]);
    }
    report.table(&table);
    let ratio = slowest_p50.get(1).copied().unwrap_or(f64::NAN)
        / slowest_p50.first().copied().unwrap_or(f64::NAN);
    report.check(
        "GetLogEvents p50, 100,000 lines ÷ 1,000 lines (slowest of the three pages)",
        format!("{ratio:.2}×"),
        "≤ 1.5× (flat in stream length)",
        ratio <= 1.5,
    );
    ctx.observe_memory(&weir, "logs: after 101,000 stored lines");
    weir.stop()
}

/// Creates `stream` and fills it with `lines` numbered lines.
async fn fill(logs: &mut Conn, stream: &str, lines: usize) -> Result<()> {
    logs.call(
        "CreateLogStream",
        json!({ "logGroupName": GROUP, "logStreamName": stream }),
    )
    .await?;
    let mut written = 0;
    while written < lines {
        let batch = PUT_BATCH.min(lines - written);
        let events: Vec<Value> = (written..written + batch)
            .map(|i| {
                json!({
                    "timestamp": 1_700_000_000_000_i64 + i as i64,
                    "message": format!("{i:08} INFO the job wrote this line while it ran"),
                })
            })
            .collect();
        logs.call(
            "PutLogEvents",
            json!({ "logGroupName": GROUP, "logStreamName": stream, "logEvents": events }),
        )
        .await?;
        written += batch;
    }
    Ok(())
}

/// Where a measured page starts.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// `startFromHead=true`, no token.
    Head,
    /// `startFromHead=false`, no token.
    Tail,
    /// A forward token one page before the end of the stream.
    TokenNearEnd,
}

/// The round trip in ms of one GetLogEvents call of a page of `stream` (of `lines`).
async fn page_latency(logs: &mut Conn, stream: &str, lines: usize, start: Start) -> Result<f64> {
    let mut body = json!({
        "logGroupName": GROUP,
        "logStreamName": stream,
        "limit": PAGE,
    });
    match start {
        Start::Head => body["startFromHead"] = true.into(),
        Start::Tail => body["startFromHead"] = false.into(),
        Start::TokenNearEnd => {
            let position = lines - PAGE;
            body["nextToken"] = format!("f/{position:056}").into();
        }
    }
    let answer = logs.call_raw("GetLogEvents", &body).await?;
    let page = answer.json()?;
    if page["events"].as_array().map(Vec::len) != Some(PAGE) {
        bail!("GetLogEvents of {stream} answered no full page: {page}");
    }
    Ok(answer.latency.as_secs_f64() * 1000.0)
}
