//! Trigger definition operations (spec §5, Appendix A.3). StartTrigger and StopTrigger
//! belong to the engine side.
//!
//! A trigger is stored in its `Trigger` wire form with `parent` = its workflow (so
//! `list_children` yields a workflow's members and DeleteWorkflow removes them) and its
//! tags in the record. Checks beyond [`trigger::check`], all inside the write
//! transaction so concurrent requests cannot break them:
//! - the workflow named by `WorkflowName` exists (EntityNotFoundException);
//! - every job and crawler named in actions or conditions exists (EntityNotFoundException);
//! - a workflow has at most one start trigger (ON_DEMAND, SCHEDULED or EVENT) —
//!   InvalidInputException;
//! - the workflow's triggers stay free of cycles ([`graph::find_cycle`]) —
//!   InvalidInputException naming the cycle.
//!
//! `DependentJobName` (GetTriggers, ListTriggers) follows the model's documentation
//! literally: the triggers whose actions start that job, and if there is no such
//! trigger, all triggers.

use std::collections::{BTreeMap, BTreeSet};

use weir_model::operations::{
    BatchGetTriggers, CreateTrigger, DeleteTrigger, GetTrigger, GetTriggers, ListTriggers,
    UpdateTrigger,
};
use weir_model::shapes::{
    BatchGetTriggersRequest, BatchGetTriggersResponse, CreateTriggerRequest, CreateTriggerResponse,
    DeleteTriggerRequest, DeleteTriggerResponse, GetTriggerRequest, GetTriggerResponse,
    GetTriggersRequest, GetTriggersResponse, ListTriggersRequest, ListTriggersResponse, Trigger,
    UpdateTriggerRequest, UpdateTriggerResponse,
};
use weir_store::{Kind, Record, Scope, Transaction};

use super::{Handle, RequestContext};
use weir_resources::pagination::NamePage;
use weir_resources::{ApiError, OrApiError};
use weir_resources::{crawler, graph, job, listing, stored, tags, trigger};

/// Page size of GetTriggers and ListTriggers when MaxResults is absent (the model's maximum).
const TRIGGERS_PAGE_MAX: usize = 200;

/// Every job and crawler the trigger names must exist.
fn check_references(
    tx: &mut dyn Transaction,
    scope: &Scope,
    candidate: &Trigger,
) -> Result<(), ApiError> {
    let jobs: BTreeSet<&str> = trigger::action_jobs(candidate)
        .chain(trigger::condition_jobs(candidate))
        .collect();
    for name in jobs {
        tx.get(scope, Kind::Job, name)?
            .or_not_found(|| job::not_found(name))?;
    }
    let crawlers: BTreeSet<&str> = trigger::action_crawlers(candidate)
        .chain(trigger::condition_crawlers(candidate))
        .collect();
    for name in crawlers {
        tx.get(scope, Kind::Crawler, name)?
            .or_not_found(|| crawler::not_found(name))?;
    }
    Ok(())
}

/// With `candidate` added to (or replacing its namesake in) its workflow, the workflow
/// must keep a single start trigger and no cycle.
fn check_workflow(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
    candidate: &Trigger,
) -> Result<(), ApiError> {
    let mut members = graph::member_triggers(tx, scope, workflow)?;
    members.retain(|t| t.name != candidate.name);
    let name = candidate.name.as_deref().unwrap_or_default();
    if trigger::is_start_trigger(candidate)
        && let Some(existing) = members.iter().find(|t| trigger::is_start_trigger(t))
    {
        return Err(ApiError::InvalidInput(format!(
            "Workflow {workflow} already has a start trigger ({}); a workflow can have only one \
             ON_DEMAND, SCHEDULED or EVENT trigger.",
            existing.name.as_deref().unwrap_or_default()
        )));
    }
    members.push(candidate.clone());
    if let Some(cycle) = graph::find_cycle(&members) {
        return Err(ApiError::InvalidInput(format!(
            "Trigger {name} would create a cycle in workflow {workflow}: {}",
            cycle.join(" -> ")
        )));
    }
    Ok(())
}

impl Handle for CreateTrigger {
    async fn handle(
        ctx: &RequestContext,
        input: CreateTriggerRequest,
    ) -> Result<CreateTriggerResponse, ApiError> {
        let name = input.name.clone().unwrap_or_default();
        let (definition, tags) = trigger::create(input)?;
        tags::check(&tags)?;
        let scope = ctx.scope.clone();
        let key = name.clone();
        let created = definition.clone();
        ctx.app
            .write(move |tx| {
                if tx.get(&scope, Kind::Trigger, &key)?.is_some() {
                    return Err(ApiError::AlreadyExists(trigger::already_exists(&key)));
                }
                if let Some(workflow) = definition.workflow_name.as_deref() {
                    tx.get(&scope, Kind::Workflow, workflow)?.or_not_found(|| {
                        format!("Entity Not Found: workflow {workflow} does not exist.")
                    })?;
                }
                check_references(tx, &scope, &definition)?;
                if let Some(workflow) = definition.workflow_name.as_deref() {
                    check_workflow(tx, &scope, workflow, &definition)?;
                }
                let parent = definition.workflow_name.clone();
                let record = stored::record(&key, parent, &definition, tags)?;
                if !tx.insert(&scope, Kind::Trigger, &record)? {
                    return Err(ApiError::AlreadyExists(trigger::already_exists(&key)));
                }
                Ok(())
            })
            .await?;
        ctx.app
            .scheduler()
            .refresh(&ctx.scope, &name, Some(&created));
        Ok(CreateTriggerResponse { name: Some(name) })
    }
}

