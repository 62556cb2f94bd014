//! Jobs as resources through aws-sdk-glue (spec §6.1, Appendix A.4): CreateJob with the
//! server's documented defaults, UpdateJob as a whole replacement, idempotent DeleteJob,
//! GetJobs/ListJobs with the SDK paginators and a tag filter, BatchGetJobs, and one error
//! per operation family. The full matrix is in tests/python/test_jobs.py.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{
    ConnectionsList, ExecutionClass, ExecutionProperty, JobCommand, JobMode, JobUpdate,
    NotificationProperty, WorkerType,
};
use weir_conformance::{
    ACCOUNT_ID, REGION, WeirServer, expect_error, ok, to_system_time, wait_for_clock_past,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/GlueJobRole";

fn job_arn(name: &str) -> String {
    format!("arn:aws:glue:{REGION}:{ACCOUNT_ID}:job/{name}")
}

fn command(name: &str, script: &str) -> JobCommand {
    JobCommand::builder()
        .name(name)
        .script_location(script)
        .build()
}

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn create(glue: &aws_sdk_glue::Client, name: &str) {
    let out = ok(glue
        .create_job()
        .name(name)
        .role(ROLE)
        .command(command("glueetl", "s3://b/etl.py"))
        .send()
        .await);
    assert_eq!(out.name(), Some(name));
}

async fn get(glue: &aws_sdk_glue::Client, name: &str) -> aws_sdk_glue::types::Job {
    ok(glue.get_job().job_name(name).send().await)
        .job
        .expect("Job member")
}

#[tokio::test]
async fn create_fills_defaults_and_get_returns_them() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let before = SystemTime::now() - Duration::from_secs(1);
    create(&glue, "etl").await;
    let job = get(&glue, "etl").await;
    let after = SystemTime::now() + Duration::from_secs(1);

    assert_eq!(job.name(), Some("etl"));
    assert_eq!(job.role(), Some(ROLE));
    let cmd = job.command().expect("Command");
    assert_eq!(cmd.name(), Some("glueetl"));
    assert_eq!(cmd.script_location(), Some("s3://b/etl.py"));
    assert_eq!(job.job_mode(), Some(&JobMode::Script));
    assert_eq!(
        job.execution_property()
            .map(ExecutionProperty::max_concurrent_runs),
        Some(1)
    );
    assert_eq!(job.max_retries(), 0);
    assert_eq!(job.glue_version(), Some("6.0"));
    assert_eq!(job.timeout(), Some(480));
    assert_eq!(job.description(), None);
    assert_eq!(job.worker_type(), None);
    let created = to_system_time(job.created_on().expect("CreatedOn"));
    assert!(
        before <= created && created <= after,
        "CreatedOn {created:?}"
    );
    assert_eq!(job.last_modified_on(), job.created_on());

    // Glue 4.0 and earlier default to 2880 minutes.
    ok(glue
        .create_job()
        .name("old")
        .role(ROLE)
        .command(command("glueetl", "s3://b/old.py"))
        .glue_version("4.0")
        .send()
        .await);
    assert_eq!(get(&glue, "old").await.timeout(), Some(2880));
}

