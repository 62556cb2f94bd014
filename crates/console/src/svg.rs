//! Draws a wire [`WorkflowGraph`] (static, from `resources::graph`, or of a run, from
//! `orchestrator::render`) as inline SVG with the layout of [`super::layout`].
//!
//! Every node is a `<g class="node {trigger|job|crawler} {state}">`; on a run graph the
//! state class is that of the node's latest attempt ([`ColouredState`]), on a static
//! graph it is `static`. Colours come from the page's style sheet.

use std::collections::HashMap;
use std::fmt::Write as _;

use weir_model::shapes::{
    CrawlState, JobRunState, Node, NodeType, WorkflowGraph, WorkflowRunStatus,
};

use super::html::{self, escape, truncate};
use super::layout::{self, NODE_HEIGHT, NODE_WIDTH};

/// Characters of a node name shown in its box (the full name is in its tooltip).
const LABEL_CHARS: usize = 26;

/// What is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A workflow's static graph: no states.
    Static,
    /// A run's graph: job and crawler nodes coloured by their latest attempt, and
    /// linked to that attempt's row (`#<job run id>`) in the page.
    Run,
}

/// CSS class of a node or badge without a state (no attempt, or one this build
/// does not know).
pub const NOT_RUN: &str = "notrun";

/// A state the console colours: a run status, a job-run state or a crawl state.
pub trait ColouredState {
    /// The CSS class: `succeeded`, `failed`, `timeout`, `running`, `stopped` or
    /// [`NOT_RUN`].
    fn css_class(&self) -> &'static str;
    /// The wire spelling, shown as text.
    fn text(&self) -> &str;
}

impl ColouredState for JobRunState {
    fn css_class(&self) -> &'static str {
        match self {
            JobRunState::Succeeded => "succeeded",
            JobRunState::Failed | JobRunState::Error => "failed",
            JobRunState::Timeout => "timeout",
            JobRunState::Running | JobRunState::Starting | JobRunState::Waiting => "running",
            JobRunState::Stopped | JobRunState::Stopping | JobRunState::Expired => "stopped",
            JobRunState::Unknown(_) => NOT_RUN,
        }
    }

    fn text(&self) -> &str {
        self.as_str()
    }
}

impl ColouredState for CrawlState {
    fn css_class(&self) -> &'static str {
        match self {
            CrawlState::Succeeded => "succeeded",
            CrawlState::Failed | CrawlState::Error => "failed",
            CrawlState::Running => "running",
            CrawlState::Cancelled | CrawlState::Cancelling => "stopped",
            CrawlState::Unknown(_) => NOT_RUN,
        }
    }

    fn text(&self) -> &str {
        self.as_str()
    }
}

impl ColouredState for WorkflowRunStatus {
    fn css_class(&self) -> &'static str {
        match self {
            WorkflowRunStatus::Completed => "succeeded",
            WorkflowRunStatus::Error => "failed",
            WorkflowRunStatus::Running => "running",
            WorkflowRunStatus::Stopped | WorkflowRunStatus::Stopping => "stopped",
            WorkflowRunStatus::Unknown(_) => NOT_RUN,
        }
    }

    fn text(&self) -> &str {
        self.as_str()
    }
}

/// The latest attempt of a job or crawler node: (state, job run id).
pub fn latest_attempt(node: &Node) -> (Option<&dyn ColouredState>, Option<&str>) {
    if let Some(job_run) = node
        .job_details
        .as_ref()
        .and_then(|d| d.job_runs.as_ref())
        .and_then(|runs| runs.last())
    {
        let state = job_run
            .job_run_state
            .as_ref()
            .map(|s| s as &dyn ColouredState);
        return (state, job_run.id.as_deref());
    }
    let crawl = node
        .crawler_details
        .as_ref()
        .and_then(|d| d.crawls.as_ref())
        .and_then(|crawls| crawls.last());
    let state = crawl
        .and_then(|c| c.state.as_ref())
        .map(|s| s as &dyn ColouredState);
    (state, None)
}

/// The graph as an `<svg>` element; a short note instead when it has no nodes.
pub fn render(graph: &WorkflowGraph, mode: Mode) -> String {
    let nodes: &[Node] = graph.nodes.as_deref().unwrap_or_default();
    if nodes.is_empty() {
        return "<p class=\"muted\">The graph is empty: no trigger belongs to this \
                workflow.</p>"
            .to_string();
    }
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.unique_id.as_deref().map(|id| (id, i)))
        .collect();
    let edges: Vec<(usize, usize)> = graph
        .edges
        .iter()
        .flatten()
        .filter_map(|e| {
            let source = index.get(e.source_id.as_deref()?)?;
            let destination = index.get(e.destination_id.as_deref()?)?;
            Some((*source, *destination))
        })
        .collect();
    let layout = layout::layout(nodes.len(), &edges);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"workflow-graph\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">\n\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>\n",
        w = layout.width,
        h = layout.height,
    );
    let half = NODE_HEIGHT / 2;
    for &(s, d) in &edges {
        let (x1, y1) = (layout.x[s] + NODE_WIDTH, layout.y[s] + half);
        let (x2, y2) = (layout.x[d], layout.y[d] + half);
        let bend = (x2.abs_diff(x1) / 2).max(30);
        let _ = writeln!(
            out,
            "<path class=\"edge\" d=\"M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}\" \
             marker-end=\"url(#arrow)\"/>",
            x1 + bend,
            x2.saturating_sub(bend),
        );
    }
    for (i, node) in nodes.iter().enumerate() {
        node_svg(&mut out, node, mode, layout.x[i], layout.y[i]);
    }
    out.push_str("</svg>");
    out
}

