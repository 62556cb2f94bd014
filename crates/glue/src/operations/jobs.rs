//! Job definition operations (spec §6.1, Appendix A.4). Job runs live elsewhere.
//!
//! A job is stored in its `Job` wire form (defaults filled by [`job::create`]) with its
//! tags in the record. Deleting a job that triggers still name is allowed, as on AWS:
//! the triggers keep the dangling name and a workflow run that reaches it records an
//! ERROR job run (spec §6.3).

use std::collections::BTreeMap;

use weir_model::operations::{
    BatchGetJobs, CreateJob, DeleteJob, GetJob, GetJobBookmark, GetJobs, ListJobs,
    ResetJobBookmark, UpdateJob,
};
use weir_model::shapes::{
    BatchGetJobsRequest, BatchGetJobsResponse, CreateJobRequest, CreateJobResponse,
    DeleteJobRequest, DeleteJobResponse, GetJobBookmarkRequest, GetJobBookmarkResponse,
    GetJobRequest, GetJobResponse, GetJobsRequest, GetJobsResponse, Job, ListJobsRequest,
    ListJobsResponse, ResetJobBookmarkRequest, ResetJobBookmarkResponse, UpdateJobRequest,
    UpdateJobResponse,
};
use weir_store::Kind;

use super::{Handle, RequestContext};
use weir_resources::pagination::NamePage;
use weir_resources::{ApiError, OrApiError};
use weir_resources::{bookmark, job, listing, stored, tags};

/// Page size of GetJobs and ListJobs when MaxResults is absent (the model's maximum).
const JOBS_PAGE_MAX: usize = 1000;

impl Handle for CreateJob {
    async fn handle(
        ctx: &RequestContext,
        input: CreateJobRequest,
    ) -> Result<CreateJobResponse, ApiError> {
        let name = input.name.clone().unwrap_or_default();
        let (definition, tags) = job::create(input, ctx.app.clock().now())?;
        tags::check(&tags)?;
        let record = stored::record(&name, None, &definition, tags)?;
        let scope = ctx.scope.clone();
        let created = ctx
            .app
            .write(move |tx| Ok(tx.insert(&scope, Kind::Job, &record)?))
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists(job::already_exists(&name)));
        }
        Ok(CreateJobResponse { name: Some(name) })
    }
}

impl Handle for UpdateJob {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateJobRequest,
    ) -> Result<UpdateJobResponse, ApiError> {
        let now = ctx.app.clock().now();
        let name = input.job_name.unwrap_or_default();
        let update = input.job_update.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        ctx.app
            .write(move |tx| {
                let current = stored::load::<Job>(tx, &scope, Kind::Job, &key)?
                    .or_not_found(|| job::not_found(&key))?;
                let changed = job::update(&current.value, update, now)?;
                let record = stored::record(&key, None, &changed, current.tags)?;
                tx.update(&scope, Kind::Job, &record)?;
                Ok(())
            })
            .await?;
        Ok(UpdateJobResponse {
            job_name: Some(name),
        })
    }
}

impl Handle for DeleteJob {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteJobRequest,
    ) -> Result<DeleteJobResponse, ApiError> {
        let name = input.job_name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        ctx.app
            .write(move |tx| {
                tx.delete(&scope, Kind::JobBookmark, &key)?;
                Ok(tx.delete(&scope, Kind::Job, &key)?)
            })
            .await?;
        Ok(DeleteJobResponse {
            job_name: Some(name),
        })
    }
}

impl Handle for GetJob {
    async fn handle(
        ctx: &RequestContext,
        input: GetJobRequest,
    ) -> Result<GetJobResponse, ApiError> {
        let name = input.job_name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let found = ctx
            .app
            .read(move |tx| {
                stored::load::<Job>(tx, &scope, Kind::Job, &name)?
                    .or_not_found(|| job::not_found(&name))
            })
            .await?;
        Ok(GetJobResponse {
            job: Some(found.value),
        })
    }
}

