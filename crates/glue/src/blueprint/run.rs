//! Blueprint runs (spec §9.4): StartBlueprintRun checks and records the run, then the
//! work happens after the answer: extract the archive, generate the layout, create the
//! entities; on failure roll them back.
//!
//! States: RUNNING → SUCCEEDED (`WorkflowName`, `CompletedOn`), or RUNNING →
//! ROLLING_BACK (committed before anything is deleted) → FAILED (`ErrorMessage`, and
//! `RollbackErrorMessage` when a deletion failed). Each created entity is committed
//! into the run record before the next request, so the rollback deletes exactly what
//! this run created — never a namesake that existed before.

use weir_model::shapes::{
    BlueprintDetails, BlueprintRun, BlueprintRunState, BlueprintStatus, Workflow,
};
use weir_store::{Kind, Scope};

use super::entities::{self, Step};
use super::recovery::{self, Pending};
use super::{
    ActiveDefinition, Created, EntityKind, LAYOUT_TIME_LIMIT, StoredRun, archive_path, run_dir,
    run_key,
};
use crate::app::App;
use crate::operations::RequestContext;
use weir_blueprint::archive;
use weir_blueprint::layout::{self, LayoutRequest, LayoutSettings};
use weir_blueprint::params::ParameterSpec;
use weir_resources::stored;
use weir_resources::{ApiError, OrApiError};

/// Checks a StartBlueprintRun request, records the run as RUNNING and starts the work;
/// returns the run id once the record is committed.
pub async fn start(
    ctx: &RequestContext,
    blueprint: String,
    parameters: Option<String>,
    role_arn: Option<String>,
) -> Result<String, ApiError> {
    let scope = ctx.scope.clone();
    let name = blueprint.clone();
    let active = ctx
        .app
        .read(move |tx| {
            let (stored, _) =
                super::load(tx, &scope, &name)?.or_not_found(|| super::not_found(&name))?;
            let current = stored.wire.status.as_ref();
            match stored.active {
                Some(active) if current != Some(&BlueprintStatus::Creating) => Ok(active),
                _ => Err(ApiError::IllegalBlueprintState(format!(
                    "Blueprint {name} is in state {} and has no active definition to run.",
                    current.map_or("", BlueprintStatus::as_str)
                ))),
            }
        })
        .await?;
    let spec = ParameterSpec::from_json(&active.parameter_spec).map_err(ApiError::Internal)?;
    let user_params = spec
        .resolve(parameters.as_deref())
        .map_err(ApiError::InvalidInput)?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let run = StoredRun {
        wire: BlueprintRun {
            blueprint_name: Some(blueprint.clone()),
            run_id: Some(run_id.clone()),
            state: Some(BlueprintRunState::Running),
            started_on: Some(ctx.app.clock().now()),
            parameters,
            role_arn,
            ..Default::default()
        },
        created: Vec::new(),
    };
    let scope = ctx.scope.clone();
    let key = run_key(&blueprint, &run_id);
    let parent = blueprint.clone();
    ctx.app
        .write(move |tx| {
            // The blueprint may have been deleted since the read above.
            tx.get(&scope, Kind::Blueprint, &parent)?
                .or_not_found(|| super::not_found(&parent))?;
            let pending = Pending::run(
                &scope,
                &parent,
                &run.wire.run_id.clone().unwrap_or_default(),
            );
            let record = stored::record(&key, Some(parent), &run, Default::default())?;
            tx.insert(&scope, Kind::BlueprintRun, &record)?;
            recovery::mark(tx, pending)
        })
        .await?;
    let job = RunJob {
        app: ctx.app.clone(),
        scope: ctx.scope.clone(),
        blueprint,
        run_id: run_id.clone(),
        active,
        user_params,
    };
    tokio::spawn(job.execute());
    Ok(run_id)
}

/// Everything the asynchronous part of a run needs.
struct RunJob {
    app: App,
    scope: Scope,
    blueprint: String,
    run_id: String,
    active: ActiveDefinition,
    user_params: serde_json::Map<String, serde_json::Value>,
}

impl RunJob {
    async fn execute(self) {
        let work = run_dir(&self.app, &self.run_id);
        let extracted = work.join("archive");
        let mut created = Vec::new();
        let outcome = self
            .generate_and_create(&work, &extracted, &mut created)
            .await;
        let _ = tokio::fs::remove_dir_all(&extracted).await;
        let now = self.app.clock().now();
        let result = match outcome {
            Ok(()) => {
                finish(
                    &self.app,
                    &self.scope,
                    &self.blueprint,
                    &self.run_id,
                    move |run| {
                        run.wire.state = Some(BlueprintRunState::Succeeded);
                        run.wire.completed_on = Some(now);
                    },
                )
                .await
            }
            Err(message) => {
                let (app, scope) = (&self.app, &self.scope);
                roll_back_and_fail(app, scope, &self.blueprint, &self.run_id, message, created)
                    .await
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, run = %self.run_id, "could not record a blueprint run");
        }
    }

