//! StartTrigger and StopTrigger (spec §5.1): firing an on-demand trigger, and
//! activating/deactivating scheduled and conditional triggers.

use weir_model::operations::{StartTrigger, StopTrigger};
use weir_model::shapes::{
    StartJobRunRequest, StartTriggerRequest, StartTriggerResponse, StopTriggerRequest,
    StopTriggerResponse, Trigger, TriggerState, TriggerType,
};
use weir_store::{Kind, Scope};

use super::{Handle, RequestContext};
use weir_orchestrator::StartOrigin;
use weir_resources::stored;
use weir_resources::{ApiError, OrApiError};

fn not_found(name: &str) -> String {
    format!("Trigger with name {name} not found.")
}

/// Moves a SCHEDULED or CONDITIONAL trigger to `state`; `from` lists the states the
/// move is allowed from.
async fn set_state(
    ctx: &RequestContext,
    name: String,
    from: Vec<TriggerState>,
    state: TriggerState,
) -> Result<(), ApiError> {
    let scope: Scope = ctx.scope.clone();
    let key = name.clone();
    let updated = ctx
        .app
        .write(move |tx| {
            let name = key;
            let mut current = stored::load::<Trigger>(tx, &scope, Kind::Trigger, &name)?
                .or_not_found(|| not_found(&name))?;
            let trigger = &mut current.value;
            let now_state = trigger.state.as_ref();
            if !now_state.is_some_and(|s| from.contains(s)) {
                return Err(ApiError::InvalidInput(format!(
                    "The operation is not allowed when trigger is in state: {}",
                    now_state.map_or("", TriggerState::as_str)
                )));
            }
            trigger.state = Some(state);
            let record =
                stored::record(&name, current.parent.clone(), &current.value, current.tags)?;
            tx.update(&scope, Kind::Trigger, &record)?;
            Ok(current.value)
        })
        .await?;
    ctx.app
        .scheduler()
        .refresh(&ctx.scope, &name, Some(&updated));
    Ok(())
}

impl Handle for StartTrigger {
    async fn handle(
        ctx: &RequestContext,
        input: StartTriggerRequest,
    ) -> Result<StartTriggerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let key = name.clone();
        let trigger = ctx
            .app
            .read(move |tx| {
                Ok(stored::load::<Trigger>(tx, &scope, Kind::Trigger, &key)?
                    .or_not_found(|| not_found(&key))?
                    .value)
            })
            .await?;
        match trigger.r#type {
            Some(TriggerType::Event) => {
                return Err(ApiError::InvalidInput(
                    "Trigger Type EVENT cannot be started".into(),
                ));
            }
            Some(TriggerType::OnDemand) => {
                let orchestrator = ctx.app.orchestrator();
                if let Some(workflow) = trigger.workflow_name {
                    orchestrator
                        .start_workflow_run(
                            ctx.scope.clone(),
                            workflow,
                            Default::default(),
                            StartOrigin::Trigger,
                        )
                        .await?;
                } else {
                    for action in trigger.actions.unwrap_or_default() {
                        if let Some(job) = action.job_name {
                            orchestrator
                                .start_job_run(
                                    ctx.scope.clone(),
                                    StartJobRunRequest {
                                        job_name: Some(job),
                                        arguments: action.arguments,
                                        timeout: action.timeout,
                                        security_configuration: action.security_configuration,
                                        notification_property: action.notification_property,
                                        ..Default::default()
                                    },
                                )
                                .await?;
                        }
                    }
                }
            }
            _ => {
                set_state(
                    ctx,
                    name.clone(),
                    vec![
                        TriggerState::Created,
                        TriggerState::Deactivated,
                        TriggerState::Activated,
                    ],
                    TriggerState::Activated,
                )
                .await?;
            }
        }
        Ok(StartTriggerResponse { name: Some(name) })
    }
}

impl Handle for StopTrigger {
    async fn handle(
        ctx: &RequestContext,
        input: StopTriggerRequest,
    ) -> Result<StopTriggerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        set_state(
            ctx,
            name.clone(),
            vec![TriggerState::Activated],
            TriggerState::Deactivated,
        )
        .await?;
        Ok(StopTriggerResponse { name: Some(name) })
    }
}
