//! The matcher against the examples of EventBridge's "Event patterns" and "Content
//! filtering" documentation, each written from the documentation's description.

use serde_json::{Value, json};

use super::Pattern;

fn matches(pattern: Value, event: Value) -> bool {
    Pattern::parse(&pattern.to_string())
        .expect("a valid pattern")
        .matches(&event)
}

fn refused(pattern: &str) -> String {
    Pattern::parse(pattern).expect_err("refused").to_string()
}

/// The EC2 state-change event the documentation's examples filter.
fn ec2_event(state: &str) -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": state}
    })
}

#[test]
fn exact_values_of_nested_members() {
    let pattern = json!({"source": ["aws.ec2"], "detail": {"state": ["running", "pending"]}});
    assert!(matches(pattern.clone(), ec2_event("running")));
    assert!(matches(pattern.clone(), ec2_event("pending")));
    assert!(!matches(pattern, ec2_event("stopped")));
    // Every member of the pattern must match, not only one.
    let pattern = json!({"source": ["aws.s3"], "detail": {"state": ["running"]}});
    assert!(!matches(pattern, ec2_event("running")));
}

#[test]
fn numbers_booleans_and_null_match_exactly() {
    let event = json!({"detail": {"count": 3, "on": true, "gone": null, "name": "3"}});
    assert!(matches(json!({"detail": {"count": [3]}}), event.clone()));
    assert!(matches(json!({"detail": {"count": [3.0]}}), event.clone()));
    assert!(!matches(json!({"detail": {"count": ["3"]}}), event.clone()));
    assert!(!matches(json!({"detail": {"name": [3]}}), event.clone()));
    assert!(matches(json!({"detail": {"on": [true]}}), event.clone()));
    assert!(!matches(json!({"detail": {"on": [false]}}), event.clone()));
    assert!(matches(json!({"detail": {"gone": [null]}}), event.clone()));
    // null matches a null value, not a missing member.
    assert!(!matches(json!({"detail": {"missing": [null]}}), event));
}

#[test]
fn arrays_in_the_event_match_when_any_element_does() {
    let event = ec2_event("running");
    let pattern = json!({"resources": [
        "arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0",
        "arn:aws:ec2:us-west-1:123456789012:instance/i-other"
    ]});
    assert!(matches(pattern, event.clone()));
    assert!(!matches(json!({"resources": ["arn:nothing"]}), event));
    let event = json!({"detail": {"items": [{"kind": "a"}, {"kind": "b"}]}});
    assert!(matches(
        json!({"detail": {"items": {"kind": ["b"]}}}),
        event
    ));
}

#[test]
fn prefix_and_suffix_with_and_without_case() {
    let event = json!({"time": "2017-10-02T18:43:48Z", "detail": {"key": "in/photo.PNG"}});
    assert!(matches(
        json!({"time": [{"prefix": "2017-10-02"}]}),
        event.clone()
    ));
    assert!(!matches(
        json!({"time": [{"prefix": "2018"}]}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"key": [{"suffix": ".PNG"}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"key": [{"suffix": ".png"}]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"key": [{"suffix": {"equals-ignore-case": ".png"}}]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"key": [{"prefix": {"equals-ignore-case": "IN/"}}]}}),
        event
    ));
    // Numbers are not strings.
    assert!(!matches(json!({"n": [{"prefix": "1"}]}), json!({"n": 12})));
}

#[test]
fn anything_but_values_prefix_and_suffix() {
    let pattern = json!({"detail": {"state": [{"anything-but": "initializing"}]}});
    assert!(matches(pattern.clone(), ec2_event("running")));
    assert!(!matches(pattern, ec2_event("initializing")));
    let pattern = json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}});
    assert!(matches(pattern.clone(), ec2_event("running")));
    assert!(!matches(pattern, ec2_event("stopped")));
    let numbers = json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}});
    assert!(matches(
        numbers.clone(),
        json!({"detail": {"x-limit": 150}})
    ));
    assert!(!matches(numbers, json!({"detail": {"x-limit": 200}})));
    let prefix = json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}});
    assert!(matches(prefix.clone(), ec2_event("running")));
    assert!(!matches(prefix, ec2_event("initializing")));
    let suffix = json!({"detail": {"key": [{"anything-but": {"suffix": ".txt"}}]}});
    assert!(matches(suffix.clone(), json!({"detail": {"key": "a.csv"}})));
    assert!(!matches(suffix, json!({"detail": {"key": "a.txt"}})));
    let ignore_case =
        json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped"]}}]}});
    assert!(!matches(ignore_case.clone(), ec2_event("STOPPED")));
    assert!(matches(ignore_case, ec2_event("running")));
    let wildcard = json!({"detail": {"key": [{"anything-but": {"wildcard": "tmp/*"}}]}});
    assert!(!matches(
        wildcard.clone(),
        json!({"detail": {"key": "tmp/x"}})
    ));
    assert!(matches(wildcard, json!({"detail": {"key": "in/x"}})));
    // anything-but needs the member to be there.
    assert!(!matches(
        json!({"detail": {"missing": [{"anything-but": "x"}]}}),
        ec2_event("running")
    ));
}

