//! Rules of the default event bus and their targets as Weir keeps them (one
//! `event-rule` record per rule, its targets inside, its tags on the record), and the
//! operations on them: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule,
//! DisableRule, PutTargets, ListTargetsByRule, RemoveTargets, TagResource,
//! UntagResource, ListTagsForResource.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use weir_resources::ApiError;
use weir_resources::stored::{self, Document, Stored};
use weir_store::{Kind, Scope, Transaction};

use crate::EventBus;
use crate::pattern::Pattern;
use crate::protocol::{EventsError, decode};
use crate::validate::{self, DEFAULT_BUS, required};

/// Rules per event bus (EventBridge's default quota).
pub const MAX_RULES: u64 = 300;
/// Targets per rule (EventBridge's quota).
pub const MAX_TARGETS: usize = 5;
/// Page size of ListRules and ListTargetsByRule without a `Limit`.
const DEFAULT_LIMIT: usize = 100;

/// A rule as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    /// `Name`.
    pub name: String,
    /// `EventPattern`, as the client sent it (validated).
    pub event_pattern: Option<String>,
    /// `ScheduleExpression`, kept and answered (schedules do not fire in Weir).
    pub schedule_expression: Option<String>,
    /// `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    /// `Description`.
    pub description: Option<String>,
    /// `RoleArn`.
    pub role_arn: Option<String>,
    /// The targets, in the order they were put.
    pub targets: Vec<Target>,
}

/// A rule document has had one format so far.
impl Document for Rule {}

impl Rule {
    /// Whether matching events are delivered to the targets.
    pub fn is_enabled(&self) -> bool {
        self.state != "DISABLED"
    }
}

/// A target of a rule: the members Weir reads, and every other member kept as sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    /// `Id`, unique within the rule.
    pub id: Option<String>,
    /// `Arn` of the target; a Glue workflow ARN of the rule's scope receives events.
    pub arn: Option<String>,
    /// `RoleArn`, kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `Input`, kept (a JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `InputPath`, kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    /// Every other member (InputTransformer, RetryPolicy, …), kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The ARN of rule `name` of the default bus of `scope`.
pub fn rule_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:rule/{name}",
        scope.region, scope.account
    )
}

fn not_found(name: &str) -> ApiError {
    ApiError::EntityNotFound(format!(
        "Rule {name} does not exist on EventBus {DEFAULT_BUS}."
    ))
}

/// Reads rule `name`, or ResourceNotFoundException.
pub fn load(tx: &mut dyn Transaction, scope: &Scope, name: &str) -> Result<Stored<Rule>, ApiError> {
    stored::load::<Rule>(tx, scope, Kind::EventRule, name)?.ok_or_else(|| not_found(name))
}

/// Every rule of `scope`, in name order.
pub fn all(tx: &mut dyn Transaction, scope: &Scope) -> Result<Vec<Rule>, ApiError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = tx.list(scope, Kind::EventRule, after.as_deref(), 500)?;
        let Some(last) = page.last() else {
            return Ok(out);
        };
        after = Some(last.name.clone());
        out.extend(stored::decode_values::<Rule>(page)?);
    }
}

