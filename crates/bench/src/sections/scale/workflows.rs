//! Scale by workflow count: ListWorkflows, GetWorkflow, BatchGetWorkflows and
//! GetWorkflowRuns as the stored workflows grow (to 10,000), on the server that already
//! holds the run history.

use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::{
    BULK_CONNECTIONS, HISTORY_WORKFLOW, LATENCY_FLAT, PAGE, RSS_FLAT, SAMPLES, latency_flat,
    repeat, rss_flat,
};
use crate::client::Conn;
use crate::glue::{self, quantile};
use crate::procfs::mib;
use crate::report::{Report, Table, ms, rate, thousands};
use crate::sections::Ctx;
use crate::servers::Server;

/// Most names one BatchGetWorkflows call may ask for (the model's limit).
const BATCH_NAMES: u64 = 25;

/// Name of the `i`th workflow of the fleet.
fn fleet_name(i: u64) -> String {
    format!("fleet-{i:05}")
}

/// Latencies (ms) at one workflow count.
struct Row {
    list_page: Vec<f64>,
    get: Vec<f64>,
    batch_get: Vec<f64>,
    runs_page: Vec<f64>,
    rss_kib: u64,
}

/// Grows the fleet of workflows (each with one run) through `ctx.sizes.workflows` and
/// measures the reads at each count; returns how many fleet workflows were created.
pub(super) async fn run(
    ctx: &mut Ctx,
    report: &mut Report,
    weir: &Server,
    conn: &mut Conn,
) -> Result<u64> {
    let (_, others) = walk(conn).await?;
    let mut table = Table::new(&[
        "workflows",
        "create rate",
        "ListWorkflows page 1 p50",
        "p99",
        "pages",
        "whole walk",
        "GetWorkflow p50",
        "p99",
        "BatchGetWorkflows (25) p50",
        "p99",
        "GetWorkflowRuns page 1 p50",
        "server RSS",
    ]);
    let mut rows: Vec<Row> = Vec::new();
    let mut created = 0u64;
    for &size in &ctx.sizes.workflows.clone() {
        let first = created;
        let count = size.saturating_sub(created);
        let creation = glue::bulk(
            weir.addr,
            "CreateWorkflow",
            count,
            BULK_CONNECTIONS,
            move |i| json!({ "Name": fleet_name(first + i) }),
            Some(weir.pid()),
        )
        .await?;
        glue::bulk(
            weir.addr,
            "StartWorkflowRun",
            count,
            BULK_CONNECTIONS,
            move |i| json!({ "Name": fleet_name(first + i) }),
            Some(weir.pid()),
        )
        .await?;
        created = size.max(created);
        eprintln!(
            "  workflows: {} created ({} /s), one run each",
            thousands(created),
            rate(creation.rate())
        );

        let list_page = repeat(conn, "ListWorkflows", &json!({})).await?;
        let walk_started = Instant::now();
        let (pages, seen) = walk(conn).await?;
        let walk_ms = walk_started.elapsed().as_secs_f64() * 1000.0;
        if seen != others + created {
            bail!(
                "the walk over ListWorkflows saw {seen} workflows, {} are stored",
                others + created
            );
        }
        let middle = json!({ "Name": fleet_name(created / 2) });
        let get = repeat(conn, "GetWorkflow", &middle).await?;
        let names: Vec<String> = (0..BATCH_NAMES)
            .map(|k| fleet_name(k * created / BATCH_NAMES))
            .collect();
        let batch = json!({ "Names": names });
        let found = conn.call("BatchGetWorkflows", batch.clone()).await?;
        let found = found["Workflows"].as_array().map_or(0, Vec::len);
        if found != names.len() {
            bail!(
                "BatchGetWorkflows found {found} of {} workflows",
                names.len()
            );
        }
        let batch_get = repeat(conn, "BatchGetWorkflows", &batch).await?;
        let runs_page = repeat(
            conn,
            "GetWorkflowRuns",
            &json!({ "Name": HISTORY_WORKFLOW, "MaxResults": PAGE }),
        )
        .await?;
        let row = Row {
            list_page,
            get,
            batch_get,
            runs_page,
            rss_kib: weir.rss_kib()?,
        };
        table.row(vec![
            thousands(created),
            format!("{}/s", rate(creation.rate())),
            ms(quantile(&row.list_page, 0.5)),
            ms(quantile(&row.list_page, 0.99)),
            pages.to_string(),
            ms(walk_ms),
            ms(quantile(&row.get, 0.5)),
            ms(quantile(&row.get, 0.99)),
            ms(quantile(&row.batch_get, 0.5)),
            ms(quantile(&row.batch_get, 0.99)),
            ms(quantile(&row.runs_page, 0.5)),
            mib(row.rss_kib),
        ]);
        rows.push(row);
    }
    report.note(&format!(
        "\n**Workflow count.** Workflows `fleet-00000` … are created with CreateWorkflow on \
         {BULK_CONNECTIONS} connections (`create rate`), then each is run once \
         (StartWorkflowRun, completing at once), on the server that already holds the run \
         history above ({} other workflows). At each count, {SAMPLES} sequential calls on one \
         connection of: ListWorkflows page 1 (no MaxResults: the default and maximum page, \
         25 names); GetWorkflow of the middle workflow (its LastRun included); \
         BatchGetWorkflows of 25 names spread over the fleet; GetWorkflowRuns page 1 \
         (MaxResults={PAGE}) of `{HISTORY_WORKFLOW}`, the workflow with the long history. \
         `whole walk` follows ListWorkflows' NextToken over every page.",
        thousands(others)
    ));
    report.table(&table);
    let smallest = ctx.sizes.workflows.first().copied().unwrap_or(0);
    type Pick = fn(&Row) -> &Vec<f64>;
    let figures: [(&str, Pick); 4] = [
        ("ListWorkflows page 1", |r| &r.list_page),
        ("GetWorkflow", |r| &r.get),
        ("BatchGetWorkflows (25 names)", |r| &r.batch_get),
        ("GetWorkflowRuns page 1 of the long history", |r| {
            &r.runs_page
        }),
    ];
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        for (figure, pick) in figures {
            let base = quantile(pick(first), 0.5);
            let worst = rows
                .iter()
                .map(|row| quantile(pick(row), 0.5))
                .fold(0.0, f64::max);
            report.check(
                &format!("{figure} p50 vs stored workflows"),
                format!(
                    "{} at {}; worst up to {}: {}",
                    ms(base),
                    thousands(smallest),
                    thousands(created),
                    ms(worst)
                ),
                LATENCY_FLAT,
                latency_flat(base, worst),
            );
        }
        report.check(
            "server RSS vs stored workflows",
            format!(
                "{} at {} workflows, {} at {} workflows",
                mib(first.rss_kib),
                thousands(smallest),
                mib(last.rss_kib),
                thousands(created)
            ),
            RSS_FLAT,
            rss_flat(first.rss_kib, last.rss_kib),
        );
    }
    ctx.observe_memory(
        weir,
        &format!("scale: after storing {} more workflows", thousands(created)),
    );
    Ok(created)
}

/// Follows ListWorkflows (default page) to the end: pages and workflows seen.
async fn walk(conn: &mut Conn) -> Result<(u64, u64)> {
    let mut token: Option<String> = None;
    let mut pages = 0;
    let mut seen = 0;
    loop {
        let mut body = json!({});
        if let Some(token) = &token {
            body["NextToken"] = json!(token);
        }
        let answer: Value = conn.call("ListWorkflows", body).await?;
        pages += 1;
        seen += answer["Workflows"].as_array().map_or(0, |w| w.len() as u64);
        match answer["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return Ok((pages, seen)),
        }
    }
}