#[tokio::test]
async fn every_member_set_is_echoed() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_job()
        .name("full")
        .job_mode(JobMode::Visual)
        .job_run_queuing_enabled(true)
        .description("all members")
        .log_uri("s3://logs/full/")
        .role(ROLE)
        .execution_property(ExecutionProperty::builder().max_concurrent_runs(3).build())
        .command(
            JobCommand::builder()
                .name("glueetl")
                .script_location("s3://b/full.py")
                .python_version("3")
                .build(),
        )
        .default_arguments("--env", "prod")
        .non_overridable_arguments("--locked", "yes")
        .connections(ConnectionsList::builder().connections("jdbc").build())
        .max_retries(2)
        .timeout(90)
        .worker_type(WorkerType::G2X)
        .number_of_workers(5)
        .security_configuration("sec")
        .notification_property(
            NotificationProperty::builder()
                .notify_delay_after(7)
                .build(),
        )
        .glue_version("4.0")
        .execution_class(ExecutionClass::Flex)
        .maintenance_window("Mon:04")
        .tags("team", "data")
        .send()
        .await);
    let job = get(&glue, "full").await;
    assert_eq!(job.job_mode(), Some(&JobMode::Visual));
    assert_eq!(job.job_run_queuing_enabled(), Some(true));
    assert_eq!(job.description(), Some("all members"));
    assert_eq!(job.log_uri(), Some("s3://logs/full/"));
    assert_eq!(
        job.execution_property()
            .map(ExecutionProperty::max_concurrent_runs),
        Some(3)
    );
    assert_eq!(
        job.command().and_then(JobCommand::python_version),
        Some("3")
    );
    assert_eq!(job.default_arguments(), Some(&map(&[("--env", "prod")])));
    assert_eq!(
        job.non_overridable_arguments(),
        Some(&map(&[("--locked", "yes")]))
    );
    assert_eq!(
        job.connections().map(ConnectionsList::connections),
        Some(&["jdbc".to_string()][..])
    );
    assert_eq!(job.max_retries(), 2);
    assert_eq!(job.timeout(), Some(90));
    assert_eq!(job.worker_type(), Some(&WorkerType::G2X));
    assert_eq!(job.number_of_workers(), Some(5));
    assert_eq!(job.security_configuration(), Some("sec"));
    assert_eq!(
        job.notification_property()
            .and_then(NotificationProperty::notify_delay_after),
        Some(7)
    );
    assert_eq!(job.glue_version(), Some("4.0"));
    assert_eq!(job.execution_class(), Some(&ExecutionClass::Flex));
    assert_eq!(job.maintenance_window(), Some("Mon:04"));
    let tags = ok(glue.get_tags().resource_arn(job_arn("full")).send().await).tags;
    assert_eq!(tags, Some(map(&[("team", "data")])));
}

#[tokio::test]
async fn create_errors() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    create(&glue, "dup").await;
    let err = expect_error(
        glue.create_job()
            .name("dup")
            .role(ROLE)
            .command(command("pythonshell", "s3://b/x.py"))
            .send()
            .await,
        "AlreadyExistsException",
    );
    assert!(err.is_already_exists_exception());

    // Any command name is stored, as AWS stores it.
    ok(glue
        .create_job()
        .name("odd")
        .role(ROLE)
        .command(command("spark", "s3://b/x.py"))
        .send()
        .await);
    let odd = get(&glue, "odd").await;
    assert_eq!(odd.command().and_then(|c| c.name()), Some("spark"));
    let err = expect_error(
        glue.create_job()
            .name("bad")
            .role(ROLE)
            .command(command("glueetl", "s3://b/x.py"))
            .worker_type(WorkerType::G1X)
            .number_of_workers(2)
            .max_capacity(2.0)
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(err.is_invalid_input_exception());
    assert_eq!(
        err.message(),
        Some("Please do not set Max Capacity if using Worker Type and Number of Workers.")
    );
    expect_error(
        glue.get_job().job_name("bad").send().await,
        "EntityNotFoundException",
    );
}

#[tokio::test]
async fn get_missing_job_is_entity_not_found() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let err = expect_error(
        glue.get_job().job_name("ghost").send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    assert!(err.message().unwrap_or_default().contains("ghost"));
}

#[tokio::test]
async fn update_replaces_the_whole_definition() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_job()
        .name("etl")
        .role(ROLE)
        .command(command("glueetl", "s3://b/etl.py"))
        .description("first")
        .max_retries(3)
        .default_arguments("--env", "dev")
        .tags("team", "data")
        .send()
        .await);
    let created = get(&glue, "etl").await;
    wait_for_clock_past(created.last_modified_on().expect("LastModifiedOn"));

    let out = ok(glue
        .update_job()
        .job_name("etl")
        .job_update(
            JobUpdate::builder()
                .role("arn:aws:iam::123456789012:role/Other")
                .command(command("pythonshell", "s3://b/v2.py"))
                .timeout(15)
                .build(),
        )
        .send()
        .await);
    assert_eq!(out.job_name(), Some("etl"));

    let job = get(&glue, "etl").await;
    assert_eq!(job.role(), Some("arn:aws:iam::123456789012:role/Other"));
    assert_eq!(
        job.command().and_then(JobCommand::name),
        Some("pythonshell")
    );
    assert_eq!(job.timeout(), Some(15));
    assert_eq!(job.description(), None, "left out = cleared");
    assert_eq!(job.default_arguments(), None, "left out = cleared");
    assert_eq!(job.max_retries(), 0, "left out = default again");
    assert_eq!(job.created_on(), created.created_on());
    assert!(job.last_modified_on() > created.last_modified_on());
    let tags = ok(glue.get_tags().resource_arn(job_arn("etl")).send().await).tags;
    assert_eq!(tags, Some(map(&[("team", "data")])), "tags survive");

    let err = expect_error(
        glue.update_job()
            .job_name("ghost")
            .job_update(
                JobUpdate::builder()
                    .role(ROLE)
                    .command(command("glueetl", "s3://b/x.py"))
                    .build(),
            )
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    let err = expect_error(
        glue.update_job()
            .job_name("etl")
            .job_update(JobUpdate::builder().description("no role").build())
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(err.is_invalid_input_exception());
}

#[tokio::test]
async fn delete_is_idempotent() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    create(&glue, "etl").await;
    let out = ok(glue.delete_job().job_name("etl").send().await);
    assert_eq!(out.job_name(), Some("etl"));
    expect_error(
        glue.get_job().job_name("etl").send().await,
        "EntityNotFoundException",
    );
    let again = ok(glue.delete_job().job_name("etl").send().await);
    assert_eq!(again.job_name(), Some("etl"));
    let never = ok(glue.delete_job().job_name("never").send().await);
    assert_eq!(never.job_name(), Some("never"));
}

