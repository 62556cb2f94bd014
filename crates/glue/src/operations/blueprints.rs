//! Blueprint operations (spec §9, Appendix A.2). The domain lives in
//! [`crate::blueprint`]; see its documentation for the stored forms and decisions.
//!
//! CreateBlueprint and UpdateBlueprint commit CREATING/UPDATING, answer, then register
//! the archive in the background. StartBlueprintRun checks the parameters, commits the
//! run as RUNNING, answers with its id, then runs it in the background.

use std::collections::BTreeMap;

use weir_model::operations::{
    BatchGetBlueprints, CreateBlueprint, DeleteBlueprint, GetBlueprint, GetBlueprintRun,
    GetBlueprintRuns, ListBlueprints, StartBlueprintRun, UpdateBlueprint,
};
use weir_model::shapes::{
    BatchGetBlueprintsRequest, BatchGetBlueprintsResponse, Blueprint, BlueprintRun,
    BlueprintStatus, CreateBlueprintRequest, CreateBlueprintResponse, DeleteBlueprintRequest,
    DeleteBlueprintResponse, GetBlueprintRequest, GetBlueprintResponse, GetBlueprintRunRequest,
    GetBlueprintRunResponse, GetBlueprintRunsRequest, GetBlueprintRunsResponse,
    ListBlueprintsRequest, ListBlueprintsResponse, StartBlueprintRunRequest,
    StartBlueprintRunResponse, UpdateBlueprintRequest, UpdateBlueprintResponse,
};
use weir_store::Kind;

use super::{Handle, RequestContext};
use crate::blueprint::recovery::{self, Pending};
use crate::blueprint::{self, StoredBlueprint, StoredRun, registration, run, run_key};
use weir_resources::{ApiError, OrApiError};
use weir_resources::{listing, stored, tags};

/// Page size of ListBlueprints when MaxResults is absent (the model's maximum).
const LIST_BLUEPRINTS_MAX: usize = 25;
/// Page size of GetBlueprintRuns when MaxResults is absent (the model's maximum).
const BLUEPRINT_RUNS_MAX: usize = 1000;

/// A random id naming one registration of a blueprint (and its archive copy).
fn new_revision() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Handle for CreateBlueprint {
    async fn handle(
        ctx: &RequestContext,
        input: CreateBlueprintRequest,
    ) -> Result<CreateBlueprintResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let location = input.blueprint_location.unwrap_or_default();
        let tags = input.tags.unwrap_or_default();
        tags::check(&tags)?;
        let now = ctx.app.clock().now();
        let revision = new_revision();
        let blueprint = StoredBlueprint {
            wire: Blueprint {
                name: Some(name.clone()),
                description: input.description,
                created_on: Some(now),
                last_modified_on: Some(now),
                blueprint_location: Some(location.clone()),
                status: Some(BlueprintStatus::Creating),
                ..Default::default()
            },
            revision: revision.clone(),
            active: None,
        };
        let record = stored::record(&name, None, &blueprint, tags)?;
        let scope = ctx.scope.clone();
        let created = ctx
            .app
            .write(move |tx| {
                let created = tx.insert(&scope, Kind::Blueprint, &record)?;
                if created {
                    recovery::mark(tx, Pending::registration(&scope, &record.name))?;
                }
                Ok(created)
            })
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists(format!(
                "Blueprint {name} already exists."
            )));
        }
        let task = registration::register(
            ctx.app.clone(),
            ctx.scope.clone(),
            name.clone(),
            revision,
            location,
        );
        tokio::spawn(task);
        Ok(CreateBlueprintResponse { name: Some(name) })
    }
}

impl Handle for UpdateBlueprint {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateBlueprintRequest,
    ) -> Result<UpdateBlueprintResponse, ApiError> {
        let now = ctx.app.clock().now();
        let name = input.name.unwrap_or_default();
        let location = input.blueprint_location.unwrap_or_default();
        let revision = new_revision();
        let scope = ctx.scope.clone();
        let (key, new_location, new_revision) = (name.clone(), location.clone(), revision.clone());
        ctx.app
            .write(move |tx| {
                let (mut blueprint, tags) = blueprint::load(tx, &scope, &key)?
                    .or_not_found(|| blueprint::not_found(&key))?;
                if let Some(current @ (BlueprintStatus::Creating | BlueprintStatus::Updating)) =
                    &blueprint.wire.status
                {
                    return Err(ApiError::IllegalBlueprintState(format!(
                        "Blueprint {key} is in state {current}; wait until its registration \
                         finishes before updating it."
                    )));
                }
                let wire = &mut blueprint.wire;
                if input.description.is_some() {
                    wire.description = input.description;
                }
                wire.blueprint_location = Some(new_location);
                wire.last_modified_on = Some(now);
                wire.status = Some(BlueprintStatus::Updating);
                wire.error_message = None;
                blueprint.revision = new_revision;
                blueprint::save(tx, &scope, &blueprint, tags)?;
                recovery::mark(tx, Pending::registration(&scope, &key))
            })
            .await?;
        let task = registration::register(
            ctx.app.clone(),
            ctx.scope.clone(),
            name.clone(),
            revision,
            location,
        );
        tokio::spawn(task);
        Ok(UpdateBlueprintResponse { name: Some(name) })
    }
}

