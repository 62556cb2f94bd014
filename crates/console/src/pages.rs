//! The console pages: workflows, a workflow, a run, a job, crawlers — reads (one read
//! transaction each, or the API's read handlers) and their HTML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use weir_model::operations as ops;
use weir_model::shapes::{
    self, JobRun, NodeType, Workflow, WorkflowGraph, WorkflowRun, WorkflowRunStatistics,
    WorkflowRunStatus,
};
use weir_store::{Kind, RunCursor, Scope};

use super::access::Viewer;
use super::actions::{call, format_properties};
use super::html::{self, badge, button_form, csrf_field, escape, link, segment, time};
use super::svg::{self, Mode};
use weir_glue::App;
use weir_orchestrator::render;
use weir_orchestrator::stored_run::{self, RunKey};
use weir_resources::{ApiError, OrApiError};
use weir_resources::{graph, stored};

/// Workflows per page of the index.
const WORKFLOWS_PAGE: usize = 100;
/// Latest events of each log shown on a job run's page.
const LOG_PAGE_EVENTS: usize = 500;
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

pub(super) fn workflow_href(name: &str) -> String {
    format!("/console/workflows/{}", segment(name))
}

pub(super) fn run_href(workflow: &str, run_id: &str) -> String {
    format!("{}/runs/{}", workflow_href(workflow), segment(run_id))
}

pub(super) fn job_href(name: &str) -> String {
    format!("/console/jobs/{}", segment(name))
}

pub(super) fn crumbs(workflow: Option<&str>, run: Option<&str>) -> Vec<(String, String)> {
    let mut out = vec![("/console".to_string(), "Workflows".to_string())];
    if let Some(name) = workflow {
        out.push((workflow_href(name), name.to_string()));
        if let Some(run_id) = run {
            out.push((run_href(name, run_id), run_id.to_string()));
        }
    }
    out
}

pub(super) fn not_found(name: &str) -> String {
    format!("Workflow {name} does not exist in this account and region.")
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
    viewer: &Viewer,
    after: Option<String>,
) -> Result<String, ApiError> {
    let scope = viewer.scope.clone();
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
    body.push_str("<p><a href=\"/console/crawlers\">Crawlers</a></p>");
    Ok(html::page(
        "Workflows",
        &crumbs(None, None),
        &body,
        Some(&viewer.frame()),
    ))
}

/// `/console/workflows/{name}`: the static graph and the runs, newest first.
pub(super) async fn workflow(
    app: &App,
    viewer: &Viewer,
    name: String,
    before: Option<RunCursor>,
) -> Result<String, ApiError> {
    let scope = viewer.scope.clone();
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
    let _ = writeln!(
        body,
        "<p class=\"tabs\">{}</p><div class=\"actions\">\
         <form method=\"post\" action=\"{}/start\" id=\"start-run\">{}\
         <label>Run properties (one <code>key=value</code> per line)<br>\
         <textarea name=\"properties\" id=\"run-properties\" rows=\"4\" cols=\"50\">{}</textarea>\
         </label><br><button type=\"submit\" id=\"start\">Start run</button></form></div>",
        link(
            &format!("{}/grid", workflow_href(&name)),
            "Run history grid"
        ),
        escape(&workflow_href(&name)),
        csrf_field(&viewer.csrf),
        escape(&format_properties(workflow.default_run_properties.as_ref())),
    );
    body.push_str("<h2>Graph</h2>\n");
    graph_block(&mut body, &graph, Mode::Static);
    triggers_table(&mut body, &name, &graph, &viewer.csrf);
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
    Ok(html::page(
        &name,
        &crumbs(Some(&name), None),
        &body,
        Some(&viewer.frame()),
    ))
}

/// A run of workflow `name` in `scope`, rendered as GetWorkflowRun answers with its graph.
pub(super) async fn load_run(
    app: &App,
    scope: Scope,
    name: String,
    run_id: String,
) -> Result<WorkflowRun, ApiError> {
    app.read(move |tx| {
        stored::load::<Workflow>(tx, &scope, Kind::Workflow, &name)?
            .or_not_found(|| not_found(&name))?;
        let stored = stored_run::load(
            tx,
            &RunKey {
                scope,
                workflow: name,
                run_id,
            },
        )?;
        Ok(render::workflow_run(&stored, true))
    })
    .await
}

/// Whether a run may still change.
pub(super) fn is_live(run: &WorkflowRun) -> bool {
    matches!(
        run.status,
        Some(WorkflowRunStatus::Running | WorkflowRunStatus::Stopping)
    )
}

