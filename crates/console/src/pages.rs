//! The three console pages: reads (one read transaction each) and their HTML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use weir_model::shapes::{
    JobRun, Workflow, WorkflowGraph, WorkflowRunStatistics, WorkflowRunStatus,
};
use weir_store::{Kind, RunCursor, Scope};

use super::html::{self, badge, escape, link, segment, time};
use super::svg::{self, Mode};
use weir_glue::App;
use weir_orchestrator::render;
use weir_orchestrator::stored_run::{self, RunKey};
use weir_resources::{ApiError, OrApiError};
use weir_resources::{graph, stored};

/// Workflows per page of the index.
const WORKFLOWS_PAGE: usize = 100;
/// Runs per page of a workflow.
const RUNS_PAGE: usize = 50;

/// One row of the workflow list.
struct WorkflowRow {
    name: String,
    description: Option<String>,
    created_ms: Option<i64>,
    /// Status, start time and id of the latest run.
    last_run: Option<(WorkflowRunStatus, i64, String)>,
}

fn workflow_href(name: &str) -> String {
    format!("/console/workflows/{}", segment(name))
}

fn run_href(workflow: &str, run_id: &str) -> String {
    format!("{}/runs/{}", workflow_href(workflow), segment(run_id))
}

fn crumbs(workflow: Option<&str>, run: Option<&str>) -> Vec<(String, String)> {
    let mut out = vec![("/console".to_string(), "Workflows".to_string())];
    if let Some(name) = workflow {
        out.push((workflow_href(name), name.to_string()));
        if let Some(run_id) = run {
            out.push((run_href(name, run_id), run_id.to_string()));
        }
    }
    out
}

fn not_found(name: &str) -> String {
    format!("Workflow {name} does not exist in the default account and region.")
}

/// Parses a run-list cursor `<started ms>.<run id>`.
pub(super) fn parse_cursor(text: &str) -> Option<RunCursor> {
    let (started, run_id) = text.split_once('.')?;
    let started_ms = started.parse().ok()?;
    (!run_id.is_empty() && run_id.len() <= 255).then(|| RunCursor {
        started_ms,
        run_id: run_id.to_string(),
    })
}

/// `/console`: the workflows of `scope`, by name, from after `after`.
pub(super) async fn index(
    app: &App,
    scope: Scope,
    after: Option<String>,
) -> Result<String, ApiError> {
    let (rows, more) = app
        .read(move |tx| {
            let records = tx.list(&scope, Kind::Workflow, after.as_deref(), WORKFLOWS_PAGE + 1)?;
            let more = records.len() > WORKFLOWS_PAGE;
            let mut rows = Vec::new();
            for record in records.into_iter().take(WORKFLOWS_PAGE) {
                let name = record.name.clone();
                let workflow = stored::decode::<Workflow>(record)?.value;
                let last_run = tx
                    .list_runs(&scope, &name, None, 1)?
                    .into_iter()
                    .next()
                    .map(|r| {
                        let status = WorkflowRunStatus::from(r.status.as_str());
                        (status, r.started_ms, r.run_id)
                    });
                rows.push(WorkflowRow {
                    name,
                    description: workflow.description,
                    created_ms: workflow.created_on.map(|t| t.as_millis()),
                    last_run,
                });
            }
            Ok((rows, more))
        })
        .await?;
    let mut body = String::new();
    if rows.is_empty() {
        body.push_str("<p class=\"muted\">No workflows yet.</p>");
    } else {
        body.push_str(
            "<table class=\"workflows\"><tr><th>Name</th><th>Last run</th>\
             <th>Last run started</th><th>Created</th><th>Description</th></tr>\n",
        );
        for row in &rows {
            let (status, started) = match &row.last_run {
                Some((status, started, run_id)) => (
                    format!(
                        "<a href=\"{}\">{}</a>",
                        escape(&run_href(&row.name, run_id)),
                        badge(Some(status))
                    ),
                    time(Some(*started)),
                ),
                None => ("<span class=\"muted\">never run</span>".into(), time(None)),
            };
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{status}</td><td>{started}</td><td>{}</td><td>{}</td></tr>",
                link(&workflow_href(&row.name), &row.name),
                time(row.created_ms),
                escape(row.description.as_deref().unwrap_or_default()),
            );
        }
        body.push_str("</table>\n");
    }
    if let (true, Some(last)) = (more, rows.last()) {
        let href = format!("/console?after={}", segment(&last.name));
        let _ = write!(body, "<p>{}</p>", link(&href, "Next page →"));
    }
    Ok(html::page("Workflows", &crumbs(None, None), &body, false))
}

