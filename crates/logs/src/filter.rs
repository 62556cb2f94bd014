//! Filter patterns of FilterLogEvents, the unstructured kind: terms separated by
//! spaces and "quoted phrases"; an event matches when its message contains every one
//! (case-sensitive, anywhere in the message). An empty pattern matches every event.
//! JSON (`{ … }`) and space-delimited (`[ … ]`) patterns are refused with
//! InvalidParameterException rather than misread.

use crate::protocol::LogsError;

/// A parsed filter pattern: the texts an event's message must all contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPattern {
    required: Vec<String>,
}

impl FilterPattern {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, LogsError> {
        let trimmed = text.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            return Err(LogsError::InvalidParameter(
                "Weir supports filter patterns of terms and quoted phrases; JSON and \
                 space-delimited patterns are not supported."
                    .into(),
            ));
        }
        let mut required = Vec::new();
        let mut rest = trimmed;
        while !rest.is_empty() {
            if let Some(quoted) = rest.strip_prefix('"') {
                let Some((phrase, after)) = quoted.split_once('"') else {
                    return Err(LogsError::InvalidParameter(
                        "Invalid filter pattern: a quoted phrase is not closed.".into(),
                    ));
                };
                if !phrase.is_empty() {
                    required.push(phrase.to_string());
                }
                rest = after.trim_start();
            } else {
                let (term, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                required.push(term.to_string());
                rest = after.trim_start();
            }
        }
        Ok(Self { required })
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        self.required
            .iter()
            .all(|text| message.contains(text.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern)
            .expect("valid pattern")
            .matches(message)
    }

    #[test]
    fn every_term_must_appear() {
        assert!(matches("", "anything"));
        assert!(matches("ERROR", "[ERROR] disk full"));
        assert!(matches("ERROR disk", "[ERROR] disk full"));
        assert!(!matches("ERROR memory", "[ERROR] disk full"));
        assert!(!matches("error", "[ERROR] disk full"), "case-sensitive");
    }

    #[test]
    fn quoted_phrases_match_as_a_whole() {
        assert!(matches("\"disk full\"", "[ERROR] disk full"));
        assert!(!matches("\"full disk\"", "[ERROR] disk full"));
        assert!(matches(
            "ERROR \"disk full\"  now",
            "now: [ERROR] disk full"
        ));
        assert!(matches("\"ünïcode ok\"", "line ünïcode ok"));
    }

    #[test]
    fn unsupported_or_broken_patterns_are_refused() {
        for bad in ["\"open", "{ $.level = \"x\" }", "[ip, user]"] {
            assert_eq!(
                FilterPattern::parse(bad).map_err(|e| e.code()),
                Err("InvalidParameterException"),
                "{bad:?}"
            );
        }
    }
}
