//! SigV4 authentication at the edge (spec §1.5–1.6), seen by aws-sdk-glue and by a raw
//! signing requester: good credentials work; each kind of bad request gets its 400.

use std::io::Write;
use std::time::{Duration, SystemTime};

use weir_conformance::{
    ACCESS_KEY, REGION, RawRequest, RawResponse, Signer, WeirServer, expect_error, ok,
};

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

fn message(response: &RawResponse) -> String {
    let json = response.json().expect("JSON error body");
    json.get("Message")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn raw(server: &WeirServer, request: RawRequest) -> RawResponse {
    server.raw_request(&request).await.expect("exchange")
}

fn list_workflows() -> RawRequest {
    RawRequest::new(Some("AWSGlue.ListWorkflows"), b"{}")
}

#[tokio::test]
async fn the_development_pair_works_and_other_keys_do_not() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("mine").send().await);
    let names = ok(glue.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert_eq!(names, vec!["mine".to_string()]);

    let wrong_secret = server.client_with(ACCESS_KEY, "not-the-secret", None, REGION);
    let err = expect_error(
        wrong_secret.list_workflows().send().await,
        "InvalidSignatureException",
    );
    assert_eq!(
        aws_sdk_glue::error::ProvideErrorMetadata::message(&err),
        Some(MISMATCH)
    );

    let unknown = server.client_with("AKIDNOBODY", "whatever", None, REGION);
    let err = expect_error(
        unknown.get_workflow().name("mine").send().await,
        "UnrecognizedClientException",
    );
    assert_eq!(
        aws_sdk_glue::error::ProvideErrorMetadata::message(&err),
        Some("The security token included in the request is invalid.")
    );

    // A session token on a key configured without one is refused too.
    let with_token = server.client_with(ACCESS_KEY, "test", Some("some-token"), REGION);
    expect_error(
        with_token.list_workflows().send().await,
        "UnrecognizedClientException",
    );
}

#[tokio::test]
async fn raw_requests_get_the_right_error_for_each_defect() {
    let server = WeirServer::start().unwrap();
    let ok_response = raw(&server, list_workflows()).await;
    assert_eq!(
        ok_response.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&ok_response.body)
    );

    let unsigned = RawRequest {
        signer: None,
        ..list_workflows()
    };
    let response = raw(&server, unsigned).await;
    response.assert_error(Some("MissingAuthenticationTokenException"), &[400]);
    assert_eq!(message(&response), "Missing Authentication Token");

    let body_tampered = RawRequest {
        body_after_signing: Some(b"{\"MaxResults\":1}".to_vec()),
        ..list_workflows()
    };
    let response = raw(&server, body_tampered).await;
    response.assert_error(Some("InvalidSignatureException"), &[400]);
    assert_eq!(message(&response), MISMATCH);

    let target_tampered = RawRequest {
        headers_after_signing: vec![("x-amz-target".into(), "AWSGlue.DeleteWorkflow".into())],
        ..list_workflows()
    };
    let response = raw(&server, target_tampered).await;
    response.assert_error(Some("InvalidSignatureException"), &[400]);

    let extra_signed_header_tampered = RawRequest {
        headers: vec![("x-weir-test".into(), "signed".into())],
        headers_after_signing: vec![("x-weir-test".into(), "changed".into())],
        ..list_workflows()
    };
    raw(&server, extra_signed_header_tampered)
        .await
        .assert_error(Some("InvalidSignatureException"), &[400]);

    let old = RawRequest {
        signer: Some(Signer {
            time: SystemTime::now() - Duration::from_secs(20 * 60),
            ..Signer::default()
        }),
        ..list_workflows()
    };
    let response = raw(&server, old).await;
    response.assert_error(Some("InvalidSignatureException"), &[400]);
    let text = message(&response);
    assert!(
        text.starts_with("Signature expired: ") && text.contains(" is now earlier than "),
        "{text}"
    );
    assert!(text.ends_with(" - 5 min.)"), "{text}");

    let future = RawRequest {
        signer: Some(Signer {
            time: SystemTime::now() + Duration::from_secs(20 * 60),
            ..Signer::default()
        }),
        ..list_workflows()
    };
    let response = raw(&server, future).await;
    response.assert_error(Some("InvalidSignatureException"), &[400]);
    assert!(message(&response).starts_with("Signature not yet current: "));

    let other_service = RawRequest {
        signer: Some(Signer {
            service: "s3".into(),
            ..Signer::default()
        }),
        ..list_workflows()
    };
    let response = raw(&server, other_service).await;
    response.assert_error(Some("InvalidSignatureException"), &[400]);
    assert!(message(&response).contains("Credential should be scoped to correct service: 'glue'."));

    let no_date = RawRequest {
        headers_after_signing: vec![("x-amz-date".into(), String::new())],
        ..list_workflows()
    };
    raw(&server, no_date)
        .await
        .assert_error(Some("IncompleteSignatureException"), &[400]);

    let garbage = RawRequest {
        headers_after_signing: vec![(
            "authorization".into(),
            "AWS4-HMAC-SHA256 Credential=test".into(),
        )],
        ..list_workflows()
    };
    let response = raw(&server, garbage).await;
    response.assert_error(Some("IncompleteSignatureException"), &[400]);
    assert!(
        message(&response).contains("requires 'Signature' parameter"),
        "{}",
        message(&response)
    );

    let wrong_secret = RawRequest {
        signer: Some(Signer::with_keys(ACCESS_KEY, "wrong")),
        ..list_workflows()
    };
    raw(&server, wrong_secret)
        .await
        .assert_error(Some("InvalidSignatureException"), &[400]);
    let unknown_key = RawRequest {
        signer: Some(Signer::with_keys("AKIDNOBODY", "test")),
        ..list_workflows()
    };
    raw(&server, unknown_key)
        .await
        .assert_error(Some("UnrecognizedClientException"), &[400]);
}