    async fn generate_and_create(
        &self,
        work: &std::path::Path,
        extracted: &std::path::Path,
        created: &mut Vec<Created>,
    ) -> Result<(), String> {
        let archive_path = archive_path(&self.app, &self.active.service_location);
        let target = extracted.to_path_buf();
        tokio::task::spawn_blocking(move || archive::check(&archive_path, Some(&target)))
            .await
            .map_err(|e| format!("The extraction task failed: {e}"))??;
        let orchestrator = self.app.orchestrator();
        let settings = LayoutSettings {
            python: self.app.settings().python.clone(),
            python_lib: orchestrator.python_lib(),
            env: orchestrator.script_env(&self.scope),
            time_limit: LAYOUT_TIME_LIMIT,
        };
        let request = LayoutRequest {
            generator: self.active.layout_generator.clone(),
            user_params: self.user_params.clone(),
            region: self.scope.region.clone(),
            account_id: self.scope.account.clone(),
            name_suffix: name_suffix(),
        };
        let layout = layout::generate(&settings, extracted, work, &request).await?;
        let steps = entities::plan(&layout)?;
        let ctx = self.context();
        for step in &steps {
            entities::create(&ctx, step).await?;
            created.push(Created {
                kind: step.kind,
                name: step.name.clone(),
            });
            self.record_created(step).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Commits one created entity into the run (and the workflow's BlueprintDetails).
    async fn record_created(&self, step: &Step) -> Result<(), ApiError> {
        let created = Created {
            kind: step.kind,
            name: step.name.clone(),
        };
        let is_workflow = step.kind == EntityKind::Workflow;
        let details = BlueprintDetails {
            blueprint_name: Some(self.blueprint.clone()),
            run_id: Some(self.run_id.clone()),
        };
        let scope = self.scope.clone();
        let key = run_key(&self.blueprint, &self.run_id);
        self.app
            .write(move |tx| {
                if is_workflow
                    && let Some(mut workflow) =
                        stored::load::<Workflow>(tx, &scope, Kind::Workflow, &created.name)?
                {
                    workflow.value.blueprint_details = Some(details);
                    let record =
                        stored::record(&created.name, None, &workflow.value, workflow.tags)?;
                    tx.update(&scope, Kind::Workflow, &record)?;
                }
                modify(tx, &scope, &key, |run| {
                    if is_workflow {
                        run.wire.workflow_name = Some(created.name.clone());
                    }
                    run.created.push(created);
                })
                .map(|_| ())
            })
            .await
    }

    fn context(&self) -> RequestContext {
        context(&self.app, &self.scope, &self.run_id)
    }
}

fn context(app: &App, scope: &Scope, run_id: &str) -> RequestContext {
    RequestContext {
        app: app.clone(),
        scope: scope.clone(),
        request_id: format!("blueprint-run-{run_id}"),
    }
}

/// Sets the run ROLLING_BACK with `message` (committed), deletes what it created in
/// reverse order (through the API's handlers), then sets it FAILED, with
/// `RollbackErrorMessage` when deletions failed. Also used by crash recovery.
pub async fn roll_back_and_fail(
    app: &App,
    scope: &Scope,
    blueprint: &str,
    run_id: &str,
    message: String,
    created: Vec<Created>,
) -> Result<(), ApiError> {
    let (tx_scope, key) = (scope.clone(), run_key(blueprint, run_id));
    app.write(move |tx| {
        modify(tx, &tx_scope, &key, |run| {
            run.wire.state = Some(BlueprintRunState::RollingBack);
            run.wire.error_message = Some(message);
        })
    })
    .await?;
    let ctx = context(app, scope, run_id);
    let mut failures = Vec::new();
    for entity in created.iter().rev() {
        if let Err(error) = entities::delete(&ctx, entity).await {
            failures.push(error);
        }
    }
    let now = app.clock().now();
    finish(app, scope, blueprint, run_id, move |run| {
        run.wire.state = Some(BlueprintRunState::Failed);
        run.wire.completed_on = Some(now);
        if !failures.is_empty() {
            run.wire.rollback_error_message = Some(failures.join("; "));
        }
    })
    .await
}

/// Applies the final `change` to the run and takes it off the pending work, in one
/// transaction.
async fn finish(
    app: &App,
    scope: &Scope,
    blueprint: &str,
    run_id: &str,
    change: impl FnOnce(&mut StoredRun) + Send + 'static,
) -> Result<(), ApiError> {
    let (scope, key) = (scope.clone(), run_key(blueprint, run_id));
    let pending = Pending::run(&scope, blueprint, run_id);
    app.write(move |tx| {
        modify(tx, &scope, &key, change)?;
        recovery::unmark(tx, &pending)
    })
    .await
}

/// Applies `change` to a stored run inside a transaction; `None` if it is gone.
fn modify(
    tx: &mut dyn weir_store::Transaction,
    scope: &Scope,
    key: &str,
    change: impl FnOnce(&mut StoredRun),
) -> Result<Option<StoredRun>, ApiError> {
    let Some(mut run) = stored::load::<StoredRun>(tx, scope, Kind::BlueprintRun, key)? else {
        return Ok(None);
    };
    change(&mut run.value);
    let record = stored::record(key, run.parent, &run.value, run.tags)?;
    tx.update(scope, Kind::BlueprintRun, &record)?;
    Ok(Some(run.value))
}

/// 8 random lowercase hex digits, appended as `_<suffix>` to job and crawler names.
fn name_suffix() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 4];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
