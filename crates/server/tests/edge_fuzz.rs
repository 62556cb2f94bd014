//! Property tests of the front door and of every served operation, through the real
//! router with tower's `oneshot`.
//!
//! * **Front door:** random methods, paths, headers, `Authorization` strings, targets
//!   and bodies — some of them validly signed, so that they reach the operations.
//! * **Every operation:** for each operation of the generated list
//!   (`weir_model::schema::INPUTS`, the same list the dispatch is written from), bodies
//!   built from its input shape — valid-ish values that name a few shared resources, so
//!   that creates, reads, updates and deletes meet — then mutated: members of the wrong
//!   type, huge strings, odd Unicode, deep nesting, boundary numbers, missing and extra
//!   members, and broken JSON text.
//!
//! Whatever arrives, the answer is never a panic and never a 500, every error is an
//! AWS-style JSON body with `__type` matching `x-amzn-ErrorType`, and afterwards the
//! server still serves reads and writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::Router;
use axum::body::Body;
use http::{HeaderName, HeaderValue, Request};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as RunnerConfig, TestError, TestRunner};
use serde_json::{Map, Value};
use tower::ServiceExt;
use weir::config::Config;
use weir::server::Server;
use weir_auth::{Authenticator, DEFAULT_MAX_CLOCK_SKEW};
use weir_clock::Clock;
use weir_edge::EdgeLimits;
use weir_model::operations::SERVED_OPERATIONS;
use weir_model::schema::{self, Shape};

/// Cases per served operation (79 operations).
const CASES_PER_OPERATION: u32 = 64;

/// A server state shared by all cases: runtime, app, and the directory it lives in.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    verifying: Router,
    unverified: Router,
    _dir: tempfile::TempDir,
}

/// Panics anywhere in the process (handlers, spawned tasks, blocking writes).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn app(dir: &std::path::Path, no_auth: bool) -> Router {
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
    put_blueprint_archive(&data_dir.join("s3/fuzz/bp.zip"));
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        s3_dir: data_dir.join("s3"),
        runtime_dir: data_dir.join("runtimes"),
        data_dir,
        store: Default::default(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        python: "python3".into(),
        spark: Default::default(),
        retention_days: 90,
        max_concurrent_job_runs: 2000,
        auth,
        limits: EdgeLimits {
            body_read_timeout: Duration::from_secs(5),
            ..EdgeLimits::default()
        },
        replica_name: "fuzz".into(),
        endpoint_url: None,
        lease_timeout: Duration::from_secs(10),
    };
    // Wired as the binary wires it; the driver is not started (no job needs to run).
    Server::assemble(config, Clock::system())
        .expect("server")
        .edge()
        .into_router()
}

/// A blueprint whose layout makes a workflow (named by its parameter) with one job.
fn put_blueprint_archive(path: &std::path::Path) {
    use std::io::Write as _;
    let cfg = r#"{"layoutGenerator": "bp.layout.generate_layout",
        "parameterSpec": {"WorkflowName": {"type": "String"}}}"#;
    let layout = r#"
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow

def generate_layout(user_params, system_params):
    command = {"Name": "pythonshell", "ScriptLocation": "s3://fuzz/fuzz.py"}
    job = Job(Name="fuzz_bp_job", Role="fuzz", Command=command)
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[job]))
"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [("bp/blueprint.cfg", cfg), ("bp/layout.py", layout)] {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    let bytes = zip.finish().expect("zip").into_inner();
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("s3 directory");
    std::fs::write(path, bytes).expect("archive");
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
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

// ---- the front door ---------------------------------------------------------------------

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

/// Targets of the front door: every served operation, a Glue operation that is not
/// served, and one that does not exist.
fn operation_names() -> Vec<&'static str> {
    let mut names = SERVED_OPERATIONS.to_vec();
    names.extend(["CreateSession", "NoSuchOperation"]);
    names
}

/// Every top-level member name of a served operation's input.
fn member_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = schema::INPUTS
        .iter()
        .filter_map(|(_, input)| match schema::shape(input) {
            Some(Shape::Structure { members, .. }) => Some(members.iter().map(|m| m.name)),
            _ => None,
        })
        .flatten()
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "[a-zA-Z0-9_./:=,;-]{0,24}",
        Just(String::new()),
        any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-1e12f64..1e12).prop_map(|n| serde_json::json!(n)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => Just(Vec::new()),
        1 => Just(b"{}".to_vec()),
        5 => prop::collection::btree_map(prop::sample::select(member_names()), json_value(), 0..4)
            .prop_map(|members| serde_json::to_vec(&members).expect("json")),
        1 => text().prop_map(String::into_bytes),
    ]
}

fn target() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => prop::sample::select(operation_names()).prop_map(|op| Some(format!("AWSGlue.{op}"))),
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

