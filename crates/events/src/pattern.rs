//! Event patterns: compiled once at PutRule ([`Pattern::parse`], which rejects what
//! EventBridge rejects with InvalidEventPatternException) and matched against events
//! as `serde_json` values ([`Pattern::matches`]).
//!
//! The semantics are EventBridge's documented ones:
//! - a pattern is a JSON object; a member whose value is an object matches the event's
//!   member of that name field by field; a member whose value is an array lists the
//!   values that match (any of them);
//! - match values: strings, numbers (compared as numbers), `true`, `false`, `null`,
//!   and the content filters `prefix`, `suffix` (each with an optional
//!   `equals-ignore-case`), `anything-but` (a value, a list of values, or a `prefix`,
//!   `suffix`, `equals-ignore-case` or `wildcard` inside), `numeric` (one comparison
//!   or a lower and an upper bound), `exists`, `equals-ignore-case`, `wildcard` and
//!   `cidr`;
//! - `"$or": [pattern, pattern, …]` matches when any of its patterns does, together
//!   with the members beside it;
//! - an event member that is an array matches when any of its elements does; arrays
//!   are flattened on the way down, as EventBridge flattens events;
//! - a missing member matches only `{"exists": false}`; `exists` looks at leaves
//!   only (an object is not a leaf).

use std::net::IpAddr;

use serde_json::{Map, Value};

/// Depth beyond which a pattern is refused (no real pattern nests this deep).
const MAX_DEPTH: usize = 32;

/// A compiled event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
}

/// Why a pattern was refused; the text follows EventBridge's `Event pattern is not
/// valid. Reason: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPattern(pub String);

impl std::fmt::Display for InvalidPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Event pattern is not valid. Reason: {}", self.0)
    }
}

/// An object of the pattern: every field must match, and one of each `$or`'s
/// alternatives.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    fields: Vec<(String, Field)>,
    ors: Vec<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Nested(Node),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Value),
    Prefix(Text),
    Suffix(Text),
    EqualsIgnoreCase(String),
    Wildcard(String),
    AnythingBut(AnythingBut),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
    Cidr(Cidr),
}

/// A string to compare, exactly or ignoring case.
#[derive(Debug, Clone, PartialEq)]
struct Text {
    value: String,
    ignore_case: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Values(Vec<Value>),
    Prefix(String),
    Suffix(String),
    IgnoreCase(Vec<String>),
    Wildcard(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone, PartialEq)]
struct Cidr {
    network: IpAddr,
    bits: u8,
}

fn invalid<T>(reason: impl Into<String>) -> Result<T, InvalidPattern> {
    Err(InvalidPattern(reason.into()))
}

impl Pattern {
    /// Compiles the pattern `text` (a JSON object).
    pub fn parse(text: &str) -> Result<Self, InvalidPattern> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| InvalidPattern(format!("The pattern is not valid JSON: {e}")))?;
        let Value::Object(object) = value else {
            return invalid("Filter is not an object");
        };
        let root = parse_node(&object, 0)?;
        if root.fields.is_empty() && root.ors.is_empty() {
            return invalid("Empty objects are not allowed");
        }
        Ok(Self { root })
    }

    /// Whether `event` (the whole event, `source`, `detail-type`, `detail`…) matches.
    pub fn matches(&self, event: &Value) -> bool {
        node_matches(&self.root, &[event])
    }
}

