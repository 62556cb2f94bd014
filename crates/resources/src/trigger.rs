//! Trigger definitions (glue-api.md §5): building the stored `Trigger` from
//! CreateTrigger and UpdateTrigger, its initial state, and the rules a single trigger
//! must satisfy on its own.
//!
//! Rules that need the store — the workflow exists, referenced jobs and crawlers exist,
//! one start trigger per workflow, no cycle among a workflow's triggers — are checked by
//! the operations (`operations/triggers.rs`) with [`crate::graph`].
//!
//! Messages follow what AWS was observed to answer where known (§5.2); the others are
//! written in the same style.

use std::collections::{BTreeMap, BTreeSet};

use weir_model::shapes::{
    CrawlState, CreateTriggerRequest, JobRunState, Trigger, TriggerState, TriggerType,
    TriggerUpdate,
};

use crate::ApiError;
use crate::cron;

/// Trigger types that start a workflow run (at most one per workflow, §4.1).
pub const START_TYPES: [TriggerType; 3] = [
    TriggerType::OnDemand,
    TriggerType::Scheduled,
    TriggerType::Event,
];
/// Job states a condition may wait for (§5.3).
pub const JOB_CONDITION_STATES: [JobRunState; 4] = [
    JobRunState::Succeeded,
    JobRunState::Stopped,
    JobRunState::Failed,
    JobRunState::Timeout,
];
/// Crawl states a condition may wait for (§5.3).
pub const CRAWL_CONDITION_STATES: [CrawlState; 3] = [
    CrawlState::Succeeded,
    CrawlState::Failed,
    CrawlState::Cancelled,
];
/// Most crawlers one trigger may start (§5.2).
pub const MAX_CRAWLER_ACTIONS: usize = 2;
/// Most jobs one trigger may start (AWS's default quota).
pub const MAX_JOB_ACTIONS: usize = 50;

/// The EntityNotFoundException message for a missing trigger.
pub fn not_found(name: &str) -> String {
    format!("Trigger {name} not found.")
}

/// The AlreadyExistsException message for a taken trigger name.
pub fn already_exists(name: &str) -> String {
    format!("Trigger with name {name} already exists.")
}

/// Whether triggers of type `kind` start workflow runs.
pub fn is_start_type(kind: &TriggerType) -> bool {
    START_TYPES.contains(kind)
}

/// Whether the trigger is its workflow's start trigger.
pub fn is_start_trigger(trigger: &Trigger) -> bool {
    trigger.r#type.as_ref().is_some_and(is_start_type)
}

/// Names of the jobs the trigger's actions start.
pub fn action_jobs(trigger: &Trigger) -> impl Iterator<Item = &str> {
    trigger
        .actions
        .iter()
        .flatten()
        .filter_map(|a| a.job_name.as_deref())
}

/// Names of the crawlers the trigger's actions start.
pub fn action_crawlers(trigger: &Trigger) -> impl Iterator<Item = &str> {
    trigger
        .actions
        .iter()
        .flatten()
        .filter_map(|a| a.crawler_name.as_deref())
}

/// Names of the jobs the trigger's conditions watch.
pub fn condition_jobs(trigger: &Trigger) -> impl Iterator<Item = &str> {
    conditions(trigger).filter_map(|c| c.job_name.as_deref())
}

/// Names of the crawlers the trigger's conditions watch.
pub fn condition_crawlers(trigger: &Trigger) -> impl Iterator<Item = &str> {
    conditions(trigger).filter_map(|c| c.crawler_name.as_deref())
}

fn conditions(trigger: &Trigger) -> impl Iterator<Item = &weir_model::shapes::Condition> {
    trigger
        .predicate
        .iter()
        .flat_map(|p| p.conditions.iter().flatten())
}

