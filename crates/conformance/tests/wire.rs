//! Wire-level details clients depend on (spec §1.3, §1.4): request ids, error headers,
//! content type, timestamp encoding.

use aws_sdk_glue::operation::RequestId;
use weir_conformance::{WeirServer, expect_error, ok};

#[tokio::test]
async fn request_id_on_success_and_error() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();

    let created = ok(glue.create_workflow().name("wf").send().await);
    let id1 = created
        .request_id()
        .expect("x-amzn-RequestId on success")
        .to_string();
    let got = ok(glue.get_workflow().name("wf").send().await);
    let id2 = got
        .request_id()
        .expect("x-amzn-RequestId on success")
        .to_string();
    assert!(!id1.is_empty());
    assert_ne!(id1, id2, "request ids must be unique per request");

    let err = expect_error(
        glue.get_workflow().name("missing").send().await,
        "EntityNotFoundException",
    );
    let id3 = err
        .meta()
        .request_id()
        .expect("x-amzn-RequestId on error")
        .to_string();
    assert!(!id3.is_empty());
    assert_ne!(id3, id2);
}

#[tokio::test]
async fn raw_success_headers_and_timestamp_encoding() {
    let server = WeirServer::start().unwrap();
    let resp = server
        .raw(Some("AWSGlue.CreateWorkflow"), br#"{"Name":"wf"}"#)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("x-amzn-RequestId")
            .is_some_and(|v| !v.is_empty())
    );
    assert_eq!(
        resp.header("content-type")
            .map(|v| v.split(';').next().unwrap().trim()),
        Some("application/x-amz-json-1.1")
    );

    let resp = server
        .raw(Some("AWSGlue.GetWorkflow"), br#"{"Name":"wf"}"#)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    let json = resp.json().unwrap();
    let workflow = &json["Workflow"];
    for member in ["CreatedOn", "LastModifiedOn"] {
        let value = &workflow[member];
        // Epoch seconds as a JSON number (fraction allowed), never a string.
        let secs = value
            .as_f64()
            .unwrap_or_else(|| panic!("{member} is not a number: {value}"));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            (now - secs).abs() < 120.0,
            "{member} = {secs} is not epoch seconds near {now}"
        );
    }
    // Absent optional members are omitted, not sent as null.
    for member in ["Description", "MaxConcurrentRuns", "LastRun"] {
        assert!(
            workflow.get(member).is_none_or(|v| !v.is_null()),
            "{member}: null"
        );
    }
}

#[tokio::test]
async fn empty_output_structures_are_empty_objects() {
    let server = WeirServer::start().unwrap();
    ok(server.client().create_workflow().name("wf").send().await);
    let arn = weir_conformance::workflow_arn("wf");
    let body = serde_json::json!({"ResourceArn": arn, "TagsToAdd": {"k": "v"}}).to_string();
    let resp = server
        .raw(Some("AWSGlue.TagResource"), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json().unwrap(), serde_json::json!({}));
}

#[tokio::test]
async fn error_answers_carry_matching_error_type_header() {
    let server = WeirServer::start().unwrap();
    // One modeled error, one validation error, one protocol error.
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "AWSGlue.GetWorkflow",
            br#"{"Name":"missing"}"#,
            "EntityNotFoundException",
        ),
        (
            "AWSGlue.ListWorkflows",
            br#"{"MaxResults":26}"#,
            "InvalidInputException",
        ),
        ("AWSGlue.GetWorkflow", b"{", "SerializationException"),
    ];
    for (target, body, code) in cases {
        let resp = server.raw(Some(target), body).await.unwrap();
        resp.assert_error(Some(code), &[400]);
        assert_eq!(
            resp.header("content-type")
                .map(|v| v.split(';').next().unwrap().trim()),
            Some("application/x-amz-json-1.1"),
            "{code}"
        );
    }
}