impl Handle for DeleteBlueprint {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteBlueprintRequest,
    ) -> Result<DeleteBlueprintResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        ctx.app
            .write(move |tx| {
                for run in tx.list_children(&scope, Kind::BlueprintRun, &key)? {
                    tx.delete(&scope, Kind::BlueprintRun, &run.name)?;
                }
                tx.delete(&scope, Kind::Blueprint, &key)?;
                // Runs still in progress take themselves off when they end.
                recovery::unmark(tx, &Pending::registration(&scope, &key))
            })
            .await?;
        // The archive copies go too (workflows created from the blueprint stay). Names
        // that are not valid blueprint names never had a folder.
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && name != "."
            && name != "..";
        if valid {
            let dir = blueprint::blueprint_dir(&ctx.app, &ctx.scope, &name);
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
        Ok(DeleteBlueprintResponse { name: Some(name) })
    }
}

impl Handle for GetBlueprint {
    async fn handle(
        ctx: &RequestContext,
        input: GetBlueprintRequest,
    ) -> Result<GetBlueprintResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let (stored, _) = ctx
            .app
            .read(move |tx| {
                blueprint::load(tx, &scope, &name)?.or_not_found(|| blueprint::not_found(&name))
            })
            .await?;
        Ok(GetBlueprintResponse {
            blueprint: Some(blueprint::render(
                &ctx.app,
                &stored,
                input.include_blueprint.unwrap_or(false),
                input.include_parameter_spec.unwrap_or(false),
            )),
        })
    }
}

impl Handle for ListBlueprints {
    async fn handle(
        ctx: &RequestContext,
        input: ListBlueprintsRequest,
    ) -> Result<ListBlueprintsResponse, ApiError> {
        let limit = input
            .max_results
            .map_or(LIST_BLUEPRINTS_MAX, |n| usize::try_from(n).unwrap_or(1));
        let wanted = input.tags.unwrap_or_default();
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let context = format!("ListBlueprints/{}/{}", scope.account, scope.region);
        let page = ctx
            .app
            .read(move |tx| {
                listing::filtered_page(
                    tx,
                    app.tokens(),
                    &context,
                    &scope,
                    Kind::Blueprint,
                    input.next_token.as_deref(),
                    limit,
                    |record| Ok(listing::has_all_tags(&record.tags, &wanted)),
                )
            })
            .await?;
        Ok(ListBlueprintsResponse {
            blueprints: Some(page.items.into_iter().map(|r| r.name).collect()),
            next_token: page.next_token,
        })
    }
}

impl Handle for BatchGetBlueprints {
    async fn handle(
        ctx: &RequestContext,
        input: BatchGetBlueprintsRequest,
    ) -> Result<BatchGetBlueprintsResponse, ApiError> {
        let names = input.names.unwrap_or_default();
        let include_blueprint = input.include_blueprint.unwrap_or(false);
        let include_spec = input.include_parameter_spec.unwrap_or(false);
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let (found, missing) = ctx
            .app
            .read(move |tx| {
                stored::load_each(names, |name| {
                    Ok(blueprint::load(tx, &scope, name)?.map(|(stored, _)| {
                        blueprint::render(&app, &stored, include_blueprint, include_spec)
                    }))
                })
            })
            .await?;
        Ok(BatchGetBlueprintsResponse {
            blueprints: Some(found),
            missing_blueprints: (!missing.is_empty()).then_some(missing),
        })
    }
}

impl Handle for StartBlueprintRun {
    async fn handle(
        ctx: &RequestContext,
        input: StartBlueprintRunRequest,
    ) -> Result<StartBlueprintRunResponse, ApiError> {
        let name = input.blueprint_name.unwrap_or_default();
        let run_id = run::start(ctx, name, input.parameters, input.role_arn).await?;
        Ok(StartBlueprintRunResponse {
            run_id: Some(run_id),
        })
    }
}