#[test]
fn numeric_ranges() {
    let pattern = json!({"detail": {
        "c-count": [{"numeric": [">", 0, "<=", 5]}],
        "d-count": [{"numeric": ["<", 10]}],
        "x-limit": [{"numeric": ["=", 3.018e2]}]
    }});
    let event =
        |c: f64, d: f64, x: f64| json!({"detail": {"c-count": c, "d-count": d, "x-limit": x}});
    assert!(matches(pattern.clone(), event(5.0, 9.99, 301.8)));
    assert!(!matches(pattern.clone(), event(0.0, 9.99, 301.8)));
    assert!(!matches(pattern.clone(), event(5.0, 10.0, 301.8)));
    assert!(!matches(pattern.clone(), event(5.0, 1.0, 301.0)));
    assert!(!matches(
        pattern,
        json!({"detail": {"c-count": "5", "d-count": 1, "x-limit": 301.8}})
    ));
    assert!(matches(
        json!({"n": [{"numeric": [">=", 10]}]}),
        json!({"n": 10})
    ));
}

#[test]
fn exists_looks_at_leaves() {
    let event = json!({"detail": {"state": "running", "nested": {"a": 1}}});
    assert!(matches(
        json!({"detail": {"state": [{"exists": true}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"state": [{"exists": false}]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"other": [{"exists": false}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"other": [{"exists": true}]}}),
        event.clone()
    ));
    // An object is not a leaf.
    assert!(!matches(
        json!({"detail": {"nested": [{"exists": true}]}}),
        event.clone()
    ));
    // A missing parent: the leaf does not exist either.
    assert!(matches(
        json!({"detail": {"absent": {"x": [{"exists": false}]}}}),
        event
    ));
}

#[test]
fn equals_ignore_case_and_wildcard() {
    let event = json!({"detail-type": "EC2 Instance State-change Notification",
                       "detail": {"key": "dir/sub/file.png", "star": "a*b"}});
    assert!(matches(
        json!({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"key": [{"wildcard": "dir/*.png"}]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"key": [{"wildcard": "*/sub/*"}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"key": [{"wildcard": "dir/*.jpg"}]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"star": [{"wildcard": "a\\*b"}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"star": [{"wildcard": "a\\*b"}]}}),
        json!({"detail": {"star": "axb"}})
    ));
}

#[test]
fn or_between_members() {
    // Either c-count > 0 or d-count < 10 or x-limit is 3.018e2 (the documentation's
    // example of $or at the detail level).
    let pattern = json!({"detail": {"$or": [
        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
        {"d-count": [{"numeric": ["<", 10]}]},
        {"x-limit": [{"numeric": ["=", 3.018e2]}]}
    ]}});
    assert!(matches(pattern.clone(), json!({"detail": {"c-count": 3}})));
    assert!(matches(pattern.clone(), json!({"detail": {"d-count": 3}})));
    assert!(matches(
        pattern.clone(),
        json!({"detail": {"x-limit": 301.8}})
    ));
    assert!(!matches(
        pattern,
        json!({"detail": {"c-count": 9, "d-count": 20}})
    ));
    // $or at the top combines with the members beside it.
    let pattern = json!({"source": ["aws.ec2"], "$or": [
        {"detail": {"state": ["running"]}},
        {"detail-type": ["Other"]}
    ]});
    assert!(matches(pattern.clone(), ec2_event("running")));
    assert!(!matches(pattern, ec2_event("stopped")));
}

#[test]
fn cidr_addresses() {
    let pattern = json!({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}});
    assert!(matches(
        pattern.clone(),
        json!({"detail": {"ip": "10.0.0.255"}})
    ));
    assert!(!matches(pattern, json!({"detail": {"ip": "10.0.1.1"}})));
}

#[test]
fn invalid_patterns_are_refused() {
    for bad in [
        "",
        "not json",
        "[]",
        "\"x\"",
        "{}",
        r#"{"source": "aws.s3"}"#,
        r#"{"source": []}"#,
        r#"{"source": [["a"]]}"#,
        r#"{"detail": {}}"#,
        r#"{"source": [{"prefix": 1}]}"#,
        r#"{"source": [{"prefix": "a", "suffix": "b"}]}"#,
        r#"{"source": [{"unknown-filter": "a"}]}"#,
        r#"{"n": [{"numeric": [">", "a"]}]}"#,
        r#"{"n": [{"numeric": ["<", 5, ">", 1]}]}"#,
        r#"{"n": [{"numeric": [">", 5, "<", 1]}]}"#,
        r#"{"n": [{"numeric": ["~", 5]}]}"#,
        r#"{"n": [{"exists": "yes"}]}"#,
        r#"{"n": [{"anything-but": [null]}]}"#,
        r#"{"n": [{"anything-but": {"numeric": [">", 1]}}]}"#,
        r#"{"n": [{"wildcard": "a**b"}]}"#,
        r#"{"$or": [{"a": ["x"]}]}"#,
        r#"{"$or": {"a": ["x"]}}"#,
        r#"{"n": [{"cidr": "10.0.0.0"}]}"#,
    ] {
        assert!(
            refused(bad).starts_with("Event pattern is not valid. Reason: "),
            "{bad}"
        );
    }
}
