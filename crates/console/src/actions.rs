//! What people do from the console, each a POST carrying the session's CSRF token and
//! each run by the API's own operation handler
//! ([`weir_glue::protocol::validate_and_handle`]), so validation, effects and error
//! messages are the API's. An accepted action answers 303 to the page that shows its
//! effect; a refused one shows the API's error code and message.
//!
//! | POST | operation |
//! |---|---|
//! | `/console/workflows/{name}/start` (`properties`: `key=value` lines) | StartWorkflowRun |
//! | `…/runs/{id}/stop` | StopWorkflowRun |
//! | `…/runs/{id}/resume` (`node`: node ids, repeated) | ResumeWorkflowRun |
//! | `…/runs/{id}/properties` (`properties`) | PutWorkflowRunProperties |
//! | `/console/jobs/{name}/start` (`arguments`: `--key=value` lines) | StartJobRun |
//! | `/console/jobs/{name}/runs/{id}/stop` | BatchStopJobRun |
//! | `/console/triggers/{name}/activate` (`deactivate`) | StartTrigger (StopTrigger) |
//! | `/console/crawlers/{name}/start` (`stop`) | StartCrawler (StopCrawler) |

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use weir_glue::App;
use weir_glue::operations::{Handle, RequestContext};
use weir_glue::protocol::validate_and_handle;
use weir_model::operations as ops;
use weir_model::shapes;
use weir_resources::ApiError;
use weir_store::Scope;

use super::access::{Fields, field, see_other};
use super::html::segment;
use super::{Console, ConsoleError};

/// Runs operation `O` in `scope` through its API handler.
pub(crate) async fn call<O: Handle>(
    app: &App,
    scope: &Scope,
    input: O::Input,
) -> Result<O::Output, ApiError> {
    let ctx = RequestContext {
        app: app.clone(),
        scope: scope.clone(),
        request_id: format!("console-{}", hex::encode(rand::random::<[u8; 16]>())),
    };
    validate_and_handle::<O>(&ctx, input).await
}

/// Parses `key=value` lines (blank lines skipped; a line without `=` is refused).
pub(crate) fn parse_properties(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("The line \"{line}\" is not of the form key=value."))?;
        out.insert(key.trim().to_string(), value.to_string());
    }
    Ok(out)
}

/// `key=value` lines of a map, for a form's text area.
pub(crate) fn format_properties(properties: Option<&BTreeMap<String, String>>) -> String {
    properties
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

fn workflow_href(name: &str) -> String {
    format!("/console/workflows/{}", segment(name))
}

fn run_href(name: &str, run_id: &str) -> String {
    format!("{}/runs/{}", workflow_href(name), segment(run_id))
}

fn job_href(name: &str) -> String {
    format!("/console/jobs/{}", segment(name))
}

/// The common frame of an action: the form read, the CSRF token checked, `act` run;
/// a refusal of the handler is shown with a link back to `back`.
async fn act<F, Fut>(
    console: Console,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
    back: String,
    act: F,
) -> Response
where
    F: FnOnce(Console, Scope, Fields) -> Fut,
    Fut: Future<Output = Result<String, ApiError>>,
{
    let result = async {
        let Form(fields) = form.map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
        let viewer = console.acting(&headers, &fields).await?;
        match act(console, viewer.scope, fields).await {
            Ok(location) => Ok(see_other(&location, None)),
            Err(ApiError::Internal(message)) => {
                tracing::error!(%message, "console action failed");
                Err(ConsoleError::Internal)
            }
            Err(error) => Err(ConsoleError::Refused(error, back)),
        }
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn properties_field(fields: &Fields, name: &str) -> Result<BTreeMap<String, String>, ApiError> {
    parse_properties(field(fields, name).unwrap_or_default()).map_err(ApiError::InvalidInput)
}

/// `POST /console/workflows/{name}/start`.
pub(crate) async fn start_run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path(name)) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = workflow_href(&name);
    act(
        console,
        headers,
        form,
        back,
        |console, scope, fields| async move {
            let properties = properties_field(&fields, "properties")?;
            let input = shapes::StartWorkflowRunRequest {
                name: Some(name.clone()),
                run_properties: (!properties.is_empty()).then_some(properties),
            };
            let output = call::<ops::StartWorkflowRun>(&console.app, &scope, input).await?;
            Ok(run_href(
                &name,
                output.run_id.as_deref().unwrap_or_default(),
            ))
        },
    )
    .await
}

/// `POST /console/workflows/{name}/runs/{id}/stop`.
pub(crate) async fn stop_run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path((name, run_id))) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = run_href(&name, &run_id);
    act(
        console,
        headers,
        form,
        back.clone(),
        |console, scope, _| async move {
            let input = shapes::StopWorkflowRunRequest {
                name: Some(name),
                run_id: Some(run_id),
            };
            call::<ops::StopWorkflowRun>(&console.app, &scope, input).await?;
            Ok(back)
        },
    )
    .await
}

