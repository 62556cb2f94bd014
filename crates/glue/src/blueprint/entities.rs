//! Creating the entities of a generated layout, and deleting them again (spec §9.4
//! steps 4–5), through the same handlers and validation as the API: every request is
//! dispatched internally with [`protocol::run`] under the run's account and region.
//!
//! Order of creation: the workflow, its crawlers, its jobs, then its triggers (in the
//! library's order: the conditional triggers, the starting trigger last). The rollback
//! deletes in the reverse order. Before a request is sent its `null` members are
//! dropped (the library emits `null` for unset workflow members), the crawler
//! target list spelled `JDBCTargets` by the library is renamed to the API's `JdbcTargets`,
//! and number and boolean job arguments become strings.

use serde_json::{Map, Value, json};
use weir_model::operations as ops;

use super::{Created, EntityKind};
use crate::operations::RequestContext;
use crate::protocol;
use weir_blueprint::layout::Layout;
use weir_resources::ApiError;

/// One creation request.
#[derive(Debug, Clone)]
pub struct Step {
    /// What it creates.
    pub kind: EntityKind,
    /// The name of the entity.
    pub name: String,
    /// The request body.
    pub body: Vec<u8>,
}

/// The creation requests for `layout`, in creation order.
pub fn plan(layout: &Layout) -> Result<Vec<Step>, String> {
    let mut steps = vec![step(EntityKind::Workflow, layout.workflow.clone())?];
    for crawler in &layout.crawlers {
        let mut crawler = crawler.clone();
        if let Some(Value::Object(targets)) = crawler.get_mut("Targets")
            && let Some(jdbc) = targets.remove("JDBCTargets")
        {
            targets.insert("JdbcTargets".into(), jdbc);
        }
        steps.push(step(EntityKind::Crawler, crawler)?);
    }
    for job in &layout.jobs {
        let mut job = job.clone();
        for member in ["DefaultArguments", "NonOverridableArguments"] {
            if let Some(Value::Object(arguments)) = job.get_mut(member) {
                stringify_scalars(arguments);
            }
        }
        steps.push(step(EntityKind::Job, job)?);
    }
    for trigger in &layout.triggers {
        steps.push(step(EntityKind::Trigger, trigger.clone())?);
    }
    Ok(steps)
}

fn step(kind: EntityKind, members: Map<String, Value>) -> Result<Step, String> {
    let Value::Object(members) = drop_nulls(Value::Object(members)) else {
        return Err("The layout holds an entity that is not a JSON object.".into());
    };
    let name = match members.get("Name") {
        Some(Value::String(name)) => name.clone(),
        _ => {
            return Err(format!(
                "The layout holds a {} without a Name.",
                label(kind)
            ));
        }
    };
    let body = serde_json::to_vec(&members)
        .map_err(|e| format!("Could not encode the {} {name}: {e}", label(kind)))?;
    Ok(Step { kind, name, body })
}

/// Makes the number and boolean values of a job's argument map strings, their JSON
/// text (`5`, `1.5`, `true`), as AWS stores a layout's job arguments; other values
/// stay and are refused by CreateJob's validation.
fn stringify_scalars(arguments: &mut Map<String, Value>) {
    for value in arguments.values_mut() {
        if value.is_number() || value.is_boolean() {
            *value = Value::String(value.to_string());
        }
    }
}

/// Removes `null` object members at every depth (list items stay).
fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

/// The entity word used in messages.
pub fn label(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Workflow => "workflow",
        EntityKind::Crawler => "crawler",
        EntityKind::Job => "job",
        EntityKind::Trigger => "trigger",
    }
}

/// Sends one creation request; the error says which request failed and why.
pub async fn create(ctx: &RequestContext, step: &Step) -> Result<(), String> {
    let (operation, result) = match step.kind {
        EntityKind::Workflow => (
            "CreateWorkflow",
            protocol::run::<ops::CreateWorkflow>(ctx, &step.body).await,
        ),
        EntityKind::Crawler => (
            "CreateCrawler",
            protocol::run::<ops::CreateCrawler>(ctx, &step.body).await,
        ),
        EntityKind::Job => (
            "CreateJob",
            protocol::run::<ops::CreateJob>(ctx, &step.body).await,
        ),
        EntityKind::Trigger => (
            "CreateTrigger",
            protocol::run::<ops::CreateTrigger>(ctx, &step.body).await,
        ),
    };
    result
        .map(|_| ())
        .map_err(|e| describe(operation, &step.name, &e))
}