fn parse_node(object: &Map<String, Value>, depth: usize) -> Result<Node, InvalidPattern> {
    if depth > MAX_DEPTH {
        return invalid("The pattern nests too deeply");
    }
    let mut node = Node {
        fields: Vec::new(),
        ors: Vec::new(),
    };
    for (key, value) in object {
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return invalid("$or must be an array of patterns");
            };
            if alternatives.len() < 2 {
                return invalid("$or must have at least two patterns");
            }
            let mut parsed = Vec::with_capacity(alternatives.len());
            for alternative in alternatives {
                let Value::Object(alternative) = alternative else {
                    return invalid("Each pattern of $or must be an object");
                };
                let alternative = parse_node(alternative, depth + 1)?;
                if alternative.fields.is_empty() && alternative.ors.is_empty() {
                    return invalid("Empty objects are not allowed");
                }
                parsed.push(alternative);
            }
            node.ors.push(parsed);
            continue;
        }
        let field = match value {
            Value::Object(inner) => {
                let inner = parse_node(inner, depth + 1)?;
                if inner.fields.is_empty() && inner.ors.is_empty() {
                    return invalid("Empty objects are not allowed");
                }
                Field::Nested(inner)
            }
            Value::Array(values) => {
                if values.is_empty() {
                    return invalid("Empty arrays are not allowed");
                }
                Field::Leaf(values.iter().map(parse_matcher).collect::<Result<_, _>>()?)
            }
            _ => {
                return invalid(format!(
                    "Match value for field \"{key}\" must be an array or an object"
                ));
            }
        };
        node.fields.push((key.clone(), field));
    }
    Ok(node)
}

fn parse_matcher(value: &Value) -> Result<Matcher, InvalidPattern> {
    let Value::Object(filter) = value else {
        return match value {
            Value::Array(_) => invalid("Match value must be String, number, true, false, or null"),
            other => Ok(Matcher::Exact(other.clone())),
        };
    };
    let mut members = filter.iter();
    let (Some((name, argument)), None) = (members.next(), members.next()) else {
        return invalid("A content filter must have exactly one member");
    };
    match name.as_str() {
        "prefix" => text_filter(argument, "prefix").map(Matcher::Prefix),
        "suffix" => text_filter(argument, "suffix").map(Matcher::Suffix),
        "equals-ignore-case" => match argument {
            Value::String(s) => Ok(Matcher::EqualsIgnoreCase(s.to_lowercase())),
            _ => invalid("equals-ignore-case match pattern must be a string"),
        },
        "wildcard" => match argument {
            Value::String(s) => {
                check_wildcard(s)?;
                Ok(Matcher::Wildcard(s.clone()))
            }
            _ => invalid("wildcard match pattern must be a string"),
        },
        "anything-but" => parse_anything_but(argument).map(Matcher::AnythingBut),
        "numeric" => parse_numeric(argument).map(Matcher::Numeric),
        "exists" => match argument {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => invalid("exists match pattern must be either true or false"),
        },
        "cidr" => match argument {
            Value::String(s) => parse_cidr(s).map(Matcher::Cidr),
            _ => invalid("cidr match pattern must be a string"),
        },
        other => invalid(format!("Unrecognized match type {other}")),
    }
}

/// The argument of `prefix`/`suffix`: a string, or `{"equals-ignore-case": string}`.
fn text_filter(argument: &Value, name: &str) -> Result<Text, InvalidPattern> {
    match argument {
        Value::String(s) => Ok(Text {
            value: s.clone(),
            ignore_case: false,
        }),
        Value::Object(inner) => match single(inner) {
            Some(("equals-ignore-case", Value::String(s))) => Ok(Text {
                value: s.to_lowercase(),
                ignore_case: true,
            }),
            _ => invalid(format!(
                "{name} match pattern must be a string or an equals-ignore-case object"
            )),
        },
        _ => invalid(format!("{name} match pattern must be a string")),
    }
}

fn single(object: &Map<String, Value>) -> Option<(&str, &Value)> {
    let mut members = object.iter();
    match (members.next(), members.next()) {
        (Some((name, value)), None) => Some((name.as_str(), value)),
        _ => None,
    }
}

