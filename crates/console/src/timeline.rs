//! Time views: a run's timeline (a Gantt chart of its job runs and crawls: start, end,
//! retries and the wait before each retry) and a workflow's run-history grid (runs ×
//! nodes, each cell coloured by the node's state in that run, with its duration).

use std::fmt::Write as _;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use http::HeaderMap;
use weir_model::shapes::{Node, NodeType, Workflow, WorkflowRun};
use weir_orchestrator::{render, stored_run};
use weir_resources::{OrApiError, graph, stored};
use weir_store::Kind;

use super::html::{self, badge, escape, link, time};
use super::pages::{self, crumbs, run_href};
use super::svg::{ColouredState, NOT_RUN};
use super::{Console, ConsoleError, html_page};

/// Runs shown by the grid, newest last.
const GRID_RUNS: usize = 30;
/// Width of the timeline's bar area, in pixels.
const CHART_WIDTH: i64 = 900;
/// Width of the timeline's label column, in pixels.
const LABEL_WIDTH: i64 = 240;
/// Height of one timeline row, in pixels.
const ROW: i64 = 26;

/// A duration for people: `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`.
pub(crate) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    } else if ms < 3_600_000 {
        format!("{}m {:02}s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{}h {:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

/// One bar: an attempt of a job or a crawl.
struct Bar {
    node: String,
    kind: &'static str,
    attempt: i32,
    class: &'static str,
    state: String,
    start: Option<i64>,
    end: Option<i64>,
    /// When the previous attempt of the node ended (a retry waited from then).
    waited_from: Option<i64>,
}

fn bars(node: &Node) -> Vec<Bar> {
    let name = node.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    let mut previous_end = None;
    if let Some(runs) = node.job_details.as_ref().and_then(|d| d.job_runs.as_ref()) {
        for jr in runs {
            let start = jr.started_on.map(|t| t.as_millis());
            let end = jr.completed_on.map(|t| t.as_millis());
            out.push(Bar {
                node: name.clone(),
                kind: "job",
                attempt: jr.attempt.unwrap_or_default(),
                class: jr.job_run_state.as_ref().map_or(NOT_RUN, |s| s.css_class()),
                state: jr
                    .job_run_state
                    .as_ref()
                    .map_or(String::new(), |s| s.text().to_string()),
                start,
                end,
                waited_from: previous_end,
            });
            previous_end = end;
        }
    }
    if let Some(crawls) = node
        .crawler_details
        .as_ref()
        .and_then(|d| d.crawls.as_ref())
    {
        for (i, crawl) in crawls.iter().enumerate() {
            out.push(Bar {
                node: name.clone(),
                kind: "crawler",
                attempt: i32::try_from(i).unwrap_or(i32::MAX),
                class: crawl.state.as_ref().map_or(NOT_RUN, |s| s.css_class()),
                state: crawl
                    .state
                    .as_ref()
                    .map_or(String::new(), |s| s.text().to_string()),
                start: crawl.started_on.map(|t| t.as_millis()),
                end: crawl.completed_on.map(|t| t.as_millis()),
                waited_from: None,
            });
        }
    }
    out
}

/// The timeline of a run as an SVG chart and a table, at `now` for unfinished bars.
fn timeline_html(run: &WorkflowRun, now: i64) -> String {
    let mut bars: Vec<Bar> = run
        .graph
        .iter()
        .flat_map(|g| g.nodes.iter().flatten())
        .filter(|n| !matches!(n.r#type, Some(NodeType::Trigger)))
        .flat_map(bars)
        .filter(|b| b.start.is_some())
        .collect();
    bars.sort_by_key(|b| (b.start, b.node.clone(), b.attempt));
    if bars.is_empty() {
        return "<p class=\"muted\">Nothing has run yet.</p>".to_string();
    }
    let origin = run
        .started_on
        .map(|t| t.as_millis())
        .into_iter()
        .chain(bars.iter().filter_map(|b| b.start))
        .min()
        .unwrap_or(now);
    let last = bars
        .iter()
        .map(|b| b.end.unwrap_or(now))
        .chain(run.completed_on.map(|t| t.as_millis()))
        .max()
        .unwrap_or(now);
    let span = (last - origin).max(1);
    let x = |t: i64| LABEL_WIDTH + (t - origin).clamp(0, span) * CHART_WIDTH / span;
    let height = ROW * (i64::try_from(bars.len()).unwrap_or(i64::MAX / ROW) + 1);
    let width = LABEL_WIDTH + CHART_WIDTH + 120;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">\
         <line class=\"axis\" x1=\"{LABEL_WIDTH}\" y1=\"0\" x2=\"{LABEL_WIDTH}\" y2=\"{height}\"/>\
         <text x=\"{LABEL_WIDTH}\" y=\"{}\">0 s</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        height - 6,
        LABEL_WIDTH + CHART_WIDTH,
        height - 6,
        escape(&duration(span)),
    );
    let mut table = String::from(
        "<table class=\"timeline-rows\"><tr><th>Node</th><th>Attempt</th><th>State</th>\
         <th>Started</th><th>Ended</th><th>Duration</th><th>Waited before</th></tr>\n",
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = ROW * i64::try_from(i).unwrap_or(0) + 4;
        let start = bar.start.unwrap_or(origin);
        let end = bar.end.unwrap_or(now);
        let took = duration(end - start);
        let label = if bar.attempt > 0 {
            format!("{} (retry {})", bar.node, bar.attempt)
        } else {
            bar.node.clone()
        };
        let waited = bar.waited_from.map(|from| (from, start - from));
        let _ = write!(
            svg,
            "<g class=\"row\" data-node=\"{node}\" data-attempt=\"{attempt}\" \
             data-state=\"{state}\"><title>{kind} {label}: {state}, {took}</title>\
             <text x=\"4\" y=\"{ty}\">{short}</text>",
            node = escape(&bar.node),
            attempt = bar.attempt,
            state = escape(&bar.state),
            kind = bar.kind,
            label = escape(&label),
            took = escape(&took),
            ty = y + 13,
            short = escape(&html::truncate(&label, 32)),
        );
        if let Some((from, _)) = waited {
            let _ = write!(
                svg,
                "<rect class=\"wait\" x=\"{}\" y=\"{y}\" width=\"{}\" height=\"18\"/>",
                x(from),
                (x(start) - x(from)).max(1),
            );
        }
        let _ = write!(
            svg,
            "<rect class=\"bar {class}\" x=\"{bx}\" y=\"{y}\" width=\"{bw}\" height=\"18\" \
             rx=\"3\"/><text x=\"{tx}\" y=\"{ty}\">{state} · {took}</text></g>",
            class = bar.class,
            bx = x(start),
            bw = (x(end) - x(start)).max(2),
            tx = x(end) + 4,
            ty = y + 13,
            state = escape(&bar.state),
            took = escape(&took),
        );
        let _ = writeln!(
            table,
            "<tr class=\"timeline-row\" data-node=\"{}\" data-attempt=\"{}\"><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"duration\">{}</td><td>{}</td></tr>",
            escape(&bar.node),
            bar.attempt,
            escape(&bar.node),
            bar.attempt,
            format_args!(
                "<span class=\"badge {}\">{}</span>",
                bar.class,
                escape(&bar.state)
            ),
            time(bar.start),
            time(bar.end),
            if bar.end.is_some() {
                escape(&took)
            } else {
                format!("{} (running)", escape(&took))
            },
            waited.map_or(String::new(), |(_, ms)| escape(&duration(ms))),
        );
    }
    svg.push_str("</svg>");
    table.push_str("</table>");
    format!("<div class=\"graph\">{svg}</div>\n{table}")
}

/// `GET /console/workflows/{name}/runs/{run id}/timeline`.
pub(crate) async fn timeline(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path((name, run_id)) = path?;
            let run = pages::load_run(
                &console.app,
                viewer.scope.clone(),
                name.clone(),
                run_id.clone(),
            )
            .await?;
            let now = console.app.clock().now_millis();
            let mut body = format!(
                "<p class=\"tabs\">{} · Status {}</p>",
                link(&run_href(&name, &run_id), "Run graph"),
                badge(run.status.as_ref()),
            );
            body.push_str(&timeline_html(&run, now));
            let mut crumbs = crumbs(Some(&name), Some(&run_id));
            crumbs.push((String::new(), "Timeline".to_string()));
            Ok::<_, ConsoleError>(html::page(
                &format!("{name} — timeline"),
                &crumbs,
                &body,
                Some(&viewer.frame()),
            ))
        }
        .await,
    )
}

/// The state, attempts and duration of the node named `name` in `run`.
fn cell(run: &WorkflowRun, name: &str) -> Option<(&'static str, String, usize, Option<i64>)> {
    let node = run
        .graph
        .iter()
        .flat_map(|g| g.nodes.iter().flatten())
        .find(|n| {
            n.name.as_deref() == Some(name) && !matches!(n.r#type, Some(NodeType::Trigger))
        })?;
    let bars = bars(node);
    let last = bars.last()?;
    let first_start = bars.iter().filter_map(|b| b.start).min();
    let took = match (first_start, last.end) {
        (Some(start), Some(end)) => Some(end - start),
        _ => None,
    };
    Some((last.class, last.state.clone(), bars.len(), took))
}

/// `GET /console/workflows/{name}/grid`: the latest runs (columns, oldest first) by
/// the workflow's job and crawler nodes (rows).
pub(crate) async fn grid(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path(name) = path?;
            let scope = viewer.scope.clone();
            let key = name.clone();
            let (graph, mut runs) = console
                .app
                .read(move |tx| {
                    stored::load::<Workflow>(tx, &scope, Kind::Workflow, &key)?
                        .or_not_found(|| pages::not_found(&key))?;
                    let graph = graph::load(tx, &scope, &key)?;
                    let runs = tx
                        .list_runs(&scope, &key, None, GRID_RUNS)?
                        .iter()
                        .map(|r| stored_run::decode(r).map(|s| render::workflow_run(&s, true)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((graph, runs))
                })
                .await?;
            runs.reverse();
            let mut nodes: Vec<String> = graph
                .nodes
                .iter()
                .flatten()
                .filter(|n| !matches!(n.r#type, Some(NodeType::Trigger)))
                .filter_map(|n| n.name.clone())
                .collect();
            for run in &runs {
                for node in run.graph.iter().flat_map(|g| g.nodes.iter().flatten()) {
                    if let Some(n) = node.name.as_ref()
                        && !matches!(node.r#type, Some(NodeType::Trigger))
                        && !nodes.contains(n)
                    {
                        nodes.push(n.clone());
                    }
                }
            }
            let mut body = String::new();
            if runs.is_empty() {
                body.push_str("<p class=\"muted\">No runs.</p>");
            } else {
                body.push_str("<table class=\"grid\"><tr><th>Node \\ run</th>");
                for run in &runs {
                    let id = run.workflow_run_id.as_deref().unwrap_or_default();
                    let started = time(run.started_on.map(|t| t.as_millis()));
                    let (day, clock) = started.split_once(' ').unwrap_or(("", &started));
                    let _ = write!(
                        body,
                        "<th class=\"run\" data-run=\"{}\" title=\"{} {}\">\
                         <a href=\"{}\">{}<br>{}</a><br>{}</th>",
                        escape(id),
                        escape(id),
                        escape(&started),
                        escape(&run_href(&name, id)),
                        escape(day),
                        escape(clock),
                        badge(run.status.as_ref()),
                    );
                }
                body.push_str("</tr>\n");
                for node in &nodes {
                    let _ = write!(body, "<tr><th>{}</th>", escape(node));
                    for run in &runs {
                        let id = run.workflow_run_id.as_deref().unwrap_or_default();
                        let (class, state, attempts, took) =
                            cell(run, node).unwrap_or((NOT_RUN, String::new(), 0, None));
                        let took = took.map(duration).unwrap_or_default();
                        let title = match attempts {
                            0 => format!("{node}: not run"),
                            1 => format!("{node}: {state}, {took}"),
                            n => format!("{node}: {state} after {n} attempts, {took}"),
                        };
                        let _ = write!(
                            body,
                            "<td class=\"cell {class}\" data-run=\"{}\" data-node=\"{}\" \
                             data-state=\"{}\" data-attempts=\"{attempts}\" title=\"{}\">{}</td>",
                            escape(id),
                            escape(node),
                            escape(&state),
                            escape(&title),
                            escape(&took),
                        );
                    }
                    body.push_str("</tr>\n");
                }
                body.push_str("</table>\n");
            }
            let mut crumbs = crumbs(Some(&name), None);
            crumbs.push((String::new(), "Run history".to_string()));
            Ok::<_, ConsoleError>(html::page(
                &format!("{name} — run history"),
                &crumbs,
                &body,
                Some(&viewer.frame()),
            ))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(-5), "0 ms");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(245_000), "4m 05s");
        assert_eq!(duration(7_380_000), "2h 03m");
    }
}