/// The facts table of a run (status, times, statistics, error, properties).
pub(super) fn run_facts(name: &str, run: &WorkflowRun) -> String {
    let mut body = String::new();
    body.push_str("<table class=\"facts\">");
    fact_html(
        &mut body,
        "Status",
        &format!(
            "<span id=\"run-status\">{}</span>",
            badge(run.status.as_ref())
        ),
    );
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
            &link(&run_href(name, previous), previous),
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
    body
}

/// What can be done to a run: stop it and edit its properties while it runs; resume it
/// from picked nodes once COMPLETED (AWS's rule), the pickable nodes being the job and
/// crawler nodes the run attempted.
pub(super) fn run_actions(name: &str, run: &WorkflowRun, csrf: &str) -> String {
    let run_id = run.workflow_run_id.as_deref().unwrap_or_default();
    let href = run_href(name, run_id);
    let mut out = String::from("<div class=\"actions\">");
    if matches!(run.status, Some(WorkflowRunStatus::Running)) {
        out.push_str(&button_form(
            &format!("{href}/stop"),
            "Stop run",
            csrf,
            "stop",
        ));
        let _ = write!(
            out,
            "<form method=\"post\" action=\"{}/properties\" id=\"edit-properties\">{}\
             <label>Run properties<br><textarea name=\"properties\" id=\"run-properties\" \
             rows=\"3\" cols=\"40\">{}</textarea></label><br>\
             <button type=\"submit\" id=\"save-properties\">Save properties</button></form>",
            escape(&href),
            csrf_field(csrf),
            escape(&format_properties(run.workflow_run_properties.as_ref())),
        );
    }
    if matches!(run.status, Some(WorkflowRunStatus::Completed)) {
        let pickable: Vec<(&str, &str)> = run
            .graph
            .iter()
            .flat_map(|g| g.nodes.iter().flatten())
            .filter(|n| !matches!(n.r#type, Some(NodeType::Trigger)))
            .filter(|n| svg::latest_attempt(n).0.is_some())
            .filter_map(|n| Some((n.unique_id.as_deref()?, n.name.as_deref()?)))
            .collect();
        if !pickable.is_empty() {
            let _ = write!(
                out,
                "<form method=\"post\" action=\"{}/resume\" id=\"resume\">{}\
                 <strong>Resume from</strong> (pick nodes on the graph or here):<br>",
                escape(&href),
                csrf_field(csrf),
            );
            for (id, node_name) in pickable {
                let _ = write!(
                    out,
                    "<label><input type=\"checkbox\" name=\"node\" value=\"{id}\" \
                     id=\"pick-{id}\" class=\"pick\"> {}</label><br>",
                    escape(node_name),
                    id = escape(id),
                );
            }
            out.push_str("<button type=\"submit\" id=\"resume-run\">Resume run</button></form>");
        }
    }
    out.push_str("</div>");
    out
}

/// `/console/workflows/{name}/runs/{run id}`: the run graph and its job runs, updated
/// live by `console.js` from the run's `live` JSON while the run may change.
pub(super) async fn run(
    app: &App,
    viewer: &Viewer,
    name: String,
    run_id: String,
) -> Result<String, ApiError> {
    let run = load_run(app, viewer.scope.clone(), name.clone(), run_id.clone()).await?;
    let href = run_href(&name, &run_id);
    let mut body = String::new();
    let _ = write!(
        body,
        "<div id=\"run\" data-live=\"{live}/live\" data-finished=\"{finished}\">\
         <p class=\"tabs\">{timeline}</p><div id=\"facts\">{facts}</div>\
         <div id=\"run-actions\">{actions}</div>",
        live = escape(&href),
        finished = !is_live(&run),
        timeline = link(&format!("{href}/timeline"), "Timeline"),
        facts = run_facts(&name, &run),
        actions = run_actions(&name, &run, &viewer.csrf),
    );
    body.push_str("<h2>Graph</h2>\n");
    body.push_str(&svg::legend());
    let graph = run.graph.clone().unwrap_or_default();
    graph_block(&mut body, &graph, Mode::Run);
    let _ = write!(
        body,
        "<div id=\"job-runs\">{}</div></div>",
        job_runs_table(&graph)
    );
    let title = format!("{name} — run");
    Ok(html::page(
        &title,
        &crumbs(Some(&name), Some(&run_id)),
        &body,
        Some(&viewer.frame()),
    ))
}

/// The job runs of a run graph, by start time.
pub(super) fn job_runs_table(graph: &WorkflowGraph) -> String {
    let mut body = String::new();
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
        return body;
    }
    body.push_str(
        "<table class=\"job-runs\"><tr><th>Job</th><th>Job run</th><th>Attempt</th>\
         <th>State</th><th>Started</th><th>Completed</th><th>Error</th><th>Logs</th></tr>\n",
    );
    for jr in job_runs {
        let id = jr.id.as_deref().unwrap_or_default();
        let logs = log_links(jr);
        let _ = writeln!(
            body,
            "<tr id=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"msg\">{}</td><td>{logs}</td></tr>",
            escape(id),
            link(
                &job_href(jr.job_name.as_deref().unwrap_or_default()),
                jr.job_name.as_deref().unwrap_or_default()
            ),
            escape(&html::truncate(id, 15)),
            jr.attempt.unwrap_or_default(),
            badge(jr.job_run_state.as_ref()),
            time(jr.started_on.map(|t| t.as_millis())),
            time(jr.completed_on.map(|t| t.as_millis())),
            escape(jr.error_message.as_deref().unwrap_or_default()),
        );
    }
    body.push_str("</table>\n");
    body
}

/// `/console/jobs/{job}/runs/{id}`: a job run and the tail of its logs, re-read by
/// `console.js` while the run runs (the logs follow live).
pub(super) async fn job_run(
    app: &App,
    viewer: &Viewer,
    name: String,
    id: String,
) -> Result<String, ApiError> {
    let jr = call::<ops::GetJobRun>(
        app,
        &viewer.scope,
        shapes::GetJobRunRequest {
            job_name: Some(name.clone()),
            run_id: Some(id.clone()),
            ..Default::default()
        },
    )
    .await?
    .job_run
    .unwrap_or_default();
    let mut body = String::from("<div id=\"job-run\" data-follow><table class=\"facts\">");
    fact_html(&mut body, "State", &badge(jr.job_run_state.as_ref()));
    fact(
        &mut body,
        "Attempt",
        Some(&jr.attempt.unwrap_or_default().to_string()),
    );
    fact(
        &mut body,
        "Started",
        Some(&time(jr.started_on.map(|t| t.as_millis()))),
    );
    fact(
        &mut body,
        "Completed",
        Some(&time(jr.completed_on.map(|t| t.as_millis()))),
    );
    fact(&mut body, "Error", jr.error_message.as_deref());
    body.push_str("</table>\n");
    if super::is_job_run_id(&id) {
        let job = call::<ops::GetJob>(
            app,
            &viewer.scope,
            shapes::GetJobRequest {
                job_name: Some(name.clone()),
            },
        )
        .await
        .ok()
        .and_then(|answer| answer.job)
        .unwrap_or_default();
        let mut arguments = job.default_arguments.clone().unwrap_or_default();
        arguments.extend(jr.arguments.clone().unwrap_or_default());
        arguments.extend(job.non_overridable_arguments.clone().unwrap_or_default());
        let command = job.command.and_then(|c| c.name).unwrap_or_default();
        let groups = weir_logs::JobLogGroups::of(&command, &arguments);
        for (stream, group) in [("stdout", groups.output), ("stderr", groups.error)] {
            let lines = latest_log_events(app, &viewer.scope, &group, &id).await?;
            let _ = write!(
                body,
                "<h2>{stream} <small>CloudWatch Logs <code>{}</code> · {}</small></h2>\
                 <pre class=\"log\" id=\"{stream}\">{}</pre>",
                escape(&group),
                link(
                    &format!("{}/runs/{}/{stream}", job_href(&name), segment(&id)),
                    "whole log"
                ),
                escape(&lines.join("\n")),
            );
        }
    }
    body.push_str("</div>");
    let crumbs = vec![
        ("/console".to_string(), "Workflows".to_string()),
        (job_href(&name), name.clone()),
        (String::new(), id.clone()),
    ];
    Ok(html::page(
        &format!("Job run of {name}"),
        &crumbs,
        &body,
        Some(&viewer.frame()),
    ))
}

/// The latest [`LOG_PAGE_EVENTS`] events of stream `stream` of `group`, oldest first:
/// the lines CloudWatch Logs serves for the job run.
async fn latest_log_events(
    app: &App,
    scope: &Scope,
    group: &str,
    stream: &str,
) -> Result<Vec<String>, ApiError> {
    let (scope, group, stream) = (scope.clone(), group.to_string(), stream.to_string());
    let range = weir_store::LogEventRange {
        newest_first: true,
        ..Default::default()
    };
    let mut events = app
        .read(move |tx| Ok(tx.list_log_events(&scope, &group, &stream, &range, LOG_PAGE_EVENTS)?))
        .await?;
    events.reverse();
    Ok(events.into_iter().map(|e| e.message).collect())
}

/// Links to a job run's page and logs.
fn log_links(jr: &JobRun) -> String {
    let id = jr.id.as_deref().unwrap_or_default();
    if !super::is_job_run_id(id) {
        return String::new();
    }
    let base = format!(
        "{}/runs/{id}",
        job_href(jr.job_name.as_deref().unwrap_or_default())
    );
    format!(
        "{} · {} · {}",
        link(&base, "follow"),
        link(&format!("{base}/stdout"), "stdout"),
        link(&format!("{base}/stderr"), "stderr")
    )
}

/// The triggers of a workflow's graph, with their state and activate/deactivate.
fn triggers_table(body: &mut String, workflow: &str, graph: &WorkflowGraph, csrf: &str) {
    let triggers: Vec<&shapes::Trigger> = graph
        .nodes
        .iter()
        .flatten()
        .filter_map(|n| n.trigger_details.as_ref()?.trigger.as_ref())
        .collect();
    if triggers.is_empty() {
        return;
    }
    body.push_str(
        "<h2>Triggers</h2>\n<table class=\"triggers\"><tr><th>Trigger</th><th>Type</th>\
         <th>State</th><th></th></tr>\n",
    );
    for trigger in triggers {
        let name = trigger.name.as_deref().unwrap_or_default();
        let action = match trigger.state {
            Some(shapes::TriggerState::Activated) => "deactivate",
            _ => "activate",
        };
        let form = format!(
            "<form class=\"inline\" method=\"post\" action=\"/console/triggers/{}/{action}\">\
             {}<input type=\"hidden\" name=\"workflow\" value=\"{}\">\
             <button type=\"submit\">{}</button></form>",
            segment(name),
            csrf_field(csrf),
            escape(workflow),
            if action == "activate" {
                "Activate"
            } else {
                "Deactivate"
            },
        );
        let _ = writeln!(
            body,
            "<tr data-trigger=\"{}\"><td>{}</td><td>{}</td><td class=\"state\">{}</td>\
             <td>{form}</td></tr>",
            escape(name),
            escape(name),
            escape(trigger.r#type.as_ref().map_or("", |t| t.as_str())),
            escape(trigger.state.as_ref().map_or("", |s| s.as_str())),
        );
    }
    body.push_str("</table>\n");
}

/// `/console/jobs/{name}`: the job, a form to start a run, its runs (stop, logs).
pub(super) async fn job(app: &App, viewer: &Viewer, name: String) -> Result<String, ApiError> {
    let job = call::<ops::GetJob>(
        app,
        &viewer.scope,
        shapes::GetJobRequest {
            job_name: Some(name.clone()),
        },
    )
    .await?
    .job
    .unwrap_or_default();
    let runs = call::<ops::GetJobRuns>(
        app,
        &viewer.scope,
        shapes::GetJobRunsRequest {
            job_name: Some(name.clone()),
            max_results: Some(50),
            ..Default::default()
        },
    )
    .await?
    .job_runs
    .unwrap_or_default();
    let href = job_href(&name);
    let mut body = String::new();
    body.push_str("<table class=\"facts\">");
    fact(&mut body, "Description", job.description.as_deref());
    let script = job
        .command
        .as_ref()
        .and_then(|c| c.script_location.as_deref());
    fact(&mut body, "Script", script);
    body.push_str("</table>\n");
    let _ = write!(
        body,
        "<div class=\"actions\"><form method=\"post\" action=\"{}/start\" id=\"start-job\">{}\
         <label>Arguments (one <code>--key=value</code> per line)<br>\
         <textarea name=\"arguments\" id=\"arguments\" rows=\"3\" cols=\"50\">{}</textarea>\
         </label><br><button type=\"submit\" id=\"start-job-run\">Start job run</button></form></div>",
        escape(&href),
        csrf_field(&viewer.csrf),
        escape(&format_properties(job.default_arguments.as_ref())),
    );
    body.push_str("<h2>Job runs</h2>\n<div id=\"job-page-runs\" data-follow>");
    if runs.is_empty() {
        body.push_str("<p class=\"muted\">No runs.</p>");
    } else {
        body.push_str(
            "<table class=\"job-runs\"><tr><th>Job run</th><th>Attempt</th><th>State</th>\
             <th>Started</th><th>Completed</th><th>Error</th><th>Logs</th><th></th></tr>\n",
        );
        for jr in &runs {
            let id = jr.id.as_deref().unwrap_or_default();
            let stop = match jr.job_run_state {
                Some(
                    shapes::JobRunState::Running
                    | shapes::JobRunState::Starting
                    | shapes::JobRunState::Waiting,
                ) => button_form(
                    &format!("{href}/runs/{}/stop", segment(id)),
                    "Stop",
                    &viewer.csrf,
                    "stop",
                ),
                _ => String::new(),
            };
            let _ = writeln!(
                body,
                "<tr id=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td class=\"msg\">{}</td><td>{}</td><td>{stop}</td></tr>",
                escape(id),
                escape(&html::truncate(id, 15)),
                jr.attempt.unwrap_or_default(),
                badge(jr.job_run_state.as_ref()),
                time(jr.started_on.map(|t| t.as_millis())),
                time(jr.completed_on.map(|t| t.as_millis())),
                escape(jr.error_message.as_deref().unwrap_or_default()),
                log_links(jr),
            );
        }
        body.push_str("</table>\n");
    }
    body.push_str("</div>");
    let crumbs = vec![
        ("/console".to_string(), "Workflows".to_string()),
        (href.clone(), name.clone()),
    ];
    Ok(html::page(
        &format!("Job {name}"),
        &crumbs,
        &body,
        Some(&viewer.frame()),
    ))
}

/// `/console/crawlers`: the crawlers, their state and last crawl, start/stop.
pub(super) async fn crawlers(app: &App, viewer: &Viewer) -> Result<String, ApiError> {
    let crawlers = call::<ops::GetCrawlers>(
        app,
        &viewer.scope,
        shapes::GetCrawlersRequest {
            max_results: Some(1000),
            ..Default::default()
        },
    )
    .await?
    .crawlers
    .unwrap_or_default();
    let mut body = String::new();
    if crawlers.is_empty() {
        body.push_str("<p class=\"muted\">No crawlers.</p>");
    } else {
        body.push_str(
            "<table class=\"crawlers\"><tr><th>Crawler</th><th>State</th><th>Last crawl</th>\
             <th>Started</th><th>Error</th><th></th></tr>\n",
        );
        for crawler in &crawlers {
            let name = crawler.name.as_deref().unwrap_or_default();
            let running = matches!(crawler.state, Some(shapes::CrawlerState::Running));
            let action = if running { "stop" } else { "start" };
            let last = crawler.last_crawl.as_ref();
            let _ = writeln!(
                body,
                "<tr data-crawler=\"{}\"><td>{}</td><td class=\"state\">{}</td><td>{}</td>\
                 <td>{}</td><td class=\"msg\">{}</td><td>{}</td></tr>",
                escape(name),
                link(&format!("/console/crawlers/{}", segment(name)), name),
                escape(crawler.state.as_ref().map_or("", |s| s.as_str())),
                escape(
                    last.and_then(|l| l.status.as_ref())
                        .map_or("", |s| s.as_str())
                ),
                time(last.and_then(|l| l.start_time).map(|t| t.as_millis())),
                escape(
                    last.and_then(|l| l.error_message.as_deref())
                        .unwrap_or_default()
                ),
                button_form(
                    &format!("/console/crawlers/{}/{action}", segment(name)),
                    if running {
                        "Stop crawler"
                    } else {
                        "Start crawler"
                    },
                    &viewer.csrf,
                    action,
                ),
            );
        }
        body.push_str("</table>\n");
    }
    let crumbs = vec![
        ("/console".to_string(), "Workflows".to_string()),
        ("/console/crawlers".to_string(), "Crawlers".to_string()),
    ];
    Ok(html::page(
        "Crawlers",
        &crumbs,
        &body,
        Some(&viewer.frame()),
    ))
}

/// The graph with its zoom buttons (drag pans it) and the panel that shows the node
/// selected by a click.
fn graph_block(body: &mut String, graph: &WorkflowGraph, mode: Mode) {
    let _ = writeln!(
        body,
        "<div class=\"graph-tools\"><button type=\"button\" data-zoom=\"in\" \
         title=\"zoom in\">+</button><button type=\"button\" data-zoom=\"out\" \
         title=\"zoom out\">−</button><button type=\"button\" data-zoom=\"fit\">fit</button> \
         <span class=\"muted\">drag to pan; click a node for its details</span></div>\
         <div class=\"graph\">{}</div>\
         <div id=\"node-details\" class=\"node-details\" hidden><dl></dl></div>",
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
