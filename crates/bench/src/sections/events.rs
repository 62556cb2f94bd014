//! EventBridge: PutEvents throughput with every accepted event durably in a batch or a
//! run, and the latency from the PutEvents call that completes a batch to the start of
//! the run it starts.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Ctx;
use crate::client::{Conn, Signer};
use crate::glue::{epoch_ms, quantile};
use crate::load::{self, Plan, Source};
use crate::report::{Report, Table, ms, pct, rate};
use crate::servers::Server;

/// Entries per PutEvents call (EventBridge's maximum).
const ENTRIES_PER_CALL: usize = 10;
/// Connection counts of the throughput measurement.
const CONNECTIONS: [usize; 2] = [1, 16];
/// Batch size of the latency workflow: nine events in one call, the tenth completes.
const LATENCY_BATCH: usize = 10;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("EventBridge: PutEvents and event batches");
    report.note(
        "Every PutEvents call carries 10 entries, each matched by an enabled rule whose \
         target is a workflow with an EVENT trigger (BatchSize 100, BatchWindow 900 s): \
         the call answers after the one transaction that appended its events to the \
         workflow's pending batch and, every tenth call, started the run of a full batch \
         (its one action names a deleted job, so runs end at once without spawning a \
         process). Requests are signed once before the run and cycled; event ids are \
         the server's. Latency: a workflow with BatchSize 10 gets nine events in one call, \
         then a one-entry call completes the batch; `call → StartedOn` is the run's \
         StartedOn minus the moment that call was sent (same host clock, StartedOn has \
         millisecond resolution), `call answered` is that call's round trip (the run is \
         committed when it returns).",
    );
    let data_dir = ctx.data_dir("events");
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    setup(&weir).await?;
    let mut table = Table::new(&[
        "conns",
        "calls/s",
        "entries/s",
        "call p50",
        "call p99",
        "Weir CPU",
        "gen CPU",
    ]);
    let mut best = 0f64;
    for connections in CONNECTIONS {
        let source = || put_events_source(&weir, "bulk");
        load::run(
            weir.addr,
            source()?,
            Plan::timed(connections, ctx.warmup),
            None,
        )
        .await?
        .ensure_clean("PutEvents warm-up")?;
        let result = load::run(
            weir.addr,
            source()?,
            Plan::timed(connections, ctx.duration),
            Some(weir.pid()),
        )
        .await?;
        result.ensure_clean("PutEvents")?;
        let entries = result.rate() * ENTRIES_PER_CALL as f64;
        best = best.max(entries);
        eprintln!(
            "  weir PutEvents {connections:>2} conns: {:>8} entries/s  p50 {}  p99 {}",
            rate(entries),
            ms(result.quantile_ms(0.5)),
            ms(result.quantile_ms(0.99))
        );
        table.row(vec![
            connections.to_string(),
            rate(result.rate()),
            rate(entries),
            ms(result.quantile_ms(0.5)),
            ms(result.quantile_ms(0.99)),
            result.server_cpu_pct().map_or_else(|| "–".into(), pct),
            pct(result.client_cpu_pct()),
        ]);
    }
    report.table(&table);
    report.check(
        "PutEvents, durable entries/s, peak",
        format!("{}/s", rate(best)),
        "≥ 10,000/s",
        best >= 10_000.0,
    );

    let batches = (ctx.sizes.chain_runs * 100).max(50);
    let (to_start, answered) = batch_latencies(&weir, batches).await?;
    let mut latency = Table::new(&[
        "batches",
        "call → StartedOn p50",
        "p99",
        "call answered p50",
        "p99",
    ]);
    let p99 = quantile(&to_start, 0.99);
    latency.row(vec![
        batches.to_string(),
        ms(quantile(&to_start, 0.5)),
        ms(p99),
        ms(quantile(&answered, 0.5)),
        ms(quantile(&answered, 0.99)),
    ]);
    report.table(&latency);
    report.check(
        "batch complete → run StartedOn, p99",
        ms(p99),
        "≤ 10 ms",
        p99 <= 10.0,
    );
    ctx.observe_memory(&weir, "events: after the PutEvents load");
    weir.stop()
}