/// Builds the stored trigger of a CreateTrigger request (state set, rules checked) and
/// returns it with the request's tags.
///
/// State after creation: ON_DEMAND and EVENT are `CREATED`; SCHEDULED and CONDITIONAL are
/// `ACTIVATED` with `StartOnCreation=true`, else `CREATED`. `StartOnCreation=true` on an
/// ON_DEMAND or EVENT trigger is InvalidInputException (§5.1).
pub fn create(
    request: CreateTriggerRequest,
) -> Result<(Trigger, BTreeMap<String, String>), ApiError> {
    let start_on_creation = request.start_on_creation.unwrap_or(false);
    if start_on_creation
        && let Some(kind @ (TriggerType::OnDemand | TriggerType::Event)) = &request.r#type
    {
        return Err(ApiError::InvalidInput(format!(
            "StartOnCreation is not supported for {kind} triggers."
        )));
    }
    let state = if start_on_creation {
        TriggerState::Activated
    } else {
        TriggerState::Created
    };
    let trigger = Trigger {
        name: request.name,
        workflow_name: request.workflow_name,
        id: None,
        r#type: request.r#type,
        state: Some(state),
        description: request.description,
        schedule: request.schedule,
        actions: Some(request.actions.unwrap_or_default()),
        predicate: request.predicate,
        event_batching_condition: request.event_batching_condition,
    };
    check(&trigger)?;
    Ok((trigger, request.tags.unwrap_or_default()))
}

/// The trigger that UpdateTrigger leaves: `update` overwrites Description, Schedule,
/// Actions, Predicate and EventBatchingCondition completely (a member it leaves out is
/// cleared, as AWS documents); Name, Type, WorkflowName and State stay.
/// `TriggerUpdate.Name` is "reserved for future use" and ignored.
pub fn update(current: &Trigger, update: TriggerUpdate) -> Result<Trigger, ApiError> {
    let trigger = Trigger {
        description: update.description,
        schedule: update.schedule,
        actions: Some(update.actions.unwrap_or_default()),
        predicate: update.predicate,
        event_batching_condition: update.event_batching_condition,
        ..current.clone()
    };
    check(&trigger)?;
    Ok(trigger)
}

/// Checks the rules one trigger must satisfy on its own (§5.2).
pub fn check(trigger: &Trigger) -> Result<(), ApiError> {
    let invalid = |m: String| Err(ApiError::InvalidInput(m));
    let kind = trigger.r#type.as_ref();
    let condition_count = conditions(trigger).count();
    match kind {
        Some(TriggerType::Scheduled) => match trigger.schedule.as_deref() {
            None | Some("") => {
                return invalid("Schedule cannot be null or empty for a SCHEDULED trigger.".into());
            }
            Some(expression) => {
                cron::parse_schedule(expression)?;
            }
        },
        Some(TriggerType::Conditional) if condition_count == 0 => {
            return invalid(
                "Predicate cannot be null or empty for a CONDITIONAL trigger: it needs at least one condition."
                    .into(),
            );
        }
        Some(TriggerType::Event) if trigger.workflow_name.is_none() => {
            return invalid(
                "An EVENT trigger must belong to a workflow: WorkflowName is required.".into(),
            );
        }
        _ => {}
    }
    let conditional = kind == Some(&TriggerType::Conditional);
    if !conditional && condition_count > 0 {
        return invalid(format!(
            "Only CONDITIONAL triggers can have predicate conditions; this trigger is {}.",
            kind.map_or("", TriggerType::as_str)
        ));
    }
    for condition in conditions(trigger) {
        if condition.logical_operator.is_none() {
            return invalid("Logical operator cannot be null or empty".into());
        }
        match (&condition.job_name, &condition.crawler_name) {
            (Some(_), None) => {
                if !condition
                    .state
                    .as_ref()
                    .is_some_and(|s| JOB_CONDITION_STATES.contains(s))
                {
                    return invalid(format!(
                        "State cannot be null or empty, choose from one of the following job state: [{}]",
                        listed(JOB_CONDITION_STATES.iter().map(JobRunState::as_str))
                    ));
                }
            }
            (None, Some(_)) => {
                if !condition
                    .crawl_state
                    .as_ref()
                    .is_some_and(|s| CRAWL_CONDITION_STATES.contains(s))
                {
                    return invalid(format!(
                        "State cannot be null or empty, choose from one of the following crawler state: [{}]",
                        listed(CRAWL_CONDITION_STATES.iter().map(CrawlState::as_str))
                    ));
                }
            }
            _ => {
                return invalid(
                    "A condition must name exactly one of JobName and CrawlerName.".into(),
                );
            }
        }
    }
    let logical = trigger.predicate.as_ref().and_then(|p| p.logical.as_ref());
    if condition_count > 1 && logical.is_none() {
        return invalid(
            "Logical (AND or ANY) is required in a predicate with more than one condition.".into(),
        );
    }
    for action in trigger.actions.iter().flatten() {
        if action.job_name.is_some() == action.crawler_name.is_some() {
            return invalid("An action must name exactly one of JobName and CrawlerName.".into());
        }
    }
    if action_crawlers(trigger).count() > MAX_CRAWLER_ACTIONS {
        return invalid("Actions cannot contain more than two crawlers".into());
    }
    if action_jobs(trigger).count() > MAX_JOB_ACTIONS {
        return Err(ApiError::ResourceNumberLimitExceeded(format!(
            "Actions cannot contain more than {MAX_JOB_ACTIONS} jobs"
        )));
    }
    if conditional {
        let watched: BTreeSet<&str> = condition_jobs(trigger).collect();
        if action_jobs(trigger).any(|j| watched.contains(j)) {
            return invalid("Job cannot be a Predicate and Action for Conditional Trigger.".into());
        }
        let watched: BTreeSet<&str> = condition_crawlers(trigger).collect();
        if action_crawlers(trigger).any(|c| watched.contains(c)) {
            return invalid(
                "Crawler cannot be a Predicate and Action for Conditional Trigger.".into(),
            );
        }
    }
    Ok(())
}

