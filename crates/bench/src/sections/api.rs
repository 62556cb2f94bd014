//! API throughput and latency: four operations under 1, 16 and 64 keep-alive
//! connections, Weir and moto_server side by side in the same run, and the generator's
//! own ceiling against a trivial endpoint.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use serde_json::json;

use super::Ctx;
use crate::client::{Conn, Signer};
use crate::glue;
use crate::load::{self, LoadResult, Plan, Source};
use crate::report::{Report, Table, ms, pct, rate};
use crate::servers::Server;

/// Connection counts every operation is measured at.
pub const CONNECTIONS: [usize; 3] = [1, 16, 64];
/// Workflows GetWorkflow reads in turn.
const GET_WORKFLOWS: usize = 16;
/// Pre-signed requests in a pool.
const POOL: usize = 256;

/// The measured operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// GetWorkflow of one of 16 workflows without runs.
    GetWorkflow,
    /// ListWorkflows (in the API section: one page of the 16 names).
    ListWorkflows,
    /// CreateWorkflow with a new name each time (signed as sent).
    CreateWorkflow,
    /// StartWorkflowRun of a workflow without a start trigger (a new workflow for each
    /// measurement, so every measurement starts from the same, short, history).
    StartWorkflowRun,
}

impl Op {
    /// Every measured operation, in measurement order.
    pub const ALL: [Op; 4] = [
        Op::GetWorkflow,
        Op::ListWorkflows,
        Op::CreateWorkflow,
        Op::StartWorkflowRun,
    ];

    /// The Glue operation name.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetWorkflow => "GetWorkflow",
            Op::ListWorkflows => "ListWorkflows",
            Op::CreateWorkflow => "CreateWorkflow",
            Op::StartWorkflowRun => "StartWorkflowRun",
        }
    }

    /// The request source for one measurement: `tag` names the measurement (its
    /// StartWorkflowRun workflow and created workflows), `warm` the warm-up before it.
    pub fn source(self, signer: &Signer, tag: &str, warm: bool) -> Result<Source> {
        let body = |value: serde_json::Value| serde_json::to_vec(&value).unwrap_or_default();
        Ok(match self {
            Op::GetWorkflow => {
                let bodies: Vec<Vec<u8>> = (0..GET_WORKFLOWS)
                    .map(|i| body(json!({ "Name": get_name(i) })))
                    .collect();
                Source::presigned(signer, self.name(), &bodies, POOL)?
            }
            Op::ListWorkflows => Source::presigned(signer, self.name(), &[body(json!({}))], POOL)?,
            Op::StartWorkflowRun => Source::presigned(
                signer,
                self.name(),
                &[body(json!({ "Name": start_workflow(tag) }))],
                POOL,
            )?,
            Op::CreateWorkflow => {
                let tag = if warm {
                    format!("{tag}-warm")
                } else {
                    tag.to_string()
                };
                Source::Generate {
                    signer: signer.clone(),
                    operation: self.name(),
                    body: Box::new(move |i| body(json!({ "Name": format!("bench-{tag}-{i}") }))),
                }
            }
        })
    }
}

/// Name of the `i`-th workflow GetWorkflow reads.
fn get_name(i: usize) -> String {
    format!("bench-get-{i:02}")
}

/// The workflow StartWorkflowRun starts in measurement `tag` (no start trigger: its
/// runs complete at once).
pub fn start_workflow(tag: &str) -> String {
    format!("bench-start-{tag}")
}

/// Creates the workflows the measured operations use.
pub async fn setup(server: &Server) -> Result<()> {
    setup_at(server.addr).await
}

/// Creates the workflows the measured operations use on the server at `addr`.
pub async fn setup_at(addr: std::net::SocketAddr) -> Result<()> {
    let mut conn = Conn::new(addr);
    for i in 0..GET_WORKFLOWS {
        glue::ensure_workflow(&mut conn, &get_name(i)).await?;
    }
    Ok(())
}

/// Warms up, then measures `op` on `connections` connections for the section duration.
pub async fn measure(ctx: &Ctx, server: &Server, op: Op, connections: usize) -> Result<LoadResult> {
    warm_up(ctx, server, op, connections).await?;
    measure_only(ctx, server, op, connections).await
}

/// Sends `op` on `connections` connections for the warm-up time, unrecorded (and
/// creates the workflow a StartWorkflowRun measurement starts).
pub async fn warm_up(ctx: &Ctx, server: &Server, op: Op, connections: usize) -> Result<()> {
    warm_up_spread(ctx, std::slice::from_ref(server), op, connections).await
}