/// `POST /console/workflows/{name}/runs/{id}/resume`: the picked nodes, repeated `node`.
pub(crate) async fn resume_run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path((name, run_id))) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = run_href(&name, &run_id);
    act(
        console,
        headers,
        form,
        back,
        |console, scope, fields| async move {
            let node_ids: Vec<String> = fields
                .iter()
                .filter(|(k, _)| k == "node")
                .map(|(_, v)| v.clone())
                .collect();
            let input = shapes::ResumeWorkflowRunRequest {
                name: Some(name.clone()),
                run_id: Some(run_id),
                node_ids: Some(node_ids),
            };
            let output = call::<ops::ResumeWorkflowRun>(&console.app, &scope, input).await?;
            Ok(run_href(
                &name,
                output.run_id.as_deref().unwrap_or_default(),
            ))
        },
    )
    .await
}

/// `POST /console/workflows/{name}/runs/{id}/properties`: the run's properties replaced.
pub(crate) async fn put_properties(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path((name, run_id))) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = run_href(&name, &run_id);
    act(
        console,
        headers,
        form,
        back.clone(),
        |console, scope, fields| async move {
            let input = shapes::PutWorkflowRunPropertiesRequest {
                name: Some(name),
                run_id: Some(run_id),
                run_properties: Some(properties_field(&fields, "properties")?),
            };
            call::<ops::PutWorkflowRunProperties>(&console.app, &scope, input).await?;
            Ok(back)
        },
    )
    .await
}

/// `POST /console/jobs/{name}/start`: `arguments` as `--key=value` lines.
pub(crate) async fn start_job_run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path(name)) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = job_href(&name);
    act(
        console,
        headers,
        form,
        back.clone(),
        |console, scope, fields| async move {
            let arguments = properties_field(&fields, "arguments")?;
            let input = shapes::StartJobRunRequest {
                job_name: Some(name),
                arguments: (!arguments.is_empty()).then_some(arguments),
                ..Default::default()
            };
            call::<ops::StartJobRun>(&console.app, &scope, input).await?;
            Ok(back)
        },
    )
    .await
}

/// `POST /console/jobs/{name}/runs/{id}/stop`.
pub(crate) async fn stop_job_run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path((name, id))) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = job_href(&name);
    act(
        console,
        headers,
        form,
        back.clone(),
        |console, scope, _| async move {
            let input = shapes::BatchStopJobRunRequest {
                job_name: Some(name),
                job_run_ids: Some(vec![id]),
            };
            let output = call::<ops::BatchStopJobRun>(&console.app, &scope, input).await?;
            if let Some(error) = output.errors.into_iter().flatten().next() {
                let detail = error.error_detail.unwrap_or_default();
                return Err(ApiError::InvalidInput(
                    detail
                        .error_message
                        .unwrap_or_else(|| "The job run could not be stopped.".into()),
                ));
            }
            Ok(back)
        },
    )
    .await
}

/// `POST /console/triggers/{name}/{activate|deactivate}`; back to `workflow` (a form
/// field) when given, else the workflow list.
pub(crate) async fn trigger_action(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path((name, action))) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = match form.as_ref().ok().and_then(|Form(f)| field(f, "workflow")) {
        Some(workflow) => workflow_href(workflow),
        None => "/console".to_string(),
    };
    act(
        console,
        headers,
        form,
        back.clone(),
        |console, scope, _| async move {
            match action.as_str() {
                "activate" => {
                    let input = shapes::StartTriggerRequest { name: Some(name) };
                    call::<ops::StartTrigger>(&console.app, &scope, input).await?;
                }
                "deactivate" => {
                    let input = shapes::StopTriggerRequest { name: Some(name) };
                    call::<ops::StopTrigger>(&console.app, &scope, input).await?;
                }
                _ => {
                    return Err(ApiError::InvalidInput(format!(
                        "No trigger action {action}."
                    )));
                }
            }
            Ok(back)
        },
    )
    .await
}

/// `POST /console/crawlers/{name}/{start|stop}`.
pub(crate) async fn crawler_action(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let Ok(Path((name, action))) = path else {
        return ConsoleError::NotFound("No such page.".into()).into_response();
    };
    let back = "/console/crawlers".to_string();
    act(
        console,
        headers,
        form,
        back.clone(),
        |console, scope, _| async move {
            match action.as_str() {
                "start" => {
                    let input = shapes::StartCrawlerRequest { name: Some(name) };
                    call::<ops::StartCrawler>(&console.app, &scope, input).await?;
                }
                "stop" => {
                    let input = shapes::StopCrawlerRequest { name: Some(name) };
                    call::<ops::StopCrawler>(&console.app, &scope, input).await?;
                }
                _ => {
                    return Err(ApiError::InvalidInput(format!(
                        "No crawler action {action}."
                    )));
                }
            }
            Ok(back)
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_parse_from_lines() {
        let parsed = parse_properties("a=1\n\n b = x=y \r\n").expect("parsed");
        assert_eq!(parsed.get("a").map(String::as_str), Some("1"));
        assert_eq!(parsed.get("b").map(String::as_str), Some(" x=y "));
        assert!(parse_properties("novalue").is_err());
        assert_eq!(format_properties(Some(&parsed)), "a=1\nb= x=y \n");
    }
}
