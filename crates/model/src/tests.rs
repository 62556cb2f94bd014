//! Unit tests of the generated shapes, validation wording and timestamps.

use crate::shapes::*;
use crate::{Timestamp, Validate, ValidationErrors, validate};

fn errors_of<T: Validate>(input: &T) -> ValidationErrors {
    validate(input).expect_err("expected validation errors")
}

fn workflow(name: &str) -> CreateWorkflowRequest {
    CreateWorkflowRequest {
        name: Some(name.to_owned()),
        ..Default::default()
    }
}

#[test]
fn valid_input_passes() {
    assert!(validate(&workflow("wf")).is_ok());
    assert!(validate(&workflow(&"x".repeat(255))).is_ok());
    // Astral characters and tabs are allowed by the single-line pattern.
    assert!(validate(&workflow("a\tb😀")).is_ok());
}

#[test]
fn name_too_long() {
    let name = "a".repeat(256);
    let errors = errors_of(&workflow(&name));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors.to_string(),
        format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: \
             Member must have length less than or equal to 255"
        )
    );
    let e = errors.iter().next().unwrap();
    assert_eq!(e.path, "name");
    assert_eq!(
        e.constraint,
        "Member must have length less than or equal to 255"
    );
}

#[test]
fn long_values_are_truncated() {
    let errors = errors_of(&workflow(&"b".repeat(300)));
    let e = errors.iter().next().unwrap();
    assert_eq!(
        e.value.as_deref(),
        Some(format!("{}...", "b".repeat(256)).as_str())
    );
}

#[test]
fn length_counts_code_points() {
    // 255 astral characters = 510 UTF-16 units, but 255 code points.
    assert!(validate(&workflow(&"😀".repeat(255))).is_ok());
}