/// Two workflows with EVENT triggers (`bulk`: BatchSize 100; `latency`: BatchSize 10)
/// and a rule routing each detail type to its workflow.
async fn setup(weir: &Server) -> Result<()> {
    let mut glue = Conn::new(weir.addr);
    let mut events = Conn::events(weir.addr);
    // A job that no longer exists: the runs record an ERROR job run and end at once.
    glue.call(
        "CreateJob",
        json!({"Name": "gone", "Role": "weir-bench",
               "Command": {"Name": "pythonshell", "ScriptLocation": "/nonexistent.py"}}),
    )
    .await?;
    for (workflow, size) in [("bulk", 100), ("latency", LATENCY_BATCH)] {
        glue.call("CreateWorkflow", json!({ "Name": workflow }))
            .await?;
        glue.call(
            "CreateTrigger",
            json!({
                "Name": format!("{workflow}-start"),
                "WorkflowName": workflow,
                "Type": "EVENT",
                "EventBatchingCondition": {"BatchSize": size, "BatchWindow": 900},
                "Actions": [{"JobName": "gone"}],
            }),
        )
        .await?;
        events
            .call(
                "PutRule",
                json!({
                    "Name": workflow,
                    "EventPattern": json!({"detail-type": [workflow]}).to_string(),
                }),
            )
            .await?;
        events
            .call(
                "PutTargets",
                json!({
                    "Rule": workflow,
                    "Targets": [{
                        "Id": "wf",
                        "Arn": format!("arn:aws:glue:us-east-1:123456789012:workflow/{workflow}"),
                    }],
                }),
            )
            .await?;
    }
    glue.call("DeleteJob", json!({"JobName": "gone"})).await?;
    Ok(())
}

/// The PutEvents body of `count` entries of detail type `kind`.
fn put_events_body(kind: &str, count: usize) -> Value {
    let entries: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "Source": "weir.bench",
                "DetailType": kind,
                "Detail": json!({"key": format!("in/{i}.csv"), "size": 1024}).to_string(),
            })
        })
        .collect();
    json!({ "Entries": entries })
}

/// A pool of pre-signed PutEvents requests of `kind`.
fn put_events_source(weir: &Server, kind: &str) -> Result<Source> {
    let body = serde_json::to_vec(&put_events_body(kind, ENTRIES_PER_CALL))?;
    Source::presigned(&Signer::events(weir.addr), "PutEvents", &[body], 64)
}

/// For `batches` batches of the latency workflow: ms from sending the completing call
/// to the run's StartedOn, and that call's round trip in ms.
async fn batch_latencies(weir: &Server, batches: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut events = Conn::events(weir.addr);
    let mut glue = Conn::new(weir.addr);
    let mut to_start = Vec::with_capacity(batches);
    let mut answered = Vec::with_capacity(batches);
    let first = put_events_body("latency", LATENCY_BATCH - 1);
    let last = put_events_body("latency", 1);
    for batch in 0..batches {
        let accepted = events.call("PutEvents", first.clone()).await?;
        check_accepted(&accepted)?;
        let signed = Signer::events(weir.addr).sign_json("PutEvents", &last)?;
        let sent = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs_f64()
            * 1000.0;
        let answer = events.send(&signed).await?;
        check_accepted(&answer.json()?)?;
        answered.push(answer.latency.as_secs_f64() * 1000.0);
        let runs = glue
            .call(
                "GetWorkflowRuns",
                json!({"Name": "latency", "MaxResults": 1}),
            )
            .await?;
        let started = runs["Runs"][0]["StartedOn"].clone();
        let Some(started) = epoch_ms(&started) else {
            bail!("batch {batch}: no run after the completing call: {runs}");
        };
        to_start.push((started as f64 - sent).max(0.0));
    }
    Ok((to_start, answered))
}

fn check_accepted(answer: &Value) -> Result<()> {
    if answer["FailedEntryCount"].as_u64() != Some(0) {
        bail!("PutEvents failed entries: {answer}");
    }
    Ok(())
}
