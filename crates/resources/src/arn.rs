//! Glue ARNs: `arn:<partition>:glue:<region>:<account>:<type>/<name>`.

use weir_store::{Kind, Scope};

use crate::ApiError;

/// A parsed taggable ARN.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceArn {
    /// The account and region named by the ARN.
    pub scope: Scope,
    /// The resource kind.
    pub kind: Kind,
    /// The resource name (for tables `<database>/<table>`).
    pub name: String,
}

/// Parses a Glue ARN of a taggable resource; anything else is InvalidInputException.
pub fn parse(text: &str) -> Result<ResourceArn, ApiError> {
    let invalid = || ApiError::InvalidInput(format!("Invalid ARN: {text}"));
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("glue"), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid());
    };
    if !partition.starts_with("aws") || region.is_empty() || account.is_empty() {
        return Err(invalid());
    }
    let (kind_text, name) = rest.split_once('/').ok_or_else(invalid)?;
    let kind = match kind_text {
        "workflow" => Kind::Workflow,
        "trigger" => Kind::Trigger,
        "job" => Kind::Job,
        "crawler" => Kind::Crawler,
        "blueprint" => Kind::Blueprint,
        "database" => Kind::Database,
        "table" => Kind::Table,
        "connection" => Kind::Connection,
        _ => return Err(invalid()),
    };
    if name.is_empty() {
        return Err(invalid());
    }
    Ok(ResourceArn {
        scope: Scope {
            account: account.to_string(),
            region: region.to_string(),
        },
        kind,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_parse_into_scope_kind_and_name() {
        let scope = Scope {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
        };
        let parsed = parse("arn:aws:glue:eu-west-1:123456789012:workflow/nightly").expect("parses");
        assert_eq!(parsed.kind, Kind::Workflow);
        assert_eq!(parsed.name, "nightly");
        assert_eq!(parsed.scope, scope);
    }

    #[test]
    fn malformed_arns_are_invalid_input() {
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:glue:us-east-1:123456789012:workflow",
            "arn:aws:glue:us-east-1:123456789012:workflow/",
            "arn:aws:glue:us-east-1:123456789012:nonsense/x",
            "arn:aws:glue::123456789012:workflow/x",
        ] {
            let err = parse(bad).expect_err("rejected");
            assert_eq!(err.code(), "InvalidInputException", "{bad}");
        }
    }
}
