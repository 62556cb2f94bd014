//! Blueprint parameter specifications (spec §9.2) and the checking of the
//! `Parameters` of StartBlueprintRun against them.
//!
//! A parameter needs a `type` (`String`, `Integer`, `Double`, `Boolean`, `S3Uri`,
//! `S3Bucket`, `IAMRoleArn`, `IAMRoleName`); `collection` (default false) makes the
//! value a JSON list of that type; a non-null `defaultValue` makes it optional;
//! `allowedValues` restricts it (Weir enforces it, for every element of a collection).
//!
//! Decisions where AWS is silent:
//! - `Parameters` must be a JSON object; an absent `Parameters` is `{}`; a member with
//!   the value `null` counts as absent; a member the spec does not define is rejected
//!   (it is almost always a typo).
//! - `Integer` takes JSON integers only; `Double` any JSON number (handed to Python as a
//!   float); `S3Uri` is `s3://bucket[/key]`; `S3Bucket` follows the S3 bucket-name rules;
//!   `IAMRoleArn` matches the model's role-ARN pattern; `IAMRoleName` is 1..64 of
//!   `[A-Za-z0-9+=,.@_-]`.
//! - Defaults and allowed values are checked at registration for their JSON type only
//!   (samples use `""` as a default of typed parameters), and used as given.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// The type of a blueprint parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Any string.
    String,
    /// A JSON integer.
    Integer,
    /// Any JSON number.
    Double,
    /// `true` or `false`.
    Boolean,
    /// An `s3://bucket/key` path.
    S3Uri,
    /// An S3 bucket name.
    S3Bucket,
    /// An IAM role ARN.
    IamRoleArn,
    /// An IAM role name.
    IamRoleName,
}

impl ParamType {
    const ALL: [ParamType; 8] = [
        ParamType::String,
        ParamType::Integer,
        ParamType::Double,
        ParamType::Boolean,
        ParamType::S3Uri,
        ParamType::S3Bucket,
        ParamType::IamRoleArn,
        ParamType::IamRoleName,
    ];

    /// The name used in `blueprint.cfg`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "String",
            ParamType::Integer => "Integer",
            ParamType::Double => "Double",
            ParamType::Boolean => "Boolean",
            ParamType::S3Uri => "S3Uri",
            ParamType::S3Bucket => "S3Bucket",
            ParamType::IamRoleArn => "IAMRoleArn",
            ParamType::IamRoleName => "IAMRoleName",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// One parameter of a blueprint.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// The element type.
    pub kind: ParamType,
    /// Whether the value is a list of `kind`.
    pub collection: bool,
    /// Free text for users.
    pub description: Option<String>,
    /// The value used when the caller gives none; `None` makes the parameter mandatory.
    pub default_value: Option<Value>,
    /// The values the parameter (each element, for a collection) may take.
    pub allowed_values: Option<Vec<Value>>,
}

/// The `parameterSpec` of a blueprint, by parameter name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParameterSpec {
    /// The parameters, in name order.
    pub params: BTreeMap<String, ParamSpec>,
}

/// The normalised form of one parameter: all five keys, `null` for absent ones.
#[derive(Serialize)]
struct Normalised<'a> {
    r#type: &'static str,
    collection: bool,
    description: &'a Option<String>,
    #[serde(rename = "defaultValue")]
    default_value: &'a Option<Value>,
    #[serde(rename = "allowedValues")]
    allowed_values: &'a Option<Vec<Value>>,
}

impl ParameterSpec {
    /// Parses the `parameterSpec` value of `blueprint.cfg` (or a normalised spec).
    pub fn parse(value: &Value) -> Result<Self, String> {
        let object = value
            .as_object()
            .ok_or("parameterSpec must be a JSON object of parameters.")?;
        let mut params = BTreeMap::new();
        for (name, spec) in object {
            params.insert(name.clone(), parse_param(name, spec)?);
        }
        Ok(Self { params })
    }

    /// Parses a normalised spec string as stored for a registered blueprint.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("unreadable parameter spec: {e}"))?;
        Self::parse(&value)
    }

    /// The JSON string `Blueprint.ParameterSpec` carries: every parameter with `type`,
    /// `collection`, `description`, `defaultValue` and `allowedValues` (null if absent).
    pub fn normalized_json(&self) -> String {
        let normalised: BTreeMap<&str, Normalised<'_>> = self
            .params
            .iter()
            .map(|(name, p)| {
                let entry = Normalised {
                    r#type: p.kind.as_str(),
                    collection: p.collection,
                    description: &p.description,
                    default_value: &p.default_value,
                    allowed_values: &p.allowed_values,
                };
                (name.as_str(), entry)
            })
            .collect();
        serde_json::to_string(&normalised).unwrap_or_else(|_| "{}".into())
    }

    /// Checks StartBlueprintRun `Parameters` and returns the values handed to the layout
    /// generator: the caller's values (numbers of `Double` parameters as floats) plus
    /// the defaults of the parameters left out. The error names the parameter.
    pub fn resolve(&self, parameters: Option<&str>) -> Result<Map<String, Value>, String> {
        let given: Value = match parameters {
            None => Value::Object(Map::new()),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| format!("Parameters must be a JSON object: {e}"))?,
        };
        let Value::Object(given) = given else {
            return Err("Parameters must be a JSON object.".into());
        };
        if let Some(unknown) = given.keys().find(|k| !self.params.contains_key(*k)) {
            return Err(format!(
                "Parameter '{unknown}' is not defined by the blueprint's parameter spec."
            ));
        }
        let mut resolved = Map::new();
        for (name, spec) in &self.params {
            let value = match given.get(name).filter(|v| !v.is_null()) {
                Some(value) => check_value(name, spec, value, true)?,
                None => match &spec.default_value {
                    Some(default) => check_value(name, spec, default, false)?,
                    None => {
                        return Err(format!(
                            "Parameter '{name}' is required: the blueprint gives it no default \
                             value."
                        ));
                    }
                },
            };
            resolved.insert(name.clone(), value);
        }
        Ok(resolved)
    }
}