/// One name-ordered page of jobs carrying all of `wanted` tags.
async fn page(
    ctx: &RequestContext,
    operation: &str,
    next_token: Option<String>,
    max_results: Option<i32>,
    wanted: BTreeMap<String, String>,
) -> Result<NamePage<weir_store::Record>, ApiError> {
    let limit = max_results.map_or(JOBS_PAGE_MAX, |n| usize::try_from(n).unwrap_or(1));
    let scope = ctx.scope.clone();
    let app = ctx.app.clone();
    let context = format!("{operation}/{}/{}", scope.account, scope.region);
    ctx.app
        .read(move |tx| {
            listing::filtered_page(
                tx,
                app.tokens(),
                &context,
                &scope,
                Kind::Job,
                next_token.as_deref(),
                limit,
                |record| Ok(listing::has_all_tags(&record.tags, &wanted)),
            )
        })
        .await
}

impl Handle for GetJobs {
    async fn handle(
        ctx: &RequestContext,
        input: GetJobsRequest,
    ) -> Result<GetJobsResponse, ApiError> {
        let page = page(
            ctx,
            "GetJobs",
            input.next_token,
            input.max_results,
            BTreeMap::new(),
        )
        .await?;
        let jobs = stored::decode_values::<Job>(page.items)?;
        Ok(GetJobsResponse {
            jobs: Some(jobs),
            next_token: page.next_token,
        })
    }
}

impl Handle for ListJobs {
    async fn handle(
        ctx: &RequestContext,
        input: ListJobsRequest,
    ) -> Result<ListJobsResponse, ApiError> {
        let wanted = input.tags.unwrap_or_default();
        let page = page(ctx, "ListJobs", input.next_token, input.max_results, wanted).await?;
        Ok(ListJobsResponse {
            job_names: Some(page.items.into_iter().map(|r| r.name).collect()),
            next_token: page.next_token,
        })
    }
}

impl Handle for BatchGetJobs {
    async fn handle(
        ctx: &RequestContext,
        input: BatchGetJobsRequest,
    ) -> Result<BatchGetJobsResponse, ApiError> {
        let names = input.job_names.unwrap_or_default();
        let scope = ctx.scope.clone();
        let (found, missing) = ctx
            .app
            .read(move |tx| {
                stored::load_each(names, |name| {
                    Ok(stored::load::<Job>(tx, &scope, Kind::Job, name)?.map(|s| s.value))
                })
            })
            .await?;
        Ok(BatchGetJobsResponse {
            jobs: Some(found),
            jobs_not_found: (!missing.is_empty()).then_some(missing),
        })
    }
}

impl Handle for GetJobBookmark {
    async fn handle(
        ctx: &RequestContext,
        input: GetJobBookmarkRequest,
    ) -> Result<GetJobBookmarkResponse, ApiError> {
        let name = input.job_name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let entry = ctx
            .app
            .read(move |tx| {
                Ok(bookmark::load(tx, &scope, &name)?
                    .or_not_found(|| bookmark::not_found(&name))?
                    .current)
            })
            .await?;
        Ok(GetJobBookmarkResponse {
            job_bookmark_entry: Some(entry),
        })
    }
}

impl Handle for ResetJobBookmark {
    async fn handle(
        ctx: &RequestContext,
        input: ResetJobBookmarkRequest,
    ) -> Result<ResetJobBookmarkResponse, ApiError> {
        let name = input.job_name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let entry = ctx
            .app
            .write(move |tx| {
                stored::load::<Job>(tx, &scope, Kind::Job, &name)?
                    .or_not_found(|| job::not_found(&name))?;
                bookmark::reset(tx, &scope, &name, input.run_id.as_deref())
            })
            .await?;
        Ok(ResetJobBookmarkResponse {
            job_bookmark_entry: Some(entry),
        })
    }
}