fn parse_anything_but(argument: &Value) -> Result<AnythingBut, InvalidPattern> {
    match argument {
        Value::String(_) | Value::Number(_) => Ok(AnythingBut::Values(vec![argument.clone()])),
        Value::Array(values) => {
            if values.is_empty() {
                return invalid("Empty arrays are not allowed");
            }
            if values
                .iter()
                .any(|v| !matches!(v, Value::String(_) | Value::Number(_)))
            {
                return invalid("Inside anything but list, start|null|boolean is not supported.");
            }
            Ok(AnythingBut::Values(values.clone()))
        }
        Value::Object(inner) => match single(inner) {
            Some(("prefix", Value::String(s))) if !s.is_empty() => {
                Ok(AnythingBut::Prefix(s.clone()))
            }
            Some(("suffix", Value::String(s))) if !s.is_empty() => {
                Ok(AnythingBut::Suffix(s.clone()))
            }
            Some(("equals-ignore-case", value)) => strings(value, "equals-ignore-case").map(|v| {
                AnythingBut::IgnoreCase(v.into_iter().map(|s| s.to_lowercase()).collect())
            }),
            Some(("wildcard", value)) => {
                let patterns = strings(value, "wildcard")?;
                for pattern in &patterns {
                    check_wildcard(pattern)?;
                }
                Ok(AnythingBut::Wildcard(patterns))
            }
            _ => invalid(
                "Value of anything-but must be an array or single string/number value, or a \
                 prefix, suffix, equals-ignore-case or wildcard object",
            ),
        },
        _ => invalid("Value of anything-but must be an array or single string/number value"),
    }
}

/// A string or a non-empty array of strings.
fn strings(value: &Value, name: &str) -> Result<Vec<String>, InvalidPattern> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => invalid(format!("{name} match pattern must be a string")),
            })
            .collect(),
        _ => invalid(format!("{name} match pattern must be a string")),
    }
}

fn parse_numeric(argument: &Value) -> Result<Vec<(Comparison, f64)>, InvalidPattern> {
    let Value::Array(items) = argument else {
        return invalid("Value of numeric must be an array.");
    };
    let mut out = Vec::new();
    let mut iter = items.iter();
    while let Some(operator) = iter.next() {
        let comparison = match operator.as_str() {
            Some("<") => Comparison::Less,
            Some("<=") => Comparison::LessOrEqual,
            Some("=") => Comparison::Equal,
            Some(">") => Comparison::Greater,
            Some(">=") => Comparison::GreaterOrEqual,
            _ => return invalid("Unrecognized numeric range operator"),
        };
        let Some(number) = iter.next().and_then(Value::as_f64) else {
            return invalid("Value of numeric must be a number after its operator");
        };
        out.push((comparison, number));
    }
    let is_lower = |c: Comparison| matches!(c, Comparison::Greater | Comparison::GreaterOrEqual);
    let is_upper = |c: Comparison| matches!(c, Comparison::Less | Comparison::LessOrEqual);
    match out.as_slice() {
        [_] => Ok(out),
        [(low, a), (high, b)] if is_lower(*low) && is_upper(*high) => {
            if a >= b {
                return invalid("Bottom must be less than top");
            }
            Ok(out)
        }
        [] => invalid("Empty numeric range"),
        _ => invalid(
            "A numeric range is one comparison, or a lower bound (> or >=) followed by an \
             upper bound (< or <=)",
        ),
    }
}

fn check_wildcard(pattern: &str) -> Result<(), InvalidPattern> {
    let mut previous_star = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                match chars.next() {
                    Some('*') | Some('\\') => {}
                    _ => return invalid("Invalid use of backslash escape in wildcard pattern"),
                }
                previous_star = false;
            }
            '*' if previous_star => {
                return invalid("Consecutive wildcard characters at pos in wildcard pattern");
            }
            '*' => previous_star = true,
            _ => previous_star = false,
        }
    }
    Ok(())
}

fn parse_cidr(text: &str) -> Result<Cidr, InvalidPattern> {
    let bad = || InvalidPattern(format!("Malformed CIDR, one '/' required: {text}"));
    let (address, bits) = text.split_once('/').ok_or_else(bad)?;
    let network: IpAddr = address.parse().map_err(|_| bad())?;
    let bits: u8 = bits.parse().map_err(|_| bad())?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(bad());
    }
    Ok(Cidr { network, bits })
}

// --- matching -------------------------------------------------------------------------

/// Whether the objects `nodes` (the candidates at this level of the event, arrays
/// already flattened) satisfy `node`.
fn node_matches(node: &Node, nodes: &[&Value]) -> bool {
    node.fields
        .iter()
        .all(|(name, field)| field_matches(field, &children(nodes, name)))
        && node
            .ors
            .iter()
            .all(|alternatives| alternatives.iter().any(|alt| node_matches(alt, nodes)))
}

