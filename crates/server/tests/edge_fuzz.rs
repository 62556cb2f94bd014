//! Property test of the front door: random methods, paths, headers, `Authorization`
//! strings, targets and bodies — some of them validly signed, so that they reach the
//! operations — sent through the real router with tower's `oneshot`. Whatever arrives,
//! the answer is never a panic and never a 500, and every error is an AWS-style JSON
//! body with `__type` matching `x-amzn-ErrorType`.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::body::Body;
use http::{HeaderName, HeaderValue, Request};
use proptest::prelude::*;
use tower::ServiceExt;
use weir::app::App;
use weir::auth::{Authenticator, DEFAULT_MAX_CLOCK_SKEW};
use weir::clock::Clock;
use weir::config::{Config, EdgeLimits};
use weir::db::Db;
use weir::orchestrator::schedule::Scheduler;
use weir::orchestrator::{Orchestrator, OrchestratorSettings};
use weir::runner::{Runner, RunnerConfig};

/// A server state shared by all cases: runtime, app, and the directory it lives in.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    verifying: App,
    unverified: App,
    _dir: tempfile::TempDir,
}

fn app(dir: &std::path::Path, no_auth: bool) -> App {
    let data_dir = dir.join(if no_auth { "no-auth" } else { "verify" });
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let auth = Authenticator::for_listener(
        "127.0.0.1:0".parse().expect("addr"),
        None,
        no_auth,
        DEFAULT_MAX_CLOCK_SKEW,
        "123456789012",
        "us-east-1",
    )
    .expect("auth");
    let store = weir_store::SqliteStore::open(&data_dir).expect("store");
    let db = Db::new(std::sync::Arc::new(store));
    let clock = Clock::system();
    let runner = Runner::new(
        RunnerConfig {
            data_dir: data_dir.clone(),
            s3_root: data_dir.join("s3"),
            python: "python3".into(),
        },
        clock.clone(),
    )
    .expect("runner");
    let (orchestrator, _driver) = Orchestrator::new(
        db.clone(),
        runner,
        clock,
        OrchestratorSettings {
            script_credentials: auth.credentials().clone(),
        },
    );
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        s3_dir: data_dir.join("s3"),
        data_dir,
        account: "123456789012".into(),
        region: "us-east-1".into(),
        python: "python3".into(),
        retention_days: 90,
        auth,
        limits: EdgeLimits {
            body_read_timeout: Duration::from_secs(5),
            ..EdgeLimits::default()
        },
    };
    let scheduler = Scheduler::new(orchestrator.clone(), db.clone());
    App::new(config, db, orchestrator, scheduler).expect("app")
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (verifying, unverified) = {
        let _guard = runtime.enter();
        (app(dir.path(), false), app(dir.path(), true))
    };
    Fixture {
        runtime,
        verifying,
        unverified,
        _dir: dir,
    }
});

const HEADER_NAMES: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-target",
    "content-type",
    "content-length",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "host",
    "x-amzn-trace-id",
];

const OPERATIONS: &[&str] = &[
    "CreateWorkflow",
    "GetWorkflow",
    "ListWorkflows",
    "BatchGetWorkflows",
    "DeleteWorkflow",
    "UpdateWorkflow",
    "GetWorkflowRuns",
    "StartWorkflowRun",
    "GetTags",
    "TagResource",
    "UntagResource",
    "GetJobs",
    "ListTriggers",
    "GetTrigger",
    "CreateTable",
    "NoSuchOperation",
];

const MEMBERS: &[&str] = &[
    "Name",
    "Names",
    "MaxResults",
    "NextToken",
    "Tags",
    "TagsToAdd",
    "TagsToRemove",
    "ResourceArn",
    "RunId",
    "Description",
    "DefaultRunProperties",
    "IncludeGraph",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "[a-zA-Z0-9_./:=,;-]{0,24}",
        Just(String::new()),
        any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-1e12f64..1e12).prop_map(|n| serde_json::json!(n)),
        text().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => Just(Vec::new()),
        1 => Just(b"{}".to_vec()),
        5 => prop::collection::btree_map(prop::sample::select(MEMBERS), json_value(), 0..4)
            .prop_map(|members| serde_json::to_vec(&members).expect("json")),
        1 => text().prop_map(String::into_bytes),
    ]
}

fn target() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => prop::sample::select(OPERATIONS).prop_map(|op| Some(format!("AWSGlue.{op}"))),
        1 => text().prop_map(Some),
        1 => Just(None),
    ]
}

fn authorization() -> impl Strategy<Value = String> {
    let part = "[a-zA-Z0-9_-]{0,12}";
    prop_oneof![
        text(),
        (part, "[0-9]{0,9}", part, prop_oneof![Just("glue".to_string()), part.prop_map(|s| s)], "[a-z;-]{0,30}", "[0-9a-fA-F]{0,70}")
            .prop_map(|(key, date, region, service, headers, sig)| format!(
                "AWS4-HMAC-SHA256 Credential={key}/{date}/{region}/{service}/aws4_request, SignedHeaders={headers}, Signature={sig}"
            )),
    ]
}