/// `/console/workflows/{name}`: the static graph and the runs, newest first.
pub(super) async fn workflow(
    app: &App,
    scope: Scope,
    name: String,
    before: Option<RunCursor>,
) -> Result<String, ApiError> {
    let key = name.clone();
    let (workflow, graph, runs, next) = app
        .read(move |tx| {
            let workflow = stored::load::<Workflow>(tx, &scope, Kind::Workflow, &key)?
                .or_not_found(|| not_found(&key))?
                .value;
            let graph = graph::load(tx, &scope, &key)?;
            let records = tx.list_runs(&scope, &key, before.as_ref(), RUNS_PAGE + 1)?;
            let next = (records.len() > RUNS_PAGE)
                .then(|| records.get(RUNS_PAGE - 1))
                .flatten()
                .map(|r| format!("{}.{}", r.started_ms, r.run_id));
            let runs = records
                .iter()
                .take(RUNS_PAGE)
                .map(|r| stored_run::decode(r).map(|s| render::workflow_run(&s, false)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((workflow, graph, runs, next))
        })
        .await?;
    let mut body = String::new();
    body.push_str("<table class=\"facts\">");
    fact(&mut body, "Description", workflow.description.as_deref());
    fact(
        &mut body,
        "Created",
        Some(&time(workflow.created_on.map(|t| t.as_millis()))),
    );
    fact(
        &mut body,
        "Last modified",
        Some(&time(workflow.last_modified_on.map(|t| t.as_millis()))),
    );
    let max_runs = workflow.max_concurrent_runs.map(|n| n.to_string());
    fact(&mut body, "Max concurrent runs", max_runs.as_deref());
    body.push_str("</table>\n");
    properties(
        &mut body,
        "Default run properties",
        workflow.default_run_properties.as_ref(),
    );
    body.push_str("<h2>Graph</h2>\n");
    graph_block(&mut body, &graph, Mode::Static);
    body.push_str("<h2>Runs</h2>\n");
    if runs.is_empty() {
        body.push_str("<p class=\"muted\">No runs.</p>");
    } else {
        body.push_str(
            "<table class=\"runs\"><tr><th>Run</th><th>Status</th><th>Started</th>\
             <th>Completed</th><th>Statistics</th><th>Error</th></tr>\n",
        );
        for run in &runs {
            let run_id = run.workflow_run_id.as_deref().unwrap_or_default();
            let _ = writeln!(
                body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"msg\">{}</td></tr>",
                link(&run_href(&name, run_id), run_id),
                badge(run.status.as_ref()),
                time(run.started_on.map(|t| t.as_millis())),
                time(run.completed_on.map(|t| t.as_millis())),
                statistics(run.statistics.as_ref()),
                escape(run.error_message.as_deref().unwrap_or_default()),
            );
        }
        body.push_str("</table>\n");
    }
    if let Some(cursor) = next {
        let href = format!("{}?before={}", workflow_href(&name), segment(&cursor));
        let _ = write!(body, "<p>{}</p>", link(&href, "Older runs →"));
    }
    Ok(html::page(&name, &crumbs(Some(&name), None), &body, false))
}

/// `/console/workflows/{name}/runs/{run id}`: the run graph and its job runs.
pub(super) async fn run(
    app: &App,
    scope: Scope,
    name: String,
    run_id: String,
) -> Result<String, ApiError> {
    let key = name.clone();
    let id = run_id.clone();
    let run = app
        .read(move |tx| {
            stored::load::<Workflow>(tx, &scope, Kind::Workflow, &key)?
                .or_not_found(|| not_found(&key))?;
            let stored = stored_run::load(
                tx,
                &RunKey {
                    scope,
                    workflow: key,
                    run_id: id,
                },
            )?;
            Ok(render::workflow_run(&stored, true))
        })
        .await?;
    let mut body = String::new();
    body.push_str("<table class=\"facts\">");
    fact_html(&mut body, "Status", &badge(run.status.as_ref()));
    fact(
        &mut body,
        "Started",
        Some(&time(run.started_on.map(|t| t.as_millis()))),
    );
    fact(
        &mut body,
        "Completed",
        Some(&time(run.completed_on.map(|t| t.as_millis()))),
    );
    if let Some(previous) = run.previous_run_id.as_deref() {
        fact_html(
            &mut body,
            "Resumed from",
            &link(&run_href(&name, previous), previous),
        );
    }
    fact_html(
        &mut body,
        "Statistics",
        &statistics(run.statistics.as_ref()),
    );
    fact(&mut body, "Error", run.error_message.as_deref());
    body.push_str("</table>\n");
    properties(
        &mut body,
        "Run properties",
        run.workflow_run_properties.as_ref(),
    );
    body.push_str("<h2>Graph</h2>\n");
    body.push_str(&svg::legend());
    let graph = run.graph.clone().unwrap_or_default();
    graph_block(&mut body, &graph, Mode::Run);
    job_runs_table(&mut body, &graph);
    let live = matches!(
        run.status,
        Some(WorkflowRunStatus::Running | WorkflowRunStatus::Stopping)
    );
    let title = format!("{name} — run");
    Ok(html::page(
        &title,
        &crumbs(Some(&name), Some(&run_id)),
        &body,
        live,
    ))
}

fn job_runs_table(body: &mut String, graph: &WorkflowGraph) {
    let mut job_runs: Vec<&JobRun> = graph
        .nodes
        .iter()
        .flatten()
        .filter_map(|n| n.job_details.as_ref()?.job_runs.as_ref())
        .flatten()
        .collect();
    job_runs.sort_by_key(|r| {
        (
            r.started_on.map(|t| t.as_millis()),
            r.job_name.clone(),
            r.attempt,
        )
    });
    body.push_str("<h2>Job runs</h2>\n");
    if job_runs.is_empty() {
        body.push_str("<p class=\"muted\">No job has run.</p>");
        return;
    }
    body.push_str(
        "<table class=\"job-runs\"><tr><th>Job</th><th>Job run</th><th>Attempt</th>\
         <th>State</th><th>Started</th><th>Completed</th><th>Error</th><th>Logs</th></tr>\n",
    );
    for jr in job_runs {
        let id = jr.id.as_deref().unwrap_or_default();
        let logs = if super::is_job_run_id(id) {
            format!(
                "{} · {}",
                link(&format!("/console/job-runs/{id}/stdout"), "stdout"),
                link(&format!("/console/job-runs/{id}/stderr"), "stderr")
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            body,
            "<tr id=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"msg\">{}</td><td>{logs}</td></tr>",
            escape(id),
            escape(jr.job_name.as_deref().unwrap_or_default()),
            escape(&html::truncate(id, 15)),
            jr.attempt.unwrap_or_default(),
            badge(jr.job_run_state.as_ref()),
            time(jr.started_on.map(|t| t.as_millis())),
            time(jr.completed_on.map(|t| t.as_millis())),
            escape(jr.error_message.as_deref().unwrap_or_default()),
        );
    }
    body.push_str("</table>\n");
}

fn graph_block(body: &mut String, graph: &WorkflowGraph, mode: Mode) {
    let _ = writeln!(
        body,
        "<div class=\"graph\">{}</div>",
        svg::render(graph, mode)
    );
}

fn fact(body: &mut String, label: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        fact_html(body, label, &escape(value));
    }
}

fn fact_html(body: &mut String, label: &str, value_html: &str) {
    let _ = write!(
        body,
        "<tr><th>{}</th><td>{value_html}</td></tr>",
        escape(label)
    );
}

fn properties(body: &mut String, title: &str, properties: Option<&BTreeMap<String, String>>) {
    let Some(properties) = properties.filter(|p| !p.is_empty()) else {
        return;
    };
    let _ = writeln!(
        body,
        "<h2>{}</h2>\n<table class=\"properties\">",
        escape(title)
    );
    for (key, value) in properties {
        let _ = writeln!(
            body,
            "<tr><th>{}</th><td class=\"msg\">{}</td></tr>",
            escape(key),
            escape(value)
        );
    }
    body.push_str("</table>\n");
}

/// "4 actions: 3 succeeded, 1 failed", listing only non-zero counts.
fn statistics(stats: Option<&WorkflowRunStatistics>) -> String {
    let Some(s) = stats else {
        return String::new();
    };
    let total = s.total_actions.unwrap_or_default();
    let parts: Vec<String> = [
        (s.succeeded_actions, "succeeded"),
        (s.failed_actions, "failed"),
        (s.errored_actions, "errored"),
        (s.timeout_actions, "timed out"),
        (s.stopped_actions, "stopped"),
        (s.running_actions, "running"),
        (s.waiting_actions, "waiting"),
    ]
    .into_iter()
    .filter_map(|(n, label)| n.filter(|&n| n > 0).map(|n| format!("{n} {label}")))
    .collect();
    let noun = if total == 1 { "action" } else { "actions" };
    if parts.is_empty() {
        format!("{total} {noun}")
    } else {
        format!("{total} {noun}: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = parse_cursor("1700000000000.wr_abc").expect("cursor");
        assert_eq!(cursor.started_ms, 1_700_000_000_000);
        assert_eq!(cursor.run_id, "wr_abc");
        for bad in ["", "x.wr_a", "12", "12.", ".wr_a"] {
            assert!(parse_cursor(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hrefs_encode_names() {
        assert_eq!(workflow_href("a b/c"), "/console/workflows/a%20b%2Fc");
        assert_eq!(run_href("w", "wr_1"), "/console/workflows/w/runs/wr_1");
    }

    #[test]
    fn statistics_list_non_zero_counts() {
        let stats = WorkflowRunStatistics {
            total_actions: Some(3),
            succeeded_actions: Some(2),
            failed_actions: Some(1),
            running_actions: Some(0),
            ..Default::default()
        };
        assert_eq!(statistics(Some(&stats)), "3 actions: 2 succeeded, 1 failed");
        assert_eq!(statistics(None), "");
    }
}