/// Deletes one created entity; the error says which deletion failed and why.
pub async fn delete(ctx: &RequestContext, created: &Created) -> Result<(), String> {
    let name = created.name.as_str();
    let (operation, result) = match created.kind {
        EntityKind::Workflow => (
            "DeleteWorkflow",
            protocol::run::<ops::DeleteWorkflow>(ctx, &body(json!({"Name": name}))).await,
        ),
        EntityKind::Crawler => (
            "DeleteCrawler",
            protocol::run::<ops::DeleteCrawler>(ctx, &body(json!({"Name": name}))).await,
        ),
        EntityKind::Job => (
            "DeleteJob",
            protocol::run::<ops::DeleteJob>(ctx, &body(json!({"JobName": name}))).await,
        ),
        EntityKind::Trigger => (
            "DeleteTrigger",
            protocol::run::<ops::DeleteTrigger>(ctx, &body(json!({"Name": name}))).await,
        ),
    };
    match result {
        Ok(_) => Ok(()),
        // Already gone (e.g. a trigger removed with its workflow): nothing to undo.
        Err(ApiError::EntityNotFound(_)) => Ok(()),
        Err(e) => Err(describe(operation, name, &e)),
    }
}

fn body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

fn describe(operation: &str, name: &str, error: &ApiError) -> String {
    format!("{operation} {name} failed: {}: {error}", error.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(value: Value) -> Layout {
        serde_json::from_value(value).expect("layout")
    }

    #[test]
    fn plan_orders_cleans_and_renames() {
        let steps = plan(&layout(json!({
            "Workflow": {"Name": "wf", "Description": null, "Tags": null},
            "Crawlers": [{"Name": "c_1", "Targets": {"JDBCTargets": [{"ConnectionName": "x", "Path": "p"}]}}],
            "Jobs": [{"Name": "j_1", "Command": {"Name": "pythonshell", "PythonVersion": null}}],
            "Triggers": [{"Name": "wf_starting_trigger", "Actions": [{"JobName": "j_1"}]}]
        })))
        .expect("plan");
        let kinds: Vec<EntityKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                EntityKind::Workflow,
                EntityKind::Crawler,
                EntityKind::Job,
                EntityKind::Trigger
            ]
        );
        let workflow: Value = serde_json::from_slice(&steps[0].body).expect("json");
        assert_eq!(workflow, json!({"Name": "wf"}));
        let crawler: Value = serde_json::from_slice(&steps[1].body).expect("json");
        assert!(crawler["Targets"].get("JdbcTargets").is_some());
        assert!(crawler["Targets"].get("JDBCTargets").is_none());
        let job: Value = serde_json::from_slice(&steps[2].body).expect("json");
        assert_eq!(job["Command"], json!({"Name": "pythonshell"}));
    }

    #[test]
    fn number_and_boolean_job_arguments_become_strings() {
        let steps = plan(&layout(json!({
            "Workflow": {"Name": "wf"},
            "Jobs": [{
                "Name": "j_1",
                "DefaultArguments": {"--n": 5, "--ratio": 1.5, "--on": true, "--s": "x"},
                "NonOverridableArguments": {"--off": false}
            }]
        })))
        .expect("plan");
        let job: Value = serde_json::from_slice(&steps[1].body).expect("json");
        assert_eq!(
            job["DefaultArguments"],
            json!({"--n": "5", "--ratio": "1.5", "--on": "true", "--s": "x"})
        );
        assert_eq!(job["NonOverridableArguments"], json!({"--off": "false"}));
    }

    #[test]
    fn entities_need_names() {
        let error = plan(&layout(
            json!({"Workflow": {"Name": "wf"}, "Jobs": [{"Role": "r"}]}),
        ))
        .expect_err("no name");
        assert!(error.contains("job without a Name"), "{error}");
    }
}