/// Sends `request` through a fresh router of `app` and checks the answer: no panic,
/// no 500, JSON, a request id, and on errors a `__type` that matches the header.
/// Returns the status and the JSON body.
async fn exchange(
    router: Router,
    request: Request<Body>,
    what: &dyn std::fmt::Debug,
) -> Result<(u16, Value), TestCaseError> {
    let panics = PANICS.load(Ordering::SeqCst);
    let response = router
        .oneshot(request)
        .await
        .map_err(|e| TestCaseError::fail(format!("router error: {e:?}")))?;
    let status = response.status();
    prop_assert!(status.as_u16() < 500, "status {status} for {what:?}");
    prop_assert!(
        [200u16, 400, 404, 413].contains(&status.as_u16()),
        "status {status} for {what:?}"
    );
    let request_id = response.headers().get("x-amzn-requestid").cloned();
    prop_assert!(request_id.is_some(), "no request id for {what:?}");
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| TestCaseError::fail(format!("body: {e}")))?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| {
        TestCaseError::fail(format!(
            "not JSON ({e}): {:?} for {what:?}",
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    prop_assert!(json.is_object());
    if status.as_u16() != 200 {
        let code = json.get("__type").and_then(|t| t.as_str());
        prop_assert!(
            code.is_some_and(|c| !c.is_empty()),
            "no __type: {json} for {what:?}"
        );
        prop_assert_eq!(
            code.map(str::to_owned),
            error_type,
            "header vs body for {:?}",
            what
        );
        let message = json.get("Message").and_then(|m| m.as_str());
        prop_assert!(message.is_some_and(|m| !m.is_empty()), "no Message: {json}");
    }
    prop_assert_eq!(
        PANICS.load(Ordering::SeqCst),
        panics,
        "a panic while serving {:?}",
        what
    );
    Ok((status.as_u16(), json))
}

async fn check(router: Router, case: &Case) -> Result<(), TestCaseError> {
    exchange(router, build(case), case).await.map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
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

// ---- every operation, from its input shape ----------------------------------------------

/// Names shared by all generated bodies, so that operations meet the same resources
/// (repeated to weigh them).
const NAMES: &[&str] = &["fuzz", "fuzz", "fuzz", "fuzz_2", "fuzzdb"];
/// ARNs of the shared names.
const ARNS: &[&str] = &[
    "arn:aws:glue:us-east-1:123456789012:workflow/fuzz",
    "arn:aws:glue:us-east-1:123456789012:job/fuzz",
    "arn:aws:glue:us-east-1:123456789012:trigger/fuzz",
    "arn:aws:glue:us-east-1:123456789012:crawler/fuzz",
    "arn:aws:glue:us-east-1:123456789012:blueprint/fuzz",
    "arn:aws:glue:us-east-1:123456789012:database/fuzzdb",
];
/// Locations under the fixture's S3 directory (only the blueprint archive exists).
const LOCATIONS: &[&str] = &["s3://fuzz/fuzz.py", "s3://fuzz/data/", "s3://fuzz/bp.zip"];
/// Schedules, valid and not (a day that never comes, a rate the server does not take).
const SCHEDULES: &[&str] = &[
    "cron(0 12 * * ? *)",
    "cron(*/5 * * * ? *)",
    "cron(0 0 1 1 ? 2099)",
    "cron(0 0 31 2 ? *)",
    "rate(5 minutes)",
];
/// Prefix of a placeholder `<prefix>pooled-id:<id prefix>:<n>` that is replaced, before
/// sending, by an id with that prefix some earlier answer contained (see [`IDS`]).
const POOLED_ID: &str = "\u{1}pooled-id:";
/// Run and node ids (`RunId`, `JobRunId`, graph `UniqueId`s) seen in successful
/// answers.
static IDS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Nesting depth beyond which generated values stop growing.
const MAX_DEPTH: usize = 5;

/// Whether a member names a resource (so takes one of [`NAMES`]).
fn is_name_member(hint: &str) -> bool {
    hint.ends_with("Name")
        || hint.ends_with("Names")
        || matches!(hint, "TablesToDelete" | "Name" | "DatabaseName")
}

/// The prefix of the ids a member names: job runs, graph nodes, or any run.
fn id_prefix(hint: &str) -> &'static str {
    match hint {
        "JobRunId" | "JobRunIds" => "jr_",
        "NodeIds" => "wnode_",
        _ => "",
    }
}

/// Optional members without which most requests are refused, or which reach the
/// hand-written parsers: generated more often than the others.
const WANTED: &[&str] = &[
    "Role",
    "Command",
    "ScriptLocation",
    "Targets",
    "S3Targets",
    "Path",
    "Actions",
    "JobName",
    "Type",
    "Columns",
    "Predicate",
    "Conditions",
    "WorkflowName",
    "RunId",
    "Filters",
    "FieldName",
    "FieldValue",
    "Expression",
    "Schedule",
    "Parameters",
];

/// Whether a member names a run or graph node by id.
fn is_id_member(hint: &str) -> bool {
    hint.ends_with("RunId") || hint.ends_with("RunIds") || hint == "NodeIds"
}

/// A regex usable by proptest's generator: the model's anchored pattern without its
/// anchors.
fn generator_pattern(pattern: &str) -> String {
    let inner = pattern
        .strip_prefix("^(?:")
        .and_then(|p| p.strip_suffix(")$"))
        .unwrap_or(pattern);
    let inner = inner.strip_prefix('^').unwrap_or(inner);
    inner.strip_suffix('$').unwrap_or(inner).to_string()
}

/// Pieces of the formats the server parses by hand (times, numbers, cron
/// expressions, partition expressions, paths) and of text that breaks such parsers.
const TOKENS: &[&str] = &[
    "2024-01-01",
    "2024-02-30",
    "T",
    "t",
    " ",
    "00:00:00",
    "23:59:60",
    ".5",
    ".123456",
    "Z",
    "+01:00",
    "-23:59",
    "+",
    "-",
    ":",
    "0",
    "1",
    "12",
    "31",
    "60",
    "99999",
    "9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "-0",
    "NaN",
    "inf",
    "1.5",
    "cron(",
    ")",
    "(",
    "*",
    "?",
    "/",
    ",",
    "L",
    "W",
    "LW",
    "#",
    "5L",
    "2#3",
    "0/0",
    "1-5",
    "MON-FRI",
    "JAN",
    "'",
    "\"",
    "=",
    ">",
    ">=",
    "<>",
    "!=",
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "LIKE",
    "%",
    "_",
    "\\",
    "dt",
    "a",
    "..",
    "s3://",
    "fuzz",
    "{",
    "}",
    "[",
    "]",
    "$",
    ".",
    "\u{0}",
    "é",
    "\u{301}",
    "😀",
    "\u{202e}",
    "\n",
];

/// A string made of a few [`TOKENS`].
fn tokens() -> BoxedStrategy<String> {
    prop::collection::vec(prop::sample::select(TOKENS), 1..8)
        .prop_map(|parts| parts.concat())
        .boxed()
}

/// A time or number as the server reads filter values: integers (extremes included),
/// dates and date-times with fractions and offsets — or whatever follows them.
fn time_like() -> BoxedStrategy<String> {
    prop_oneof![
        "-?[0-9]{1,20}",
        prop::sample::select(vec![
            "-9223372036854775808",
            "9223372036854775807",
            "-0",
            "1e400"
        ])
        .prop_map(str::to_owned),
        (
            "[0-9]{4}-[0-9]{2}-[0-9]{2}",
            prop::sample::select(vec!["", "T", " ", "t", "é"]),
            "([0-9]{2}:[0-9]{2}:[0-9]{2})?",
            "(\\.[0-9]{0,9})?",
            "(Z|[+-][0-9]{2}:[0-9]{2}|.{0,6})",
        )
            .prop_map(|(d, s, t, f, z)| format!("{d}{s}{t}{f}{z}")),
    ]
    .boxed()
}

/// A valid-ish string of a string shape, chosen by what the member is for.
fn string_value(
    hint: &'static str,
    min: Option<u64>,
    max: Option<u64>,
    pattern: Option<&'static str>,
    values: &'static [&'static str],
) -> BoxedStrategy<Value> {
    let longest = max.unwrap_or(64).min(24) as usize;
    let shortest = (min.unwrap_or(0) as usize).min(longest);
    let fallback =
        proptest::string::string_regex(&format!("[a-zA-Z0-9 _.:/-]{{{shortest},{longest}}}"))
            .expect("a plain character class");
    let free: BoxedStrategy<String> = match pattern
        .map(generator_pattern)
        .and_then(|p| proptest::string::string_regex(&p).ok())
    {
        Some(matching) => prop_oneof![
            6 => matching.prop_map(move |s| s.chars().take(longest.max(1)).collect()),
            2 => tokens(),
            1 => fallback,
        ]
        .boxed(),
        None => prop_oneof![2 => fallback, 1 => tokens()].boxed(),
    };
    let strings: BoxedStrategy<String> = if !values.is_empty() {
        prop_oneof![9 => prop::sample::select(values).prop_map(str::to_owned), 1 => free].boxed()
    } else if is_id_member(hint) {
        prop_oneof![
            3 => any::<u8>().prop_map(move |n| format!("{POOLED_ID}{}:{n}", id_prefix(hint))),
            1 => free,
        ]
        .boxed()
    } else if hint == "DatabaseName" {
        prop_oneof![9 => Just("fuzzdb".to_string()), 1 => free].boxed()
    } else if is_name_member(hint) {
        prop_oneof![9 => prop::sample::select(NAMES).prop_map(str::to_owned), 1 => free].boxed()
    } else if hint == "RoleArn" {
        prop_oneof![
            4 => Just("arn:aws:iam::123456789012:role/fuzz".to_string()),
            1 => free,
        ]
        .boxed()
    } else if hint.ends_with("Arn") {
        prop_oneof![4 => prop::sample::select(ARNS).prop_map(str::to_owned), 1 => free].boxed()
    } else if hint == "Path" {
        // Crawler targets may also be local paths, and a crawl of "/" would walk the
        // whole file system: only locations under the fixture's S3 directory.
        prop::sample::select(LOCATIONS)
            .prop_map(str::to_owned)
            .boxed()
    } else if hint.contains("Location") {
        prop_oneof![3 => prop::sample::select(LOCATIONS).prop_map(str::to_owned), 1 => free].boxed()
    } else if hint == "FieldValue" || hint.contains("Time") {
        prop_oneof![3 => time_like(), 1 => free].boxed()
    } else if hint == "Parameters" {
        let parameters = prop::sample::select(vec![
            r#"{"WorkflowName":"fuzz_bp"}"#,
            r#"{"WorkflowName":"fuzz_bp_2","Unknown":1}"#,
            r#"{"WorkflowName":5}"#,
        ]);
        prop_oneof![3 => parameters.prop_map(str::to_owned), 1 => free].boxed()
    } else if hint == "Schedule" {
        prop_oneof![3 => prop::sample::select(SCHEDULES).prop_map(str::to_owned), 1 => free].boxed()
    } else {
        free
    };
    strings.prop_map(Value::String).boxed()
}

/// A valid-ish JSON value of the shape `name`, for a member called `hint`.
fn valid(name: &'static str, hint: &'static str, depth: usize) -> BoxedStrategy<Value> {
    let Some(shape) = schema::shape(name) else {
        return Just(Value::Null).boxed();
    };
    match *shape {
        Shape::Structure { members, union } => {
            if depth > MAX_DEPTH + 3 {
                return Just(Value::Object(Map::new())).boxed();
            }
            if union && !members.is_empty() {
                let choices: Vec<BoxedStrategy<Value>> = members
                    .iter()
                    .map(|m| {
                        let key = m.name;
                        valid(m.shape, m.name, depth + 1)
                            .prop_map(move |v| {
                                Value::Object(Map::from_iter([(key.to_string(), v)]))
                            })
                            .boxed()
                    })
                    .collect();
                return prop::strategy::Union::new(choices).boxed();
            }
            let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = members
                .iter()
                .filter(|m| m.required || depth <= MAX_DEPTH)
                .map(|m| {
                    let key = m.name;
                    let value =
                        valid(m.shape, m.name, depth + 1).prop_map(move |v| (key.to_string(), v));
                    if m.required {
                        value.prop_map(Some).boxed()
                    } else {
                        let p = if WANTED.contains(&m.name) { 0.8 } else { 0.3 };
                        prop::option::weighted(p, value).boxed()
                    }
                })
                .collect();
            parts
                .prop_map(|parts| Value::Object(parts.into_iter().flatten().collect()))
                .boxed()
        }
        Shape::List { member, min, max } => {
            let most = if depth > MAX_DEPTH { 0 } else { 3 };
            let least = (min.unwrap_or(0) as usize).min(most);
            let most = (max.unwrap_or(u64::MAX).min(most as u64) as usize).max(least);
            prop::collection::vec(valid(member, hint, depth + 1), least..=most)
                .prop_map(Value::Array)
                .boxed()
        }
        Shape::Map {
            key,
            value,
            min,
            max,
        } => {
            let most = if depth > MAX_DEPTH { 0 } else { 3 };
            let least = (min.unwrap_or(0) as usize).min(most);
            let most = (max.unwrap_or(u64::MAX).min(most as u64) as usize).max(least);
            let keys = valid(key, "Key", depth + 1).prop_map(|k| match k {
                Value::String(s) => s,
                other => other.to_string(),
            });
            prop::collection::btree_map(keys, valid(value, hint, depth + 1), least..=most)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        Shape::String {
            min,
            max,
            pattern,
            values,
        } => string_value(hint, min, max, pattern, values),
        Shape::Integer { min, max } | Shape::Long { min, max } => {
            let low = min.unwrap_or(0).max(-1000);
            let high = max.unwrap_or(100).min(low.saturating_add(1000)).max(low);
            (low..=high).prop_map(|n| serde_json::json!(n)).boxed()
        }
        Shape::Double { min, max } => {
            let low = min.unwrap_or(0.0).max(-1000.0);
            let high = max.unwrap_or(100.0).min(low + 1000.0).max(low);
            (low..=high).prop_map(|n| serde_json::json!(n)).boxed()
        }
        Shape::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        Shape::Timestamp => prop_oneof![
            (0i64..4_000_000_000).prop_map(|s| serde_json::json!(s)),
            (0f64..4e9).prop_map(|s| serde_json::json!(s)),
        ]
        .boxed(),
        Shape::Document => json_value().boxed(),
    }
}

/// Strings that have broken parsers and renderers elsewhere.
const ODD_TEXT: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "a\u{0}b",
    "\u{feff}fuzz",
    "fuzz\n",
    "\r\n\t",
    "é\u{301}",
    "\u{202e}zzuf",
    "👩‍👩‍👧‍👦",
    "\u{10ffff}",
    "\u{fffd}",
    "𝕗𝕦𝕫𝕫",
    "../../etc/passwd",
    "%00%2e%2e",
    "'; DROP TABLE resources; --",
    "${jndi:ldap://x}",
    "<script>",
    "\\",
    "\"",
    "cron(",
    "cron(* * * * * *)",
    "cron(0/0 * * * ? *)",
    "cron(60 25 32 13 ? 99999)",
    "cron(0 0 L W ? *)",
    "cron(0 0 ? * 8#9 *)",
];

/// Values that have broken number handling elsewhere.
fn odd_number() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(1),
        serde_json::json!(i32::MAX),
        serde_json::json!(i64::from(i32::MAX) + 1),
        serde_json::json!(i32::MIN),
        serde_json::json!(i64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!(u64::MAX),
        serde_json::json!(1.5),
        serde_json::json!(-0.0),
        serde_json::json!(1e300),
        serde_json::json!(-1e300),
        serde_json::json!(f64::MIN_POSITIVE),
    ])
}