#[tokio::test]
async fn a_configured_session_token_is_required_and_must_match() {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    write!(
        file,
        "[[credentials]]\naccess_key_id = \"ASIAWEIRTEMP\"\nsecret_access_key = \"temp-secret\"\n\
         account_id = \"333333333333\"\nsession_token = \"the-session-token\"\n"
    )
    .unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let server = WeirServer::start_with_args(&["--credentials", &path]).unwrap();

    let good = server.client_with(
        "ASIAWEIRTEMP",
        "temp-secret",
        Some("the-session-token"),
        REGION,
    );
    ok(good.create_workflow().name("temp").send().await);
    let without = server.client_with("ASIAWEIRTEMP", "temp-secret", None, REGION);
    expect_error(
        without.list_workflows().send().await,
        "UnrecognizedClientException",
    );
    let wrong = server.client_with("ASIAWEIRTEMP", "temp-secret", Some("stolen"), REGION);
    expect_error(
        wrong.list_workflows().send().await,
        "UnrecognizedClientException",
    );
    // With a credentials file, the development pair is not accepted.
    expect_error(
        server.client().list_workflows().send().await,
        "UnrecognizedClientException",
    );

    let tags = ok(good
        .get_tags()
        .resource_arn("arn:aws:glue:us-east-1:333333333333:workflow/temp")
        .send()
        .await);
    assert!(tags.tags.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn the_region_of_the_credential_scope_is_the_region_of_the_request() {
    let server = WeirServer::start().unwrap();
    let east = server.client();
    let west = server.client_with(ACCESS_KEY, "test", None, "eu-west-3");
    ok(west.create_workflow().name("in-paris").send().await);
    let in_west = ok(west.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert_eq!(in_west, vec!["in-paris".to_string()]);
    let in_east = ok(east.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert!(in_east.is_empty(), "{in_east:?}");
    expect_error(
        east.get_workflow().name("in-paris").send().await,
        "EntityNotFoundException",
    );
    ok(west
        .tag_resource()
        .resource_arn("arn:aws:glue:eu-west-3:123456789012:workflow/in-paris")
        .tags_to_add("city", "paris")
        .send()
        .await);
    expect_error(
        east.get_tags()
            .resource_arn("arn:aws:glue:eu-west-3:123456789012:workflow/in-paris")
            .send()
            .await,
        "EntityNotFoundException",
    );
}

#[tokio::test]
async fn no_auth_accepts_anything_in_the_default_account() {
    let server = WeirServer::start_with_args(&["--no-auth"]).unwrap();
    let unsigned = RawRequest {
        signer: None,
        ..RawRequest::new(Some("AWSGlue.CreateWorkflow"), br#"{"Name":"anon"}"#)
    };
    let response = raw(&server, unsigned).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    // Any key and secret; the region of the scope is used, the account is the default.
    let stranger = server.client_with("AKIDSTRANGER", "nonsense", None, REGION);
    let names = ok(stranger.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert_eq!(names, vec!["anon".to_string()]);
    ok(stranger
        .get_tags()
        .resource_arn(weir_conformance::workflow_arn("anon"))
        .send()
        .await);
}

#[test]
fn a_network_address_without_credentials_is_refused_at_startup() {
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(weir_conformance::weir_bin().unwrap())
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(data.path())
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(stderr.contains("--credentials"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty());
}