#[tokio::test]
async fn get_jobs_and_list_jobs_with_paginators() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let names: Vec<String> = (0..7).map(|i| format!("job-{i:02}")).collect();
    for (i, name) in names.iter().enumerate().rev() {
        let mut request = glue
            .create_job()
            .name(name)
            .role(ROLE)
            .command(command("glueetl", "s3://b/x.py"));
        if i % 2 == 0 {
            request = request.tags("parity", "even");
        }
        ok(request.send().await);
    }

    let pages: Vec<_> = glue
        .get_jobs()
        .into_paginator()
        .page_size(3)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetJobs pages");
    assert_eq!(
        pages.iter().map(|p| p.jobs().len()).collect::<Vec<_>>(),
        [3, 3, 1]
    );
    assert!(pages.last().unwrap().next_token().is_none());
    let seen: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.jobs())
        .filter_map(|j| j.name())
        .collect();
    assert_eq!(seen, names);

    let listed: Vec<String> = glue
        .list_jobs()
        .into_paginator()
        .page_size(2)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListJobs pages")
        .into_iter()
        .flat_map(|p| p.job_names)
        .flatten()
        .collect();
    assert_eq!(listed, names);

    let even: Vec<String> = glue
        .list_jobs()
        .tags("parity", "even")
        .into_paginator()
        .page_size(1)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListJobs pages")
        .into_iter()
        .flat_map(|p| p.job_names)
        .flatten()
        .collect();
    assert_eq!(even, ["job-00", "job-02", "job-04", "job-06"]);

    let none = ok(glue.list_jobs().tags("parity", "odd").send().await);
    assert!(none.job_names().is_empty());
    assert_eq!(none.next_token(), None);

    let err = expect_error(
        glue.list_jobs().next_token("garbage").send().await,
        "InvalidInputException",
    );
    assert!(err.is_invalid_input_exception());
}

#[tokio::test]
async fn batch_get_jobs_reports_missing_names() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    create(&glue, "a").await;
    create(&glue, "b").await;
    let out = ok(glue
        .batch_get_jobs()
        .job_names("b")
        .job_names("ghost")
        .job_names("a")
        .send()
        .await);
    let mut found: Vec<&str> = out.jobs().iter().filter_map(|j| j.name()).collect();
    found.sort();
    assert_eq!(found, ["a", "b"]);
    assert_eq!(out.jobs_not_found(), ["ghost"]);
    let a = out.jobs().iter().find(|j| j.name() == Some("a")).unwrap();
    assert_eq!(a, &get(&glue, "a").await);
}

#[tokio::test]
async fn tags_on_job_arns() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    create(&glue, "etl").await;
    let arn = job_arn("etl");
    ok(glue
        .tag_resource()
        .resource_arn(&arn)
        .tags_to_add("team", "data")
        .tags_to_add("owner", "alice")
        .send()
        .await);
    ok(glue
        .untag_resource()
        .resource_arn(&arn)
        .tags_to_remove("owner")
        .send()
        .await);
    let tags = ok(glue.get_tags().resource_arn(&arn).send().await).tags;
    assert_eq!(tags, Some(map(&[("team", "data")])));
    let err = expect_error(
        glue.get_tags().resource_arn(job_arn("ghost")).send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
}