/// The class attribute of a node: `node {kind}` and, for a job or crawler, its state
/// (`static` on a static graph).
pub fn node_class(node: &Node, mode: Mode) -> String {
    let kind = node_kind(node);
    let (state, _) = latest_attempt(node);
    match (kind, mode) {
        ("trigger", _) => format!("node {kind}"),
        (_, Mode::Static) => format!("node {kind} static"),
        (_, Mode::Run) => format!(
            "node {kind} {}",
            state.map_or(NOT_RUN, ColouredState::css_class)
        ),
    }
}

fn node_kind(node: &Node) -> &'static str {
    match node.r#type {
        Some(NodeType::Trigger) => "trigger",
        Some(NodeType::Crawler) => "crawler",
        _ => "job",
    }
}

fn node_svg(out: &mut String, node: &Node, mode: Mode, x: u32, y: u32) {
    let name = node.name.as_deref().unwrap_or_default();
    let kind = node_kind(node);
    let (state, job_run_id) = latest_attempt(node);
    let tooltip = match (kind, mode) {
        ("job" | "crawler", Mode::Run) => {
            format!(" — {}", state.map_or("not run", ColouredState::text))
        }
        _ => String::new(),
    };
    let link = match (mode, job_run_id) {
        (Mode::Run, Some(id)) => Some(format!("#{}", escape(id))),
        (Mode::Static, _) if kind == "job" => Some(escape(&format!(
            "/console/jobs/{}",
            super::html::segment(name)
        ))),
        _ => None,
    };
    if let Some(href) = &link {
        let _ = write!(out, "<a href=\"{href}\">");
    }
    let radius = if kind == "trigger" { 16 } else { 4 };
    let classes = node_class(node, mode);
    let _ = write!(
        out,
        "<g class=\"{classes}\" data-name=\"{name_attr}\" data-id=\"{id_attr}\" \
         data-details=\"{details}\">\
         <title>{kind} {name_text}{tooltip}</title>\
         <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{NODE_HEIGHT}\" \
         rx=\"{radius}\"/>\
         <text class=\"kind\" x=\"{tx}\" y=\"{ky}\">{kind}</text>\
         <text x=\"{tx}\" y=\"{ny}\">{label}</text></g>",
        name_attr = escape(name),
        id_attr = escape(node.unique_id.as_deref().unwrap_or_default()),
        details = escape(&node_details(node)),
        name_text = escape(name),
        tooltip = escape(&tooltip),
        tx = x + 10,
        ky = y + 16,
        ny = y + 34,
        label = escape(&truncate(name, LABEL_CHARS)),
    );
    if link.is_some() {
        out.push_str("</a>");
    }
    out.push('\n');
}

