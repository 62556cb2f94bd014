//! The model's constraints on the members this subset reads, reported as EventBridge
//! reports them (`1 validation error detected: Value … at '…' failed to satisfy
//! constraint: …`), and the one event bus Weir keeps.

use weir_store::Scope;

use crate::protocol::EventsError;

/// The name of the one event bus of every account and region.
pub const DEFAULT_BUS: &str = "default";

fn violation(value: &str, member: &str, constraint: &str) -> EventsError {
    EventsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: {constraint}"
    ))
}

/// A required member.
pub fn required<'a, T>(value: &'a Option<T>, member: &str) -> Result<&'a T, EventsError> {
    value.as_ref().ok_or_else(|| {
        EventsError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        ))
    })
}

/// A string of `min..=max` characters.
pub fn length(value: &str, member: &str, min: usize, max: usize) -> Result<(), EventsError> {
    let count = value.chars().count();
    if count < min {
        return Err(violation(
            value,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if count > max {
        return Err(violation(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// A rule name or target id: 1..64 of `[.\-_A-Za-z0-9]`.
pub fn name(value: &str, member: &str) -> Result<(), EventsError> {
    length(value, member, 1, 64)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(violation(
            value,
            member,
            "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// Checks an `EventBusName` member: absent, `default`, or the ARN of the default bus
/// of the caller's scope; any other bus does not exist.
pub fn bus(scope: &Scope, value: Option<&str>) -> Result<(), EventsError> {
    let Some(value) = value else {
        return Ok(());
    };
    length(value, "eventBusName", 1, 1600)?;
    let default_arn = format!(
        "arn:aws:events:{}:{}:event-bus/{DEFAULT_BUS}",
        scope.region, scope.account
    );
    if value == DEFAULT_BUS || value == default_arn {
        return Ok(());
    }
    let shown = value.rsplit('/').next().unwrap_or(value);
    Err(EventsError::ResourceNotFound(format!(
        "Event bus {shown} does not exist."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_buses() {
        assert!(name("rule-1.a_b", "name").is_ok());
        assert!(name("", "name").is_err());
        assert!(name("a b", "name").is_err());
        assert!(name(&"x".repeat(65), "name").is_err());
        let scope = Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        assert!(bus(&scope, None).is_ok());
        assert!(bus(&scope, Some("default")).is_ok());
        assert!(
            bus(
                &scope,
                Some("arn:aws:events:us-east-1:123456789012:event-bus/default")
            )
            .is_ok()
        );
        let other = bus(
            &scope,
            Some("arn:aws:events:us-east-1:999999999999:event-bus/default"),
        );
        assert_eq!(
            other.map_err(|e| e.code()),
            Err("ResourceNotFoundException")
        );
        assert_eq!(
            bus(&scope, Some("orders")).map_err(|e| e.code()),
            Err("ResourceNotFoundException")
        );
    }
}