impl Handle for UpdateTrigger {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateTriggerRequest,
    ) -> Result<UpdateTriggerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let update = input.trigger_update.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        let changed = ctx
            .app
            .write(move |tx| {
                let name = key;
                let current = stored::load::<Trigger>(tx, &scope, Kind::Trigger, &name)?
                    .or_not_found(|| trigger::not_found(&name))?;
                let changed = trigger::update(&current.value, update)?;
                check_references(tx, &scope, &changed)?;
                if let Some(workflow) = changed.workflow_name.as_deref() {
                    check_workflow(tx, &scope, workflow, &changed)?;
                }
                let record = stored::record(&name, current.parent, &changed, current.tags)?;
                tx.update(&scope, Kind::Trigger, &record)?;
                Ok(changed)
            })
            .await?;
        ctx.app
            .scheduler()
            .refresh(&ctx.scope, &name, Some(&changed));
        Ok(UpdateTriggerResponse {
            trigger: Some(changed),
        })
    }
}

impl Handle for DeleteTrigger {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteTriggerRequest,
    ) -> Result<DeleteTriggerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        ctx.app
            .write(move |tx| Ok(tx.delete(&scope, Kind::Trigger, &key)?))
            .await?;
        ctx.app.scheduler().refresh(&ctx.scope, &name, None);
        Ok(DeleteTriggerResponse { name: Some(name) })
    }
}

impl Handle for GetTrigger {
    async fn handle(
        ctx: &RequestContext,
        input: GetTriggerRequest,
    ) -> Result<GetTriggerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let found = ctx
            .app
            .read(move |tx| {
                stored::load::<Trigger>(tx, &scope, Kind::Trigger, &name)?
                    .or_not_found(|| trigger::not_found(&name))
            })
            .await?;
        Ok(GetTriggerResponse {
            trigger: Some(found.value),
        })
    }
}

/// Whether the stored trigger `record` has an action starting `job`.
fn starts_job(record: &Record, job: &str) -> Result<bool, ApiError> {
    let value: Trigger = stored::decode_document(&record.name, record.version, &record.doc)?;
    Ok(trigger::action_jobs(&value).any(|j| j == job))
}

/// One name-ordered page of triggers: those starting `dependent` (all of them when none
/// does) and carrying all of `wanted` tags.
async fn page(
    ctx: &RequestContext,
    operation: &str,
    next_token: Option<String>,
    max_results: Option<i32>,
    dependent: Option<String>,
    wanted: BTreeMap<String, String>,
) -> Result<NamePage<Record>, ApiError> {
    let limit = max_results.map_or(TRIGGERS_PAGE_MAX, |n| usize::try_from(n).unwrap_or(1));
    let scope = ctx.scope.clone();
    let app = ctx.app.clone();
    let context = format!("{operation}/{}/{}", scope.account, scope.region);
    ctx.app
        .read(move |tx| {
            let dependent = match dependent {
                Some(job) if listing::any(tx, &scope, Kind::Trigger, |r| starts_job(r, &job))? => {
                    Some(job)
                }
                _ => None,
            };
            listing::filtered_page(
                tx,
                app.tokens(),
                &context,
                &scope,
                Kind::Trigger,
                next_token.as_deref(),
                limit,
                |record| {
                    if !listing::has_all_tags(&record.tags, &wanted) {
                        return Ok(false);
                    }
                    match &dependent {
                        Some(job) => starts_job(record, job),
                        None => Ok(true),
                    }
                },
            )
        })
        .await
}

impl Handle for GetTriggers {
    async fn handle(
        ctx: &RequestContext,
        input: GetTriggersRequest,
    ) -> Result<GetTriggersResponse, ApiError> {
        let page = page(
            ctx,
            "GetTriggers",
            input.next_token,
            input.max_results,
            input.dependent_job_name,
            BTreeMap::new(),
        )
        .await?;
        let triggers = stored::decode_values::<Trigger>(page.items)?;
        Ok(GetTriggersResponse {
            triggers: Some(triggers),
            next_token: page.next_token,
        })
    }
}

impl Handle for ListTriggers {
    async fn handle(
        ctx: &RequestContext,
        input: ListTriggersRequest,
    ) -> Result<ListTriggersResponse, ApiError> {
        let page = page(
            ctx,
            "ListTriggers",
            input.next_token,
            input.max_results,
            input.dependent_job_name,
            input.tags.unwrap_or_default(),
        )
        .await?;
        Ok(ListTriggersResponse {
            trigger_names: Some(page.items.into_iter().map(|r| r.name).collect()),
            next_token: page.next_token,
        })
    }
}

impl Handle for BatchGetTriggers {
    async fn handle(
        ctx: &RequestContext,
        input: BatchGetTriggersRequest,
    ) -> Result<BatchGetTriggersResponse, ApiError> {
        let names = input.trigger_names.unwrap_or_default();
        let scope = ctx.scope.clone();
        let (found, missing) = ctx
            .app
            .read(move |tx| {
                stored::load_each(names, |name| {
                    Ok(stored::load::<Trigger>(tx, &scope, Kind::Trigger, name)?.map(|s| s.value))
                })
            })
            .await?;
        Ok(BatchGetTriggersResponse {
            triggers: Some(found),
            triggers_not_found: (!missing.is_empty()).then_some(missing),
        })
    }
}