#[test]
fn missing_name_is_null() {
    let errors = errors_of(&CreateWorkflowRequest::default());
    assert_eq!(
        errors.to_string(),
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn newline_violates_pattern() {
    let errors = errors_of(&workflow("a\nb"));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors.to_string(),
        "1 validation error detected: Value 'a\nb' at 'name' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: \
         [\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*"
    );
}

#[test]
fn trigger_type_enum() {
    let input = CreateTriggerRequest {
        name: Some("t".into()),
        r#type: Some("FOO".into()),
        actions: Some(vec![Action {
            job_name: Some("j".into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let errors = errors_of(&input);
    assert_eq!(
        errors.to_string(),
        "1 validation error detected: Value 'FOO' at 'type' failed to satisfy constraint: \
         Member must satisfy enum value set: [SCHEDULED, CONDITIONAL, ON_DEMAND, EVENT]"
    );
    let ok = CreateTriggerRequest {
        r#type: Some(TriggerType::Event),
        ..input
    };
    assert!(validate(&ok).is_ok());
}

#[test]
fn enum_values_travel_as_model_strings() {
    let known: Trigger =
        serde_json::from_str(r#"{"State":"ACTIVATED","Type":"ON_DEMAND"}"#).unwrap();
    assert_eq!(known.r#type, Some(TriggerType::OnDemand));
    assert_eq!(known.state, Some(TriggerState::Activated));
    assert_eq!(
        serde_json::to_string(&known).unwrap(),
        r#"{"Type":"ON_DEMAND","State":"ACTIVATED"}"#
    );
    assert_eq!(WorkerType::from("G.1X"), WorkerType::G1X);
    assert_eq!(WorkerType::G025X.as_str(), "G.025X");
    assert_eq!(WorkerType::Standard.to_string(), "Standard");
}

#[test]
fn unknown_enum_values_decode_and_round_trip() {
    let json = r#"{"Type":"WEEKLY","State":"HIBERNATING"}"#;
    let unknown: Trigger = serde_json::from_str(json).unwrap();
    assert_eq!(
        unknown.state,
        Some(TriggerState::Unknown("HIBERNATING".into()))
    );
    assert_eq!(unknown.r#type, Some(TriggerType::Unknown("WEEKLY".into())));
    assert_eq!(serde_json::to_string(&unknown).unwrap(), json);
    // A value of the wrong JSON type fails as it does for a string member.
    let not_a_string = |json| {
        serde_json::from_str::<Trigger>(json)
            .map(|_| ())
            .unwrap_err()
    };
    assert_eq!(
        not_a_string(r#"{"Type":5}"#).to_string(),
        not_a_string(r#"{"Name":5}"#).to_string()
    );
}

#[test]
fn unknown_enum_values_keep_every_check_of_the_shape() {
    // `ExecutionClass` also has a length limit, checked before the value set.
    let input = StartJobRunRequest {
        job_name: Some("j".into()),
        execution_class: Some(ExecutionClass::from("X".repeat(17).as_str())),
        ..Default::default()
    };
    assert_eq!(
        errors_of(&input).to_string(),
        format!(
            "2 validation errors detected: Value '{x}' at 'executionClass' failed to satisfy \
             constraint: Member must have length less than or equal to 16; Value '{x}' at \
             'executionClass' failed to satisfy constraint: Member must satisfy enum value set: \
             [FLEX, STANDARD]",
            x = "X".repeat(17)
        )
    );
    // Items of a list of enums are checked one by one.
    let input = GetDatabasesRequest {
        attributes_to_get: Some(vec![DatabaseAttributes::Name, "OWNER".into()]),
        ..Default::default()
    };
    assert_eq!(
        errors_of(&input).to_string(),
        "1 validation error detected: Value 'OWNER' at 'attributesToGet.2.member' failed to \
         satisfy constraint: Member must satisfy enum value set: [NAME, TARGET_DATABASE]"
    );
}

#[test]
fn max_results_range() {
    let runs = |n| GetWorkflowRunsRequest {
        name: Some("wf".into()),
        max_results: Some(n),
        ..Default::default()
    };
    assert_eq!(
        errors_of(&runs(0)).to_string(),
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    assert_eq!(
        errors_of(&runs(1001)).to_string(),
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: \
         Member must have value less than or equal to 1000"
    );
    assert!(validate(&runs(1)).is_ok());
    assert!(validate(&runs(1000)).is_ok());
}

#[test]
fn batch_get_workflows_list_size() {
    let names: Vec<String> = (0..26).map(|i| format!("w{i}")).collect();
    let input = BatchGetWorkflowsRequest {
        names: Some(names),
        ..Default::default()
    };
    let errors = errors_of(&input);
    assert_eq!(errors.len(), 1);
    let e = errors.iter().next().unwrap();
    assert_eq!(e.path, "names");
    assert_eq!(
        e.constraint,
        "Member must have length less than or equal to 25"
    );
    assert!(e.value.as_deref().unwrap().starts_with("[w0, w1, "));
    let empty = BatchGetWorkflowsRequest {
        names: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(
        errors_of(&empty).iter().next().unwrap().constraint,
        "Member must have length greater than or equal to 1"
    );
}

#[test]
fn two_violations() {
    let input = GetWorkflowRunRequest {
        name: Some("a".repeat(256)),
        run_id: None,
        ..Default::default()
    };
    let errors = errors_of(&input);
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors.to_string(),
        format!(
            "2 validation errors detected: Value '{}' at 'name' failed to satisfy constraint: \
             Member must have length less than or equal to 255; Value null at 'runId' failed to \
             satisfy constraint: Member must not be null",
            "a".repeat(256)
        )
    );
}

#[test]
fn nested_path() {
    let input = UpdateTriggerRequest {
        name: Some("t".into()),
        trigger_update: Some(TriggerUpdate {
            predicate: Some(Predicate {
                conditions: Some(vec![
                    Condition {
                        job_name: Some("ok".into()),
                        ..Default::default()
                    },
                    Condition {
                        job_name: Some("bad\u{0}".into()),
                        ..Default::default()
                    },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let errors = errors_of(&input);
    assert_eq!(errors.len(), 1);
    let e = errors.iter().next().unwrap();
    assert_eq!(
        e.path,
        "triggerUpdate.predicate.conditions.2.member.jobName"
    );
    assert!(
        e.constraint
            .starts_with("Member must satisfy regular expression pattern: ")
    );
}

#[test]
fn map_key_and_value_paths() {
    let mut tags = std::collections::BTreeMap::new();
    tags.insert(String::new(), "v".to_owned());
    tags.insert("k".to_owned(), "x".repeat(257));
    let input = CreateWorkflowRequest {
        tags: Some(tags),
        ..workflow("wf")
    };
    let errors = errors_of(&input);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["tags.key", "tags.k.value"]);
}

#[test]
fn timestamp_round_trip() {
    let ts: Timestamp = serde_json::from_str("1595358275.375").unwrap();
    assert_eq!(ts, Timestamp::from_millis(1_595_358_275_375));
    assert_eq!(ts.as_millis(), 1_595_358_275_375);
    assert_eq!(serde_json::to_string(&ts).unwrap(), "1595358275.375");
    let whole: Timestamp = serde_json::from_str("1595358275").unwrap();
    assert_eq!(whole, Timestamp::from_millis(1_595_358_275_000));
    let text = serde_json::to_string(&whole).unwrap();
    assert!(text == "1595358275.0" || text == "1595358275", "{text}");
    for ms in [0_i64, 1, 999, 1_000, 1_595_358_275_001, 4_102_444_800_999] {
        let t = Timestamp::from_millis(ms);
        let s = serde_json::to_string(&t).unwrap();
        assert!(
            !s.contains('e') && !s.contains('E') && !s.contains('"'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<Timestamp>(&s).unwrap(), t, "{s}");
    }
    assert!(serde_json::from_str::<Timestamp>("\"1595358275\"").is_err());
}

#[test]
fn wrong_json_type_is_rejected() {
    assert!(serde_json::from_str::<CreateWorkflowRequest>(r#"{"Name": 5}"#).is_err());
    assert!(
        serde_json::from_str::<GetWorkflowRunsRequest>(r#"{"Name": "a", "MaxResults": "5"}"#)
            .is_err()
    );
}

#[test]
fn nulls_and_unknown_members() {
    let input: CreateWorkflowRequest =
        serde_json::from_str(r#"{"Name": "wf", "Description": null, "Bogus": [1]}"#).unwrap();
    assert_eq!(input, workflow("wf"));
    assert_eq!(serde_json::to_string(&input).unwrap(), r#"{"Name":"wf"}"#);
}

#[test]
fn opaque_members_round_trip() {
    let json = r#"{"Name":"j","Role":"r","Command":{"Name":"glueetl"},"CodeGenConfigurationNodes":{"n1":{"Anything":[1,{"x":true}]}}}"#;
    let input: CreateJobRequest = serde_json::from_str(json).unwrap();
    assert!(input.code_gen_configuration_nodes.is_some());
    assert!(validate(&input).is_ok());
    let back: serde_json::Value = serde_json::to_value(&input).unwrap();
    let orig: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(back, orig);
}

#[test]
fn operations_lists() {
    use crate::operations::{ALL_OPERATIONS, Operation, SERVED_OPERATIONS};
    assert!(ALL_OPERATIONS.windows(2).all(|w| w[0] < w[1]));
    for op in SERVED_OPERATIONS {
        assert!(ALL_OPERATIONS.contains(op), "{op}");
    }
    assert_eq!(SERVED_OPERATIONS.len(), 79);
    assert_eq!(crate::operations::CreateWorkflow::NAME, "CreateWorkflow");
    let input: <crate::operations::StartWorkflowRun as Operation>::Input =
        serde_json::from_str(r#"{"Name":"wf"}"#).unwrap();
    assert!(validate(&input).is_ok());
}