/// What a case sends: raw pieces, or a properly signed request (optionally tampered).
#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    path: String,
    target: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    signed: Option<Tamper>,
}

#[derive(Debug, Clone, Copy)]
enum Tamper {
    None,
    Body,
    Date,
    DropAuthorization,
}

fn case() -> impl Strategy<Value = Case> {
    let header = (
        prop_oneof![
            prop::sample::select(HEADER_NAMES).prop_map(str::to_owned),
            "[a-z-]{1,12}"
        ],
        prop_oneof![text(), authorization()],
    );
    (
        prop_oneof![
            8 => Just("POST"),
            1 => prop::sample::select(&["GET", "PUT", "DELETE", "PATCH"][..]),
        ],
        prop_oneof![
            8 => Just("/".to_string()),
            1 => Just("/?a=b".to_string()),
            1 => "/[a-z/]{0,10}",
        ],
        target(),
        prop::collection::vec(header, 0..6),
        body(),
        prop::option::of(prop_oneof![
            Just(Tamper::None),
            Just(Tamper::None),
            Just(Tamper::Body),
            Just(Tamper::Date),
            Just(Tamper::DropAuthorization),
        ]),
    )
        .prop_map(|(method, path, target, headers, body, signed)| Case {
            method,
            path,
            target,
            headers,
            body,
            signed,
        })
}

fn build(case: &Case) -> Request<Body> {
    let mut builder = Request::builder().method(case.method).uri(&case.path);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), "localhost:5599".into()),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
    ];
    if let Some(target) = &case.target {
        headers.push(("x-amz-target".into(), target.clone()));
    }
    if let Some(tamper) = case.signed {
        let identity = Credentials::new("test", "test", None, None, "fuzz").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("glue")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let uri = format!("http://localhost:5599{}", case.path);
        let signable = SignableRequest::new(
            case.method,
            uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&case.body),
        );
        if let Ok(signable) = signable
            && let Ok(output) = sign(signable, &params)
        {
            let (instructions, _) = output.into_parts();
            for (name, value) in instructions.headers() {
                let value = match (tamper, name) {
                    (Tamper::Date, "x-amz-date") => "20200101T000000Z".to_string(),
                    _ => value.to_string(),
                };
                if !(matches!(tamper, Tamper::DropAuthorization) && name == "authorization") {
                    headers.push((name.to_string(), value));
                }
            }
        }
    } else {
        headers.extend(case.headers.iter().cloned());
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            builder = builder.header(name, value);
        }
    }
    let mut body = case.body.clone();
    if matches!(case.signed, Some(Tamper::Body)) {
        body.push(b' ');
    }
    builder.body(Body::from(body)).unwrap_or_else(|_| {
        Request::builder()
            .method("POST")
            .uri("/")
            .body(Body::empty())
            .expect("fallback request")
    })
}

async fn check(app: App, case: &Case) -> Result<(), TestCaseError> {
    let response = weir::http::router(app)
        .oneshot(build(case))
        .await
        .map_err(|e| TestCaseError::fail(format!("router error: {e:?}")))?;
    let status = response.status();
    prop_assert!(status.as_u16() < 500, "status {status} for {case:?}");
    prop_assert!(
        [200u16, 400, 404, 413].contains(&status.as_u16()),
        "status {status} for {case:?}"
    );
    let request_id = response.headers().get("x-amzn-requestid").cloned();
    prop_assert!(request_id.is_some(), "no request id for {case:?}");
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| TestCaseError::fail(format!("body: {e}")))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        TestCaseError::fail(format!(
            "not JSON ({e}): {:?} for {case:?}",
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    prop_assert!(json.is_object());
    if status.as_u16() != 200 {
        let code = json.get("__type").and_then(|t| t.as_str());
        prop_assert!(
            code.is_some_and(|c| !c.is_empty()),
            "no __type: {json} for {case:?}"
        );
        prop_assert_eq!(
            code.map(str::to_owned),
            error_type,
            "header vs body for {:?}",
            case
        );
        let message = json.get("Message").and_then(|m| m.as_str());
        prop_assert!(message.is_some_and(|m| !m.is_empty()), "no Message: {json}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_verifying_front_door_always_answers_in_json(case in case()) {
        let fixture = &*FIXTURE;
        fixture.runtime.block_on(check(fixture.verifying.clone(), &case))?;
    }

    #[test]
    fn the_no_auth_front_door_always_answers_in_json(case in case()) {
        let fixture = &*FIXTURE;
        fixture.runtime.block_on(check(fixture.unverified.clone(), &case))?;
    }
}