/// One change to a generated value, at the node `at` (any node, the root included).
#[derive(Debug, Clone)]
enum Mutation {
    /// The node becomes an arbitrary JSON value (usually of another type).
    Replace(Index, Value),
    /// The node's member or element is removed.
    Remove(Index),
    /// An object node gains a member.
    Extra(Index, String, Value),
    /// The node becomes a long string.
    Huge(Index, usize, char),
    /// The node becomes an odd string.
    Odd(Index, &'static str),
    /// The node becomes arrays or objects nested `depth` deep (beyond 128 the JSON
    /// parser refuses).
    Deep(Index, usize, bool),
    /// The node becomes a boundary number.
    Number(Index, Value),
    /// The node becomes `null`.
    Null(Index),
    /// The node becomes an array of many copies of itself.
    Many(Index, usize),
    /// The node becomes a string nesting parentheses or `NOT`s `depth` deep, for the
    /// hand-written expression parsers.
    NestedText(Index, usize, bool),
}

/// A change to the JSON text after the value was serialised.
#[derive(Debug, Clone)]
enum TextMutation {
    None,
    /// The first string gets a lone surrogate escape.
    LoneSurrogate,
    /// A number too large for any float.
    HugeExponent,
    /// The text is cut.
    Truncate(Index),
    /// Something after the object.
    Trailing,
    /// A member nested far deeper than the parser allows.
    DeepText(usize),
    /// A member given twice.
    DuplicateMember,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), json_value()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<Index>().prop_map(Mutation::Remove),
        1 => (any::<Index>(), "[A-Za-z]{1,12}", json_value())
            .prop_map(|(at, k, v)| Mutation::Extra(at, k, v)),
        1 => (any::<Index>(), 1000usize..300_000, prop::sample::select(vec!['x', 'é', '😀', '\u{0}']))
            .prop_map(|(at, n, c)| Mutation::Huge(at, n, c)),
        2 => (any::<Index>(), prop::sample::select(ODD_TEXT)).prop_map(|(at, t)| Mutation::Odd(at, t)),
        1 => (any::<Index>(), prop::sample::select(vec![20usize, 100, 126, 127, 200]), any::<bool>())
            .prop_map(|(at, d, o)| Mutation::Deep(at, d, o)),
        2 => (any::<Index>(), odd_number()).prop_map(|(at, n)| Mutation::Number(at, n)),
        1 => any::<Index>().prop_map(Mutation::Null),
        1 => (any::<Index>(), prop::sample::select(vec![2usize, 101, 1001]))
            .prop_map(|(at, n)| Mutation::Many(at, n)),
        1 => (any::<Index>(), prop::sample::select(vec![10usize, 100, 1000]), any::<bool>())
            .prop_map(|(at, n, parens)| Mutation::NestedText(at, n, parens)),
    ]
}

