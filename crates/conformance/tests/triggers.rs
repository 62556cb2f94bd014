//! Triggers as resources through aws-sdk-glue (spec §4.1, §5, Appendix A.3): CreateTrigger
//! and its initial states, UpdateTrigger as a whole replacement (Type and WorkflowName
//! fixed), idempotent DeleteTrigger, GetTriggers/ListTriggers with the SDK paginators and
//! DependentJobName/Tags filters, BatchGetTriggers, DeleteWorkflow taking its triggers,
//! and representative validation errors. The full matrix is in
//! tests/python/test_triggers.py.

use std::collections::HashMap;

use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{
    Action, Condition, EventBatchingCondition, JobCommand, JobRunState, Logical, LogicalOperator,
    Predicate, S3Target, TriggerState, TriggerType, TriggerUpdate,
};
use weir_conformance::{ACCOUNT_ID, REGION, WeirServer, expect_error, ok};

const ROLE: &str = "arn:aws:iam::123456789012:role/Glue";
const CRON: &str = "cron(15 12 * * ? *)";

fn trigger_arn(name: &str) -> String {
    format!("arn:aws:glue:{REGION}:{ACCOUNT_ID}:trigger/{name}")
}

fn run(job: &str) -> Action {
    Action::builder().job_name(job).build()
}

fn crawl(crawler: &str) -> Action {
    Action::builder().crawler_name(crawler).build()
}

fn on_job(job: &str, state: JobRunState) -> Condition {
    Condition::builder()
        .logical_operator(LogicalOperator::Equals)
        .job_name(job)
        .state(state)
        .build()
}

fn when(conditions: Vec<Condition>, logical: Option<Logical>) -> Predicate {
    Predicate::builder()
        .set_conditions(Some(conditions))
        .set_logical(logical)
        .build()
}

