//! CreateWorkflow / GetWorkflow / UpdateWorkflow / DeleteWorkflow / BatchGetWorkflows
//! through aws-sdk-glue (spec §3, §4.1, Appendix A.1).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use weir_conformance::{WeirServer, expect_error, ok, to_system_time, wait_for_clock_past};

fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn create_then_get_returns_every_member() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let before = SystemTime::now() - Duration::from_secs(1);

    let created = ok(glue
        .create_workflow()
        .name("nightly-etl")
        .description("Loads the warehouse every night")
        .default_run_properties("env", "prod")
        .default_run_properties("batch size", "500")
        .tags("team", "data")
        .max_concurrent_runs(2)
        .send()
        .await);
    assert_eq!(created.name(), Some("nightly-etl"));

    let got = ok(glue.get_workflow().name("nightly-etl").send().await);
    let after = SystemTime::now() + Duration::from_secs(1);
    let wf = got.workflow().expect("Workflow member");
    assert_eq!(wf.name(), Some("nightly-etl"));
    assert_eq!(wf.description(), Some("Loads the warehouse every night"));
    assert_eq!(
        wf.default_run_properties(),
        Some(&props(&[("env", "prod"), ("batch size", "500")]))
    );
    assert_eq!(wf.max_concurrent_runs(), Some(2));

    // Timestamps are epoch seconds: a milliseconds value would land tens of millennia ahead.
    let created_on = to_system_time(wf.created_on().expect("CreatedOn"));
    let modified_on = to_system_time(wf.last_modified_on().expect("LastModifiedOn"));
    assert!(
        before <= created_on && created_on <= after,
        "CreatedOn {created_on:?} not now"
    );
    assert!(
        created_on <= modified_on && modified_on <= after,
        "LastModifiedOn {modified_on:?}"
    );
    assert!(wf.last_run().is_none(), "a new workflow has no LastRun");
}

#[tokio::test]
async fn create_with_name_only_omits_optional_members() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("bare").send().await);

    let wf = ok(glue.get_workflow().name("bare").send().await)
        .workflow
        .expect("Workflow");
    assert_eq!(wf.name(), Some("bare"));
    assert_eq!(wf.description(), None);
    assert!(wf.default_run_properties().is_none_or(HashMap::is_empty));
    // Absent MaxConcurrentRuns means unlimited; it must not come back as some number.
    assert_eq!(wf.max_concurrent_runs(), None);
    assert!(wf.created_on().is_some());
}

#[tokio::test]
async fn duplicate_name_is_already_exists_and_keeps_the_original() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("dup")
        .description("first")
        .send()
        .await);

    let err = expect_error(
        glue.create_workflow()
            .name("dup")
            .description("second")
            .send()
            .await,
        "AlreadyExistsException",
    );
    assert!(err.is_already_exists_exception());

    let wf = ok(glue.get_workflow().name("dup").send().await)
        .workflow
        .unwrap();
    assert_eq!(wf.description(), Some("first"));
}

#[tokio::test]
async fn names_are_case_sensitive() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("Report").send().await);
    ok(glue.create_workflow().name("report").send().await);
    expect_error(
        glue.get_workflow().name("REPORT").send().await,
        "EntityNotFoundException",
    );
}