/// What the details panel shows when `node` is selected: label, value pairs, as a
/// JSON array.
pub fn node_details(node: &Node) -> String {
    let kind = node_kind(node);
    let millis = |t: Option<&weir_model::Timestamp>| t.map(|t| t.as_millis());
    let mut facts: Vec<(&str, String)> = vec![
        ("Name", node.name.clone().unwrap_or_default()),
        ("Kind", kind.to_string()),
    ];
    let job_run = node
        .job_details
        .as_ref()
        .and_then(|d| d.job_runs.as_ref())
        .and_then(|runs| runs.last());
    let crawl = node
        .crawler_details
        .as_ref()
        .and_then(|d| d.crawls.as_ref())
        .and_then(|crawls| crawls.last());
    if let Some(run) = job_run {
        facts.push(("Job run", run.id.clone().unwrap_or_default()));
        facts.push(("Attempt", run.attempt.unwrap_or_default().to_string()));
        facts.push((
            "State",
            run.job_run_state
                .as_ref()
                .map_or("", |s| s.as_str())
                .to_string(),
        ));
        facts.push(("Started", html::time(millis(run.started_on.as_ref()))));
        facts.push(("Completed", html::time(millis(run.completed_on.as_ref()))));
        if let Some(error) = &run.error_message {
            facts.push(("Error", error.clone()));
        }
    } else if let Some(crawl) = crawl {
        facts.push((
            "State",
            crawl.state.as_ref().map_or("", |s| s.as_str()).to_string(),
        ));
        facts.push(("Started", html::time(millis(crawl.started_on.as_ref()))));
        facts.push(("Completed", html::time(millis(crawl.completed_on.as_ref()))));
        if let Some(error) = &crawl.error_message {
            facts.push(("Error", error.clone()));
        }
    } else if let Some(trigger) = node
        .trigger_details
        .as_ref()
        .and_then(|d| d.trigger.as_ref())
    {
        facts.push((
            "Type",
            trigger
                .r#type
                .as_ref()
                .map_or("", |t| t.as_str())
                .to_string(),
        ));
        facts.push((
            "State",
            trigger
                .state
                .as_ref()
                .map_or("", |t| t.as_str())
                .to_string(),
        ));
    } else if kind != "trigger" {
        facts.push(("State", "not run".to_string()));
    }
    let pairs: Vec<[&str; 2]> = facts.iter().map(|(k, v)| [*k, v.as_str()]).collect();
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// A legend of the state colours of run graphs.
pub fn legend() -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (class, text) in [
        ("succeeded", "succeeded"),
        ("failed", "failed / error"),
        ("timeout", "timeout"),
        ("running", "running"),
        ("stopped", "stopped"),
        (NOT_RUN, "not run"),
    ] {
        let _ = write!(out, "<span class=\"badge {class}\">{text}</span>");
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_model::shapes::{Edge, JobNodeDetails, JobRun};

    fn node(kind: NodeType, name: &str, states: &[JobRunState]) -> Node {
        Node {
            r#type: Some(kind),
            name: Some(name.into()),
            unique_id: Some(format!("id-{name}")),
            job_details: (!states.is_empty()).then(|| JobNodeDetails {
                job_runs: Some(
                    states
                        .iter()
                        .enumerate()
                        .map(|(i, s)| JobRun {
                            id: Some(format!("jr_{name}{i}")),
                            job_run_state: Some(s.clone()),
                            ..Default::default()
                        })
                        .collect(),
                ),
            }),
            ..Default::default()
        }
    }

    fn edge(s: &str, d: &str) -> Edge {
        Edge {
            source_id: Some(format!("id-{s}")),
            destination_id: Some(format!("id-{d}")),
        }
    }

    fn graph() -> WorkflowGraph {
        WorkflowGraph {
            nodes: Some(vec![
                node(NodeType::Trigger, "start", &[]),
                node(
                    NodeType::Job,
                    "extract<&>",
                    &[JobRunState::Failed, JobRunState::Succeeded],
                ),
                node(NodeType::Job, "load", &[JobRunState::Timeout]),
                node(NodeType::Job, "never", &[]),
            ]),
            edges: Some(vec![
                edge("start", "extract<&>"),
                edge("extract<&>", "load"),
                edge("missing", "load"),
            ]),
        }
    }

    #[test]
    fn run_graph_colours_nodes_by_latest_attempt() {
        let svg = render(&graph(), Mode::Run);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("class=\"node job succeeded\" data-name=\"extract&lt;&amp;&gt;\""));
        assert!(svg.contains("class=\"node job timeout\" data-name=\"load\""));
        assert!(svg.contains("class=\"node job notrun\" data-name=\"never\""));
        assert!(svg.contains("class=\"node trigger\" data-name=\"start\""));
        assert!(svg.contains("<a href=\"#jr_load0\">"));
        assert!(!svg.contains("extract<&>"), "names are escaped");
        // Two drawable edges; the one naming an unknown node is skipped.
        assert_eq!(svg.matches("class=\"edge\"").count(), 2);
    }

    #[test]
    fn static_graph_has_no_states() {
        let svg = render(&graph(), Mode::Static);
        assert_eq!(svg.matches("class=\"node job static\"").count(), 3);
        // Job nodes link to their job's page, never to a job run.
        assert!(!svg.contains("<a href=\"#"));
        assert!(svg.contains("<a href=\"/console/jobs/load\">"));
        assert!(svg.contains("<a href=\"/console/jobs/extract%3C%26%3E\">"));
        assert!(render(&WorkflowGraph::default(), Mode::Static).contains("empty"));
    }

    #[test]
    fn state_classes() {
        for (state, class) in [
            (JobRunState::Succeeded, "succeeded"),
            (JobRunState::Failed, "failed"),
            (JobRunState::Error, "failed"),
            (JobRunState::Timeout, "timeout"),
            (JobRunState::Running, "running"),
            (JobRunState::Stopped, "stopped"),
            (JobRunState::from("PAUSED"), "notrun"),
        ] {
            assert_eq!(state.css_class(), class);
        }
        assert_eq!(CrawlState::Cancelled.css_class(), "stopped");
        assert_eq!(WorkflowRunStatus::Completed.css_class(), "succeeded");
    }
}
