//! Workflow operations (spec §3, §4.1, Appendix A.1).

use weir_model::operations::{
    BatchGetWorkflows, CreateWorkflow, DeleteWorkflow, GetWorkflow, ListWorkflows, UpdateWorkflow,
};
use weir_model::shapes::{
    BatchGetWorkflowsRequest, BatchGetWorkflowsResponse, CreateWorkflowRequest,
    CreateWorkflowResponse, DeleteWorkflowRequest, DeleteWorkflowResponse, GetWorkflowRequest,
    GetWorkflowResponse, ListWorkflowsRequest, ListWorkflowsResponse, UpdateWorkflowRequest,
    UpdateWorkflowResponse, Workflow,
};
use weir_store::{Kind, Scope, Transaction};

use super::{Handle, RequestContext};
use crate::blueprint;
use weir_orchestrator::{render, stored_run};
use weir_resources::{ApiError, OrApiError};
use weir_resources::{graph, pagination, stored, tags};

/// Page size of ListWorkflows when MaxResults is absent (the model's maximum).
const LIST_WORKFLOWS_MAX: usize = 25;

fn not_found(name: &str) -> String {
    format!("Entity Not Found: workflow {name} does not exist.")
}

/// Reads a workflow in the form GetWorkflow answers: `LastRun` = its most recent run,
/// and with `include_graph` its static graph and the last run's graph.
fn load_workflow(
    tx: &mut dyn Transaction,
    scope: &Scope,
    name: &str,
    include_graph: bool,
) -> Result<Option<Workflow>, ApiError> {
    let Some(stored) = stored::load::<Workflow>(tx, scope, Kind::Workflow, name)? else {
        return Ok(None);
    };
    let mut workflow = stored.value;
    workflow.creation_status = Some(blueprint::workflow_creation_status(
        tx,
        scope,
        workflow.blueprint_details.as_ref(),
    )?);
    if let Some(last) = tx.list_runs(scope, name, None, 1)?.first() {
        let run = stored_run::decode(last)?;
        workflow.last_run = Some(render::workflow_run(&run, include_graph));
    }
    if include_graph {
        workflow.graph = Some(graph::load(tx, scope, name)?);
    }
    Ok(Some(workflow))
}

impl Handle for CreateWorkflow {
    async fn handle(
        ctx: &RequestContext,
        input: CreateWorkflowRequest,
    ) -> Result<CreateWorkflowResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let tags = input.tags.unwrap_or_default();
        tags::check(&tags)?;
        let now = ctx.app.clock().now();
        let workflow = Workflow {
            name: Some(name.clone()),
            description: input.description,
            default_run_properties: input.default_run_properties,
            max_concurrent_runs: input.max_concurrent_runs,
            created_on: Some(now),
            last_modified_on: Some(now),
            ..Default::default()
        };
        let record = stored::record(&name, None, &workflow, tags)?;
        let scope = ctx.scope.clone();
        let created = ctx
            .app
            .write(move |tx| Ok(tx.insert(&scope, Kind::Workflow, &record)?))
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists(format!(
                "Workflow with name {name} already exists."
            )));
        }
        Ok(CreateWorkflowResponse { name: Some(name) })
    }
}

impl Handle for UpdateWorkflow {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateWorkflowRequest,
    ) -> Result<UpdateWorkflowResponse, ApiError> {
        let now = ctx.app.clock().now();
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        ctx.app
            .write(move |tx| {
                let mut current = stored::load::<Workflow>(tx, &scope, Kind::Workflow, &key)?
                    .or_not_found(|| not_found(&key))?;
                let workflow = &mut current.value;
                if input.description.is_some() {
                    workflow.description = input.description;
                }
                if input.default_run_properties.is_some() {
                    workflow.default_run_properties = input.default_run_properties;
                }
                if input.max_concurrent_runs.is_some() {
                    workflow.max_concurrent_runs = input.max_concurrent_runs;
                }
                workflow.last_modified_on = Some(now);
                let record = stored::record(&key, None, &current.value, current.tags)?;
                tx.update(&scope, Kind::Workflow, &record)?;
                Ok(())
            })
            .await?;
        Ok(UpdateWorkflowResponse { name: Some(name) })
    }
}

impl Handle for DeleteWorkflow {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteWorkflowRequest,
    ) -> Result<DeleteWorkflowResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        ctx.app
            .write(move |tx| {
                // The workflow's triggers go with it (spec §11.4, decided in
                // ARCHITECTURE.md); jobs and crawlers are independent resources.
                for trigger in tx.list_children(&scope, Kind::Trigger, &key)? {
                    tx.delete(&scope, Kind::Trigger, &trigger.name)?;
                }
                tx.delete_runs(&scope, &key)?;
                // So do the events its EVENT trigger had not yet batched into a run.
                tx.delete(&scope, Kind::EventBatch, &key)?;
                tx.delete(&scope, Kind::Workflow, &key)?;
                Ok(())
            })
            .await?;
        Ok(DeleteWorkflowResponse { name: Some(name) })
    }
}

impl Handle for GetWorkflow {
    async fn handle(
        ctx: &RequestContext,
        input: GetWorkflowRequest,
    ) -> Result<GetWorkflowResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let include_graph = input.include_graph.unwrap_or(false);
        let scope = ctx.scope.clone();
        let workflow = ctx
            .app
            .read(move |tx| {
                load_workflow(tx, &scope, &name, include_graph)?.or_not_found(|| not_found(&name))
            })
            .await?;
        Ok(GetWorkflowResponse {
            workflow: Some(workflow),
        })
    }
}

impl Handle for ListWorkflows {
    async fn handle(
        ctx: &RequestContext,
        input: ListWorkflowsRequest,
    ) -> Result<ListWorkflowsResponse, ApiError> {
        let limit = input.max_results.map_or(LIST_WORKFLOWS_MAX, |n| n as usize);
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let context = format!("ListWorkflows/{}/{}", scope.account, scope.region);
        let page = ctx
            .app
            .read(move |tx| {
                pagination::name_page(
                    app.tokens(),
                    &context,
                    input.next_token.as_deref(),
                    limit,
                    |after, n| tx.list_names(&scope, Kind::Workflow, after, n),
                    String::as_str,
                )
            })
            .await?;
        Ok(ListWorkflowsResponse {
            workflows: Some(page.items),
            next_token: page.next_token,
        })
    }
}

impl Handle for BatchGetWorkflows {
    async fn handle(
        ctx: &RequestContext,
        input: BatchGetWorkflowsRequest,
    ) -> Result<BatchGetWorkflowsResponse, ApiError> {
        let names = input.names.unwrap_or_default();
        let include_graph = input.include_graph.unwrap_or(false);
        let scope = ctx.scope.clone();
        let (found, missing) = ctx
            .app
            .read(move |tx| {
                stored::load_each(names, |name| load_workflow(tx, &scope, name, include_graph))
            })
            .await?;
        Ok(BatchGetWorkflowsResponse {
            workflows: Some(found),
            missing_workflows: (!missing.is_empty()).then_some(missing),
        })
    }
}