fn save(
    tx: &mut dyn Transaction,
    scope: &Scope,
    rule: &Rule,
    tags: BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let record = stored::record(&rule.name, None, rule, tags)?;
    if !tx.update(scope, Kind::EventRule, &record)? {
        tx.insert(scope, Kind::EventRule, &record)?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: Option<String>,
    value: Option<String>,
}

fn tag_map(tags: Option<Vec<Tag>>) -> Result<BTreeMap<String, String>, EventsError> {
    let mut out = BTreeMap::new();
    for tag in tags.unwrap_or_default() {
        let key = required(&tag.key, "tags.member.key")?;
        let value = required(&tag.value, "tags.member.value")?;
        validate::length(key, "tags.member.key", 1, 128)?;
        validate::length(value, "tags.member.value", 0, 256)?;
        out.insert(key.clone(), value.clone());
    }
    Ok(out)
}

fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// The name of an existing rule, validated.
fn rule_name(value: &Option<String>, member: &str) -> Result<String, EventsError> {
    let name = required(value, member)?;
    validate::name(name, member)?;
    Ok(name.clone())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRuleRequest {
    name: Option<String>,
    schedule_expression: Option<String>,
    event_pattern: Option<String>,
    state: Option<String>,
    description: Option<String>,
    role_arn: Option<String>,
    tags: Option<Vec<Tag>>,
    event_bus_name: Option<String>,
}

/// PutRule: creates or replaces a rule (omitted members are not kept, as AWS
/// documents); its targets and tags stay, new tags are added.
pub async fn put_rule(bus: &EventBus, scope: &Scope, body: &[u8]) -> Result<Value, EventsError> {
    let input: PutRuleRequest = decode(body)?;
    let name = rule_name(&input.name, "name")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    if let Some(expression) = &input.schedule_expression {
        validate::length(expression, "scheduleExpression", 0, 256)?;
    }
    if let Some(description) = &input.description {
        validate::length(description, "description", 0, 512)?;
    }
    if let Some(role) = &input.role_arn {
        validate::length(role, "roleArn", 1, 1600)?;
    }
    let state = input.state.unwrap_or_else(|| "ENABLED".into());
    if !matches!(
        state.as_str(),
        "ENABLED" | "DISABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    ) {
        return Err(EventsError::Validation(format!(
            "1 validation error detected: Value '{state}' at 'state' failed to satisfy \
             constraint: Member must satisfy enum value set: [ENABLED, DISABLED, \
             ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
        )));
    }
    match (&input.event_pattern, &input.schedule_expression) {
        (None, None) => {
            return Err(EventsError::Validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.".into(),
            ));
        }
        (Some(pattern), _) => {
            if pattern.chars().count() > 4096 {
                return Err(EventsError::InvalidEventPattern(
                    "Event pattern is not valid. Reason: The pattern is longer than 4096 \
                     characters."
                        .into(),
                ));
            }
            Pattern::parse(pattern).map_err(|e| EventsError::InvalidEventPattern(e.to_string()))?;
        }
        (None, Some(_)) => {}
    }
    let tags = tag_map(input.tags)?;
    let rule = Rule {
        name: name.clone(),
        event_pattern: input.event_pattern,
        schedule_expression: input.schedule_expression,
        state,
        description: input.description,
        role_arn: input.role_arn,
        targets: Vec::new(),
    };
    let write_scope = scope.clone();
    bus.write(move |tx| {
        let (targets, mut all_tags) =
            match stored::load::<Rule>(tx, &write_scope, Kind::EventRule, &name)? {
                Some(existing) => (existing.value.targets, existing.tags),
                None => {
                    if tx.count(&write_scope, Kind::EventRule)? >= MAX_RULES {
                        return Err(ApiError::ResourceNumberLimitExceeded(
                            "The requested resource exceeds the maximum number allowed.".into(),
                        ));
                    }
                    (Vec::new(), BTreeMap::new())
                }
            };
        all_tags.extend(tags);
        save(tx, &write_scope, &Rule { targets, ..rule }, all_tags)
    })
    .await?;
    Ok(json!({ "RuleArn": rule_arn(scope, input.name.as_deref().unwrap_or_default()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NamedRuleRequest {
    name: Option<String>,
    event_bus_name: Option<String>,
    #[serde(default)]
    force: Option<bool>,
}

fn describe(scope: &Scope, rule: &Rule) -> Value {
    let mut out = json!({
        "Name": rule.name,
        "Arn": rule_arn(scope, &rule.name),
        "State": rule.state,
        "EventBusName": DEFAULT_BUS,
    });
    let members = [
        ("EventPattern", &rule.event_pattern),
        ("ScheduleExpression", &rule.schedule_expression),
        ("Description", &rule.description),
        ("RoleArn", &rule.role_arn),
    ];
    if let Value::Object(map) = &mut out {
        for (member, value) in members {
            if let Some(value) = value {
                map.insert(member.into(), Value::String(value.clone()));
            }
        }
    }
    out
}

/// DescribeRule.
pub async fn describe_rule(
    bus: &EventBus,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, EventsError> {
    let input: NamedRuleRequest = decode(body)?;
    let name = rule_name(&input.name, "name")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let read_scope = scope.clone();
    let rule = bus
        .read(move |tx| Ok(load(tx, &read_scope, &name)?.value))
        .await?;
    let mut out = describe(scope, &rule);
    if let Value::Object(map) = &mut out {
        map.insert("CreatedBy".into(), Value::String(scope.account.clone()));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRulesRequest {
    name_prefix: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

fn page_limit(limit: Option<i64>) -> Result<usize, EventsError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(EventsError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy \
             constraint: Member must have value between 1 and 100"
        ))),
    }
}

/// ListRules: name order, filtered by `NamePrefix`, in pages.
pub async fn list_rules(bus: &EventBus, scope: &Scope, body: &[u8]) -> Result<Value, EventsError> {
    let input: ListRulesRequest = decode(body)?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let limit = page_limit(input.limit)?;
    let prefix = input.name_prefix.unwrap_or_default();
    let context = format!("ListRules/{}/{}/{prefix}", scope.account, scope.region);
    let after = bus.tokens().cursor(&context, input.next_token.as_deref())?;
    let read_scope = scope.clone();
    let rules = bus.read(move |tx| all(tx, &read_scope)).await?;
    let mut selected: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.name.starts_with(&prefix))
        .filter(|r| after.as_deref().is_none_or(|a| r.name.as_str() > a))
        .take(limit + 1)
        .collect();
    let next = (selected.len() > limit).then(|| {
        selected.truncate(limit);
        selected
            .last()
            .map(|last| bus.tokens().issue(&context, &last.name))
    });
    let mut out = json!({
        "Rules": selected.iter().map(|r| describe(scope, r)).collect::<Vec<_>>()
    });
    if let (Some(Some(token)), Value::Object(map)) = (next, &mut out) {
        map.insert("NextToken".into(), Value::String(token));
    }
    Ok(out)
}

/// DeleteRule: a rule that still has targets is refused.
pub async fn delete_rule(bus: &EventBus, scope: &Scope, body: &[u8]) -> Result<Value, EventsError> {
    let input: NamedRuleRequest = decode(body)?;
    let name = rule_name(&input.name, "name")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let scope = scope.clone();
    bus.write(move |tx| {
        let rule = load(tx, &scope, &name)?.value;
        if !rule.targets.is_empty() {
            return Err(ApiError::InvalidInput(
                "Rule can't be deleted since it has targets.".into(),
            ));
        }
        tx.delete(&scope, Kind::EventRule, &name)?;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// EnableRule / DisableRule.
pub async fn set_state(
    bus: &EventBus,
    scope: &Scope,
    body: &[u8],
    state: &'static str,
) -> Result<Value, EventsError> {
    let input: NamedRuleRequest = decode(body)?;
    let name = rule_name(&input.name, "name")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let _ = input.force;
    let scope = scope.clone();
    bus.write(move |tx| {
        let mut current = load(tx, &scope, &name)?;
        current.value.state = state.to_string();
        save(tx, &scope, &current.value, current.tags)
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    targets: Option<Vec<Target>>,
}

/// PutTargets: adds or replaces targets by `Id`; a target that cannot be kept is
/// reported in `FailedEntries`, the others are kept.
pub async fn put_targets(bus: &EventBus, scope: &Scope, body: &[u8]) -> Result<Value, EventsError> {
    let input: PutTargetsRequest = decode(body)?;
    let name = rule_name(&input.rule, "rule")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let targets = required(&input.targets, "targets")?.clone();
    if targets.is_empty() || targets.len() > 100 {
        return Err(EventsError::Validation(
            "1 validation error detected: Value at 'targets' failed to satisfy constraint: \
             Member must have length between 1 and 100"
                .into(),
        ));
    }
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for target in targets {
        let id = required(&target.id, "targets.member.id")?.clone();
        validate::name(&id, "targets.member.id")?;
        let arn = required(&target.arn, "targets.member.arn")?;
        validate::length(arn, "targets.member.arn", 1, 1600)?;
        let exclusive = [
            target.input.is_some(),
            target.input_path.is_some(),
            target.other.contains_key("InputTransformer"),
        ];
        if exclusive.iter().filter(|set| **set).count() > 1 {
            failed.push(json!({
                "TargetId": id,
                "ErrorCode": "ValidationException",
                "ErrorMessage": "Only one of Input, InputPath, or InputTransformer must be provided.",
            }));
            continue;
        }
        if let Some(text) = &target.input
            && serde_json::from_str::<Value>(text).is_err()
        {
            failed.push(json!({
                "TargetId": id,
                "ErrorCode": "ValidationException",
                "ErrorMessage": "Input is not valid JSON text.",
            }));
            continue;
        }
        accepted.push(target);
    }
    let scope = scope.clone();
    bus.write(move |tx| {
        let mut current = load(tx, &scope, &name)?;
        for target in accepted {
            match current.value.targets.iter_mut().find(|t| t.id == target.id) {
                Some(existing) => *existing = target,
                None => current.value.targets.push(target),
            }
        }
        if current.value.targets.len() > MAX_TARGETS {
            return Err(ApiError::ResourceNumberLimitExceeded(
                "The requested resource exceeds the maximum number allowed.".into(),
            ));
        }
        save(tx, &scope, &current.value, current.tags)
    })
    .await?;
    Ok(json!({ "FailedEntryCount": failed.len(), "FailedEntries": failed }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// ListTargetsByRule, in pages.
pub async fn list_targets(
    bus: &EventBus,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, EventsError> {
    let input: ListTargetsRequest = decode(body)?;
    let name = rule_name(&input.rule, "rule")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let limit = page_limit(input.limit)?;
    let context = format!(
        "ListTargetsByRule/{}/{}/{name}",
        scope.account, scope.region
    );
    let after = bus.tokens().cursor(&context, input.next_token.as_deref())?;
    let read_scope = scope.clone();
    let rule = bus
        .read(move |tx| Ok(load(tx, &read_scope, &name)?.value))
        .await?;
    let start = match &after {
        Some(id) => rule
            .targets
            .iter()
            .position(|t| t.id.as_deref() == Some(id.as_str()))
            .map_or(rule.targets.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<&Target> = rule.targets.iter().skip(start).take(limit).collect();
    let mut out = json!({ "Targets": page });
    if start + page.len() < rule.targets.len()
        && let (Some(last), Value::Object(map)) = (page.last(), &mut out)
    {
        let token = bus
            .tokens()
            .issue(&context, last.id.as_deref().unwrap_or_default());
        map.insert("NextToken".into(), Value::String(token));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RemoveTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    ids: Option<Vec<String>>,
    #[serde(default)]
    force: Option<bool>,
}

/// RemoveTargets: ids the rule does not have are ignored.
pub async fn remove_targets(
    bus: &EventBus,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, EventsError> {
    let input: RemoveTargetsRequest = decode(body)?;
    let name = rule_name(&input.rule, "rule")?;
    validate::bus(scope, input.event_bus_name.as_deref())?;
    let _ = input.force;
    let ids = required(&input.ids, "ids")?.clone();
    if ids.is_empty() || ids.len() > 100 {
        return Err(EventsError::Validation(
            "1 validation error detected: Value at 'ids' failed to satisfy constraint: Member \
             must have length between 1 and 100"
                .into(),
        ));
    }
    for id in &ids {
        validate::name(id, "ids.member")?;
    }
    let scope = scope.clone();
    bus.write(move |tx| {
        let mut current = load(tx, &scope, &name)?;
        current
            .value
            .targets
            .retain(|t| !ids.iter().any(|id| t.id.as_deref() == Some(id.as_str())));
        save(tx, &scope, &current.value, current.tags)
    })
    .await?;
    Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
}

/// The rule an ARN names in `scope`; another scope's or another bus's rule, or
/// anything else, does not exist.
fn rule_of_arn(scope: &Scope, arn: &str) -> Result<String, EventsError> {
    let prefix = format!("arn:aws:events:{}:{}:rule/", scope.region, scope.account);
    let name = arn
        .strip_prefix(&prefix)
        .map(|rest| rest.strip_prefix("default/").unwrap_or(rest))
        .filter(|name| validate::name(name, "resourceARN").is_ok());
    name.map(str::to_string).ok_or_else(|| {
        let shown = arn.rsplit('/').next().unwrap_or(arn);
        EventsError::ResourceNotFound(format!(
            "Rule {shown} does not exist on EventBus {DEFAULT_BUS}."
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

/// TagResource, UntagResource and ListTagsForResource on rules.
pub async fn tags(
    bus: &EventBus,
    scope: &Scope,
    body: &[u8],
    operation: &'static str,
) -> Result<Value, EventsError> {
    let input: TagRequest = decode(body)?;
    let arn = required(&input.resource_arn, "resourceARN")?;
    validate::length(arn, "resourceARN", 1, 1600)?;
    let name = rule_of_arn(scope, arn)?;
    let scope = scope.clone();
    match operation {
        "ListTagsForResource" => {
            let tags = bus
                .read(move |tx| Ok(load(tx, &scope, &name)?.tags))
                .await?;
            Ok(json!({ "Tags": tag_list(&tags) }))
        }
        "TagResource" => {
            required(&input.tags, "tags")?;
            let added = tag_map(input.tags)?;
            bus.write(move |tx| {
                let mut current = load(tx, &scope, &name)?;
                current.tags.extend(added);
                if current.tags.len() > 50 {
                    return Err(ApiError::ResourceNumberLimitExceeded(
                        "The requested resource exceeds the maximum number of tags allowed.".into(),
                    ));
                }
                save(tx, &scope, &current.value, current.tags)
            })
            .await?;
            Ok(json!({}))
        }
        _ => {
            let keys = required(&input.tag_keys, "tagKeys")?.clone();
            bus.write(move |tx| {
                let mut current = load(tx, &scope, &name)?;
                for key in &keys {
                    current.tags.remove(key);
                }
                save(tx, &scope, &current.value, current.tags)
            })
            .await?;
            Ok(json!({}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_every_member() {
        let text = r#"{"Id":"t1","Arn":"arn:aws:glue:us-east-1:123456789012:workflow/w",
                      "RetryPolicy":{"MaximumRetryAttempts":3}}"#;
        let target: Target = serde_json::from_str(text).expect("decodes");
        assert_eq!(target.id.as_deref(), Some("t1"));
        let back = serde_json::to_value(&target).expect("encodes");
        assert_eq!(back["RetryPolicy"]["MaximumRetryAttempts"], 3);
        assert!(back.get("Input").is_none());
    }

    #[test]
    fn rule_arns_of_other_scopes_do_not_exist() {
        let scope = Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        let arn = rule_arn(&scope, "r1");
        assert_eq!(rule_of_arn(&scope, &arn), Ok("r1".to_string()));
        let other = "arn:aws:events:us-east-1:999999999999:rule/r1";
        assert_eq!(
            rule_of_arn(&scope, other).map_err(|e| e.code()),
            Err("ResourceNotFoundException")
        );
        assert!(rule_of_arn(&scope, "arn:aws:glue:us-east-1:123456789012:workflow/w").is_err());
    }
}