fn text_mutation() -> impl Strategy<Value = TextMutation> {
    prop_oneof![
        20 => Just(TextMutation::None),
        1 => Just(TextMutation::LoneSurrogate),
        1 => Just(TextMutation::HugeExponent),
        1 => any::<Index>().prop_map(TextMutation::Truncate),
        1 => Just(TextMutation::Trailing),
        1 => prop::sample::select(vec![129usize, 10_000, 100_000]).prop_map(TextMutation::DeepText),
        1 => Just(TextMutation::DuplicateMember),
    ]
}

/// A body of one operation: a valid-ish value of its input shape, then mutations.
#[derive(Debug, Clone)]
struct OperationCase {
    operation: &'static str,
    value: Value,
    mutations: Vec<Mutation>,
    text: TextMutation,
}

fn operation_case(operation: &'static str, input: &'static str) -> BoxedStrategy<OperationCase> {
    (
        valid(input, "", 0),
        prop_oneof![
            2 => Just(Vec::new()),
            3 => prop::collection::vec(mutation(), 1..=3),
        ],
        text_mutation(),
    )
        .prop_map(move |(value, mutations, text)| OperationCase {
            operation,
            value,
            mutations,
            text,
        })
        .boxed()
}

/// JSON pointers of every node of `value`, root first.
fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    let key = key.replace('~', "~0").replace('/', "~1");
                    walk(member, format!("{at}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

fn nested(depth: usize, objects: bool) -> Value {
    let mut value = Value::from("deep");
    for _ in 0..depth {
        value = if objects {
            Value::Object(Map::from_iter([("d".to_string(), value)]))
        } else {
            Value::Array(vec![value])
        };
    }
    value
}

fn apply(value: &mut Value, mutation: &Mutation) {
    let all = pointers(value);
    let at = |index: &Index| all[index.index(all.len())].clone();
    let set = |value: &mut Value, at: &str, new: Value| {
        if let Some(slot) = value.pointer_mut(at) {
            *slot = new;
        }
    };
    match mutation {
        Mutation::Replace(i, new) => set(value, &at(i), new.clone()),
        Mutation::Remove(i) => {
            let at = at(i);
            if let Some((parent, last)) = at.rsplit_once('/') {
                let last = last.replace("~1", "/").replace("~0", "~");
                match value.pointer_mut(parent) {
                    Some(Value::Object(members)) => {
                        members.remove(&last);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(n) = last.parse::<usize>()
                            && n < items.len()
                        {
                            items.remove(n);
                        }
                    }
                    _ => {}
                }
            }
        }
        Mutation::Extra(i, key, new) => {
            if let Some(Value::Object(members)) = value.pointer_mut(&at(i)) {
                members.insert(key.clone(), new.clone());
            }
        }
        Mutation::Huge(i, n, c) => set(value, &at(i), Value::String(c.to_string().repeat(*n))),
        Mutation::Odd(i, text) => set(value, &at(i), Value::from(*text)),
        Mutation::Deep(i, depth, objects) => set(value, &at(i), nested(*depth, *objects)),
        Mutation::Number(i, n) => set(value, &at(i), n.clone()),
        Mutation::Null(i) => set(value, &at(i), Value::Null),
        Mutation::NestedText(i, depth, parens) => {
            let text = if *parens {
                format!("{}dt = '1'{}", "(".repeat(*depth), ")".repeat(*depth))
            } else {
                format!("{}dt = '1'", "NOT ".repeat(*depth))
            };
            set(value, &at(i), Value::String(text));
        }
        Mutation::Many(i, n) => {
            let at = at(i);
            if let Some(slot) = value.pointer_mut(&at) {
                // At most about 2 MiB of copies: enough to pass any list bound.
                let size = slot.to_string().len().max(1);
                let n = (*n).min((2 << 20) / size).max(2);
                *slot = Value::Array(vec![slot.clone(); n]);
            }
        }
    }
}

/// Replaces pooled-id placeholders with run ids seen earlier (or leaves a plausible
/// unknown id when none was seen yet).
fn resolve_ids(value: &mut Value, ids: &[String]) {
    match value {
        Value::String(text) => {
            if let Some((prefix, n)) = text
                .strip_prefix(POOLED_ID)
                .and_then(|rest| rest.split_once(':'))
            {
                let n: usize = n.parse().unwrap_or(0);
                let known: Vec<&String> = ids.iter().filter(|id| id.starts_with(prefix)).collect();
                // Mostly one of the newest ids: older runs may have been deleted since.
                *text = match known.len() {
                    0 => format!("wr_{n:064x}"),
                    len => known[len - 1 - n % len.min(6)].clone(),
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_ids(v, ids)),
        Value::Object(members) => members.values_mut().for_each(|v| resolve_ids(v, ids)),
        _ => {}
    }
}

/// Remembers the run ids of an answer, for later cases to name.
fn collect_ids(value: &Value, ids: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let remembered = key.ends_with("RunId") || key == "Id" || key == "UniqueId";
                if let (true, Value::String(id)) = (remembered, member)
                    && !ids.contains(id)
                    && ids.len() < 256
                {
                    ids.push(id.clone());
                }
                collect_ids(member, ids);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, ids)),
        _ => {}
    }
}

/// The bytes sent for `case`.
fn body_of(case: &OperationCase) -> Vec<u8> {
    let mut value = case.value.clone();
    for mutation in &case.mutations {
        apply(&mut value, mutation);
    }
    let ids = IDS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    resolve_ids(&mut value, &ids);
    let text = serde_json::to_string(&value).unwrap_or_else(|_| "{}".into());
    let object = text.starts_with('{') && text.len() > 2;
    match &case.text {
        TextMutation::None => text.into_bytes(),
        TextMutation::LoneSurrogate => text.replacen("\":\"", "\":\"\\ud800", 1).into_bytes(),
        TextMutation::HugeExponent if object => {
            format!("{{\"MaxResults\":1e999,{}", &text[1..]).into_bytes()
        }
        TextMutation::Truncate(i) => {
            let mut bytes = text.into_bytes();
            bytes.truncate(i.index(bytes.len().max(1)));
            bytes
        }
        TextMutation::Trailing => format!("{text} {{}}").into_bytes(),
        TextMutation::DeepText(depth) if object => format!(
            "{{\"Deep\":{}1{},{}",
            "[".repeat(*depth),
            "]".repeat(*depth),
            &text[1..]
        )
        .into_bytes(),
        TextMutation::DuplicateMember if object => {
            format!("{{\"Name\":\"fuzz\",\"Name\":5,{}", &text[1..]).into_bytes()
        }
        _ => text.into_bytes(),
    }
}

fn operation_request(operation: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/")
        .header("host", "localhost:5599")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSGlue.{operation}"))
        .body(Body::from(body))
        .expect("request")
}

/// Sends one case to the no-auth server; remembers the run ids of a success.
fn run_case(case: &OperationCase) -> Result<(), TestCaseError> {
    let fixture = &*FIXTURE;
    let body = body_of(case);
    let shown = ShownCase(case.operation, &body);
    let (status, json) = fixture.runtime.block_on(exchange(
        fixture.unverified.clone(),
        operation_request(case.operation, body.clone()),
        &shown,
    ))?;
    if status == 200 {
        collect_ids(&json, &mut IDS.lock().unwrap_or_else(|p| p.into_inner()));
    }
    Ok(())
}

/// How a failing case is reported: the operation and the exact body (cut when long).
struct ShownCase<'a>(&'static str, &'a [u8]);

impl std::fmt::Debug for ShownCase<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = String::from_utf8_lossy(self.1);
        let shown: String = text.chars().take(2000).collect();
        let cut = if shown.len() < text.len() {
            format!(" … ({} bytes)", self.1.len())
        } else {
            String::new()
        };
        write!(f, "AWSGlue.{} {shown}{cut}", self.0)
    }
}

