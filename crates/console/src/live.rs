//! The changing parts of a run page as JSON (`…/runs/{id}/live`), polled by
//! `console.js` while the run may change: the status, each node's class (so the graph
//! recolours) and details (for the selected node's panel), and the facts, actions and job-run fragments as HTML built (and escaped)
//! by the same functions as the page.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::pages::{self, is_live, job_runs_table, run_actions, run_facts};
use super::svg::{Mode, node_class, node_details};
use super::{Console, ConsoleError, respond};

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    respond(status, "application/json", value.to_string().into_bytes())
}

/// `GET /console/workflows/{name}/runs/{run id}/live`. Without a session: 401 with
/// `{"signIn": "/console/sign-in"}`, which the script follows.
pub(crate) async fn run_state(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let result = async {
        let viewer = console.viewer(&headers).await?;
        let Path((name, run_id)) = path?;
        let run = pages::load_run(&console.app, viewer.scope.clone(), name.clone(), run_id).await?;
        let graph = run.graph.clone().unwrap_or_default();
        let nodes: BTreeMap<&str, String> = graph
            .nodes
            .iter()
            .flatten()
            .filter_map(|n| Some((n.unique_id.as_deref()?, node_class(n, Mode::Run))))
            .collect();
        let details: BTreeMap<&str, String> = graph
            .nodes
            .iter()
            .flatten()
            .filter_map(|n| Some((n.unique_id.as_deref()?, node_details(n))))
            .collect();
        Ok::<_, ConsoleError>(serde_json::json!({
            "status": run.status.as_ref().map(|s| s.as_str()),
            "finished": !is_live(&run),
            "nodes": nodes,
            "details": details,
            "facts": run_facts(&name, &run),
            "actions": run_actions(&name, &run, &viewer.csrf),
            "jobs": job_runs_table(&graph),
        }))
    }
    .await;
    match result {
        Ok(value) => json(StatusCode::OK, &value),
        Err(ConsoleError::SignIn) => json(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({ "signIn": crate::access::SIGN_IN_PATH }),
        ),
        Err(ConsoleError::NotFound(message)) => json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": message }),
        ),
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({ "message": "The run could not be read." }),
        ),
    }
}