/// The values of member `name` of every object in `nodes`, arrays flattened.
fn children<'a>(nodes: &[&'a Value], name: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for node in nodes {
        if let Some(value) = node.get(name) {
            flatten(value, &mut out);
        }
    }
    out
}

fn flatten<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
        other => out.push(other),
    }
}

fn field_matches(field: &Field, values: &[&Value]) -> bool {
    match field {
        Field::Nested(node) => {
            let objects: Vec<&Value> = values.iter().copied().filter(|v| v.is_object()).collect();
            // A nested pattern over a missing object can still match (`exists: false`).
            node_matches(node, &objects)
        }
        Field::Leaf(matchers) => {
            let leaves: Vec<&Value> = values.iter().copied().filter(|v| !v.is_object()).collect();
            matchers.iter().any(|matcher| match matcher {
                Matcher::Exists(expected) => leaves.is_empty() != *expected,
                other => leaves.iter().any(|value| leaf_matches(other, value)),
            })
        }
    }
}

fn leaf_matches(matcher: &Matcher, value: &Value) -> bool {
    match matcher {
        Matcher::Exact(expected) => equal(expected, value),
        Matcher::Prefix(text) => value.as_str().is_some_and(|s| {
            if text.ignore_case {
                s.to_lowercase().starts_with(&text.value)
            } else {
                s.starts_with(&text.value)
            }
        }),
        Matcher::Suffix(text) => value.as_str().is_some_and(|s| {
            if text.ignore_case {
                s.to_lowercase().ends_with(&text.value)
            } else {
                s.ends_with(&text.value)
            }
        }),
        Matcher::EqualsIgnoreCase(expected) => value
            .as_str()
            .is_some_and(|s| s.to_lowercase() == *expected),
        Matcher::Wildcard(pattern) => value.as_str().is_some_and(|s| wildcard(pattern, s)),
        Matcher::AnythingBut(but) => anything_but(but, value),
        Matcher::Numeric(range) => value.as_f64().is_some_and(|n| {
            range.iter().all(|(comparison, bound)| match comparison {
                Comparison::Less => n < *bound,
                Comparison::LessOrEqual => n <= *bound,
                Comparison::Equal => n == *bound,
                Comparison::Greater => n > *bound,
                Comparison::GreaterOrEqual => n >= *bound,
            })
        }),
        Matcher::Exists(_) => false,
        Matcher::Cidr(cidr) => value
            .as_str()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| in_network(cidr, ip)),
    }
}

/// Exact equality, numbers compared by value (`3` equals `3.0`).
fn equal(expected: &Value, value: &Value) -> bool {
    match (expected, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn anything_but(but: &AnythingBut, value: &Value) -> bool {
    match but {
        AnythingBut::Values(values) => !values.iter().any(|v| equal(v, value)),
        AnythingBut::Prefix(prefix) => value.as_str().is_some_and(|s| !s.starts_with(prefix)),
        AnythingBut::Suffix(suffix) => value.as_str().is_some_and(|s| !s.ends_with(suffix)),
        AnythingBut::IgnoreCase(values) => value.as_str().is_some_and(|s| {
            let lower = s.to_lowercase();
            !values.contains(&lower)
        }),
        AnythingBut::Wildcard(patterns) => value
            .as_str()
            .is_some_and(|s| !patterns.iter().any(|p| wildcard(p, s))),
    }
}

/// Glob matching of `*` (any run of characters, `\*` a literal star), in linear
/// space and without exponential backtracking.
fn wildcard(pattern: &str, text: &str) -> bool {
    // Tokens: Some(c) a literal character, None a star.
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => tokens.push(Some(chars.next().unwrap_or('\\'))),
            '*' => tokens.push(None),
            other => tokens.push(Some(other)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Some(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(None) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(Option::is_none)
}

fn in_network(cidr: &Cidr, ip: IpAddr) -> bool {
    match (cidr.network, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(cidr.bits)).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(cidr.bits))
                .unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