impl Handle for GetBlueprintRun {
    async fn handle(
        ctx: &RequestContext,
        input: GetBlueprintRunRequest,
    ) -> Result<GetBlueprintRunResponse, ApiError> {
        let name = input.blueprint_name.unwrap_or_default();
        let run_id = input.run_id.unwrap_or_default();
        let scope = ctx.scope.clone();
        let run = ctx
            .app
            .read(move |tx| {
                let key = run_key(&name, &run_id);
                stored::load::<StoredRun>(tx, &scope, Kind::BlueprintRun, &key)?
                    .map(|s| s.value.wire)
                    .or_not_found(|| {
                        format!("Blueprint run {run_id} of blueprint {name} does not exist.")
                    })
            })
            .await?;
        Ok(GetBlueprintRunResponse {
            blueprint_run: Some(run),
        })
    }
}

impl Handle for GetBlueprintRuns {
    async fn handle(
        ctx: &RequestContext,
        input: GetBlueprintRunsRequest,
    ) -> Result<GetBlueprintRunsResponse, ApiError> {
        let name = input.blueprint_name.unwrap_or_default();
        let limit = input
            .max_results
            .map_or(BLUEPRINT_RUNS_MAX, |n| usize::try_from(n).unwrap_or(1));
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let context = format!("GetBlueprintRuns/{}/{}/{name}", scope.account, scope.region);
        let (runs, next_token) = ctx
            .app
            .read(move |tx| {
                tx.get(&scope, Kind::Blueprint, &name)?
                    .or_not_found(|| blueprint::not_found(&name))?;
                let mut runs = Vec::new();
                for record in tx.list_children(&scope, Kind::BlueprintRun, &name)? {
                    runs.push(stored::decode::<StoredRun>(record)?.value.wire);
                }
                let after = app.tokens().cursor(&context, input.next_token.as_deref())?;
                Ok(newest_first_page(runs, after.as_deref(), limit, |last| {
                    app.tokens().issue(&context, &cursor(last))
                }))
            })
            .await?;
        Ok(GetBlueprintRunsResponse {
            blueprint_runs: Some(runs),
            next_token,
        })
    }
}

/// The position of a run in the newest-first order: start time, then run id.
fn cursor(run: &BlueprintRun) -> String {
    let started = run.started_on.map_or(0, |t| t.as_millis());
    format!(
        "{started:020}|{}",
        run.run_id.as_deref().unwrap_or_default()
    )
}

/// Sorts `runs` newest first and returns the page after `after` with the token
/// for the next page (none on the last page).
fn newest_first_page(
    mut runs: Vec<BlueprintRun>,
    after: Option<&str>,
    limit: usize,
    issue: impl FnOnce(&BlueprintRun) -> String,
) -> (Vec<BlueprintRun>, Option<String>) {
    let mut keyed: BTreeMap<String, BlueprintRun> = BTreeMap::new();
    for run in runs.drain(..) {
        keyed.insert(cursor(&run), run);
    }
    let mut page: Vec<BlueprintRun> = keyed
        .into_iter()
        .rev()
        .filter(|(key, _)| after.is_none_or(|a| key.as_str() < a))
        .map(|(_, run)| run)
        .take(limit + 1)
        .collect();
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last().map(issue)
    } else {
        None
    };
    (page, next)
}

#[cfg(test)]
mod tests {
    use weir_model::Timestamp;

    use super::*;

    fn run(id: &str, millis: i64) -> BlueprintRun {
        BlueprintRun {
            run_id: Some(id.into()),
            started_on: Some(Timestamp::from_millis(millis)),
            ..Default::default()
        }
    }

    #[test]
    fn runs_page_newest_first_without_gaps() {
        let runs = vec![run("a", 10), run("b", 30), run("c", 20), run("d", 30)];
        let (first, token) = newest_first_page(runs.clone(), None, 2, cursor);
        let ids: Vec<_> = first.iter().filter_map(|r| r.run_id.clone()).collect();
        assert_eq!(ids, ["d", "b"]);
        let token = token.expect("more pages");
        let (second, token) = newest_first_page(runs, Some(&token), 2, cursor);
        let ids: Vec<_> = second.iter().filter_map(|r| r.run_id.clone()).collect();
        assert_eq!(ids, ["c", "a"]);
        assert!(token.is_none());
    }
}
