//! Bad input, one test per class (spec §1.2, §1.4, §1.5, §2). Every answer must be a 400
//! AWS JSON error with the right code: never a 500, never a dropped connection.

use aws_sdk_glue::types::{Action, TriggerType};
use weir_conformance::{WeirServer, expect_error, ok};

const UNKNOWN_OPERATION: &str = "UnknownOperationException";
const SERIALIZATION: &str = "SerializationException";
const INVALID_INPUT: &str = "InvalidInputException";

#[tokio::test]
async fn raw_requests_are_accepted_when_well_formed() {
    // Control for the raw tests below: the signed hand-built request itself is fine.
    let server = WeirServer::start().unwrap();
    let resp = server
        .raw(Some("AWSGlue.CreateWorkflow"), br#"{"Name":"raw"}"#)
        .await
        .unwrap();
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(resp.json().unwrap()["Name"], "raw");
    let resp = server
        .raw(Some("AWSGlue.ListWorkflows"), b"{}")
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json().unwrap()["Workflows"],
        serde_json::json!(["raw"])
    );
}

#[tokio::test]
async fn missing_required_member_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    // aws-sdk-glue does no client-side validation: it sends `{}`.
    let err = expect_error(glue.create_workflow().send().await, INVALID_INPUT);
    assert!(err.is_invalid_input_exception());
    expect_error(glue.get_workflow().send().await, INVALID_INPUT);
    expect_error(glue.batch_get_workflows().send().await, INVALID_INPUT);
    expect_error(
        glue.tag_resource()
            .resource_arn("arn:aws:glue:us-east-1:123456789012:workflow/x")
            .send()
            .await,
        INVALID_INPUT,
    );

    let resp = server
        .raw(Some("AWSGlue.CreateWorkflow"), b"{}")
        .await
        .unwrap();
    resp.assert_error(Some(INVALID_INPUT), &[400]);
    // An explicit null is the same as absent.
    let resp = server
        .raw(Some("AWSGlue.DeleteWorkflow"), br#"{"Name":null}"#)
        .await
        .unwrap();
    resp.assert_error(Some(INVALID_INPUT), &[400]);
}

#[tokio::test]
async fn too_long_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let name = "n".repeat(256);
    let err = expect_error(
        glue.create_workflow().name(&name).send().await,
        INVALID_INPUT,
    );
    let message = err.meta().message().unwrap_or_default().to_string();
    assert!(
        message.contains("255"),
        "message should name the limit: {message:?}"
    );
    expect_error(glue.get_workflow().name(&name).send().await, INVALID_INPUT);

    expect_error(
        glue.create_workflow()
            .name("wf")
            .description("d".repeat(120_001))
            .send()
            .await,
        INVALID_INPUT,
    );
    // Exactly at the limits is accepted.
    ok(glue
        .create_workflow()
        .name("n".repeat(255))
        .description("d".repeat(120_000))
        .send()
        .await);
    // Lengths count characters, not bytes: 255 two-byte characters are a valid name.
    ok(glue.create_workflow().name("é".repeat(255)).send().await);
}

#[tokio::test]
async fn pattern_violation_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    for bad in ["line\nbreak", "carriage\rreturn", "nul\0byte", "\u{FFFF}"] {
        expect_error(glue.create_workflow().name(bad).send().await, INVALID_INPUT);
    }
    // Run-property keys share the single-line pattern.
    expect_error(
        glue.create_workflow()
            .name("wf")
            .default_run_properties("bad\nkey", "v")
            .send()
            .await,
        INVALID_INPUT,
    );
    // TAB and non-ASCII are inside the pattern.
    ok(glue
        .create_workflow()
        .name("tab\there ünïcödé 🚀")
        .send()
        .await);
    let listed = ok(glue.list_workflows().send().await);
    assert_eq!(listed.workflows(), ["tab\there ünïcödé 🚀"]);
}

#[tokio::test]
async fn enum_violation_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let err = expect_error(
        glue.create_trigger()
            .name("t")
            .r#type(TriggerType::from("BOGUS"))
            .actions(Action::builder().job_name("job").build())
            .send()
            .await,
        INVALID_INPUT,
    );
    assert!(err.is_invalid_input_exception());
}