/// A server with workflow `wf`, jobs j1..j4 and crawlers c1..c3.
async fn world() -> (WeirServer, aws_sdk_glue::Client) {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("wf").send().await);
    for job in ["j1", "j2", "j3", "j4"] {
        ok(glue
            .create_job()
            .name(job)
            .role(ROLE)
            .command(
                JobCommand::builder()
                    .name("pythonshell")
                    .script_location(format!("s3://b/{job}.py"))
                    .build(),
            )
            .send()
            .await);
    }
    for crawler in ["c1", "c2", "c3"] {
        ok(glue
            .create_crawler()
            .name(crawler)
            .role(ROLE)
            .targets(
                aws_sdk_glue::types::CrawlerTargets::builder()
                    .s3_targets(
                        S3Target::builder()
                            .path(format!("s3://b/{crawler}/"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await);
    }
    (server, glue)
}

async fn get(glue: &aws_sdk_glue::Client, name: &str) -> aws_sdk_glue::types::Trigger {
    ok(glue.get_trigger().name(name).send().await)
        .trigger
        .expect("Trigger member")
}

#[tokio::test]
async fn create_get_and_initial_states() {
    let (_server, glue) = world().await;
    let action = Action::builder()
        .job_name("j1")
        .arguments("--day", "2024-01-01")
        .timeout(30)
        .build();
    let out = ok(glue
        .create_trigger()
        .name("start")
        .workflow_name("wf")
        .r#type(TriggerType::OnDemand)
        .actions(action.clone())
        .description("starts the run")
        .tags("team", "data")
        .send()
        .await);
    assert_eq!(out.name(), Some("start"));
    let start = get(&glue, "start").await;
    assert_eq!(start.name(), Some("start"));
    assert_eq!(start.workflow_name(), Some("wf"));
    assert_eq!(start.r#type(), Some(&TriggerType::OnDemand));
    assert_eq!(start.state(), Some(&TriggerState::Created));
    assert_eq!(start.actions(), [action]);
    assert_eq!(start.description(), Some("starts the run"));
    assert_eq!(start.id(), None);
    assert_eq!(start.predicate(), None);

    let predicate = when(vec![on_job("j1", JobRunState::Succeeded)], None);
    ok(glue
        .create_trigger()
        .name("next")
        .workflow_name("wf")
        .r#type(TriggerType::Conditional)
        .predicate(predicate.clone())
        .actions(run("j2"))
        .start_on_creation(true)
        .send()
        .await);
    let next = get(&glue, "next").await;
    assert_eq!(next.state(), Some(&TriggerState::Activated));
    assert_eq!(next.predicate(), Some(&predicate));

    ok(glue
        .create_trigger()
        .name("nightly")
        .r#type(TriggerType::Scheduled)
        .schedule(CRON)
        .actions(run("j3"))
        .send()
        .await);
    let nightly = get(&glue, "nightly").await;
    assert_eq!(nightly.state(), Some(&TriggerState::Created));
    assert_eq!(nightly.schedule(), Some(CRON));
    assert_eq!(nightly.workflow_name(), None);

    ok(glue.create_workflow().name("events").send().await);
    let batching = EventBatchingCondition::builder()
        .batch_size(5)
        .batch_window(60)
        .build()
        .unwrap();
    ok(glue
        .create_trigger()
        .name("on-event")
        .workflow_name("events")
        .r#type(TriggerType::Event)
        .event_batching_condition(batching.clone())
        .actions(run("j4"))
        .send()
        .await);
    let event = get(&glue, "on-event").await;
    assert_eq!(event.state(), Some(&TriggerState::Created));
    assert_eq!(event.event_batching_condition(), Some(&batching));

    let err = expect_error(
        glue.create_trigger()
            .name("start")
            .r#type(TriggerType::OnDemand)
            .actions(run("j1"))
            .send()
            .await,
        "AlreadyExistsException",
    );
    assert!(err.is_already_exists_exception());
    let err = expect_error(
        glue.get_trigger().name("ghost").send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
}

#[tokio::test]
async fn update_replaces_the_whole_definition() {
    let (_server, glue) = world().await;
    ok(glue
        .create_trigger()
        .name("t")
        .workflow_name("wf")
        .r#type(TriggerType::Conditional)
        .description("old")
        .predicate(when(
            vec![
                on_job("j1", JobRunState::Succeeded),
                on_job("j2", JobRunState::Succeeded),
            ],
            Some(Logical::And),
        ))
        .actions(run("j3"))
        .start_on_creation(true)
        .send()
        .await);
    let new_predicate = when(vec![on_job("j1", JobRunState::Failed)], None);
    let out = ok(glue
        .update_trigger()
        .name("t")
        .trigger_update(
            TriggerUpdate::builder()
                .predicate(new_predicate.clone())
                .actions(run("j4"))
                .build(),
        )
        .send()
        .await);
    let updated = out.trigger.expect("Trigger member");
    assert_eq!(updated, get(&glue, "t").await);
    assert_eq!(updated.r#type(), Some(&TriggerType::Conditional));
    assert_eq!(updated.workflow_name(), Some("wf"));
    assert_eq!(updated.state(), Some(&TriggerState::Activated));
    assert_eq!(updated.predicate(), Some(&new_predicate));
    assert_eq!(updated.actions(), [run("j4")]);
    assert_eq!(updated.description(), None, "left out = cleared");

    let err = expect_error(
        glue.update_trigger()
            .name("ghost")
            .trigger_update(TriggerUpdate::builder().actions(run("j1")).build())
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    let err = expect_error(
        glue.update_trigger()
            .name("t")
            .trigger_update(
                TriggerUpdate::builder()
                    .predicate(new_predicate)
                    .actions(run("j1"))
                    .build(),
            )
            .send()
            .await,
        "InvalidInputException",
    );
    assert_eq!(
        err.message(),
        Some("Job cannot be a Predicate and Action for Conditional Trigger.")
    );
    assert_eq!(get(&glue, "t").await, updated, "unchanged");
}

#[tokio::test]
async fn delete_is_idempotent_and_delete_workflow_takes_the_triggers() {
    let (_server, glue) = world().await;
    ok(glue
        .create_trigger()
        .name("alone")
        .r#type(TriggerType::OnDemand)
        .actions(run("j1"))
        .send()
        .await);
    let out = ok(glue.delete_trigger().name("alone").send().await);
    assert_eq!(out.name(), Some("alone"));
    let again = ok(glue.delete_trigger().name("alone").send().await);
    assert_eq!(again.name(), Some("alone"));
    expect_error(
        glue.get_trigger().name("alone").send().await,
        "EntityNotFoundException",
    );

    ok(glue
        .create_trigger()
        .name("start")
        .workflow_name("wf")
        .r#type(TriggerType::OnDemand)
        .actions(run("j1"))
        .send()
        .await);
    ok(glue
        .create_trigger()
        .name("next")
        .workflow_name("wf")
        .r#type(TriggerType::Conditional)
        .predicate(when(vec![on_job("j1", JobRunState::Succeeded)], None))
        .actions(run("j2"))
        .send()
        .await);
    ok(glue.delete_workflow().name("wf").send().await);
    for name in ["start", "next"] {
        expect_error(
            glue.get_trigger().name(name).send().await,
            "EntityNotFoundException",
        );
    }
    ok(glue.get_job().job_name("j1").send().await);
    ok(glue.get_job().job_name("j2").send().await);
}

#[tokio::test]
async fn get_triggers_list_triggers_and_batch_get() {
    let (_server, glue) = world().await;
    ok(glue
        .create_trigger()
        .name("t-a")
        .workflow_name("wf")
        .r#type(TriggerType::OnDemand)
        .actions(run("j1"))
        .tags("team", "data")
        .send()
        .await);
    ok(glue
        .create_trigger()
        .name("t-b")
        .workflow_name("wf")
        .r#type(TriggerType::Conditional)
        .predicate(when(vec![on_job("j1", JobRunState::Succeeded)], None))
        .actions(run("j2"))
        .actions(run("j3"))
        .send()
        .await);
    ok(glue
        .create_trigger()
        .name("t-c")
        .r#type(TriggerType::OnDemand)
        .actions(run("j2"))
        .tags("team", "data")
        .send()
        .await);

    let pages: Vec<_> = glue
        .get_triggers()
        .into_paginator()
        .page_size(2)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetTriggers pages");
    assert_eq!(pages.len(), 2);
    let names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.triggers())
        .filter_map(|t| t.name())
        .collect();
    assert_eq!(names, ["t-a", "t-b", "t-c"]);

    let dependent = ok(glue.get_triggers().dependent_job_name("j2").send().await);
    let names: Vec<&str> = dependent
        .triggers()
        .iter()
        .filter_map(|t| t.name())
        .collect();
    assert_eq!(names, ["t-b", "t-c"]);

    let listed: Vec<String> = glue
        .list_triggers()
        .tags("team", "data")
        .into_paginator()
        .page_size(1)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListTriggers pages")
        .into_iter()
        .flat_map(|p| p.trigger_names)
        .flatten()
        .collect();
    assert_eq!(listed, ["t-a", "t-c"]);
    let by_job = ok(glue.list_triggers().dependent_job_name("j1").send().await);
    assert_eq!(by_job.trigger_names(), ["t-a"]);

    let batch = ok(glue
        .batch_get_triggers()
        .trigger_names("t-b")
        .trigger_names("ghost")
        .send()
        .await);
    assert_eq!(batch.triggers().len(), 1);
    assert_eq!(batch.triggers()[0], get(&glue, "t-b").await);
    assert_eq!(batch.triggers_not_found(), ["ghost"]);

    let tags = ok(glue
        .get_tags()
        .resource_arn(trigger_arn("t-a"))
        .send()
        .await)
    .tags;
    assert_eq!(
        tags,
        Some(HashMap::from([("team".to_string(), "data".to_string())]))
    );
}

#[tokio::test]
async fn validation_errors() {
    let (_server, glue) = world().await;
    let no_operator = Condition::builder()
        .job_name("j1")
        .state(JobRunState::Succeeded)
        .build();
    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .workflow_name("wf")
            .r#type(TriggerType::Conditional)
            .predicate(when(vec![no_operator], None))
            .actions(run("j2"))
            .send()
            .await,
        "InvalidInputException",
    );
    assert_eq!(
        err.message(),
        Some("Logical operator cannot be null or empty")
    );

    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .workflow_name("wf")
            .r#type(TriggerType::OnDemand)
            .actions(crawl("c1"))
            .actions(crawl("c2"))
            .actions(crawl("c3"))
            .send()
            .await,
        "InvalidInputException",
    );
    assert_eq!(
        err.message(),
        Some("Actions cannot contain more than two crawlers")
    );

    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .workflow_name("wf")
            .r#type(TriggerType::OnDemand)
            .actions(run("ghost-job"))
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    assert!(err.message().unwrap_or_default().contains("ghost-job"));

    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .workflow_name("ghost-wf")
            .r#type(TriggerType::OnDemand)
            .actions(run("j1"))
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.message().unwrap_or_default().contains("ghost-wf"));

    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .workflow_name("wf")
            .r#type(TriggerType::Scheduled)
            .schedule("cron(0 12 * * * *)")
            .actions(run("j1"))
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("Invalid schedule expression")
    );

    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .workflow_name("wf")
            .r#type(TriggerType::OnDemand)
            .actions(run("j1"))
            .start_on_creation(true)
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("StartOnCreation")
    );

    // One start trigger per workflow; a cycle is refused naming it.
    ok(glue
        .create_trigger()
        .name("start")
        .workflow_name("wf")
        .r#type(TriggerType::OnDemand)
        .actions(run("j1"))
        .send()
        .await);
    let err = expect_error(
        glue.create_trigger()
            .name("start-2")
            .workflow_name("wf")
            .r#type(TriggerType::Scheduled)
            .schedule(CRON)
            .actions(run("j2"))
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(err.message().unwrap_or_default().contains("start trigger"));
    ok(glue
        .create_trigger()
        .name("t2")
        .workflow_name("wf")
        .r#type(TriggerType::Conditional)
        .predicate(when(vec![on_job("j1", JobRunState::Succeeded)], None))
        .actions(run("j2"))
        .send()
        .await);
    let err = expect_error(
        glue.create_trigger()
            .name("back")
            .workflow_name("wf")
            .r#type(TriggerType::Conditional)
            .predicate(when(vec![on_job("j2", JobRunState::Succeeded)], None))
            .actions(run("j1"))
            .send()
            .await,
        "InvalidInputException",
    );
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains("cycle") && message.contains("job j1") && message.contains("job j2"),
        "{message}"
    );
    expect_error(
        glue.get_trigger().name("back").send().await,
        "EntityNotFoundException",
    );
}
