//! Model-constraint validation with the AWS/Coral error wording.
//!
//! The [`Validate`] trait is implemented (by generated code in
//! [`crate::shapes`]) for every structure shape. It checks exactly the
//! constraints the botocore model states: `required`, `min`/`max` (string
//! length in Unicode code points, list/map entry counts, numeric ranges),
//! `pattern` (full match) and `enum`.
//!
//! # Member paths
//!
//! Paths use the lower-camel form of the member names (first letter
//! lower-cased: `Name` → `name`, `DPUSeconds` → `dPUSeconds`), joined with
//! `.`:
//!
//! * nested structure member: `triggerUpdate.predicate.logical`
//! * list item (1-based): `names.3.member`, `predicate.conditions.1.member.jobName`
//! * map key: `tags.key` (the offending key is shown as the value)
//! * map value: `tags.<key>.value`
//!
//! # Rendering
//!
//! [`ValidationErrors`]' `Display` renders
//! `1 validation error detected: Value '<v>' at '<path>' failed to satisfy constraint: <c>`
//! or `N validation errors detected: <first>; <second>; ...`. Missing required
//! members render as `Value null at '<path>' ...`. Strings are shown verbatim,
//! numbers as numbers, lists as `[a, b]`, maps as `{k=v}`, structures as JSON;
//! values longer than 256 characters are truncated with a trailing `...`.

use std::fmt;

/// Model-constraint validation of a (generated) shape.
pub trait Validate {
    /// Appends every constraint violation of `self` to `errors`; `path` is the
    /// member path of `self` (empty for the top-level input structure).
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors);
}

/// Validates a top-level operation input.
pub fn validate<T: Validate>(input: &T) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    input.validate_into("", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One constraint violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Member path, e.g. `triggerUpdate.predicate.conditions.1.member.jobName`.
    pub path: String,
    /// Rendered offending value; `None` for a missing required member.
    pub value: Option<String>,
    /// Constraint phrase, e.g. `Member must not be null`.
    pub constraint: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "Value '{v}'")?,
            None => f.write_str("Value null")?,
        }
        write!(
            f,
            " at '{}' failed to satisfy constraint: {}",
            self.path, self.constraint
        )
    }
}

/// The collected constraint violations of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    items: Vec<ValidationError>,
}

impl ValidationErrors {
    /// No violation was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of violations.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The violations in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.items.iter()
    }

    /// Records a violation.
    pub fn push(&mut self, error: ValidationError) {
        self.items.push(error);
    }

    /// Records a missing required member at `path`.
    pub fn push_null(&mut self, path: String) {
        self.push(ValidationError {
            path,
            value: None,
            constraint: "Member must not be null".to_owned(),
        });
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.items.len();
        if n == 1 {
            f.write_str("1 validation error detected: ")?;
        } else {
            write!(f, "{n} validation errors detected: ")?;
        }
        for (i, e) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Maximum number of characters of a rendered value before it is truncated.
const MAX_RENDERED_CHARS: usize = 256;

/// Renders a value for an error message (see the module docs).
pub fn render_value<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let rendered = match serde_json::to_value(value) {
        Ok(v) => render_json(&v, true),
        Err(_) => "...".to_owned(),
    };
    truncate(rendered)
}

fn truncate(s: String) -> String {
    match s.char_indices().nth(MAX_RENDERED_CHARS) {
        Some((idx, _)) => format!("{}...", &s[..idx]),
        None => s,
    }
}

fn render_json(v: &serde_json::Value, top: bool) -> String {
    use serde_json::Value;
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|i| render_json(i, false)).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) if top => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", render_json(v, false)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// Helpers called by the generated `Validate` impls. Not a stable API.
#[doc(hidden)]
pub mod rt {
    use super::{ValidationError, ValidationErrors, render_value};

    /// `path.member` (or `member` at the top level).
    pub fn join(path: &str, member: &str) -> String {
        if path.is_empty() {
            member.to_owned()
        } else {
            format!("{path}.{member}")
        }
    }

    /// Path of the `index`-th (0-based) list item: `path.<index+1>.member`.
    pub fn item(path: &str, index: usize) -> String {
        format!("{path}.{}.member", index + 1)
    }

    /// Path of a map key: `path.key`.
    pub fn map_key(path: &str) -> String {
        format!("{path}.key")
    }

    /// Path of a map value: `path.<key>.value`.
    pub fn map_value(path: &str, key: &str) -> String {
        format!("{path}.{key}.value")
    }

    fn fail<T: serde::Serialize + ?Sized>(
        value: &T,
        path: &str,
        constraint: String,
        errors: &mut ValidationErrors,
    ) {
        errors.push(ValidationError {
            path: path.to_owned(),
            value: Some(render_value(value)),
            constraint,
        });
    }

    /// Length / entry-count check (`len` is code points for strings, items
    /// for lists, entries for maps).
    pub fn length<T: serde::Serialize + ?Sized>(
        value: &T,
        len: usize,
        min: Option<u64>,
        max: Option<u64>,
        path: &str,
        errors: &mut ValidationErrors,
    ) {
        let len = len as u64;
        if let Some(min) = min
            && len < min
        {
            let c = format!("Member must have length greater than or equal to {min}");
            fail(value, path, c, errors);
        }
        if let Some(max) = max
            && len > max
        {
            let c = format!("Member must have length less than or equal to {max}");
            fail(value, path, c, errors);
        }
    }

    /// String length in Unicode code points.
    pub fn str_length(
        value: &str,
        min: Option<u64>,
        max: Option<u64>,
        path: &str,
        errors: &mut ValidationErrors,
    ) {
        length(value, value.chars().count(), min, max, path, errors);
    }

    /// Integer range check.
    pub fn range_i64(
        value: i64,
        min: Option<i64>,
        max: Option<i64>,
        path: &str,
        errors: &mut ValidationErrors,
    ) {
        if let Some(min) = min
            && value < min
        {
            let c = format!("Member must have value greater than or equal to {min}");
            fail(&value, path, c, errors);
        }
        if let Some(max) = max
            && value > max
        {
            let c = format!("Member must have value less than or equal to {max}");
            fail(&value, path, c, errors);
        }
    }

    /// Floating-point range check; `min_text`/`max_text` are the bounds as
    /// written in the model.
    pub fn range_f64(
        value: f64,
        min: Option<(f64, &str)>,
        max: Option<(f64, &str)>,
        path: &str,
        errors: &mut ValidationErrors,
    ) {
        if let Some((min, text)) = min
            && value < min
        {
            let c = format!("Member must have value greater than or equal to {text}");
            fail(&value, path, c, errors);
        }
        if let Some((max, text)) = max
            && value > max
        {
            let c = format!("Member must have value less than or equal to {text}");
            fail(&value, path, c, errors);
        }
    }

    /// Full-match regular expression check; `pattern` is the model's text.
    pub fn pattern(
        value: &str,
        re: &regex::Regex,
        pattern: &str,
        path: &str,
        errors: &mut ValidationErrors,
    ) {
        if !re.is_match(value) {
            let c = format!("Member must satisfy regular expression pattern: {pattern}");
            fail(value, path, c, errors);
        }
    }

    /// Enum membership check.
    pub fn one_of(value: &str, allowed: &[&str], path: &str, errors: &mut ValidationErrors) {
        if !allowed.contains(&value) {
            let c = format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            );
            fail(value, path, c, errors);
        }
    }
}