/// [`warm_up`] with the connections spread over `servers` (replicas of one store: the
/// workflow StartWorkflowRun starts is created through the first).
pub async fn warm_up_spread(
    ctx: &Ctx,
    servers: &[Server],
    op: Op,
    connections: usize,
) -> Result<()> {
    let tag = tag(servers, connections)?;
    if op == Op::StartWorkflowRun {
        glue::ensure_workflow(&mut Conn::new(servers[0].addr), &start_workflow(&tag)).await?;
    }
    load::run_spread(
        targets(servers, op, &tag, true)?,
        Plan::timed(connections, ctx.warmup),
        &[],
    )
    .await?
    .ensure_clean(op.name())
}

/// Measures `op` on `connections` connections for the section duration.
pub async fn measure_only(
    ctx: &Ctx,
    server: &Server,
    op: Op,
    connections: usize,
) -> Result<LoadResult> {
    measure_only_spread(ctx, std::slice::from_ref(server), op, connections).await
}

/// [`measure_only`] with connection `i` sent to `servers[i mod n]`; the server CPU is
/// the sum over `servers`.
pub async fn measure_only_spread(
    ctx: &Ctx,
    servers: &[Server],
    op: Op,
    connections: usize,
) -> Result<LoadResult> {
    let tag = tag(servers, connections)?;
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let result = load::run_spread(
        targets(servers, op, &tag, false)?,
        Plan::timed(connections, ctx.duration),
        &pids,
    )
    .await?;
    let name = match servers.len() {
        1 => servers[0].name.to_string(),
        n => format!("{}×{n}", servers[0].name),
    };
    result.ensure_clean(&format!("{} on {name}", op.name()))?;
    eprintln!(
        "  {} {:<16} {:>2} conns: {:>8} req/s  p50 {}  p99 {}",
        name,
        op.name(),
        connections,
        rate(result.rate()),
        ms(result.quantile_ms(0.5)),
        ms(result.quantile_ms(0.99))
    );
    Ok(result)
}

/// The load targets of one measurement: each server with `op`'s requests signed for it.
fn targets(servers: &[Server], op: Op, tag: &str, warm: bool) -> Result<Vec<(SocketAddr, Source)>> {
    servers
        .iter()
        .map(|server| {
            Ok((
                server.addr,
                op.source(&Signer::new(server.addr), tag, warm)?,
            ))
        })
        .collect()
}

/// Names one measurement (server and connection count).
fn tag(servers: &[Server], connections: usize) -> Result<String> {
    let first = servers.first().context("a measurement needs a server")?;
    Ok(format!("{}-c{connections}", first.name))
}

