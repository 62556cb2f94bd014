use serde_json::json;

use super::*;

fn spec() -> ParameterSpec {
    ParameterSpec::parse(&json!({
        "WorkflowName": {"type": "String", "collection": false, "description": "Name"},
        "Count": {"type": "Integer", "defaultValue": 3},
        "Ratio": {"type": "Double", "defaultValue": 1},
        "Enabled": {"type": "Boolean", "defaultValue": false},
        "Input": {"type": "S3Uri", "defaultValue": ""},
        "Bucket": {"type": "S3Bucket", "defaultValue": "my-bucket"},
        "Role": {"type": "IAMRoleArn", "defaultValue": "arn:aws:iam::123456789012:role/x"},
        "RoleName": {"type": "IAMRoleName", "defaultValue": "x"},
        "Format": {"type": "String", "defaultValue": "csv", "allowedValues": ["csv", "json"]},
        "Tables": {"type": "String", "collection": true, "defaultValue": []}
    }))
    .expect("valid spec")
}

#[test]
fn normalised_spec_has_every_key() {
    let spec = ParameterSpec::parse(&json!({"WorkflowName": {"type": "String"}})).expect("spec");
    assert_eq!(
        spec.normalized_json(),
        r#"{"WorkflowName":{"type":"String","collection":false,"description":null,"defaultValue":null,"allowedValues":null}}"#
    );
    let again = ParameterSpec::from_json(&spec.normalized_json()).expect("reparses");
    assert_eq!(again, spec);
}

#[test]
fn defaults_fill_and_types_convert() {
    let resolved = spec()
        .resolve(Some(
            r#"{"WorkflowName": "wf", "Ratio": 2, "Tables": ["a", "b"]}"#,
        ))
        .expect("valid");
    assert_eq!(resolved["WorkflowName"], json!("wf"));
    assert_eq!(resolved["Count"], json!(3));
    assert_eq!(resolved["Ratio"], json!(2.0));
    assert!(resolved["Ratio"].is_f64(), "a Double is a float for Python");
    assert_eq!(resolved["Enabled"], json!(false));
    assert_eq!(resolved["Tables"], json!(["a", "b"]));
    assert_eq!(resolved["Format"], json!("csv"));
}

#[test]
fn bad_parameters_name_the_parameter() {
    let cases = [
        (r#"{"WorkflowName": 5}"#, "'WorkflowName'"),
        (r#"{"WorkflowName": "wf", "Count": "three"}"#, "'Count'"),
        (r#"{"WorkflowName": "wf", "Count": 1.5}"#, "'Count'"),
        (r#"{"WorkflowName": "wf", "Enabled": "yes"}"#, "'Enabled'"),
        (r#"{"WorkflowName": "wf", "Format": "xml"}"#, "'Format'"),
        (r#"{"WorkflowName": "wf", "Tables": "a"}"#, "'Tables'"),
        (r#"{"WorkflowName": "wf", "Tables": ["a", 1]}"#, "'Tables'"),
        (r#"{"WorkflowName": "wf", "Input": "http://x"}"#, "'Input'"),
        (r#"{"WorkflowName": "wf", "Bucket": "No_Such"}"#, "'Bucket'"),
        (
            r#"{"WorkflowName": "wf", "Role": "arn:aws:iam::1:user/x"}"#,
            "'Role'",
        ),
        (r#"{"WorkflowName": "wf", "RoleName": "a b"}"#, "'RoleName'"),
        (r#"{"WorkflowName": "wf", "Nope": 1}"#, "'Nope'"),
        (r#"{}"#, "'WorkflowName'"),
        (r#"{"WorkflowName": null}"#, "'WorkflowName'"),
    ];
    for (given, name) in cases {
        let error = spec().resolve(Some(given)).expect_err(given);
        assert!(error.contains(name), "{given}: {error}");
    }
    for not_object in ["[1]", "\"x\"", "{", "5"] {
        let error = spec().resolve(Some(not_object)).expect_err(not_object);
        assert!(error.contains("JSON object"), "{error}");
    }
    assert!(
        spec()
            .resolve(None)
            .expect_err("mandatory")
            .contains("'WorkflowName'")
    );
}

#[test]
fn valid_formats_pass() {
    let given = r#"{"WorkflowName": "wf", "Input": "s3://bucket/a/b", "Bucket": "a.b-c",
        "Role": "arn:aws-cn:iam::123:role/path/r", "RoleName": "r+=,.@_-", "Format": "json"}"#;
    assert!(spec().resolve(Some(given)).is_ok());
}

#[test]
fn broken_specs_are_rejected() {
    for bad in [
        json!([]),
        json!({"A": "String"}),
        json!({"A": {}}),
        json!({"A": {"type": "Text"}}),
        json!({"A": {"type": "String", "collection": "no"}}),
        json!({"A": {"type": "Integer", "defaultValue": "x"}}),
        json!({"A": {"type": "String", "allowedValues": "x"}}),
        json!({"A": {"type": "String", "collection": true, "defaultValue": "x"}}),
    ] {
        assert!(ParameterSpec::parse(&bad).is_err(), "{bad}");
    }
}
