//! Direct job run operations (spec §6, Appendix A.4): StartJobRun, GetJobRun,
//! GetJobRuns, BatchStopJobRun.

use weir_model::operations::{BatchStopJobRun, GetJobRun, GetJobRuns, StartJobRun};
use weir_model::shapes::{
    BatchStopJobRunError, BatchStopJobRunRequest, BatchStopJobRunResponse,
    BatchStopJobRunSuccessfulSubmission, ErrorDetail, GetJobRunRequest, GetJobRunResponse,
    GetJobRunsRequest, GetJobRunsResponse, JobRun, StartJobRunRequest, StartJobRunResponse,
};
use weir_store::{JobRunRecord, Kind, RunCursor};

use super::{Handle, RequestContext};
use weir_resources::ApiError;
use weir_resources::{pagination, stored};

/// Page size of GetJobRuns when MaxResults is absent (the model's maximum).
const JOB_RUNS_PAGE_MAX: usize = 200;

fn decode(record: &JobRunRecord) -> Result<JobRun, ApiError> {
    stored::decode_document(&record.run_id, record.version, &record.doc)
}

impl Handle for StartJobRun {
    async fn handle(
        ctx: &RequestContext,
        input: StartJobRunRequest,
    ) -> Result<StartJobRunResponse, ApiError> {
        let job_run_id = ctx
            .app
            .orchestrator()
            .start_job_run(ctx.scope.clone(), input)
            .await?;
        Ok(StartJobRunResponse {
            job_run_id: Some(job_run_id),
        })
    }
}

impl Handle for GetJobRun {
    async fn handle(
        ctx: &RequestContext,
        input: GetJobRunRequest,
    ) -> Result<GetJobRunResponse, ApiError> {
        let scope = ctx.scope.clone();
        let job = input.job_name.unwrap_or_default();
        let run_id = input.run_id.unwrap_or_default();
        let job_run = ctx
            .app
            .read(move |tx| {
                let record = tx.get_job_run(&scope, &job, &run_id)?.ok_or_else(|| {
                    ApiError::EntityNotFound(format!("Job run {run_id} of job {job} not found."))
                })?;
                decode(&record)
            })
            .await?;
        Ok(GetJobRunResponse {
            job_run: Some(job_run),
        })
    }
}

impl Handle for GetJobRuns {
    async fn handle(
        ctx: &RequestContext,
        input: GetJobRunsRequest,
    ) -> Result<GetJobRunsResponse, ApiError> {
        let scope = ctx.scope.clone();
        let job = input.job_name.unwrap_or_default();
        let limit = input.max_results.map_or(JOB_RUNS_PAGE_MAX, |n| n as usize);
        let app = ctx.app.clone();
        let context = format!("GetJobRuns/{}/{}/{}", scope.account, scope.region, job);
        let (runs, next_token) = ctx
            .app
            .read(move |tx| {
                if tx.get(&scope, Kind::Job, &job)?.is_none() {
                    return Err(ApiError::EntityNotFound(format!("Job {job} not found.")));
                }
                let page = pagination::history_page(
                    app.tokens(),
                    &context,
                    input.next_token.as_deref(),
                    limit,
                    |before, n| Ok(tx.list_job_runs(&scope, &job, before, n)?),
                    |run| RunCursor {
                        started_ms: run.started_ms,
                        run_id: run.run_id.clone(),
                    },
                )?;
                let runs = page
                    .items
                    .iter()
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()?;
                let next_token = page.next_token;
                Ok((runs, next_token))
            })
            .await?;
        Ok(GetJobRunsResponse {
            job_runs: Some(runs),
            next_token,
        })
    }
}

impl Handle for BatchStopJobRun {
    async fn handle(
        ctx: &RequestContext,
        input: BatchStopJobRunRequest,
    ) -> Result<BatchStopJobRunResponse, ApiError> {
        let job = input.job_name.unwrap_or_default();
        let mut successes = Vec::new();
        let mut errors = Vec::new();
        for id in input.job_run_ids.unwrap_or_default() {
            match ctx
                .app
                .orchestrator()
                .stop_job_run(ctx.scope.clone(), job.clone(), id.clone())
                .await
            {
                Ok(()) => successes.push(BatchStopJobRunSuccessfulSubmission {
                    job_name: Some(job.clone()),
                    job_run_id: Some(id),
                }),
                Err(message) => errors.push(BatchStopJobRunError {
                    job_name: Some(job.clone()),
                    job_run_id: Some(id),
                    error_detail: Some(ErrorDetail {
                        error_code: Some("InvalidInputException".into()),
                        error_message: Some(message),
                    }),
                }),
            }
        }
        Ok(BatchStopJobRunResponse {
            successful_submissions: Some(successes),
            errors: Some(errors),
        })
    }
}