/// Share of the trivial endpoint's req/s GetWorkflow and ListWorkflows must reach at
/// 16 and 64 connections.
const READ_SHARE_TARGET: f64 = 0.5;
/// Largest p99 (ms) of GetWorkflow and ListWorkflows at 64 connections.
const READ_P99_TARGET_MS: f64 = 2.0;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("API throughput and latency (Weir vs the trivial endpoint and moto_server)");
    report.note(
        "Closed loop: each of N keep-alive HTTP/1.1 connections is a task that sends its next \
         request when the previous answer has been read. Every request is a complete SigV4 \
         request (content-type;host;x-amz-date;x-amz-target, body hash): GetWorkflow, \
         ListWorkflows and StartWorkflowRun from a pool of 256 requests signed at the start \
         of each measurement, CreateWorkflow signed when sent (each has a new name). \
         GetWorkflow reads 16 workflows in turn (no runs, no graph); ListWorkflows lists the 16 \
         names (one page, no NextToken); StartWorkflowRun \
         starts a workflow **with no start trigger** (the run completes at once; Weir commits \
         it durably, moto keeps it in memory), a new workflow for each measurement. \
         The same requests, from the same generator, also go to a trivial endpoint \
         (`weir-bench echo-server`: hyper on a multi-threaded tokio runtime, reads the body and \
         answers `200 {}`): its req/s is what the machine serves with this generator at all, \
         and `Weir/echo` is Weir's fraction of it. \
         Latency in ms from send to last body byte (HDR histogram). `gen CPU` and `server \
         CPU` are the generator's (during the Weir measurement) and each server's CPU time \
         over the measurement, in % of one core (the machine has 2 cores shared by generator \
         and server).",
    );
    let weir = Server::weir(&ctx.weir, &ctx.data_dir("api"))?;
    let echo = Server::echo(None)?;
    let moto = match &ctx.moto {
        Some(bin) => Some(Server::moto(bin, &ctx.work.join("moto-api.log"))?),
        None => None,
    };
    setup(&weir).await?;
    if let Some(moto) = &moto {
        setup(moto).await?;
    }
    let mut table = Table::new(&[
        "operation",
        "conns",
        "Weir req/s",
        "p50",
        "p99",
        "echo req/s",
        "p99",
        "Weir/echo",
        "moto req/s",
        "p50",
        "p99",
        "Weir/moto",
        "gen CPU",
        "Weir CPU",
        "echo CPU",
        "moto CPU",
    ]);
    let mut peaks: Vec<(Op, f64, Option<f64>)> = Vec::new();
    let mut reads: Vec<(Op, usize, LoadResult, LoadResult)> = Vec::new();
    for op in Op::ALL {
        let (mut weir_peak, mut moto_peak) = (0f64, None::<f64>);
        for connections in CONNECTIONS {
            let w = measure(ctx, &weir, op, connections).await?;
            let e = measure(ctx, &echo, op, connections).await?;
            let m = match &moto {
                Some(moto) => Some(measure(ctx, moto, op, connections).await?),
                None => None,
            };
            weir_peak = weir_peak.max(w.rate());
            if let Some(m) = &m {
                moto_peak = Some(moto_peak.unwrap_or(0.0).max(m.rate()));
            }
            let dash = || "–".to_string();
            table.row(vec![
                op.name().into(),
                connections.to_string(),
                rate(w.rate()),
                ms(w.quantile_ms(0.5)),
                ms(w.quantile_ms(0.99)),
                rate(e.rate()),
                ms(e.quantile_ms(0.99)),
                format!("{:.0}%", 100.0 * w.rate() / e.rate()),
                m.as_ref().map_or_else(dash, |m| rate(m.rate())),
                m.as_ref().map_or_else(dash, |m| ms(m.quantile_ms(0.5))),
                m.as_ref().map_or_else(dash, |m| ms(m.quantile_ms(0.99))),
                m.as_ref()
                    .map_or_else(dash, |m| format!("{:.1}×", w.rate() / m.rate())),
                pct(w.client_cpu_pct()),
                w.server_cpu_pct().map_or_else(dash, pct),
                e.server_cpu_pct().map_or_else(dash, pct),
                m.as_ref()
                    .and_then(LoadResult::server_cpu_pct)
                    .map_or_else(dash, pct),
            ]);
            if matches!(op, Op::GetWorkflow | Op::ListWorkflows) && connections > 1 {
                reads.push((op, connections, w, e));
            }
        }
        peaks.push((op, weir_peak, moto_peak));
    }
    report.table(&table);
    let mut peak_table = Table::new(&["operation", "Weir peak req/s", "moto peak req/s", "ratio"]);
    for (op, weir_peak, moto_peak) in &peaks {
        peak_table.row(vec![
            op.name().into(),
            rate(*weir_peak),
            moto_peak.map_or_else(|| "–".into(), rate),
            moto_peak.map_or_else(|| "–".into(), |m| format!("{:.1}×", weir_peak / m)),
        ]);
    }
    report.note("\nPeak over the three connection counts:");
    report.table(&peak_table);
    if let Some((_, get_peak, moto_get)) = peaks.iter().find(|(op, ..)| *op == Op::GetWorkflow) {
        report.check(
            "GetWorkflow peak throughput",
            format!("{} req/s", rate(*get_peak)),
            "≥ 20,000 req/s",
            *get_peak >= 20_000.0,
        );
        if let Some(moto_get) = moto_get {
            let ratio = get_peak / moto_get;
            report.check(
                "GetWorkflow peak, Weir/moto",
                format!(
                    "{ratio:.1}× ({} vs {} req/s)",
                    rate(*get_peak),
                    rate(*moto_get)
                ),
                "≥ 100×",
                ratio >= 100.0,
            );
        }
    }
    check_reads(report, &reads);
    ctx.observe_memory(&weir, "api: after the API load");
    weir.stop()?;
    echo.stop()?;
    if let Some(moto) = moto {
        moto.stop()?;
    }
    Ok(())
}

/// The read targets: each read at 16 and 64 connections reaches
/// [`READ_SHARE_TARGET`] of the trivial endpoint's req/s in the same run, and its p99
/// at 64 connections is at most [`READ_P99_TARGET_MS`].
fn check_reads(report: &mut Report, reads: &[(Op, usize, LoadResult, LoadResult)]) {
    for (op, connections, weir, echo) in reads {
        let share = weir.rate() / echo.rate();
        report.check(
            &format!(
                "{} at {connections} conns, share of the trivial endpoint",
                op.name()
            ),
            format!(
                "{:.0}% ({} vs {} req/s)",
                100.0 * share,
                rate(weir.rate()),
                rate(echo.rate())
            ),
            &format!("≥ {:.0}%", 100.0 * READ_SHARE_TARGET),
            share >= READ_SHARE_TARGET,
        );
        if *connections == 64 {
            let p99 = weir.quantile_ms(0.99);
            report.check(
                &format!("{} p99 at 64 conns", op.name()),
                ms(p99),
                &format!("≤ {READ_P99_TARGET_MS} ms"),
                p99 <= READ_P99_TARGET_MS,
            );
        }
    }
}