#[tokio::test]
async fn get_missing_workflow_is_entity_not_found() {
    let server = WeirServer::start().unwrap();
    let err = expect_error(
        server.client().get_workflow().name("nope").send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
}

#[tokio::test]
async fn update_changes_only_the_given_members() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("wf")
        .description("v1")
        .default_run_properties("k", "v1")
        .max_concurrent_runs(3)
        .send()
        .await);
    let original = ok(glue.get_workflow().name("wf").send().await)
        .workflow
        .unwrap();
    wait_for_clock_past(original.last_modified_on().unwrap());

    // Description only.
    let updated = ok(glue
        .update_workflow()
        .name("wf")
        .description("v2")
        .send()
        .await);
    assert_eq!(updated.name(), Some("wf"));
    let wf = ok(glue.get_workflow().name("wf").send().await)
        .workflow
        .unwrap();
    assert_eq!(wf.description(), Some("v2"));
    assert_eq!(wf.default_run_properties(), Some(&props(&[("k", "v1")])));
    assert_eq!(wf.max_concurrent_runs(), Some(3));
    assert_eq!(
        wf.created_on(),
        original.created_on(),
        "CreatedOn must not move"
    );
    assert!(
        wf.last_modified_on().unwrap() > original.last_modified_on().unwrap(),
        "LastModifiedOn must move forward: {:?} -> {:?}",
        original.last_modified_on(),
        wf.last_modified_on()
    );

    // MaxConcurrentRuns only.
    ok(glue
        .update_workflow()
        .name("wf")
        .max_concurrent_runs(1)
        .send()
        .await);
    let wf = ok(glue.get_workflow().name("wf").send().await)
        .workflow
        .unwrap();
    assert_eq!(wf.max_concurrent_runs(), Some(1));
    assert_eq!(wf.description(), Some("v2"));
    assert_eq!(wf.default_run_properties(), Some(&props(&[("k", "v1")])));

    // DefaultRunProperties only: the given map is the new value of that member.
    ok(glue
        .update_workflow()
        .name("wf")
        .default_run_properties("other", "x")
        .send()
        .await);
    let wf = ok(glue.get_workflow().name("wf").send().await)
        .workflow
        .unwrap();
    assert_eq!(wf.default_run_properties(), Some(&props(&[("other", "x")])));
    assert_eq!(wf.description(), Some("v2"));
    assert_eq!(wf.max_concurrent_runs(), Some(1));
}

#[tokio::test]
async fn update_missing_workflow_is_entity_not_found() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let err = expect_error(
        glue.update_workflow()
            .name("ghost")
            .description("x")
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    // And the failed update did not create it.
    expect_error(
        glue.get_workflow().name("ghost").send().await,
        "EntityNotFoundException",
    );
}

#[tokio::test]
async fn delete_echoes_the_name_and_is_idempotent() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("doomed").send().await);

    let deleted = ok(glue.delete_workflow().name("doomed").send().await);
    assert_eq!(deleted.name(), Some("doomed"));
    expect_error(
        glue.get_workflow().name("doomed").send().await,
        "EntityNotFoundException",
    );

    // Deleting again, or deleting a name that never existed, succeeds (no ENF modeled).
    let again = ok(glue.delete_workflow().name("doomed").send().await);
    assert_eq!(again.name(), Some("doomed"));
    let never = ok(glue.delete_workflow().name("never-existed").send().await);
    assert_eq!(never.name(), Some("never-existed"));

    // The name is free again, and the new workflow starts from scratch.
    ok(glue.create_workflow().name("doomed").send().await);
    let wf = ok(glue.get_workflow().name("doomed").send().await)
        .workflow
        .unwrap();
    assert_eq!(wf.description(), None);
}

#[tokio::test]
async fn batch_get_reports_found_and_missing() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("a")
        .description("first")
        .send()
        .await);
    ok(glue
        .create_workflow()
        .name("b")
        .max_concurrent_runs(4)
        .send()
        .await);

    let out = ok(glue
        .batch_get_workflows()
        .names("a")
        .names("missing-1")
        .names("b")
        .names("missing-2")
        .send()
        .await);
    let mut found: Vec<_> = out
        .workflows()
        .iter()
        .map(|w| (w.name().unwrap(), w))
        .collect();
    found.sort_by_key(|(n, _)| *n);
    assert_eq!(
        found.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(found[0].1.description(), Some("first"));
    assert_eq!(found[1].1.max_concurrent_runs(), Some(4));
    assert!(found[0].1.created_on().is_some());

    let mut missing = out.missing_workflows().to_vec();
    missing.sort();
    assert_eq!(missing, ["missing-1", "missing-2"]);
}

#[tokio::test]
async fn batch_get_accepts_25_names_and_rejects_26_and_0() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("n00").send().await);
    let names: Vec<String> = (0..26).map(|i| format!("n{i:02}")).collect();

    let out = ok(glue
        .batch_get_workflows()
        .set_names(Some(names[..25].to_vec()))
        .send()
        .await);
    assert_eq!(out.workflows().len(), 1);
    assert_eq!(out.missing_workflows().len(), 24);

    let err = expect_error(
        glue.batch_get_workflows()
            .set_names(Some(names))
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(err.is_invalid_input_exception());
    expect_error(
        glue.batch_get_workflows()
            .set_names(Some(vec![]))
            .send()
            .await,
        "InvalidInputException",
    );
}