/// `a, b, c`: the values of a message's bracketed list.
fn listed<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_model::shapes::{
        Action, Condition, EventBatchingCondition, Logical, LogicalOperator, Predicate,
    };

    fn job(name: &str) -> Action {
        Action {
            job_name: Some(name.into()),
            ..Default::default()
        }
    }

    fn crawler(name: &str) -> Action {
        Action {
            crawler_name: Some(name.into()),
            ..Default::default()
        }
    }

    fn on_job(name: &str, state: JobRunState) -> Condition {
        Condition {
            logical_operator: Some(LogicalOperator::Equals),
            job_name: Some(name.into()),
            state: Some(state),
            ..Default::default()
        }
    }

    fn request(kind: TriggerType) -> CreateTriggerRequest {
        CreateTriggerRequest {
            name: Some("t".into()),
            workflow_name: Some("wf".into()),
            r#type: Some(kind),
            actions: Some(vec![job("j2")]),
            ..Default::default()
        }
    }

    fn conditional(conditions: Vec<Condition>, logical: Option<Logical>) -> CreateTriggerRequest {
        CreateTriggerRequest {
            predicate: Some(Predicate {
                logical,
                conditions: Some(conditions),
            }),
            ..request(TriggerType::Conditional)
        }
    }

    fn message(result: Result<(Trigger, BTreeMap<String, String>), ApiError>) -> String {
        let err = result.expect_err("rejected");
        assert_eq!(err.code(), "InvalidInputException", "{err}");
        err.to_string()
    }

    #[test]
    fn initial_states() {
        let state = |mut r: CreateTriggerRequest, start: bool| {
            r.start_on_creation = Some(start);
            create(r).expect("valid").0.state.expect("state")
        };
        let scheduled = CreateTriggerRequest {
            schedule: Some("cron(0 12 * * ? *)".into()),
            ..request(TriggerType::Scheduled)
        };
        assert_eq!(
            state(request(TriggerType::OnDemand), false),
            TriggerState::Created
        );
        assert_eq!(
            state(request(TriggerType::Event), false),
            TriggerState::Created
        );
        assert_eq!(state(scheduled.clone(), false), TriggerState::Created);
        assert_eq!(state(scheduled, true), TriggerState::Activated);
        let cond = conditional(vec![on_job("j1", JobRunState::Succeeded)], None);
        assert_eq!(state(cond.clone(), true), TriggerState::Activated);
        assert_eq!(state(cond, false), TriggerState::Created);
        for kind in [TriggerType::OnDemand, TriggerType::Event] {
            let mut r = request(kind);
            r.start_on_creation = Some(true);
            message(create(r));
        }
    }

    #[test]
    fn type_specific_members() {
        message(create(request(TriggerType::Scheduled)));
        let mut bad_cron = request(TriggerType::Scheduled);
        bad_cron.schedule = Some("cron(0 12 * * * *)".into());
        assert!(message(create(bad_cron)).contains("Invalid schedule expression"));
        message(create(request(TriggerType::Conditional)));
        let mut event = request(TriggerType::Event);
        event.workflow_name = None;
        message(create(event));
        let mut batched = request(TriggerType::Event);
        batched.event_batching_condition = Some(EventBatchingCondition {
            batch_size: Some(5),
            batch_window: Some(60),
        });
        assert!(create(batched).is_ok());
        let mut start_with_predicate =
            conditional(vec![on_job("j1", JobRunState::Succeeded)], None);
        start_with_predicate.r#type = Some(TriggerType::OnDemand);
        message(create(start_with_predicate));
        let mut empty = request(TriggerType::OnDemand);
        empty.actions = Some(vec![]);
        assert!(
            create(empty).is_ok(),
            "blueprints emit empty start triggers"
        );
    }

    #[test]
    fn condition_rules() {
        let mut no_operator = on_job("j1", JobRunState::Succeeded);
        no_operator.logical_operator = None;
        assert_eq!(
            message(create(conditional(vec![no_operator], None))),
            "Logical operator cannot be null or empty"
        );
        let no_state = Condition {
            state: None,
            ..on_job("j1", JobRunState::Succeeded)
        };
        assert!(message(create(conditional(vec![no_state], None))).contains("job state"));
        message(create(conditional(
            vec![on_job("j1", JobRunState::Running)],
            None,
        )));
        let crawler_with_state = Condition {
            logical_operator: Some(LogicalOperator::Equals),
            crawler_name: Some("c1".into()),
            state: Some(JobRunState::Succeeded),
            ..Default::default()
        };
        assert_eq!(
            message(create(conditional(vec![crawler_with_state], None))),
            "State cannot be null or empty, choose from one of the following crawler state: [SUCCEEDED, FAILED, CANCELLED]"
        );
        let both = Condition {
            crawler_name: Some("c1".into()),
            ..on_job("j1", JobRunState::Succeeded)
        };
        message(create(conditional(vec![both], None)));
        let two = vec![
            on_job("j1", JobRunState::Succeeded),
            on_job("j3", JobRunState::Failed),
        ];
        message(create(conditional(two.clone(), None)));
        assert!(create(conditional(two, Some(Logical::Any))).is_ok());
    }

    #[test]
    fn action_rules() {
        let mut self_loop = conditional(vec![on_job("j1", JobRunState::Failed)], None);
        self_loop.actions = Some(vec![job("j1")]);
        assert_eq!(
            message(create(self_loop)),
            "Job cannot be a Predicate and Action for Conditional Trigger."
        );
        let mut crawlers = request(TriggerType::OnDemand);
        crawlers.actions = Some(vec![crawler("c1"), crawler("c2"), crawler("c3")]);
        assert_eq!(
            message(create(crawlers)),
            "Actions cannot contain more than two crawlers"
        );
        let mut both = request(TriggerType::OnDemand);
        both.actions = Some(vec![Action {
            crawler_name: Some("c1".into()),
            ..job("j1")
        }]);
        message(create(both));
        let mut neither = request(TriggerType::OnDemand);
        neither.actions = Some(vec![Action::default()]);
        message(create(neither));
        let mut many = request(TriggerType::OnDemand);
        many.actions = Some(
            (0..=MAX_JOB_ACTIONS)
                .map(|i| job(&format!("j{i}")))
                .collect(),
        );
        let err = create(many).expect_err("too many");
        assert_eq!(err.code(), "ResourceNumberLimitExceededException");
    }

    #[test]
    fn update_overwrites_the_definition() {
        let mut req = conditional(vec![on_job("j1", JobRunState::Succeeded)], None);
        req.description = Some("old".into());
        req.start_on_creation = Some(true);
        let (current, _) = create(req).expect("valid");
        let updated = update(
            &current,
            TriggerUpdate {
                name: Some("ignored".into()),
                actions: Some(vec![job("j3")]),
                predicate: Some(Predicate {
                    logical: None,
                    conditions: Some(vec![on_job("j1", JobRunState::Failed)]),
                }),
                ..Default::default()
            },
        )
        .expect("valid");
        assert_eq!(updated.name.as_deref(), Some("t"));
        assert_eq!(updated.description, None, "cleared");
        assert_eq!(updated.state, Some(TriggerState::Activated), "state kept");
        assert_eq!(updated.r#type, Some(TriggerType::Conditional));
        assert_eq!(action_jobs(&updated).collect::<Vec<_>>(), ["j3"]);
        let err = update(&current, TriggerUpdate::default()).expect_err("no predicate");
        assert_eq!(err.code(), "InvalidInputException");
    }
}