/// Resources every round starts from, so that reads, updates, runs and deletes find
/// something: a database with a table, a workflow whose triggers start a job and a
/// crawler, and a workflow run and a job run whose ids later cases name.
const SEED: &[(&str, &str)] = &[
    ("CreateDatabase", r#"{"DatabaseInput":{"Name":"fuzzdb"}}"#),
    (
        "CreateTable",
        r#"{"DatabaseName":"fuzzdb","TableInput":{"Name":"fuzz","PartitionKeys":[{"Name":"dt","Type":"string"}],"StorageDescriptor":{"Columns":[{"Name":"a","Type":"string"}],"Location":"s3://fuzz/data/"}}}"#,
    ),
    ("CreateWorkflow", r#"{"Name":"fuzz"}"#),
    (
        "CreateJob",
        r#"{"Name":"fuzz","Role":"fuzz","Command":{"Name":"pythonshell","ScriptLocation":"s3://fuzz/fuzz.py"}}"#,
    ),
    (
        "CreateCrawler",
        r#"{"Name":"fuzz","Role":"fuzz","DatabaseName":"fuzzdb","Targets":{"S3Targets":[{"Path":"s3://fuzz/data/"}]}}"#,
    ),
    (
        "CreateTrigger",
        r#"{"Name":"fuzz","WorkflowName":"fuzz","Type":"ON_DEMAND","Actions":[{"JobName":"fuzz"}]}"#,
    ),
    (
        "CreateTrigger",
        r#"{"Name":"fuzz_2","WorkflowName":"fuzz","Type":"CONDITIONAL","Predicate":{"Conditions":[{"LogicalOperator":"EQUALS","JobName":"fuzz","State":"FAILED"}]},"Actions":[{"CrawlerName":"fuzz"}]}"#,
    ),
    (
        "CreateBlueprint",
        r#"{"Name":"fuzz","BlueprintLocation":"s3://fuzz/bp.zip"}"#,
    ),
    (
        "StartBlueprintRun",
        r#"{"BlueprintName":"fuzz","RoleArn":"arn:aws:iam::123456789012:role/fuzz","Parameters":"{\"WorkflowName\":\"fuzz_bp\"}"}"#,
    ),
    ("StartWorkflowRun", r#"{"Name":"fuzz"}"#),
    ("StartJobRun", r#"{"JobName":"fuzz"}"#),
];

/// Sends the [`SEED`] (some may already exist: any answer but a 500 will do).
fn seed() -> Result<(), String> {
    let fixture = &*FIXTURE;
    for (operation, body) in SEED {
        let request = operation_request(operation, body.as_bytes().to_vec());
        let (status, json) = fixture
            .runtime
            .block_on(exchange(fixture.unverified.clone(), request, operation))
            .map_err(|e| format!("seeding with {operation}: {e}"))?;
        if status == 200 {
            collect_ids(&json, &mut IDS.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }
    Ok(())
}

/// The order operations are fuzzed in within a round: creates first, deletes last.
fn fuzz_order() -> Vec<(&'static str, &'static str)> {
    let mut order = schema::INPUTS.to_vec();
    order.sort_by_key(|(operation, _)| {
        if operation.starts_with("Create") {
            0
        } else if *operation == "DeleteDatabase" {
            3
        } else if operation.contains("Delete") {
            2
        } else {
            1
        }
    });
    order
}

/// A normal write and read after everything else: the server is alive and its store
/// writable.
fn still_serves() -> Result<(), String> {
    let fixture = &*FIXTURE;
    for (operation, body) in [
        ("CreateWorkflow", r#"{"Name":"alive-after-fuzzing"}"#),
        ("GetWorkflow", r#"{"Name":"alive-after-fuzzing"}"#),
        ("DeleteWorkflow", r#"{"Name":"alive-after-fuzzing"}"#),
    ] {
        let request = operation_request(operation, body.as_bytes().to_vec());
        let answer = fixture
            .runtime
            .block_on(exchange(fixture.unverified.clone(), request, &operation))
            .map_err(|e| e.to_string())?;
        if answer.0 != 200 {
            return Err(format!("{operation} answered {answer:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_served_operation_survives_bodies_built_from_its_input_shape() {
    let served: Vec<&str> = schema::INPUTS.iter().map(|(op, _)| *op).collect();
    assert_eq!(served, SERVED_OPERATIONS, "one list of served operations");
    let panics = PANICS.load(Ordering::SeqCst);
    let mut failures: BTreeMap<&str, String> = BTreeMap::new();
    let mut sent: HashMap<&str, u32> = HashMap::new();
    // Twice over the list, so that operations also meet what later ones created.
    for _round in 0..2 {
        seed().unwrap_or_else(|e| panic!("{e}"));
        for (operation, input) in fuzz_order() {
            if failures.contains_key(&operation) {
                continue;
            }
            let mut runner = TestRunner::new(RunnerConfig {
                cases: CASES_PER_OPERATION / 2,
                failure_persistence: None,
                max_shrink_iters: 200,
                ..RunnerConfig::default()
            });
            let strategy = operation_case(operation, input);
            let cases = std::cell::Cell::new(0u32);
            let result = runner.run(&strategy, |case| {
                cases.set(cases.get() + 1);
                run_case(&case)
            });
            *sent.entry(operation).or_default() += cases.get();
            if let Err(error) = result {
                let report = match error {
                    TestError::Fail(reason, case) => {
                        format!(
                            "{reason}\n    minimal body: {:?}",
                            ShownCase(operation, &body_of(&case))
                        )
                    }
                    TestError::Abort(reason) => format!("aborted: {reason}"),
                };
                eprintln!("FINDING {operation}: {report}");
                failures.insert(operation, report);
            }
        }
    }
    assert_eq!(
        sent.len(),
        SERVED_OPERATIONS.len(),
        "every operation was fuzzed"
    );
    let alive = still_serves();
    assert!(
        failures.is_empty(),
        "{} operations failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|(op, report)| format!("- {op}: {report}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(alive, Ok(()), "the server serves after fuzzing");
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        panics,
        "panics while fuzzing"
    );
}

/// The generated schema is complete (every shape an input reaches is in the table),
/// and every input shape yields JSON objects.
#[test]
fn every_input_shape_is_described_and_generates_objects() {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<&str> = schema::INPUTS.iter().map(|(_, input)| *input).collect();
    while let Some(name) = stack.pop() {
        if !seen.insert(name) {
            continue;
        }
        match schema::shape(name).unwrap_or_else(|| panic!("shape {name} is not described")) {
            Shape::Structure { members, .. } => stack.extend(members.iter().map(|m| m.shape)),
            Shape::List { member, .. } => stack.push(member),
            Shape::Map { key, value, .. } => stack.extend([*key, *value]),
            _ => {}
        }
    }
    let mut runner = TestRunner::deterministic();
    for (operation, input) in schema::INPUTS {
        let tree = valid(input, "", 0)
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
        assert!(tree.current().is_object(), "{operation}");
    }
}