fn parse_param(name: &str, spec: &Value) -> Result<ParamSpec, String> {
    let object = spec
        .as_object()
        .ok_or_else(|| format!("parameter '{name}' must be a JSON object."))?;
    let kind = match object.get("type") {
        Some(Value::String(text)) => ParamType::parse(text).ok_or_else(|| {
            let names: Vec<&str> = ParamType::ALL.iter().map(|t| t.as_str()).collect();
            format!(
                "parameter '{name}' has type {text:?}; use one of {}.",
                names.join(", ")
            )
        })?,
        _ => return Err(format!("parameter '{name}' needs a string type.")),
    };
    let collection = match object.get("collection") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(format!(
                "parameter '{name}': collection must be true or false."
            ));
        }
    };
    let description = match object.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(format!("parameter '{name}': description must be a string.")),
    };
    let allowed_values = match object.get("allowedValues") {
        None | Some(Value::Null) => None,
        Some(Value::Array(values)) => Some(values.clone()),
        Some(_) => return Err(format!("parameter '{name}': allowedValues must be a list.")),
    };
    let mut param = ParamSpec {
        kind,
        collection,
        description,
        default_value: None,
        allowed_values,
    };
    if let Some(values) = &param.allowed_values {
        for value in values {
            check_element(name, kind, value, false)
                .map_err(|e| format!("parameter '{name}': allowedValues: {e}"))?;
        }
    }
    param.default_value = match object.get("defaultValue") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            shape_only(name, &param, value)
                .map_err(|e| format!("parameter '{name}': defaultValue: {e}"))?,
        ),
    };
    Ok(param)
}

/// The default's JSON type must fit; its format and allowed values are not checked.
fn shape_only(name: &str, param: &ParamSpec, value: &Value) -> Result<Value, String> {
    let lenient = ParamSpec {
        allowed_values: None,
        ..param.clone()
    };
    check_value(name, &lenient, value, false)
}

/// Checks one parameter value (a list for a collection) and returns it as handed to
/// Python. `strict` also checks formats (S3/IAM) and allowed values.
fn check_value(name: &str, spec: &ParamSpec, value: &Value, strict: bool) -> Result<Value, String> {
    let one = |element: &Value| -> Result<Value, String> {
        let converted = check_element(name, spec.kind, element, strict)?;
        if strict && let Some(allowed) = &spec.allowed_values {
            let matches = |candidate: &Value| match (spec.kind, candidate.as_f64()) {
                (ParamType::Double, Some(c)) => converted.as_f64() == Some(c),
                _ => *candidate == converted,
            };
            if !allowed.iter().any(matches) {
                return Err(format!(
                    "Parameter '{name}' must be one of {}; got {element}.",
                    Value::Array(allowed.clone())
                ));
            }
        }
        Ok(converted)
    };
    if spec.collection {
        let Value::Array(items) = value else {
            return Err(format!(
                "Parameter '{name}' is a collection: give a JSON list of {} values; got {value}.",
                spec.kind.as_str()
            ));
        };
        return items
            .iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    one(value)
}

fn check_element(
    name: &str,
    kind: ParamType,
    value: &Value,
    strict: bool,
) -> Result<Value, String> {
    let wrong = || {
        format!(
            "Parameter '{name}' must be of type {}; got {value}.",
            kind.as_str()
        )
    };
    match kind {
        ParamType::Integer => {
            if value.is_i64() || value.is_u64() {
                Ok(value.clone())
            } else {
                Err(wrong())
            }
        }
        ParamType::Double => value.as_f64().map(Value::from).ok_or_else(wrong),
        ParamType::Boolean => value.is_boolean().then(|| value.clone()).ok_or_else(wrong),
        ParamType::String => value.is_string().then(|| value.clone()).ok_or_else(wrong),
        ParamType::S3Uri | ParamType::S3Bucket | ParamType::IamRoleArn | ParamType::IamRoleName => {
            let text = value.as_str().ok_or_else(wrong)?;
            let valid = match kind {
                ParamType::S3Uri => is_s3_uri(text),
                ParamType::S3Bucket => is_bucket(text),
                ParamType::IamRoleArn => is_role_arn(text),
                _ => is_role_name(text),
            };
            if strict && !valid {
                return Err(format!(
                    "Parameter '{name}' is not a valid {}: {value}.",
                    kind.as_str()
                ));
            }
            Ok(value.clone())
        }
    }
}

fn is_s3_uri(text: &str) -> bool {
    text.strip_prefix("s3://")
        .map(|rest| rest.split('/').next().unwrap_or_default())
        .is_some_and(is_bucket)
}

fn is_bucket(text: &str) -> bool {
    let bytes = text.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// `arn:aws[^:]*:iam::[0-9]*:role/.+` (the model's pattern for role ARNs).
fn is_role_arn(text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource))
            if partition.starts_with("aws")
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty())
    )
}

fn is_role_name(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