#[tokio::test]
async fn range_violation_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("wf").send().await);
    for bad in [1001, 0] {
        let err = expect_error(
            glue.get_workflow_runs()
                .name("wf")
                .max_results(bad)
                .send()
                .await,
            INVALID_INPUT,
        );
        assert!(err.is_invalid_input_exception(), "MaxResults {bad}");
    }
}

#[tokio::test]
async fn list_size_violation_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("wf")
        .tags("keep", "me")
        .send()
        .await);
    let arn = weir_conformance::workflow_arn("wf");
    let keys: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    expect_error(
        glue.untag_resource()
            .resource_arn(&arn)
            .set_tags_to_remove(Some(keys))
            .send()
            .await,
        INVALID_INPUT,
    );
    let names: Vec<String> = (0..26).map(|i| format!("w{i}")).collect();
    expect_error(
        glue.batch_get_workflows()
            .set_names(Some(names))
            .send()
            .await,
        INVALID_INPUT,
    );
}

#[tokio::test]
async fn wrong_json_type_is_serialization_exception() {
    let server = WeirServer::start().unwrap();
    for body in [
        r#"{"Name": 5}"#,
        r#"{"Name": ["wf"]}"#,
        r#"{"Name": "wf", "MaxConcurrentRuns": "2"}"#,
        r#"{"Name": "wf", "Tags": ["a", "b"]}"#,
        r#"{"Name": "wf", "DefaultRunProperties": {"k": 1}}"#,
    ] {
        let resp = server
            .raw(Some("AWSGlue.CreateWorkflow"), body.as_bytes())
            .await
            .unwrap();
        resp.assert_error(Some(SERIALIZATION), &[400]);
    }
    // None of them created anything.
    expect_error(
        server.client().get_workflow().name("wf").send().await,
        "EntityNotFoundException",
    );
}

#[tokio::test]
async fn non_json_body_is_serialization_exception() {
    let server = WeirServer::start().unwrap();
    for body in [
        &b"not json"[..],
        b"{\"Name\":",
        b"[]",
        b"\"wf\"",
        b"\xff\xfe{}",
    ] {
        let resp = server.raw(Some("AWSGlue.GetWorkflow"), body).await.unwrap();
        resp.assert_error(Some(SERIALIZATION), &[400]);
    }
}

#[tokio::test]
async fn unknown_target_is_unknown_operation() {
    let server = WeirServer::start().unwrap();
    for target in [
        Some("AWSGlue.NoSuchOperation"),
        Some("NotGlue.GetWorkflow"),
        Some("GetWorkflow"),
        None,
    ] {
        let resp = server.raw(target, br#"{"Name":"wf"}"#).await.unwrap();
        resp.assert_error(Some(UNKNOWN_OPERATION), &[400]);
    }
}

#[tokio::test]
async fn unimplemented_operation_is_a_distinct_client_error() {
    let server = WeirServer::start().unwrap();
    // A complete, valid CreateMLTransform request: only "not implemented" can reject it.
    let body = br#"{"Name":"t","InputRecordTables":[{"DatabaseName":"d","TableName":"t"}],
        "Parameters":{"TransformType":"FIND_MATCHES"},"Role":"arn:aws:iam::123456789012:role/r"}"#;
    let resp = server
        .raw(Some("AWSGlue.CreateMLTransform"), body)
        .await
        .unwrap();
    let code = resp.assert_error(None, &[400]);
    assert_ne!(
        code, UNKNOWN_OPERATION,
        "CreateMLTransform is a Glue operation, not an unknown one"
    );
    assert_ne!(code, SERIALIZATION);
}

#[tokio::test]
async fn oversized_body_is_rejected_with_an_aws_error() {
    let server = WeirServer::start().unwrap();
    let big = format!(
        r#"{{"Name":"big","Description":"{}"}}"#,
        "x".repeat(11 * 1024 * 1024)
    );
    let resp = server
        .raw(Some("AWSGlue.CreateWorkflow"), big.as_bytes())
        .await
        .unwrap();
    resp.assert_error(None, &[400, 413]);
    // The server is still healthy and stored nothing.
    let glue = server.client();
    expect_error(
        glue.get_workflow().name("big").send().await,
        "EntityNotFoundException",
    );
    ok(glue.create_workflow().name("small").send().await);
}
