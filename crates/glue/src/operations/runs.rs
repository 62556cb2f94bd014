//! Workflow run operations (spec §4.3–4.7, Appendix A.1): start, read, properties,
//! stop and resume. The decisions are the engine's; this file only translates.

use weir_model::operations::{
    GetWorkflowRun, GetWorkflowRunProperties, GetWorkflowRuns, PutWorkflowRunProperties,
    ResumeWorkflowRun, StartWorkflowRun, StopWorkflowRun,
};
use weir_model::shapes::{
    GetWorkflowRunPropertiesRequest, GetWorkflowRunPropertiesResponse, GetWorkflowRunRequest,
    GetWorkflowRunResponse, GetWorkflowRunsRequest, GetWorkflowRunsResponse,
    PutWorkflowRunPropertiesRequest, PutWorkflowRunPropertiesResponse, ResumeWorkflowRunRequest,
    ResumeWorkflowRunResponse, StartWorkflowRunRequest, StartWorkflowRunResponse,
    StopWorkflowRunRequest, StopWorkflowRunResponse,
};
use weir_store::{Kind, RunCursor};

use super::{Handle, RequestContext};
use weir_orchestrator::stored_run::{self, RunKey};
use weir_orchestrator::{StartOrigin, render};
use weir_resources::ApiError;
use weir_resources::pagination;

/// Page size of GetWorkflowRuns when MaxResults is absent (the model's maximum).
const RUNS_PAGE_MAX: usize = 1000;

fn run_key(ctx: &RequestContext, name: Option<String>, run_id: Option<String>) -> RunKey {
    RunKey {
        scope: ctx.scope.clone(),
        workflow: name.unwrap_or_default(),
        run_id: run_id.unwrap_or_default(),
    }
}

impl Handle for StartWorkflowRun {
    async fn handle(
        ctx: &RequestContext,
        input: StartWorkflowRunRequest,
    ) -> Result<StartWorkflowRunResponse, ApiError> {
        let run_id = ctx
            .app
            .orchestrator()
            .start_workflow_run(
                ctx.scope.clone(),
                input.name.unwrap_or_default(),
                input.run_properties.unwrap_or_default(),
                StartOrigin::Api,
            )
            .await?;
        Ok(StartWorkflowRunResponse {
            run_id: Some(run_id),
        })
    }
}

impl Handle for GetWorkflowRun {
    async fn handle(
        ctx: &RequestContext,
        input: GetWorkflowRunRequest,
    ) -> Result<GetWorkflowRunResponse, ApiError> {
        let key = run_key(ctx, input.name, input.run_id);
        let include_graph = input.include_graph.unwrap_or(false);
        let run = ctx
            .app
            .read(move |tx| {
                Ok(render::workflow_run(
                    &stored_run::load(tx, &key)?,
                    include_graph,
                ))
            })
            .await?;
        Ok(GetWorkflowRunResponse { run: Some(run) })
    }
}

impl Handle for GetWorkflowRuns {
    async fn handle(
        ctx: &RequestContext,
        input: GetWorkflowRunsRequest,
    ) -> Result<GetWorkflowRunsResponse, ApiError> {
        let scope = ctx.scope.clone();
        let workflow = input.name.unwrap_or_default();
        let limit = input.max_results.map_or(RUNS_PAGE_MAX, |n| n as usize);
        let include_graph = input.include_graph.unwrap_or(false);
        let app = ctx.app.clone();
        let context = format!(
            "GetWorkflowRuns/{}/{}/{}",
            scope.account, scope.region, workflow
        );
        let (runs, next_token) = ctx
            .app
            .read(move |tx| {
                if tx.get(&scope, Kind::Workflow, &workflow)?.is_none() {
                    return Err(ApiError::EntityNotFound(format!(
                        "Entity Not Found: workflow {workflow} does not exist."
                    )));
                }
                let page = pagination::history_page(
                    app.tokens(),
                    &context,
                    input.next_token.as_deref(),
                    limit,
                    |before, n| Ok(tx.list_runs(&scope, &workflow, before, n)?),
                    |run| RunCursor {
                        started_ms: run.started_ms,
                        run_id: run.run_id.clone(),
                    },
                )?;
                let runs = page
                    .items
                    .iter()
                    .map(|r| stored_run::decode(r).map(|s| render::workflow_run(&s, include_graph)))
                    .collect::<Result<Vec<_>, _>>()?;
                let next_token = page.next_token;
                Ok((runs, next_token))
            })
            .await?;
        Ok(GetWorkflowRunsResponse {
            runs: Some(runs),
            next_token,
        })
    }
}

impl Handle for GetWorkflowRunProperties {
    async fn handle(
        ctx: &RequestContext,
        input: GetWorkflowRunPropertiesRequest,
    ) -> Result<GetWorkflowRunPropertiesResponse, ApiError> {
        let key = run_key(ctx, input.name, input.run_id);
        let properties = ctx
            .app
            .read(move |tx| Ok(stored_run::load(tx, &key)?.properties))
            .await?;
        Ok(GetWorkflowRunPropertiesResponse {
            run_properties: Some(properties),
        })
    }
}

impl Handle for PutWorkflowRunProperties {
    async fn handle(
        ctx: &RequestContext,
        input: PutWorkflowRunPropertiesRequest,
    ) -> Result<PutWorkflowRunPropertiesResponse, ApiError> {
        let key = run_key(ctx, input.name, input.run_id);
        ctx.app
            .orchestrator()
            .put_run_properties(key, input.run_properties.unwrap_or_default())
            .await?;
        Ok(PutWorkflowRunPropertiesResponse::default())
    }
}

impl Handle for StopWorkflowRun {
    async fn handle(
        ctx: &RequestContext,
        input: StopWorkflowRunRequest,
    ) -> Result<StopWorkflowRunResponse, ApiError> {
        let key = run_key(ctx, input.name, input.run_id);
        ctx.app.orchestrator().stop_workflow_run(key).await?;
        Ok(StopWorkflowRunResponse::default())
    }
}

impl Handle for ResumeWorkflowRun {
    async fn handle(
        ctx: &RequestContext,
        input: ResumeWorkflowRunRequest,
    ) -> Result<ResumeWorkflowRunResponse, ApiError> {
        let key = run_key(ctx, input.name, input.run_id);
        let (run_id, node_ids) = ctx
            .app
            .orchestrator()
            .resume_workflow_run(key, input.node_ids.unwrap_or_default())
            .await?;
        Ok(ResumeWorkflowRunResponse {
            run_id: Some(run_id),
            node_ids: Some(node_ids),
        })
    }
}
